#!/bin/sh
# sandbox-runtime (docs/oci-runtime.md) under the real engines: Debian's
# podman (with conmon) and containerd's ctr with the runc shim, in the test
# host (they need /dev/kvm). Images come from an archive of the busybox
# image the tree builds (podman load, ctr image import), never a registry.
# Afterwards no VM process, virtiofsd, state or mount may be left.
#   tests/e2e/oci.sh [BUILD_DIR]
# The engines come in through KVMHOST_EXTRA (tests/run-all.sh, session "oci",
# lists them). POSIX sh: busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" oci-state
RT=$PWD/$B/sandbox-runtime
W=${TMPDIR:-/tmp}/sandbox-oci.$$
T_EXTRA_DIRS=$W
rm -rf "$W"
mkdir -p "$W"
# OCI_ONLY="podman ctr cri": only those engines' parts (all by default).
want() { [ -z "${OCI_ONLY:-}" ] || case " $OCI_ONLY " in *" $1 "*) ;; *) return 1 ;; esac; }
# The runtime's root: its default, as podman's clean-up after a container
# calls it without the --runtime-flag of the command that started it.
RROOT=/run/sandbox-runtime

# --- bad bundles: one clear error, exit 1 -------------------------------------------
mkdir -p "$W/bad/rootfs"
BR=$W/badroot
t_run nocfg "$RT" --root "$BR" create --bundle "$W/bad" bad1
t_expect nocfg "create: no config.json: exit 1, one error" 1 '' 'config.json: No such file'
printf '{"ociVersion": "1.0.2", "process": ' >"$W/bad/config.json"
t_run badjson "$RT" --root "$BR" --log "$W/log.json" --log-format json create --bundle "$W/bad" bad2
t_expect badjson "create: bad JSON: exit 1" 1 '' 'not valid JSON'
if grep -q '"level":"error"' "$W/log.json" 2>/dev/null; then t_pass "--log-format json: the error as a json line"
else t_fail "--log-format json: the error as a json line"; cat "$W/log.json"; fi
t_run unknowncmd "$RT" checkpoint x
t_expect unknowncmd "unknown command: exit 1" 1 '' 'does not exist'
t_run unknownflag "$RT" --root "$BR" create --bogus x
t_expect unknownflag "unknown flag: exit 1" 1 '' 'flag provided but not defined: --bogus'
t_run version "$RT" --version
t_expect version "--version" 0 '^sandbox-runtime version [0-9]'
t_run features "$RT" features
t_expect features "features: JSON" 0 '"ociVersionMax"'
t_run nostate "$RT" --root "$BR" state nope
t_expect nostate "state of no container: exit 1" 1 '' 'container "nope" does not exist'
t_run nokill "$RT" --root "$BR" kill nope KILL
t_expect nokill "kill of no container: exit 1" 1 '' 'does not exist'
t_run nodel "$RT" --root "$BR" delete --force nope
t_expect nodel "delete --force of no container: 0 (as runc)" 0
t_run badsig "$RT" --root "$BR" kill nope SIGBOGUS
t_expect badsig "kill with no such signal: exit 1" 1 '' 'unknown signal'
t_run updno "$RT" --root "$BR" update --pids-limit 5 nope
t_expect updno "update of no container: exit 1" 1 '' 'container "nope" does not exist'
t_run updjson sh -c "echo '{\"pids\":' | '$RT' --root '$BR' update --resources - nope"
t_expect updjson "update --resources - with bad JSON: exit 1, one error" 1 '' 'not valid JSON'
t_run updnone "$RT" --root "$BR" update nope
t_expect updnone "update with nothing to update: exit 1" 1 '' 'nothing to update'
# a pod's container naming a pod that is not there (docs/kubernetes.md)
mkdir -p "$W/member/rootfs"
member_cfg() {  # member_cfg NAMESPACES ANNOTATIONS
	printf '{"ociVersion":"1.0.2","process":{"args":["true"],"cwd":"/"},"root":{"path":"rootfs"},"linux":{"namespaces":[%s]},"annotations":{%s}}' \
		"$1" "$2" >"$W/member/config.json"
}
member_cfg '{"type":"ipc","path":"/proc/1/ns/ipc"}' '"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-id":"nopod"'
t_run nopod "$RT" --root "$BR" create --bundle "$W/member" m1
t_expect nopod "a pod's container whose pod does not exist: exit 1, one error" 1 '' 'pod sandbox "nopod" does not exist'
member_cfg '{"type":"uts","path":"/proc/1/ns/uts"}' ''
t_run nons "$RT" --root "$BR" create --bundle "$W/member" m2
t_expect nons "joining the namespaces of a process that is no container of ours: exit 1" 1 '' 'process 1: not a container of this runtime'
member_cfg '{"type":"ipc","path":"/run/ipc1"}' ''
t_run nspath "$RT" --root "$BR" create --bundle "$W/member" m3
t_expect nspath "an ipc namespace path of another form: exit 1" 1 '' 'only another container'

