/* The attack catalogue of `sandbox audit` (docs/audit.md): one entry per
 * attack, with what it does, why it matters, the attacker's arguments
 * (attacker/attacker.c) and the verdict function that reads the evidence.
 * Everything here is pure: tests/unit/test_audit.c feeds it evidence. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

const char *audit_verdict_name(enum audit_verdict v)
{
	switch (v) {
	case AUDIT_CONTAINED: return "contained";
	case AUDIT_EXPOSED: return "exposed";
	case AUDIT_NOT_APPLICABLE: return "not applicable";
	default: return "could not run";
	}
}

/* ---- evidence ------------------------------------------------------------------ */
bool audit_ev_nth(const struct audit_evidence *ev, const char *key, int nth, char *buf, size_t n)
{
	size_t kl = strlen(key);
	const char *p = ev->out;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (ll > kl && !strncmp(p, key, kl) && p[kl] == '=' && nth-- == 0) {
			size_t vl = ll - kl - 1;
			if (n) {
				if (vl >= n)
					vl = n - 1;
				memcpy(buf, p + kl + 1, vl);
				buf[vl] = '\0';
			}
			return true;
		}
		p += ll + (eol ? 1 : 0);
	}
	return false;
}

bool audit_ev_get(const struct audit_evidence *ev, const char *key, char *buf, size_t n)
{
	return audit_ev_nth(ev, key, 0, buf, n);
}

long audit_ev_long(const struct audit_evidence *ev, const char *key, long dflt)
{
	char b[32], *end;
	if (!audit_ev_get(ev, key, b, sizeof(b)) || !b[0])
		return dflt;
	long v = strtol(b, &end, 10);
	return *end ? dflt : v;
}

bool audit_ev_has(const struct audit_evidence *ev, const char *key, const char *value)
{
	char b[256];
	for (int i = 0; audit_ev_nth(ev, key, i, b, sizeof(b)); i++)
		if (!strcmp(b, value))
			return true;
	return false;
}

__attribute__((format(printf, 4, 5))) static enum audit_verdict say(enum audit_verdict v, char *why, size_t n,
								      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return v;
}

/* Something reached: exposed on a shared kernel, contained where the
 * kernel reached is the sandbox's own (the wall that held is named). */
static enum audit_verdict reached(const struct audit_context *c, char *why, size_t n, const char *what)
{
	if (c->own_kernel)
		return say(AUDIT_CONTAINED, why, n, "%s, but in the sandbox's own kernel, not the host's", what);
	return say(AUDIT_EXPOSED, why, n, "%s in the host's kernel", what);
}

/* Every "KEY=OK" line among KEYS (NULL-terminated) is a success; with
 * GATE, any value but a refusal (EPERM, EACCES, ENOSYS, ENOENT, EROFS)
 * is: the call got past the permission check into the kernel. */
static bool is_refusal(const char *v)
{
	static const char *const r[] = { "EPERM", "EACCES", "ENOSYS", "ENOENT", "EROFS", "EAFNOSUPPORT", NULL };
	for (int i = 0; r[i]; i++)
		if (!strcmp(v, r[i]))
			return true;
	return false;
}

static enum audit_verdict keys_judge(const struct audit_evidence *ev, const struct audit_context *c, char *why,
				     size_t n, bool gate, const char *const *keys)
{
	char got[160] = "", v[64];
	bool any = false, seen = false;
	for (int i = 0; keys[i]; i++) {
		if (!audit_ev_get(ev, keys[i], v, sizeof(v)))
			continue;
		seen = true;
		if (gate ? !is_refusal(v) : !strcmp(v, "OK")) {
			size_t l = strlen(got);
			snprintf(got + l, sizeof(got) - l, "%s%s=%s", any ? " " : "", keys[i], v);
			any = true;
		}
	}
	if (!seen)
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (!any)
		return say(AUDIT_CONTAINED, why, n, "refused");
	return reached(c, why, n, got);
}
#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- verdicts ------------------------------------------------------------------ */
#define JUDGE(name) \
	static enum audit_verdict name(const struct audit_evidence *ev, __attribute__((unused)) const struct audit_context *c, char *why, size_t n)

