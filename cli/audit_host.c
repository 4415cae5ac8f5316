/* `sandbox audit`: the host's side of the attacks (audit_iso.h): its
 * listeners, facts and hashes taken before and after, the VMM's state
 * after the privileged attacks, our own attack-surface figures. */
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "audit_iso.h"
#include "devices/modules.h"
#include "jail/seccomp.h"
#include "state.h"

/* ---- the host's side ------------------------------------------------------------------- */
void audit_listeners_up(struct audit_context *c, struct host_side *h)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	h->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	h->unx = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(c->abstract_name, sizeof(c->abstract_name), "sandbox-audit-%d", (int)getpid());
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	size_t n = strlen(c->abstract_name);
	memcpy(su.sun_path + 1, c->abstract_name, n);
	c->listener_up = h->tcp >= 0 && h->unx >= 0 && !bind(h->tcp, (struct sockaddr *)&sa, sizeof(sa)) &&
			 !listen(h->tcp, 128) && !getsockname(h->tcp, (struct sockaddr *)&sa, &l) &&
			 !bind(h->unx, (struct sockaddr *)&su, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) &&
			 !listen(h->unx, 128);
	c->port = ntohs(sa.sin_port);
}

void audit_host_facts(struct audit_context *c, struct audit_report *r)
{
	char buf[512] = "";
	FILE *f = fopen("/proc/version", "r");
	if (f && fgets(buf, sizeof(buf), f)) {
		size_t i;
		for (i = 0; buf[i] && buf[i] != '\n' && i < sizeof(c->host_version) - 1; i++)
			c->host_version[i] = (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '=') ? '_' : buf[i];
		c->host_version[i] = '\0';
	}
	if (f)
		fclose(f);
	f = fopen("/proc/sys/fs/inotify/max_user_instances", "r");
	if (!f || fscanf(f, "%ld", &c->host_inotify_instances) != 1)
		c->host_inotify_instances = 0;
	if (f)
		fclose(f);
	struct utsname u;
	uname(&u);
	snprintf(r->host, sizeof(r->host), "%.40s %.80s %.20s (%.64s)", u.sysname, u.release, u.machine, u.nodename);
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(r->started, sizeof(r->started), "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The image's disk: `sandbox-image runconf IMAGE`, NUL-separated key=value. */
int audit_image_disk(const char *self, const char *image, char *disk, size_t n, struct err *e)
{
	char tool[PATH_MAX + 32];
	struct audit_evidence ev;
	snprintf(tool, sizeof(tool), "%s/sandbox-image", self);
	char *a[] = { tool, "runconf", (char *)image, NULL };
	audit_spawn(a, 300, &ev);
	if (ev.status != 0)
		return err_set(e, "image %s: %s", image, ev.err[0] ? ev.err : "sandbox-image runconf failed");
	/* the output is NUL-separated: audit_spawn kept it whole up to its cap */
	for (size_t i = 0; i + 5 < sizeof(ev.out) && ev.out[i];) {
		const char *p = ev.out + i;
		if (!strncmp(p, "disk=", 5)) {
			snprintf(disk, n, "%s", p + 5);
			return 0;
		}
		i += strlen(p) + 1;
	}
	return err_set(e, "image %s: no disk in its runconf", image);
}

/* "changed=N checked=M NAME=HASH12 ..." for FILES before/after. */
void audit_hash_files(char files[][PATH_MAX], size_t n, char hashes[][65])
{
	for (size_t i = 0; i < n; i++) {
		struct err e;
		if (audit_sha256_file(files[i], hashes[i], &e))
			snprintf(hashes[i], 65, "unreadable");
	}
}

void audit_unchanged_evidence(char files[][PATH_MAX], size_t n, char before[][65], struct audit_evidence *ev)
{
	char after[AUDIT_MAX_HOST_FILES][65];
	audit_hash_files(files, n, after);
	int changed = 0;
	for (size_t i = 0; i < n; i++)
		changed += strcmp(before[i], after[i]) != 0 || !strcmp(after[i], "unreadable");
	memset(ev, 0, sizeof(*ev));
	size_t o = (size_t)snprintf(ev->out, sizeof(ev->out), "changed=%d\nchecked=%zu\n", changed, n);
	for (size_t i = 0; i < n && o < sizeof(ev->out); i++) {
		const char *base = strrchr(files[i], '/');
		o += (size_t)snprintf(ev->out + o, sizeof(ev->out) - o, "%s=%.16s\n", base ? base + 1 : files[i], after[i]);
	}
}

/* After the privileged attacks: the VMM (ours only) alive, under its
 * seccomp filter, and the sandbox still answering an exec. */
void audit_vmm_evidence(struct audit_run *r, struct audit_evidence *ev)
{
	struct sandbox_state s;
	struct err e = { 0 };
	memset(ev, 0, sizeof(*ev));
	if (strcmp(r->iso->name, "vm")) {
		snprintf(ev->out, sizeof(ev->out), "no_vmm=1\n");
		return;
	}
	if (state_find(r->name, &s, &e)) {
		snprintf(ev->out, sizeof(ev->out), "vmm_alive=0\nstate=%.200s\n", e.msg);
		return;
	}
	char path[64], line[256];
	long sc = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)s.vmm_pid);
	FILE *f = state_vmm_alive(&s) ? fopen(path, "r") : NULL;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp:", 8))
			sc = strtol(line + 8, NULL, 10);
	if (f)
		fclose(f);
	struct audit_evidence ex;
	char *argv[] = { "kvm", NULL };
	r->iso->attack(r, argv, 60, &ex);
	snprintf(ev->out, sizeof(ev->out), "vmm_pid=%d\nvmm_alive=%d\nvmm_seccomp=%ld\nexec_after=%s\n", (int)s.vmm_pid,
		 f != NULL, sc, !strncmp(ex.out, "attack=kvm", 10) ? "OK" : ex.timed_out ? "timeout" : "failed");
}

