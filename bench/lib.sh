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
[ -n "$APPEND" ] || APPEND="8250.nr_uarts=0 reboot=k panic=-1 nomodule no_timer_check tsc=reliable i8042.noaux i8042.nomux i8042.dumbkbd"

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