JUDGE(j_kvm) { return keys_judge(ev, c, why, n, false, KEYS("open")); }
JUDGE(j_vda) { return keys_judge(ev, c, why, n, false, KEYS("open")); }
JUDGE(j_mount) { return keys_judge(ev, c, why, n, false, KEYS("mount")); }
JUDGE(j_ptrace) { return keys_judge(ev, c, why, n, false, KEYS("ptrace_parent")); }
JUDGE(j_syslog) { return keys_judge(ev, c, why, n, false, KEYS("syslog")); }
JUDGE(j_module) { return keys_judge(ev, c, why, n, true, KEYS("init_module", "finit_module")); }
JUDGE(j_sys) { return keys_judge(ev, c, why, n, true, KEYS("result")); }
JUDGE(j_procsys)
{
	return keys_judge(ev, c, why, n, false, KEYS("core_pattern", "sysrq_trigger", "drop_caches", "modprobe"));
}
JUDGE(j_sysfs) { return keys_judge(ev, c, why, n, false, KEYS("uevent_helper", "thp_enabled", "power_state")); }
JUDGE(j_clock) { return keys_judge(ev, c, why, n, false, KEYS("clock_settime")); }
JUDGE(j_vsock) { return keys_judge(ev, c, why, n, false, KEYS("socket")); }
JUDGE(j_exe) { return keys_judge(ev, c, why, n, false, KEYS("exe_self", "exe_1", "exe_1_opath")); }
JUDGE(j_userns) { return keys_judge(ev, c, why, n, false, KEYS("unshare_user")); }

JUDGE(j_dev)
{
	char extra[200];
	long k = audit_ev_long(ev, "extra_count", -1);
	if (k < 0)
		return say(AUDIT_NOT_RUN, why, n, "no listing of /dev");
	if (k == 0)
		return say(AUDIT_CONTAINED, why, n, "only the minimal set");
	audit_ev_get(ev, "extra", extra, sizeof(extra));
	char what[260];
	snprintf(what, sizeof(what), "%ld more devices (%.200s)", k, extra);
	return reached(c, why, n, what);
}

JUDGE(j_mknod)
{
	if (audit_ev_has(ev, "read", "OK")) {
		char dev[64] = "?", what[128];
		for (int j = 0; audit_ev_nth(ev, "device", j, dev, sizeof(dev)); j++)
			;
		snprintf(what, sizeof(what), "a block device (%s) made and read", dev);
		return reached(c, why, n, what);
	}
	if (!audit_ev_nth(ev, "mknod", 0, NULL, 0))
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (audit_ev_has(ev, "mknod", "OK"))
		return say(AUDIT_CONTAINED, why, n, "nodes made, but none could be read");
	return say(AUDIT_CONTAINED, why, n, "mknod refused");
}

JUDGE(j_kallsyms)
{
	long nz = audit_ev_long(ev, "nonzero", -1);
	if (audit_ev_has(ev, "open", "OK") && nz > 0) {
		char what[96];
		snprintf(what, sizeof(what), "%ld kernel addresses readable", nz);
		return reached(c, why, n, what);
	}
	if (!audit_ev_nth(ev, "open", 0, NULL, 0))
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	return say(AUDIT_CONTAINED, why, n, nz == 0 ? "every address zeroed" : "no kallsyms");
}

JUDGE(j_kernel_id)
{
	char v[512];
	if (!audit_ev_get(ev, "version", v, sizeof(v)))
		return say(AUDIT_NOT_RUN, why, n, "no /proc/version read");
	if (!c->host_version[0])
		return say(AUDIT_NOT_RUN, why, n, "the host's /proc/version is unknown");
	if (!strcmp(v, c->host_version))
		return say(AUDIT_EXPOSED, why, n, "the host's exact kernel build is visible");
	return say(AUDIT_CONTAINED, why, n, "the kernel seen is not the host's");
}

JUDGE(j_release_agent)
{
	long files = audit_ev_long(ev, "release_agent_files", -1);
	long wr = audit_ev_long(ev, "release_agent_writable", 0) + audit_ev_long(ev, "mounted_release_agent_writable", 0);
	long nor = audit_ev_long(ev, "notify_on_release_writable", 0);
	if (files < 0)
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (wr > 0 || nor > 0 || audit_ev_has(ev, "mount_cgroup_v1", "OK")) {
		char what[128];
		snprintf(what, sizeof(what), "%ld release_agent and %ld notify_on_release files writable", wr, nor);
		return reached(c, why, n, what);
	}
	return say(AUDIT_CONTAINED, why, n, files ? "release_agent read-only, cgroup mount refused"
						 : "no release_agent file, cgroup mount refused");
}

JUDGE(j_sniff)
{
	long nl = audit_ev_long(ev, "non_lo", -1);
	if (nl < 0)
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (audit_ev_has(ev, "packet_socket", "OK") && nl > 0) {
		char ifs[128], what[200];
		audit_ev_get(ev, "interfaces", ifs, sizeof(ifs));
		snprintf(what, sizeof(what), "a raw socket on %ld interfaces beyond lo (%s)", nl, ifs);
		return reached(c, why, n, what);
	}
	return say(AUDIT_CONTAINED, why, n, nl ? "no raw socket" : "only lo in the sandbox's network namespace");
}