if [ "$(id -u)" != 0 ]; then
	t_skip "sandbox-runtime" "needs root"
	t_summary
	exit
fi
if ! "$B/sandbox" kvm-check >/dev/null 2>&1; then
	t_skip "sandbox-runtime" "this host's KVM cannot boot the guest (run it in the test host)"
	t_summary
	exit
fi
# The engines want a cgroup file system; the test host mounts none.
if ! grep -q " /sys/fs/cgroup " /proc/mounts; then
	mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null
fi
# An OCI archive of the busybox image (build/images/busybox is an OCI layout).
tar -C build/images/busybox -cf "$W/busybox.tar" . || { t_fail "image archive"; t_summary; exit; }

now_ms() { /usr/bin/python3 -c 'import time; print(int(time.time() * 1000))' 2>/dev/null || echo 0; }
left_over() {   # VMMs, virtiofsd, sandbox state or mounts of ours still there
	_l=
	for c in /proc/[0-9]*/cmdline; do
		tr '\0' ' ' 2>/dev/null <"$c" | grep -q "$RROOT" && _l="$_l ${c%/cmdline}"
	done
	_s=$(ls -d "$RROOT"/.sandbox/*/ "$RROOT"/*/.sandbox/*/ "$RROOT"/*/oci "$RROOT"/*/*/oci 2>/dev/null | tr '\n' ' ')
	[ -n "$_s" ] && _l="$_l state: $_s"
	grep -q "$RROOT" /proc/mounts && _l="$_l mount"
	echo "$_l"
}
show_left() {
	for c in /proc/[0-9]*/cmdline; do
		tr '\0' ' ' 2>/dev/null <"$c" | grep "$RROOT" | sed "s|^|    ${c%/cmdline}: |"
	done
	ls -laR "$RROOT" 2>/dev/null | head -n 40 | sed 's/^/    /'
	grep "$RROOT" /proc/mounts | sed 's/^/    /'
}

# ============================== podman ===============================================
if want podman && command -v podman >/dev/null && command -v conmon >/dev/null; then
	cat >"$W/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]
# podman's packaged default set (no MKNOD, NET_RAW, AUDIT_WRITE: unlike
# Docker's, which guest-init applies when a config gives none)
default_capabilities = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP",
  "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
conmon_path = ["$(command -v conmon)"]
[engine.runtimes]
sandbox = ["$RT"]
[network]
network_backend = "cni"
network_config_dir = "$W/cni"
EOF
	# podman's bridge network, as podman writes it (for podman run -p)
	mkdir -p "$W/cni"
	cat >"$W/cni/87-podman-bridge.conflist" <<EOF
{ "cniVersion": "0.4.0", "name": "podman", "plugins": [
  { "type": "bridge", "bridge": "cni-podman0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
    "ipam": { "type": "host-local", "routes": [{ "dst": "0.0.0.0/0" }],
              "ranges": [[{ "subnet": "10.88.0.0/16", "gateway": "10.88.0.1" }]] } },
  { "type": "portmap", "capabilities": { "portMappings": true } },
  { "type": "firewall" },
  { "type": "tuning" } ] }
