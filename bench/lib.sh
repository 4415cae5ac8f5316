# Shared by bench/boot.sh and bench/boot-inner.sh (bash): the guest, its
# command line and the QEMU command lines, so both places run the same thing.
# Needs B (build dir) set; defines K BZ I MEM_MIB APPEND and qemu_cmd().

K=$B/guest-vmlinux
BZ=$B/guest-bzImage
I=$B/guest-initramfs.cpio
MEM_MIB=128
QEMU=${BENCH_QEMU:-qemu-system-x86_64}

# The guest command line: our VMM's default, read out of the binary (it is one
# string literal there), so QEMU's guest does exactly the same work.
APPEND=$(grep -a -o '8250\.nr_uarts=0 [ -~]*' "$B/sandbox" 2>/dev/null | head -n 1)
[ -n "$APPEND" ] || APPEND="8250.nr_uarts=0 reboot=k panic=-1 nomodule no_timer_check tsc=reliable i8042.noaux i8042.nomux i8042.dumbkbd noreplace-smp"

# qemu_cmd MACHINE FIFO [KERNEL]: sets the array QEMU_CMD.
#  microvm: the devices our VMM has (PIT, PIC, in-kernel irqchip as ours, an
#    i8042 so the guest's reboot=k reset ends QEMU through -no-reboot: microvm
#    has none by default and reboot=k then never resets), none of those it
#    lacks (RTC, option ROMs, ISA serial, ACPI: with acpi=off microvm writes
#    the MP table this ACPI-less guest needs).
#  pc: the fallback docs/ENVIRONMENT.md found to boot this guest.
# The init's byte on port 0x440 reaches FIFO through isa-debugcon.
qemu_cmd() {
	local machine=$1 fifo=$2 kernel=${3:-$BZ}
	local common=( -cpu host -smp 1 -m ${MEM_MIB}M -nodefaults -no-user-config -display none -no-reboot
		-kernel "$kernel" -initrd "$I" -append "$APPEND"
		-chardev "file,id=dbg,path=$fifo" -device isa-debugcon,iobase=0x440,chardev=dbg )
	case $machine in
	microvm) QEMU_CMD=( "$QEMU" -M microvm,x-option-roms=off,isa-serial=off,rtc=off,pit=on,pic=on,acpi=off
			-accel kvm,kernel-irqchip=on "${common[@]}" -device i8042 ) ;;
	pc) QEMU_CMD=( "$QEMU" -M pc -accel kvm -no-hpet "${common[@]}" ) ;;
	*) echo "qemu_cmd: unknown machine $machine" >&2; return 1 ;;
	esac
}

# shell_words ARGS...: the arguments as one line a shell reads back the same.
shell_words() {
	local a out=
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./,=:+@%-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
	done
	printf '%s\n' "${out# }"
}

# field FILE KEY: the last KEY=value in FILE.
field() { sed -n "s/.*[: ]$2=\([^ ]*\).*/\1/p" "$1" | tail -n 1; }

# ---- statistics over "rec vmm=NAME run=I ok=0|1 KEY=VALUE..." lines ------------
# (shared by boot.sh, io.sh and run.sh; run 0 is a warm-up and is left out)

# stats FILE: one "NAME.KEY median min max n" line per numeric field (ok=1 runs,
# values >= 0) and "NAME.runs ok ok total total".
stats() {
	awk '
	$1 == "rec" {
		delete kv
		for (i = 2; i <= NF; i++) { p = index($i, "="); kv[substr($i, 1, p - 1)] = substr($i, p + 1) }
		if (kv["run"] == 0) next
		v = kv["vmm"]; total[v]++
		if (kv["ok"] != 1) next
		ok[v]++
		for (k in kv) {
			if (k == "vmm" || k == "run" || k == "ok" || kv[k] !~ /^-?[0-9.]+$/ || kv[k] + 0 < 0) continue
			key = v "." k; c = ++cnt[key]; val[key, c] = kv[k] + 0
		}
	}
	END {
		for (v in total) printf "%s.runs %d %d %d %d\n", v, ok[v] + 0, ok[v] + 0, total[v], total[v]
		for (key in cnt) {
			n = cnt[key]
			for (i = 1; i <= n; i++) a[i] = val[key, i]
			for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
			med = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			printf "%s %.3f %.3f %.3f %d\n", key, med, a[1], a[n], n
		}
	}' "$1"
}
declare -A MED MIN MAX CNT
# load_stats FILE [PREFIX]: fills MED MIN MAX CNT[PREFIX.NAME.KEY].
load_stats() {
	local key med min max n
	while read -r key med min max n; do
		MED[${2:-}$key]=$med MIN[${2:-}$key]=$min MAX[${2:-}$key]=$max CNT[${2:-}$key]=$n
	done < <(stats "$1")
}
have() { [ -n "${MED[$1]:-}" ]; }
# med KEY [FMT]: the median, -1 if none.
med() { printf "${2:-%.1f}" "${MED[$1]:--1}"; }
# range KEY [FMT]: "median (min-max)", or "-".
range() {
	local f=${2:-%.1f}
	have "$1" || { echo "-"; return; }
	printf "$f ($f-$f)" "${MED[$1]}" "${MIN[$1]}" "${MAX[$1]}"
}
# ratio A B: A / B with 3 decimals, or n/a.
ratio() { awk -v a="${1:--1}" -v b="${2:--1}" 'BEGIN { if (a > 0 && b > 0) printf "%.3f", a / b; else print "n/a" }'; }
# paired FILE A B FIELD [FIELD_B]: median over rounds of A's FIELD / B's
# FIELD_B in the same round: "median min max n", or n/a.
paired() {
	awk -v A="$2" -v B="$3" -v F="$4" -v G="${5:-$4}" '
	$1 == "rec" {
		delete kv
		for (i = 2; i <= NF; i++) { p = index($i, "="); kv[substr($i, 1, p - 1)] = substr($i, p + 1) }
		if (kv["ok"] == 1 && kv["run"] > 0) {
			if (kv["vmm"] == A && kv[F] > 0) va[kv["run"]] = kv[F]
			if (kv["vmm"] == B && kv[G] > 0) vb[kv["run"]] = kv[G]
		}
		if (kv["run"] > max) max = kv["run"]
	}
	END {
		n = 0
		for (r = 1; r <= max; r++)
			if ((r in va) && (r in vb)) a[++n] = va[r] / vb[r]
		if (!n) { print "n/a"; exit }
		for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		printf "%.3f %.3f %.3f %d\n", n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2, a[1], a[n], n
	}' "$1"
}

# ---- where KVM boots Linux -------------------------------------------------------
# detect_kvm SANDBOX: sets KVM_KIND (boots | pvm | cannot | none) and KVM_NOTE
# (kvm-check's words).
detect_kvm() {
	KVM_NOTE=$("$1" kvm-check 2>&1)
	local rc=$?
	if [ ! -e /dev/kvm ]; then KVM_KIND=none
	elif [ $rc = 0 ]; then KVM_KIND=boots
	elif [ -d /sys/module/kvm_pvm ] || [[ $KVM_NOTE == pvm:* ]]; then KVM_KIND=pvm
	else KVM_KIND=cannot
	fi
}

# session_busy: whether another engineer's test-host session runs now.
session_busy() { pgrep -f 'testhost-bzImage' >/dev/null 2>&1; }

# read_info FILE: fills INFO[KEY] from its "info KEY=VALUE" lines.
declare -A INFO
read_info() {
	local line
	while IFS= read -r line; do
		line=${line#info }; INFO[${line%%=*}]=${line#*=}
	done < <(grep '^info ' "$1" 2>/dev/null)
}