JUDGE(j_hostlo)
{
	static const char *const addrs[] = { "127.0.0.1", "10.0.2.2", "172.30.0.1", "172.17.0.1" };
	char v[32];
	if (!c->listener_up)
		return say(AUDIT_NOT_RUN, why, n, "the host's listener could not be set up");
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		if (audit_ev_get(ev, addrs[i], v, sizeof(v)) && !strcmp(v, "OK"))
			return say(AUDIT_EXPOSED, why, n, "the host's listener on 127.0.0.1:%d answered at %s", c->port,
				   addrs[i]);
	if (!audit_ev_get(ev, "127.0.0.1", v, sizeof(v)))
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	return say(AUDIT_CONTAINED, why, n, "the host's listener (127.0.0.1:%d) unreachable", c->port);
}

JUDGE(j_abstract)
{
	char v[32];
	if (!c->listener_up)
		return say(AUDIT_NOT_RUN, why, n, "the host's listener could not be set up");
	if (!audit_ev_get(ev, "connect", v, sizeof(v)))
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (!strcmp(v, "OK"))
		return say(AUDIT_EXPOSED, why, n, "connected to the host's @%s", c->abstract_name);
	return say(AUDIT_CONTAINED, why, n, "the host's @%s unreachable (%s)", c->abstract_name, v);
}

JUDGE(j_fds)
{
	long k = audit_ev_long(ev, "leaked", -1), d = audit_ev_long(ev, "leaked_dirs", 0);
	char fds[200];
	if (k < 0)
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (k == 0)
		return say(AUDIT_CONTAINED, why, n, "only 0, 1 and 2 open");
	audit_ev_get(ev, "open_fds", fds, sizeof(fds));
	return say(AUDIT_EXPOSED, why, n, "%ld descriptors leaked in (%ld directories): %.180s", k, d, fds);
}

JUDGE(j_neighbour)
{
	char cmd[256];
	if (!audit_ev_nth(ev, "cmdline", 0, cmd, sizeof(cmd)))
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	bool seen = strstr(cmd, "audit") != NULL;
	bool mem = audit_ev_has(ev, "process_vm_readv", "OK") || audit_ev_has(ev, "proc_mem", "OK");
	if (seen && mem)
		return say(AUDIT_EXPOSED, why, n, "the audit's own host process is visible and its memory readable");
	if (seen)
		return say(AUDIT_EXPOSED, why, n, "the audit's own host process is visible (memory refused)");
	return say(AUDIT_CONTAINED, why, n, "the host's processes are not visible");
}

/* The neighbour attacks: exposed only when the bytes the attacker read
 * ("secret=") are the neighbour's secret, which only the host and the
 * neighbour know (the attacker is given it reversed). A neighbour that
 * did not start leaves nothing to find: could not run. */
static enum audit_verdict nbr_judge(const struct audit_evidence *ev, const struct audit_context *c, char *why,
				    size_t n, const char *tried)
{
	char sec[96], where[128];
	if (!c->nbr_up)
		return say(AUDIT_NOT_RUN, why, n, "no neighbour: %.200s", c->nbr_error[0] ? c->nbr_error : "not started");
	if (!audit_ev_get(ev, "found", where, sizeof(where)))
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (audit_ev_get(ev, "secret", sec, sizeof(sec)) && c->nbr_secret[0] && !strcmp(sec, c->nbr_secret))
		return say(AUDIT_EXPOSED, why, n, "the neighbour's secret read (%s)", where);
	if (strcmp(where, "-"))
		return say(AUDIT_NOT_RUN, why, n, "a find that is not the neighbour's secret (%s)", where);
	return say(AUDIT_CONTAINED, why, n, "secret not found: %s", tried);
}

JUDGE(j_nbr_files)
{
	char what[160];
	snprintf(what, sizeof(what), "%ld roots seen (%ld not its own), %ld entries walked",
		 audit_ev_long(ev, "roots_seen", 0), audit_ev_long(ev, "foreign_roots", 0), audit_ev_long(ev, "walked", 0));
	return nbr_judge(ev, c, why, n, what);
}

JUDGE(j_nbr_mem)
{
	char what[200], vr[24] = "-", pm[24] = "-";
	audit_ev_get(ev, "process_vm_readv", vr, sizeof(vr));
	audit_ev_get(ev, "proc_mem", pm, sizeof(pm));
	snprintf(what, sizeof(what), "%ld processes, %ld KiB read (process_vm_readv %s, /proc/PID/mem %s), its host pid %s",
		 audit_ev_long(ev, "pids", 0), audit_ev_long(ev, "bytes_read", 0) >> 10, vr, pm,
		 audit_ev_has(ev, "nbr_pid_vm_readv", "OK") ? "readable" : "not reached");
	return nbr_judge(ev, c, why, n, what);
}

JUDGE(j_nbr_net)
{
	char what[160], ifs[96] = "-", ps[24] = "-";
	audit_ev_get(ev, "interfaces", ifs, sizeof(ifs));
	audit_ev_get(ev, "packet_socket", ps, sizeof(ps));
	snprintf(what, sizeof(what), "packet socket %s, %ld frames on %s", ps, audit_ev_long(ev, "frames", 0), ifs);
	return nbr_judge(ev, c, why, n, what);
}