EOF
	export CONTAINERS_CONF=$W/containers.conf
	P="podman --root $W/storage --runroot $W/run --storage-driver vfs --runtime sandbox"
	t_run pload $P load -i "$W/busybox.tar"
	t_expect pload "podman load of the image archive" 0 'Loaded image'
	IMG=localhost/latest:latest
	t_run phi $P run --rm --network none $IMG echo hi
	t_expect phi "podman run --rm echo hi" 0 '^hi$'
	t_run pkern $P run --rm --network none $IMG cat /proc/version
	if [ "$(t_rc pkern)" = 0 ] && ! grep -qF "$(cat /proc/version)" "$T_OUT/pkern.out"; then
		t_pass "podman run: the container sees the guest's own kernel"
	else t_fail "podman run: the container sees the guest's own kernel"; t_show pkern; fi
	t_run p42 $P run --rm --network none $IMG sh -c 'exit 42'
	t_expect p42 "podman run: exit status 42" 42
	t_run p126 $P run --rm --network none $IMG /etc
	t_expect p126 "podman run: not executable: 126" 126
	t_run p127 $P run --rm --network none $IMG no-such-command
	t_expect p127 "podman run: command not found: 127" 127
	t_run penv $P run --rm --network none -e FOO=bar -w /tmp -u 1000:1000 $IMG sh -c 'echo $FOO $(pwd) $(id -u)'
	t_expect penv "podman run -e -w -u" 0 '^bar /tmp 1000$'
	t_run pin sh -c "echo 'echo typed-in' | $P run --rm -i --network none $IMG sh"
	t_expect pin "podman run -i: stdin reaches the container" 0 '^typed-in$'
	t_run ptty $P run --rm -t --network none $IMG sh -c 'test -t 0 && test -t 1 && echo is-a-tty $(stty size)'
	t_expect ptty "podman run -t: a terminal (the pty's master went over --console-socket)" 0 '^is-a-tty [0-9]+ [0-9]+'
	t_run pmem $P run --rm --network none --memory 200m $IMG sh -c 'grep MemTotal /proc/meminfo'
	t_expect pmem "podman run --memory 200m: the guest gets the limit plus room for its kernel" 0 'MemTotal: +(2[5-9][0-9]|3[0-9][0-9])[0-9]{3} kB'
	t_run ppids $P run --rm --network none --pids-limit 10 $IMG sh -c 'for i in $(seq 30); do sleep 3 & done; wait'
	t_expect ppids "podman run --pids-limit 10: the 11th process cannot fork" 2 '' "can't fork"
	t_run pro $P run --rm --network none --read-only $IMG sh -c 'touch /x'
	t_expect pro "podman run --read-only: the root is read-only" 1 '' 'Read-only'
	# config.json's walls, as guest-init applies them: capabilities
	# (podman's default set, --cap-drop, --cap-add), seccomp (the guest's
	# profile, or none when unconfined), masked and read-only paths. Two
	# runs: podman's defaults plus --cap-add and a mask, then everything off.
	t_run pwall $P run --rm --network none --cap-add SYS_ADMIN --security-opt mask=/etc/group $IMG sh -c 'grep -E "^(CapEff|CapBnd|Seccomp):" /proc/self/status; echo "group=[$(cat /etc/group)]"; grep " /proc/sys " /proc/mounts'
	t_expect pwall "podman run --cap-add SYS_ADMIN: podman's default set (0x800405fb) plus bit 21" 0 'CapEff:.00000000802405fb'
	t_expect pwall "podman run: seccomp filter on (the guest's profile)" 0 'Seccomp:.2'
	t_expect pwall "podman run --security-opt mask=/etc/group: masked" 0 '^group=\[\]$'
	t_expect pwall "podman run: /proc/sys read-only (readonlyPaths)" 0 ' /proc/sys .* ro[, ]'
	t_run pwoff $P run --rm --network none --cap-drop ALL --security-opt seccomp=unconfined --security-opt unmask=ALL $IMG sh -c 'grep -E "^(CapEff|CapBnd|Seccomp):" /proc/self/status; echo "sys-ro=$(grep -c " /proc/sys " /proc/mounts)"'
	t_expect pwoff "podman run --cap-drop ALL: no capabilities, bounding set empty" 0 'CapBnd:.0000000000000000'
	t_expect pwoff "podman run --security-opt seccomp=unconfined: no filter" 0 'Seccomp:.0'
	t_expect pwoff "podman run --security-opt unmask=ALL: /proc/sys as it is" 0 '^sys-ro=0$'
	mkdir -p "$W/share" && echo from-host >"$W/share/f"
	t_run pvol $P run --rm --network none -v "$W/share:/d" $IMG sh -c 'cat /d/f && echo from-guest >/d/g'
	if [ "$(t_rc pvol)" = 0 ] && grep -q from-host "$T_OUT/pvol.out" && [ "$(cat "$W/share/g" 2>/dev/null)" = from-guest ]; then
		t_pass "podman run -v hostdir:/d: both ways"
	else t_fail "podman run -v hostdir:/d: both ways"; t_show pvol; fi
	# one sleep, forked at once: a loop forking one a second died when
	# the update test below filled the pids limit at that moment
	t_run pd $P run -d --name sb1 --network none $IMG sh -c 'trap "echo got-term; exit 3" TERM; echo started; sleep 1000000 & wait'
	t_expect pd "podman run -d" 0 '^[0-9a-f]{64}$'
	wait_for 60 sh -c "$P logs sb1 | grep -q started"
	t_run pexec $P exec sb1 sh -c 'echo exec-ok $$'
	t_expect pexec "podman exec" 0 '^exec-ok'
	t_run pexect $P exec -t sb1 sh -c 'test -t 0 && echo exec-tty'
	t_expect pexect "podman exec -t: a terminal" 0 '^exec-tty'
	t_run ppause $P pause sb1
	t_expect ppause "podman pause" 0
	t_run pstate "$RT" --root "$RROOT" state "$($P inspect -f '{{.Id}}' sb1)"
	t_expect pstate "sandbox-runtime state: paused" 0 '"status":"paused"'
	t_run presume $P unpause sb1
	t_expect presume "podman unpause" 0
	t_run pexec2 $P exec sb1 echo after-resume
	t_expect pexec2 "podman exec after unpause" 0 '^after-resume$'
	# update: the container's cgroup in the guest takes new limits
	SB1=$($P inspect -f '{{.Id}}' sb1)
	t_run pupd sh -c "echo '{\"pids\":{\"limit\":6},\"memory\":{\"limit\":67108864},\"cpu\":{\"quota\":50000,\"period\":100000}}' | '$RT' --root '$RROOT' update --resources - '$SB1'"
	t_expect pupd "sandbox-runtime update --resources - (pids, memory, cpu)" 0
	t_run pupdf $P exec sb1 sh -c 'for i in $(seq 12); do sleep 2 & done; wait'
	t_expect pupdf "after update: the container's 7th process cannot fork" 2 '' "can't fork"
	t_run pupdbig "$RT" --root "$RROOT" update --memory 17179869184 "$SB1"
	t_expect pupdbig "update: memory above the VM's size is refused" 1 '' "above the VM's"
	t_run pupdp "$RT" --root "$RROOT" update --pids-limit 50 "$SB1"
	t_expect pupdp "sandbox-runtime update --pids-limit 50" 0
	t_run pupdf2 $P exec sb1 sh -c 'for i in $(seq 12); do sleep 1 & done; wait; echo forked'
	t_expect pupdf2 "after update --pids-limit 50: 12 more processes fork" 0 '^forked$'
	t_run pupdm $P update --memory 80m sb1
	t_expect pupdm "podman update --memory 80m (through sandbox-runtime update)" 0
	t_run pupdm2 $P update --memory 4g sb1
	t_expect pupdm2 "podman update --memory 4g: refused, above the VM's size" 125 '' "above the VM's"
	$P run -d --name sb2 --network none $IMG sleep 1000 >/dev/null 2>&1
	t_run pkill $P kill sb2
	t_expect pkill "podman kill" 0
	$P wait sb2 >/dev/null 2>&1
	t_run pkill2 $P inspect -f '{{.State.ExitCode}}' sb2
	t_expect pkill2 "podman kill: exit status 137" 0 '^137$'
	$P rm sb2 >/dev/null 2>&1
	t_run pstop $P stop -t 30 sb1
	t_expect pstop "podman stop" 0
	t_run plogs $P logs sb1
	t_expect plogs "podman logs: the output, and SIGTERM reached the trap" 0 'got-term'
	t_run pinsp $P inspect -f '{{.State.ExitCode}}' sb1
	t_expect pinsp "podman inspect: the trap's exit status 3" 0 '^3$'
	# An engine's network namespace (as netavark or CNI make one: a veth
	# with the container's address and a default route): podman's
	# --network ns:PATH hands it over as linux.namespaces' network path.
	# iproute2's (by path: busybox's sh prefers its own applets)
	IP=
	for c in /usr/sbin/ip /sbin/ip /usr/bin/ip; do
		[ -z "$IP" ] && [ -x "$c" ] && "$c" -V 2>/dev/null | grep -q iproute2 && IP=$c
	done
	if [ -n "$IP" ]; then
		$IP netns add sbt && $IP link add sbh type veth peer name sbc && $IP link set sbc netns sbt &&
			$IP addr add 10.99.0.1/24 dev sbh && $IP link set sbh up &&
			$IP -n sbt addr add 10.99.0.2/24 dev sbc && $IP -n sbt link set sbc up &&
			$IP -n sbt link set lo up && $IP -n sbt route add default via 10.99.0.1
		t_run pnet $P run -d --name sbn --network ns:/run/netns/sbt $IMG httpd -f -p 80 -h /etc
		t_expect pnet "podman run -d --network ns:PATH (httpd)" 0
		wait_for 60 sh -c "timeout 10 wget -q -O - http://10.99.0.2/passwd | grep -q root:"
		t_run pwget timeout 10 wget -q -O - http://10.99.0.2/passwd
		t_expect pwget "the engine's network namespace: this host reaches httpd in the sandbox" 0 '^root:'
		t_run paddr $P exec sbn sh -c 'ip -4 addr show eth0; ip route'
		t_expect paddr "the guest's eth0 has the namespace's address and route" 0 'default via 10.99.0.1'
		$P rm -f sbn >/dev/null 2>&1
		$IP link del sbh 2>/dev/null
		$IP netns del sbt 2>/dev/null
	else
		t_skip "--network ns:PATH" "no iproute2 ip here"
	fi
	# podman run -p on podman's bridge network: CNI's bridge, portmap and
	# firewall plugins (iptables-nft: the test host's kernel has
	# netfilter) make the namespace's veth, the DNAT of the published port
	# and the masquerade; sandbox-runtime wires the veth to the VM's NIC
	# (cli/run_netns.c). This host reaches httpd in the sandbox through
	# the published port.
	if ! command -v iptables >/dev/null || [ ! -x /usr/lib/cni/portmap ]; then
		t_skip "podman run -p" "no iptables or CNI plugins here (KVMHOST_EXTRA)"
	elif ! iptables -t nat -L -n >/dev/null 2>&1; then
		t_skip "podman run -p" "this kernel has no netfilter nat table (kernel-config/testhost.config)"
	else
		t_run pport $P run -d --name sbp -p 8080:80 $IMG httpd -f -p 80 -h /etc
		t_expect pport "podman run -d -p 8080:80 httpd (bridge network)" 0
		wait_for 60 sh -c "timeout 10 wget -q -O - http://127.0.0.1:8080/passwd | grep -q root:"
		t_run pwget2 timeout 10 wget -q -O - http://127.0.0.1:8080/passwd
		t_expect pwget2 "podman run -p 8080:80: this host reaches httpd in the sandbox at 127.0.0.1:8080" 0 '^root:'
		t_run pwget3 sh -c "timeout 10 wget -q -O - http://\$($P inspect -f '{{.NetworkSettings.IPAddress}}' sbp):80/group"
		t_expect pwget3 "podman run -p: the container's bridge address reaches httpd too" 0 '^root:'
		if [ "$(t_rc pwget2)" != 0 ]; then
			iptables -t nat -S 2>&1 | sed 's/^/    /'
			$P logs sbp 2>&1 | tail -n 5 | sed 's/^/    /'
		fi
		$P rm -f sbp >/dev/null 2>&1
		t_run pportgone sh -c "! iptables -t nat -S | grep -q 'dport 8080'"
		t_expect pportgone "podman rm: the published port's rules are gone" 0
	fi
	t_run prm $P rm sb1
	t_expect prm "podman rm" 0
	# podman's pods: the infra container's VM holds the pod's containers
	# (docs/kubernetes.md); its image is busybox sleeping
	if /usr/bin/python3 tests/cri/pauseimg.py build/images/busybox "$W/ppause" --ref=sbpause sleep 1000000 &&
		tar -C "$W/ppause" -cf "$W/ppause.tar" . && $P load -i "$W/ppause.tar" >"$W/ppause.out" 2>&1; then
		PIMG=$(sed -n 's/^Loaded image[^:]*: *//p' "$W/ppause.out" | head -n 1)
		t_run ppod $P pod create --name sbpod --network none --infra-image "$PIMG"
		t_expect ppod "podman pod create (its infra container in a sandbox VM)" 0
		probe='echo host $(hostname); echo boot $(cat /proc/sys/kernel/random/boot_id)'
		t_run ppod1 $P run --rm --pod sbpod $IMG sh -c "$probe"
		t_run ppod2 $P run --rm --pod sbpod $IMG sh -c "$probe"
		pb1=$(sed -n 's/^boot //p' "$T_OUT/ppod1.out") pb2=$(sed -n 's/^boot //p' "$T_OUT/ppod2.out")
		if [ "$(t_rc ppod1)" = 0 ] && [ "$(t_rc ppod2)" = 0 ] && [ -n "$pb1" ] && [ "$pb1" = "$pb2" ] &&
			[ "$pb1" != "$(cat /proc/sys/kernel/random/boot_id)" ] &&
			[ "$(sed -n 's/^host //p' "$T_OUT/ppod1.out")" = sbpod ]; then
			t_pass "podman run --pod: two containers, one after the other, in the pod's one VM (same kernel boot id, the pod's host name)"
		else t_fail "podman run --pod: in the pod's VM"; t_show ppod1; t_show ppod2; fi
		# a member's binds of host directories (rw and ro) through the pod's
		# share, the engine's /etc/hostname and /etc/hosts files, and the
		# pod's one /dev/shm (docs/kubernetes.md)
		mkdir -p "$W/pv" "$W/pvro" && echo pod-host >"$W/pv/f" && echo ro-host >"$W/pvro/f"
		t_run ppodv $P run --rm --pod sbpod -v "$W/pv:/d" -v "$W/pvro:/r:ro" $IMG sh -c \
			'cat /d/f /r/f; echo pod-guest >/d/g; echo x >/r/x && echo ro-written; echo shm-ok >/dev/shm/sbshm; echo name $(cat /etc/hostname); grep -c " /etc/hosts " /proc/mounts'
		if [ "$(t_rc ppodv)" = 0 ] && grep -q '^pod-host$' "$T_OUT/ppodv.out" && grep -q '^ro-host$' "$T_OUT/ppodv.out" &&
			[ "$(cat "$W/pv/g" 2>/dev/null)" = pod-guest ] && ! grep -q ro-written "$T_OUT/ppodv.out" && [ ! -e "$W/pvro/x" ]; then
			t_pass "podman run --pod -v dir:/d -v dir:/r:ro: a member sees the host's files, writes reach the host, the read-only one refuses"
		else t_fail "podman run --pod -v: a member's binds of host directories"; t_show ppodv; fi
		if [ "$(sed -n 's/^name //p' "$T_OUT/ppodv.out")" = sbpod ] && grep -qx 1 "$T_OUT/ppodv.out"; then
			t_pass "podman run --pod: the member's /etc/hostname and /etc/hosts are the engine's files (bound)"
		else t_fail "podman run --pod: the engine's /etc/hostname and /etc/hosts in a member"; t_show ppodv; fi
		if grep -Eq "/pod/[^ ]+/v[0-9]+ " /proc/mounts; then
			t_fail "podman run --rm --pod -v: the member's binds unmounted after its delete"; grep -E "/pod/[^ ]+/v[0-9]+ " /proc/mounts | sed 's/^/    /'
		else t_pass "podman run --rm --pod -v: no mount of the member's binds left after its delete"; fi
		# binds resolved inside the member's root as it will see it: a
		# symlink pointing above the root (esc -> ../../../..) leads to its
		# top, a dangling one to its target inside it; files bound anywhere
		# (kubelet's /dev/termination-log is one)
		mkdir -p "$W/sroot" && scid=$($P create $IMG true 2>/dev/null) && $P export "$scid" | tar -C "$W/sroot" -x &&
			$P rm "$scid" >/dev/null 2>&1 && mkdir -p "$W/sroot/tmp" && ln -s ../../../../.. "$W/sroot/esc" &&
			ln -s /tmp/dt "$W/sroot/etc/dl" && ln -s ../run/sub/dl2 "$W/sroot/etc/dl2"
		t_run ppodsym $P run --rm --pod sbpod -v "$W/pv:/esc/vv" -v "$W/pv/f:/etc/dl:ro" -v "$W/pv/f:/dev/termlog" \
			-v "$W/pv/f:/etc/dl2" --rootfs "$W/sroot" sh -c 'cat /vv/f /etc/dl /dev/termlog /etc/dl2'
		if [ "$(t_rc ppodsym)" = 0 ] && [ "$(grep -c '^pod-host$' "$T_OUT/ppodsym.out")" = 4 ] && [ -d "$W/sroot/vv" ] &&
			[ -f "$W/sroot/tmp/dt" ] && [ -f "$W/sroot/run/sub/dl2" ]; then
			t_pass "podman run --pod: binds resolved inside the member's root (a symlink above it, dangling ones, into a missing directory too, a file in /dev)"
		else t_fail "podman run --pod: binds resolved inside the member's root"; t_show ppodsym; ls -la "$W/sroot" | head -n 30 | sed 's/^/    /'; fi
		# a bind whose path leads through a file: the member does not
		# start, one error naming the path
		t_run ppodbad $P run --rm --pod sbpod -v "$W/pv:/etc/passwd/x" $IMG true
		if [ "$(t_rc ppodbad)" != 0 ] && grep -q 'bind at /etc/passwd/x' "$T_OUT/ppodbad.err" "$T_OUT/ppodbad.out"; then
			t_pass "podman run --pod -v DIR:/etc/passwd/x: refused at start, one error naming the path"
		else t_fail "podman run --pod: a bind through a file refused"; t_show ppodbad; fi
		t_run ppodshm $P run --rm --pod sbpod $IMG cat /dev/shm/sbshm
		t_expect ppodshm "podman run --pod: the next member sees the first one's /dev/shm file (one /dev/shm per pod)" 0 '^shm-ok$'
		# the pod's sandbox deleted under a running member: refused while it
		# runs, --force kills the member (docs/kubernetes.md)
		pm=$($P run -d --pod sbpod $IMG sleep 100000 2>/dev/null)
		infra=$($P pod inspect -f '{{.InfraContainerID}}' sbpod 2>/dev/null)
		wait_for 60 sh -c "'$RT' state '$pm' 2>/dev/null | grep -q running"
		t_run ppoddel "$RT" delete "$infra"
		t_expect ppoddel "delete of a running pod's sandbox: refused (exit 1)" 1 '' 'not stopped'
		t_run ppoddelf "$RT" delete --force "$infra"
		t_run ppodst "$RT" state "$pm"
		if [ "$(t_rc ppoddelf)" = 0 ] && grep -Eq '"status": ?"stopped"' "$T_OUT/ppodst.out"; then
			t_pass "delete --force of a pod's sandbox: its running member is killed with it"
		else t_fail "delete --force of a pod's sandbox kills its member"; t_show ppoddelf; t_show ppodst; fi
		t_run ppodrm $P pod rm -f sbpod
		t_expect ppodrm "podman pod rm -f" 0
	else
		t_fail "podman: the pod's infra image"; cat "$W/ppause.out" 2>/dev/null | sed 's/^/    /'
	fi
	l=$(left_over)
	if [ -z "$l" ]; then t_pass "podman: nothing left (VMM, virtiofsd, state, mounts)"
	else t_fail "podman: nothing left" "left:$l"; show_left; fi