/* Our side's own surface, from the tables in this binary. */
void audit_our_figures(struct audit_report *rep)
{
	size_t o = 0, ndev = 0;
	o += (size_t)snprintf(rep->figures, sizeof(rep->figures), "VMM threads' syscall allowlists:");
	for (int k = 0; k < SB_SECCOMP_NKINDS && o < sizeof(rep->figures); k++)
		o += (size_t)snprintf(rep->figures + o, sizeof(rep->figures) - o, " %s %d%s", seccomp_kind_name(k),
				      seccomp_nsyscalls(k), k + 1 < SB_SECCOMP_NKINDS ? "," : ";");
	for (; device_modules[ndev]; ndev++)
		;
	if (o < sizeof(rep->figures))
		o += (size_t)snprintf(rep->figures + o, sizeof(rep->figures) - o, " guest-facing devices: %zu virtio kinds (", ndev);
	for (size_t i = 0; i < ndev && o < sizeof(rep->figures); i++)
		o += (size_t)snprintf(rep->figures + o, sizeof(rep->figures) - o, "%s%s", i ? ", " : "", device_modules[i]->name);
	if (o < sizeof(rep->figures))
		snprintf(rep->figures + o, sizeof(rep->figures) - o, ") and the serial port, the i8042 reset, the exit port");
}

/* ---- the neighbour ---------------------------------------------------------------------- */
void audit_nbr_secret(char *secret, size_t n)
{
	unsigned char r[12];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint64_t t = now_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(t >> (8 * (i % 8))) ^ (unsigned char)(i * 37);
	}
	size_t o = (size_t)snprintf(secret, n, "SBXNBR");
	for (size_t i = 0; i < sizeof(r) && o + 2 < n; i++)
		o += (size_t)snprintf(secret + o, n - o, "%02x", r[i]);
}

void audit_reverse(const char *s, char *out, size_t n)
{
	size_t l = strlen(s);
	if (l >= n)
		l = n - 1;
	for (size_t i = 0; i < l; i++)
		out[i] = s[l - 1 - i];
	out[l] = '\0';
}

pid_t audit_secret_pid(const char *secret)
{
	static char buf[65536];
	char want[128], p[64];
	int wl = snprintf(want, sizeof(want), "AUDIT_NEIGHBOUR_SECRET=%s", secret);
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	while (d && !found && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/environ", pid);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t k = read(fd, buf, sizeof(buf));
		close(fd);
		if (k > 0 && memmem(buf, (size_t)k, want, (size_t)wl))
			found = (pid_t)pid;
	}
	if (d)
		closedir(d);
	return found;
}