/* A limit the attack ran into: STOPPED_BY names the errno that stopped it
 * ("-": nothing did); a kill by the OOM killer (137) stops it too. */
static enum audit_verdict bomb(const struct audit_evidence *ev, const struct audit_context *c, char *why, size_t n,
			       const char *done_key, const char *unit, bool own_kernel_helps)
{
	char by[32] = "";
	long done = audit_ev_long(ev, done_key, -1);
	audit_ev_get(ev, "stopped_by", by, sizeof(by));
	if (ev->status == 137 && strcmp(by, "-"))
		return say(AUDIT_CONTAINED, why, n, "killed (status 137) at the limit");
	if (!by[0] || done < 0)
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker (status %d)", ev->status);
	if (strcmp(by, "-") && strcmp(by, "ENFILE"))
		return say(AUDIT_CONTAINED, why, n, "stopped by %s after %ld %s", by, done, unit);
	char what[128];
	snprintf(what, sizeof(what), "%ld %s, nothing stopped it%s", done, unit, !strcmp(by, "ENFILE") ? " but the host's own table (ENFILE)" : "");
	if (own_kernel_helps)
		return reached(c, why, n, what);
	return say(AUDIT_EXPOSED, why, n, "%s", what);
}
JUDGE(j_forkbomb) { return bomb(ev, c, why, n, "forked", "processes", true); }
JUDGE(j_membomb) { return bomb(ev, c, why, n, "allocated_mib", "MiB", true); }
JUDGE(j_fill) { return bomb(ev, c, why, n, "wrote_mib", "MiB written to the host's disk", false); }
JUDGE(j_fdbomb) { return bomb(ev, c, why, n, "opened", "descriptors", true); }

JUDGE(j_inotify)
{
	long k = audit_ev_long(ev, "instances", -1);
	if (k < 0)
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	char by[32] = "";
	audit_ev_get(ev, "stopped_by", by, sizeof(by));
	/* EMFILE here is the per-user limit (the attacker's descriptors stay
	 * far below RLIMIT_NOFILE): on a shared kernel, the user's, root's
	 * included, with every process of the host that has that uid */
	if ((c->host_inotify_instances > 0 && k >= c->host_inotify_instances) || !strcmp(by, "EMFILE")) {
		char what[160];
		snprintf(what, sizeof(what), "%ld inotify instances, then %s: the per-user limit (%ld on the host) reached", k,
			 by[0] ? by : "-", c->host_inotify_instances);
		return reached(c, why, n, what);
	}
	return say(AUDIT_CONTAINED, why, n, "stopped after %ld instances, below the host's limit (%ld)", k,
		   c->host_inotify_instances);
}

/* Host-side checks: the runner's evidence is "changed=N" and the hashes. */
JUDGE(j_unchanged)
{
	(void)c;
	long k = audit_ev_long(ev, "changed", -1), m = audit_ev_long(ev, "checked", 0);
	if (k < 0 || m == 0)
		return say(AUDIT_NOT_RUN, why, n, "no hashes taken");
	if (k)
		return say(AUDIT_EXPOSED, why, n, "%ld of %ld files changed", k, m);
	return say(AUDIT_CONTAINED, why, n, "%ld files hash the same after every attack", m);
}

/* --privileged-attacker's attacks: "hit" in the VM, "probe" on a shared kernel. */
JUDGE(j_ports)
{
	char v[32];
	if (!audit_ev_get(ev, "iopl", v, sizeof(v)))
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (strcmp(v, "OK"))
		return say(AUDIT_CONTAINED, why, n, "iopl refused (%s)", v);
	if (!c->own_kernel)
		return say(AUDIT_EXPOSED, why, n, "iopl(3) granted on the host's kernel: this host's I/O ports are the container's (not written)");
	long w = audit_ev_long(ev, "ports_written", -1);
	if (w < 0)
		return say(AUDIT_NOT_RUN, why, n, "the port writes did not finish (status %d)", ev->status);
	return say(AUDIT_CONTAINED, why, n, "%ld garbage writes to the VM's ports, answered by the VMM (its survival: the last row)", w);
}

JUDGE(j_vsock_flood)
{
	char v[32];
	if (!audit_ev_get(ev, "socket", v, sizeof(v)))
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (strcmp(v, "OK"))
		return say(AUDIT_CONTAINED, why, n, "no vsock socket (%s)", v);
	if (!c->own_kernel)
		return say(AUDIT_EXPOSED, why, n, "the host kernel's vsock transport is the container's (not flooded)");
	long k = audit_ev_long(ev, "agent_port_connected", -1);
	if (k < 0)
		return say(AUDIT_NOT_RUN, why, n, "the flood did not finish (status %d)", ev->status);
	return say(AUDIT_CONTAINED, why, n, "%ld of 64 connections to the agent's port accepted (%ld bytes of garbage), %ld of ports 1..512; the rest refused by the VMM's vsock device (its survival: the last row)",
		   k, audit_ev_long(ev, "bytes_sent", 0), audit_ev_long(ev, "other_ports_connected", 0));
}