else
	t_skip "podman" "not asked for (OCI_ONLY), or podman or conmon not in this host (KVMHOST_EXTRA)"
fi

# ============================== containerd ===========================================
if want ctr && command -v containerd >/dev/null && command -v ctr >/dev/null && command -v containerd-shim-runc-v2 >/dev/null; then
	mkdir -p "$W/ctrd"
	cat >"$W/ctrd/config.toml" <<EOF
version = 2
root = "$W/ctrd/root"
state = "$W/ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$W/ctrd/sock"
EOF
	containerd --config "$W/ctrd/config.toml" >"$W/ctrd/log" 2>&1 &
	CPID=$!
	export CONTAINERD_SNAPSHOTTER=native
	C="ctr --address $W/ctrd/sock"
	wait_for 30 $C version
	t_run cimp $C image import --base-name sb/busybox --digests --all-platforms "$W/busybox.tar"
	t_expect cimp "ctr image import" 0
	CIMG=$($C image ls -q | head -n 1)
	ms0=$(now_ms)
	t_run chi $C run --rm --runtime io.containerd.runc.v2 --runc-binary "$RT" --runc-root "$RROOT" "$CIMG" c1 echo hi
	echo "# ctr: run --rm echo hi (a VM of its own) $(($(now_ms) - ms0)) ms"
	t_expect chi "ctr run --rm --runc-binary sandbox-runtime echo hi" 0 '^hi$'
	t_run c42 $C run --rm --runtime io.containerd.runc.v2 --runc-binary "$RT" --runc-root "$RROOT" "$CIMG" c2 sh -c 'exit 42'
	t_expect c42 "ctr run: exit status 42" 42
	$C run -d --runtime io.containerd.runc.v2 --runc-binary "$RT" --runc-root "$RROOT" "$CIMG" c3 sh -c 'while :; do sleep 1; done' >/dev/null 2>&1
	wait_for 60 sh -c "$C task ls | grep c3 | grep -q RUNNING"
	t_run cexec $C task exec --exec-id e1 c3 echo exec-ok
	t_expect cexec "ctr task exec" 0 '^exec-ok$'
	t_run ckill $C task kill -s SIGKILL c3
	t_expect ckill "ctr task kill" 0
	wait_for 30 sh -c "$C task ls | grep c3 | grep -q STOPPED"
	$C task rm c3 >/dev/null 2>&1
	$C container rm c3 >/dev/null 2>&1
	l=$(left_over)
	if [ -z "$l" ]; then t_pass "ctr: nothing left (VMM, virtiofsd, state, mounts)"
	else t_fail "ctr: nothing left" "left:$l"; show_left; fi
	kill $CPID 2>/dev/null
	wait $CPID 2>/dev/null
	umount -R "$W/ctrd/state" 2>/dev/null