JUDGE(j_rawdisk)
{
	if (audit_ev_has(ev, "write", "OK") && audit_ev_has(ev, "fsync", "OK"))
		return say(AUDIT_EXPOSED, why, n, "a write to the read-only image disk was accepted and synced");
	if (!c->own_kernel && audit_ev_has(ev, "read", "OK"))
		return say(AUDIT_EXPOSED, why, n, "this host's block devices are readable (none written)");
	if (!audit_ev_nth(ev, "devices_tried", 0, NULL, 0))
		return say(AUDIT_NOT_RUN, why, n, "no evidence from the attacker");
	if (audit_ev_nth(ev, "write", 0, NULL, 0)) {
		char w[32] = "", f[32] = "";
		audit_ev_get(ev, "write", w, sizeof(w));
		audit_ev_get(ev, "fsync", f, sizeof(f));
		return say(AUDIT_CONTAINED, why, n, "the write was refused (write %s, fsync %s)", w, f);
	}
	char o[32] = "-";
	audit_ev_get(ev, "open", o, sizeof(o));
	return say(AUDIT_CONTAINED, why, n, "the image disk could not be opened for writing (%s)", o);
}

/* The runner's evidence after every privileged attack: the VMM process
 * alive, still under its seccomp filter, and the sandbox answering. */
JUDGE(j_vmm_survived)
{
	long alive = audit_ev_long(ev, "vmm_alive", -1), sc = audit_ev_long(ev, "vmm_seccomp", -1);
	char ex[32] = "";
	audit_ev_get(ev, "exec_after", ex, sizeof(ex));
	if (audit_ev_has(ev, "no_vmm", "1"))
		return say(AUDIT_NOT_APPLICABLE, why, n, "no VMM in this isolation");
	if (alive < 0)
		return say(AUDIT_NOT_RUN, why, n, "no VMM to check");
	if (!alive)
		return say(AUDIT_EXPOSED, why, n, "the VMM is gone");
	if (sc != 2)
		return say(AUDIT_EXPOSED, why, n, "the VMM runs without its seccomp filter (Seccomp: %ld)", sc);
	if (strcmp(ex, "OK"))
		return say(AUDIT_EXPOSED, why, n, "the VMM lives but the sandbox no longer answers (%s)", ex);
	return say(AUDIT_CONTAINED, why, n, "the VMM alive, its seccomp filter on, the sandbox answering");
}

/* ---- the catalogue ---------------------------------------------------------------- */
#define SYS(id, call, desc, why)                                                                              \
	{ "sys-" id, call "(2)", "kernel surface", desc, why, { "sys", call }, false, false, 0, j_sys }

const struct audit_attack audit_catalogue[] = {
	/* devices */
	{ "kvm", "open /dev/kvm", "devices", "Opens /dev/kvm read-write.",
	  "The host's hypervisor interface: with it, a container runs its own VMs on the host kernel's KVM, the largest device surface of the host.",
	  { "kvm" }, false, false, 0, j_kvm },
	{ "dev", "/dev beyond the minimal set", "devices", "Lists /dev and names every entry beyond null, zero, full, random, urandom, tty, console, ptmx, pts, shm, mqueue, fd and the std links.",
	  "Every extra device node is a driver of the host kernel the container can talk to (disks, kmsg, kvm, fuse).",
	  { "dev" }, false, false, 0, j_dev },
	{ "mknod", "mknod a block device and read it", "devices", "Makes a node for each block device in /sys/block and reads its first sector.",
	  "CAP_MKNOD is in Docker's default set; without a device cgroup or a seccomp rule the host's disks are one mknod away.",
	  { "mknod" }, false, false, 0, j_mknod },
	{ "vda", "open /dev/vda (the image disk) for writing", "devices", "Opens /dev/vda read-write.",
	  "The sandbox's image disk: writing it would change the image every later sandbox boots from.",
	  { "vda" }, false, false, 0, j_vda },
	/* privileged kernel interfaces */
	{ "module", "load a kernel module", "privileged kernel interfaces", "Calls init_module and finit_module with empty arguments (a refusal is EPERM; anything else got past the permission check).",
	  "A loaded module is code in the kernel: on a shared kernel, the host is owned.",
	  { "module" }, false, false, 0, j_module },
	{ "mount", "mount a tmpfs", "privileged kernel interfaces", "mount(\"none\", \"/tmp\", \"tmpfs\").",
	  "Mounting is CAP_SYS_ADMIN's door to the filesystem code of the kernel and to hiding or replacing paths.",
	  { "mount" }, false, false, 0, j_mount },
	{ "ptrace", "ptrace the parent process", "privileged kernel interfaces", "A child calls PTRACE_SEIZE (PTRACE_ATTACH's permission check, without stopping it) on its parent.",
	  "ptrace reads and writes another process's memory and registers; across a boundary it is an escape.",
	  { "ptrace" }, false, false, 0, j_ptrace },
	{ "syslog", "read the kernel log (syslog(2))", "information leaks", "syslog(SYSLOG_ACTION_READ_ALL).",
	  "The kernel log shows the host's devices, addresses and other tenants' events.",
	  { "syslog" }, false, false, 0, j_syslog },
	{ "kallsyms", "/proc/kallsyms addresses", "information leaks", "Reads /proc/kallsyms and counts non-zero addresses.",
	  "Kernel addresses defeat KASLR, the first step of most kernel exploits.",
	  { "kallsyms" }, false, false, 0, j_kallsyms },
	{ "kernel-id", "the host kernel's identity (uname, /proc/version, microcode)", "information leaks", "Reads uname -r, /proc/version and the CPU's microcode revision; compared with the host's /proc/version.",
	  "Knowing the exact host kernel build picks the exploit to use against it.",
	  { "kernel-id" }, false, false, 0, j_kernel_id },
	{ "release-agent", "cgroup v1 release_agent / notify_on_release", "escapes", "Looks for writable release_agent and notify_on_release files under /sys/fs/cgroup and tries to mount a cgroup v1 hierarchy.",
	  "A writable release_agent runs a program of the attacker's choice as root on the host (CVE-2022-0492).",
	  { "release-agent" }, false, false, 0, j_release_agent },
	{ "userns", "unshare a user namespace, then use a capability", "escapes", "unshare(CLONE_NEWUSER|CLONE_NEWNS), then mounts a tmpfs with the namespace's capabilities.",
	  "A user namespace hands every capability over it: most recent kernel privilege escalations start here.",
	  { "userns" }, false, false, 0, j_userns },
	SYS("io_uring", "io_uring_setup", "Sets up a 4-entry io_uring.",
	    "io_uring is the source of many recent kernel exploits; Docker's profile refuses it since 2023."),
	SYS("bpf", "bpf", "Creates a one-entry BPF array map.", "BPF maps and programs run in the kernel; the verifier is a frequent exploit target."),
	SYS("perf", "perf_event_open", "Opens a software CPU-clock event on itself.",
	    "perf events expose kernel addresses and timing, and the subsystem has had privilege escalations."),
	SYS("userfaultfd", "userfaultfd", "Creates a userfaultfd.", "userfaultfd stalls the kernel mid-copy at will, the classic way to win kernel races."),
	SYS("keyctl", "keyctl", "Reads the session keyring's id.", "The keyring is not namespaced: keys of other tenants and of the host share it."),
	SYS("add_key", "add_key", "Adds a key to its process keyring.", "The kernel keyring is shared by every container; adding keys consumes the host's quota."),
	SYS("kexec", "kexec_load", "kexec_load with an unknown flag bit (past the permission check: EINVAL).",
	    "kexec replaces the running kernel."),
	{ "procsys", "/proc/sys and /proc/sysrq-trigger writable", "kernel settings", "Opens core_pattern, drop_caches, modprobe and /proc/sysrq-trigger for writing (never writes).",
	  "core_pattern and modprobe name programs the kernel runs as root on the host; sysrq reboots it.",
	  { "procsys" }, false, false, 0, j_procsys },
	{ "sysfs", "/sys writable", "kernel settings", "Opens uevent_helper, transparent_hugepage/enabled and /sys/power/state for writing (never writes).",
	  "uevent_helper is a program the kernel runs as root; power/state suspends the host.",
	  { "sysfs" }, false, false, 0, j_sysfs },
	{ "clock", "set the system clock", "kernel settings", "clock_settime(CLOCK_REALTIME) to the time it already has.",
	  "The clock is not namespaced: changing it breaks the host's TLS, logs and every tenant's timers.",
	  { "clock" }, false, false, 0, j_clock },
	/* the network and channels */
	{ "sniff", "sniff traffic (a raw socket on a real interface)", "network", "Opens an AF_PACKET socket and lists the interfaces it could capture on.",
	  "A raw socket on a shared link reads and forges other sandboxes' and the host's traffic.",
	  { "sniff" }, false, false, 0, j_sniff },
	{ "hostlo", "reach a host service on 127.0.0.1", "network", "Connects to a listener the audit holds on the host's 127.0.0.1 (and the usual gateway addresses).",
	  "Services bound to the host's loopback trust their callers (databases, metadata agents, Docker's API).",
	  { "hostlo", "@PORT" }, false, false, 0, j_hostlo },
	{ "abstract", "connect to a host abstract unix socket", "network", "Connects to an abstract unix socket the audit listens on in the host's network namespace.",
	  "Abstract sockets have no file permissions: sharing the network namespace gives them away (containerd-shim's CVE-2020-15257).",
	  { "abstract", "@ABSTRACT" }, false, false, 0, j_abstract },
	{ "vsock", "open an AF_VSOCK socket", "network", "socket(AF_VSOCK), then a connect to the host's CID 2 port 1024.",
	  "In a VM, vsock is the channel to the host and its agent; on a host, its hypervisor's.",
	  { "vsock" }, false, false, 0, j_vsock },
	/* the runtime */
	{ "exe", "overwrite the runtime through /proc/*/exe (CVE-2019-5736)", "the runtime", "Opens /proc/self/exe and /proc/1/exe for writing, directly and through an O_PATH descriptor.",
	  "runc's CVE-2019-5736: a container that rewrites the runtime binary runs code as root on the host at the next exec.",
	  { "exe" }, false, false, 0, j_exe },
	{ "fds", "leaked host descriptors (CVE-2024-21626)", "the runtime", "Lists descriptors 3..63 and their targets, and the working directory.",
	  "runc's CVE-2024-21626: a host directory descriptor left open leads out of the root by openat(fd, \"..\").",
	  { "fds" }, false, false, 0, j_fds },
	{ "neighbour", "another process's memory (the audit's own host process)", "other tenants", "Looks for the audit's host process by its pid, reads its command line, tries process_vm_readv and /proc/PID/mem.",
	  "A process visible across the boundary is a neighbour whose memory, files and secrets are one permission check away.",
	  { "neighbour", "@HOSTPID" }, false, false, 0, j_neighbour },
	{ "nbr-files", "a neighbour sandbox's files", "other tenants", "A second sandbox of the same isolation keeps a secret in /audit-neighbour/secret (its working directory). The attacker looks through every visible process's /proc/PID/root and cwd, the neighbour's host pid, the neighbour's directory on the host (its bundle or state directory, disk images scanned) and /run, /var/lib, /tmp and the like.",
	  "Tenants of one host must not read each other's files: a shared mount, a visible root or a readable disk image gives every secret of the neighbour away.",
	  { "nbr-files", "@NBRSECRET", "@NBRPID", "@NBRDIR" }, false, false, 120, j_nbr_files },
	{ "nbr-mem", "a neighbour sandbox's memory", "other tenants", "The neighbour holds the secret in its environment and heap. The attacker reads every visible process's environ and cmdline, then its writable memory with process_vm_readv and /proc/PID/mem, and tries the neighbour's host pid.",
	  "Memory holds keys and tokens that never touch a disk; reading a neighbour's is the end of tenant isolation.",
	  { "nbr-mem", "@NBRSECRET", "@NBRPID" }, false, false, 120, j_nbr_mem },
	{ "nbr-net", "a neighbour sandbox's traffic", "other tenants", "The neighbour sends the secret in UDP datagrams to its loopback and its gateway every 200 ms. The attacker captures 3 s on an AF_PACKET socket (else a raw UDP socket) on every interface it has.",
	  "On a shared link or namespace, a raw socket reads other tenants' traffic (and can forge it).",
	  { "nbr-net", "@NBRSECRET" }, false, false, 60, j_nbr_net },
	/* exhaustion */
	{ "forkbomb", "fork bomb (200 processes; limit 64)", "exhaustion", "Forks 200 sleeping children under a pids limit of 64.",
	  "Pids are a host-wide table: one sandbox can stop every other from starting a process.",
	  { "forkbomb", "200" }, false, false, 0, j_forkbomb },
	{ "membomb", "memory bomb (512 MiB; limit 128 MiB)", "exhaustion", "Allocates and touches 512 MiB under a memory limit of 128 MiB.",
	  "Host memory pressure slows or OOM-kills every other tenant.",
	  { "membomb", "512" }, false, false, 60, j_membomb },
	{ "fill", "fill the disk (512 MiB; writable layer 256 MiB)", "exhaustion", "Writes 1 MiB blocks to its root until an error or 512 MiB, then removes the file.",
	  "A full host disk stops logs, images and other tenants' writes.",
	  { "fill", "512" }, false, false, 90, j_fill },
	{ "fdbomb", "exhaust file descriptors", "exhaustion", "Opens descriptors until an error.",
	  "The kernel's file table (fs.file-max) is host-wide: ENFILE there fails every process on the host.",
	  { "fdbomb" }, false, false, 0, j_fdbomb },
	{ "inotify", "exhaust the host's inotify instances", "exhaustion", "Creates inotify instances until an error, up to the host's per-user limit and beyond.",
	  "The limit is per user of the host kernel: a root container uses up the host root's instances (systemd, udev and file watchers fail).",
	  { "inotify", "@INOTIFY" }, false, false, 0, j_inotify },
	/* --privileged-attacker only: the attacker owns the kernel */
	{ "ports", "garbage to every I/O port (iopl)", "privileged attacker", "With every capability and no seccomp: iopl(3), then random bytes to every I/O port but those that reset the machine or drive its interrupts, each read back.",
	  "A guest that owns its kernel drives the VMM's emulated devices directly; on a shared kernel iopl is this host's hardware.",
	  { "ports", "@MODE" }, false, true, 120, j_ports },
	{ "vsock-flood", "flood the host's vsock and the agent's port", "privileged attacker", "With no seccomp: 64 connections to the host's vsock port 1024 (the agent channel) with 64 KiB of garbage each, and a connection to each of ports 1..512.",
	  "The vsock device and the agent channel are the host's code that parses what the guest sends.",
	  { "vsock-flood", "@MODE" }, false, true, 120, j_vsock_flood },
	{ "rawdisk", "write the read-only image disk", "privileged attacker", "With every capability and no seccomp: a node for vda (the image disk) on a tmpfs without nodev, the disk made writable in the guest kernel (BLKROSET), garbage written to its first sector and synced; on a shared kernel the host's disks are only read.",
	  "The image disk is shared by every sandbox of the image; the VMM must refuse writes to it whatever the guest kernel does.",
	  { "rawdisk", "@MODE" }, false, true, 60, j_rawdisk },
	{ "vmm-survived", "the VMM survived (alive, seccomp on, sandbox answering)", "privileged attacker", "After every attack: the VMM process is alive, /proc/PID/status says Seccomp 2, and an exec in the sandbox still answers.",
	  "A VMM that crashes, hangs or loses its filter is a hole in the wall between every guest and the host.",
	  { NULL }, true, true, 0, j_vmm_survived },
	/* host-side checks, after every other attack */
	{ "host-binaries", "the runtime's host binaries unchanged", "host files", "sha256 of the runtime's binaries on the host before and after the attacks.",
	  "A runtime binary changed on the host is code the attacker runs outside the sandbox later.",
	  { NULL }, true, false, 0, j_unchanged },
	{ "host-image", "the image unchanged", "host files", "sha256 of the image's disk on the host before and after the attacks.",
	  "A changed image carries the attack into every later sandbox of it.",
	  { NULL }, true, false, 0, j_unchanged },
};
const size_t audit_catalogue_len = sizeof(audit_catalogue) / sizeof(audit_catalogue[0]);