else
	t_skip "containerd" "not asked for (OCI_ONLY), or containerd, ctr or the runc shim not in this host (KVMHOST_EXTRA)"
fi

# ============================== containerd's CRI plugin ==============================
# What kubelet does for a pod whose RuntimeClass names the handler "sandbox":
# CRI requests to containerd's CRI plugin, whose runtime "sandbox" is the
# runc shim with BinaryName = sandbox-runtime (docs/kubernetes.md): a pod
# sandbox, then two containers in it, which run in the pod's one VM. The
# client is tests/cri/runp.py (Debian has no crictl), over python3-grpcio.
PY=/usr/bin/python3
if want cri && command -v containerd >/dev/null && command -v containerd-shim-runc-v2 >/dev/null && [ -x $PY ] &&
	$PY -c 'import grpc, grpc_tools' 2>/dev/null; then
	mkdir -p "$W/cri/pb" "$W/cri/logs"
	# a host-network pod gets a copy of this host's resolv.conf (the test
	# host has none: one for the test's length)
	made_resolv=
	[ -e /etc/resolv.conf ] || { echo "nameserver 127.0.0.1" >/etc/resolv.conf && made_resolv=1; }
	# the pod's "pause" image: busybox sleeping (Debian has no pause image)
	$PY tests/cri/pauseimg.py build/images/busybox "$W/pause" sleep 1000000 &&
		tar -C "$W/pause" -cf "$W/pause.tar" . || t_fail "the pause image"
	cat >"$W/cri/config.toml" <<EOF