const struct audit_attack *audit_find(const char *name)
{
	for (size_t i = 0; i < audit_catalogue_len; i++)
		if (!strcmp(audit_catalogue[i].name, name))
			return &audit_catalogue[i];
	return NULL;
}

/* The evidence on one line: stdout's lines joined by spaces (the
 * "attack=" line left out), then the status when it is not 0. */
static void flatten(const struct audit_evidence *ev, char *out, size_t n)
{
	size_t o = 0;
	const char *p = ev->out;
	out[0] = '\0';
	while (*p && o + 1 < n) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (strncmp(p, "attack=", 7)) {
			if (o && o + 1 < n)
				out[o++] = ' ';
			for (size_t i = 0; i < ll && o + 1 < n; i++)
				out[o++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
		}
		p += ll + (eol ? 1 : 0);
	}
	out[o] = '\0';
	if (ev->status != 0 && o + 1 < n)
		snprintf(out + o, n - o, "%sstatus=%d", o ? " " : "", ev->status);
	o = strlen(out);
	if (ev->err[0] && o + 1 < n)
		snprintf(out + o, n - o, "%sstderr: %s", o ? " " : "", ev->err);
}

void audit_judge(const struct audit_attack *a, const struct audit_evidence *ev, const struct audit_context *c,
		 struct audit_cell *cell)
{
	char want[64];
	flatten(ev, cell->evidence, sizeof(cell->evidence));
	snprintf(want, sizeof(want), "attack=%s\n", a->argv[0] ? a->argv[0] : "");
	if (ev->timed_out) {
		cell->v = AUDIT_NOT_RUN;
		snprintf(cell->why, sizeof(cell->why), "timed out");
	} else if (!a->host_check && strncmp(ev->out, want, strlen(want))) {
		cell->v = AUDIT_NOT_RUN;
		snprintf(cell->why, sizeof(cell->why), "the attacker did not run (status %d%s%.180s)", ev->status,
			 ev->err[0] ? ": " : "", ev->err);
	} else {
		cell->v = a->judge(ev, c, cell->why, sizeof(cell->why));
	}
}

int audit_exit_status(const struct audit_report *r)
{
	for (size_t i = 0; i < r->ncol; i++) {
		const struct audit_column *col = &r->col[i];
		if (strcmp(col->name, "vm"))
			continue;
		if (col->skipped || !col->cells)
			return 1;
		for (size_t k = 0; k < audit_catalogue_len; k++)
			if (col->cells[k].v != AUDIT_CONTAINED && col->cells[k].v != AUDIT_NOT_APPLICABLE)
				return 1;
		return 0;
	}
	return 1;
}