version = 2
root = "$W/cri/root"
state = "$W/cri/state"
[grpc]
  address = "$W/cri/sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/sb/pause:latest"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "sandbox"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sandbox]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sandbox.options]
        BinaryName = "$RT"
        Root = "$RROOT"
EOF
	containerd --config "$W/cri/config.toml" >"$W/cri/log" 2>&1 &
	KPID=$!
	K="ctr --address $W/cri/sock -n k8s.io"
	wait_for 30 $K version
	$K image import --base-name docker.io/sb/busybox --digests "$W/busybox.tar" >/dev/null 2>&1
	$K image import --base-name docker.io/sb/pause --digests "$W/pause.tar" >/dev/null 2>&1
	$PY -m grpc_tools.protoc -Itests/cri --python_out="$W/cri/pb" --grpc_python_out="$W/cri/pb" tests/cri/cri_min.proto
	mkdir -p "$W/cri/vol" && echo cri-host >"$W/cri/vol/f"
	t_run crip $PY tests/cri/runp.py "$W/cri/sock" sandbox "$W/cri/pb" "$W/cri/logs" docker.io/sb/busybox:latest \
		"$RROOT/k8s.io/.sandbox" "$W/cri/vol"
	t_expect crip "CRI: a pod sandbox with the handler whose BinaryName is sandbox-runtime, two containers in it, all stopped and removed" 0 '^removed '
	if [ "$(t_rc crip)" != 0 ]; then
		grep -i "error" "$W/cri/log" | tail -n 5 | sed 's/^/    /'
		tail -n 5 "$W"/cri/state/io.containerd.runtime.v2.task/k8s.io/*/log.json 2>/dev/null | sed 's/^/    /'
	fi
	# the pod's pause container was a sandbox VM: sandbox-runtime's events
	# (its --root is the handler's Root plus the namespace)
	ev=$RROOT/k8s.io/.sandbox/.events.json
	if grep -q '"type":"create"' "$ev" 2>/dev/null && grep -q '"type":"start"' "$ev"; then
		t_pass "CRI: the pod's pause container ran in a sandbox VM (sandbox-runtime's create and start events)"
	else t_fail "CRI: the pod's pause container ran in a sandbox VM"; tail -n 3 "$ev" 2>&1 | sed 's/^/    /'; fi
	crv() { sed -n "s/^$1 //p" "$T_OUT/crip.out" | head -n 1; }
	hostboot=$(cat /proc/sys/kernel/random/boot_id)
	if [ "$(crv app1_exit)" = 3 ] && [ "$(crv app1_state)" = CONTAINER_EXITED ] &&
		grep -q '^app1_stdout app-ok$' "$T_OUT/crip.out"; then
		t_pass "CRI: an app container in the pod ran, its log and exit status 3 back through CRI"
	else t_fail "CRI: an app container in the pod ran (log, exit status 3)"; t_show crip; fi
	b1=$(sed -n 's/^app1_stdout boot //p' "$T_OUT/crip.out")
	h1=$(sed -n 's/^app1_stdout host //p' "$T_OUT/crip.out")
	if [ "$h1" = sbpod ] && [ -n "$b1" ] && [ "$b1" != "$hostboot" ] && [ "$(crv sandboxes)" = 1 ]; then
		t_pass "CRI: it ran in the pod's VM (the pod's host name, a kernel other than the host's, one VM for the pod)"
	else t_fail "CRI: it ran in the pod's VM" "host '$h1' boot '$b1' (host's $hostboot) VMs '$(crv sandboxes)'"; fi
	if [ "$(crv exec_exit)" = 0 ] && [ "$(crv exec_boot)" = "$b1" ] && [ "$(crv exec_host)" = sbpod ] &&
		[ "$(crv app2_state)" = CONTAINER_RUNNING ]; then
		t_pass "CRI: ExecSync in a second app container of the pod: the same VM's kernel and host name"
	else t_fail "CRI: ExecSync in a second app container" "exec: exit '$(crv exec_exit)' boot '$(crv exec_boot)' host '$(crv exec_host)'"; fi
	if grep -q '^app1_stdout vol cri-host$' "$T_OUT/crip.out" && [ "$(cat "$W/cri/vol/g" 2>/dev/null)" = from-app1 ] &&
		grep -q '^app1_stdout volro refused$' "$T_OUT/crip.out" && [ ! -e "$W/cri/vol/x" ]; then
		t_pass "CRI: a container's mounts of a host directory (rw and readonly) in the pod's VM"
	else t_fail "CRI: a container's mounts of a host directory"; t_show crip; fi
	if [ "$(sed -n 's/^app1_stdout resolv //p' "$T_OUT/crip.out")" = "$(head -n 1 /etc/resolv.conf)" ] &&
		[ "$(sed -n 's/^app1_stdout hostname //p' "$T_OUT/crip.out")" = sbpod ] && [ "$(crv exec_shm)" = shm-ok ]; then
		t_pass "CRI: the pod's /etc/resolv.conf and /etc/hostname in its container; /dev/shm is the pod's (a second container sees the first's file)"
	else t_fail "CRI: the pod's resolv.conf, hostname, /dev/shm" "resolv '$(sed -n 's/^app1_stdout resolv //p' "$T_OUT/crip.out")' host's '$(head -n 1 /etc/resolv.conf)' shm '$(crv exec_shm)'"; fi
	echo "# CRI: RunPodSandbox $(crv time_pod_ms) ms (the pod's VM), a container in it: create to exit $(crv time_app1_ms) ms, CreateContainer+StartContainer $(crv time_app2_ms) ms"
	if [ "$(crv app2_stopped)" = CONTAINER_EXITED ]; then t_pass "CRI: StopContainer of the second (sleeping) one"
	else t_fail "CRI: StopContainer" "state '$(crv app2_stopped)'"; fi
	kill $KPID 2>/dev/null
	wait $KPID 2>/dev/null
	umount -R "$W/cri/state" 2>/dev/null
	[ -n "$made_resolv" ] && rm -f /etc/resolv.conf
	l=$(left_over)
	if [ -z "$l" ]; then t_pass "CRI: nothing left (VMM, virtiofsd, state, the pod's share, mounts)"
	else t_fail "CRI: nothing left" "left:$l"; show_left; fi
else
	t_skip "containerd's CRI plugin" "not asked for (OCI_ONLY), or containerd or python3 with grpc (python3-grpcio, python3-grpc-tools) not in this host"
fi

t_summary
