/* The neighbour: a second sandbox of the same isolation holding a secret,
 * and the three attacks that look for it from the first (docs/audit.md,
 * "Neighbours").
 *
 *   hold REV              the neighbour: the secret (REV reversed) in a
 *                         file /audit-neighbour/secret (its working
 *                         directory), in its environment
 *                         (AUDIT_NEIGHBOUR_SECRET), in heap memory, and in
 *                         UDP datagrams to 127.0.0.1 and its default
 *                         gateway every 200 ms; runs until killed
 *   nbr-files REV PID DIR every visible process's root and cwd, the
 *                         neighbour's host pid PID, its host directory DIR
 *                         and the usual state directories searched for the file
 *   nbr-mem REV PID       every visible process's environ, cmdline and
 *                         writable memory (process_vm_readv, /proc/PID/mem)
 *   nbr-net REV           an AF_PACKET (else raw UDP) socket, 3 s of traffic
 *
 * The secret is passed reversed, so that no process of the attacker's
 * chain (the runtime's exec, our agent) holds it: only the attacker's own
 * heap does, and the attacker skips itself. What is found is printed as
 * "secret=" (the bytes read): the host's verdict compares them with the
 * secret it made. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "attacker.h"

#define SECRET_DIR "audit-neighbour"
#define SECRET_FILE "secret"
#define SECRET_ENV "AUDIT_NEIGHBOUR_SECRET"
#define NBR_UDP_PORT 47555
#define MAX_SECRET 96

/* REV reversed into OUT; false when it is not a plausible secret. */
static bool unreverse(const char *rev, char *out)
{
	size_t n = strlen(rev);
	if (n < 8 || n >= MAX_SECRET)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
	return true;
}

/* ---- the neighbour ------------------------------------------------------------ */
/* The default gateway (/proc/net/route), 0 when none. */
static in_addr_t gateway(void)
{
	FILE *f = fopen("/proc/net/route", "r");
	char line[256], ifn[32];
	unsigned dst, gw, flags;
	in_addr_t r = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s %x %x %x", ifn, &dst, &gw, &flags) == 4 && dst == 0 && gw)
			r = gw;
	if (f)
		fclose(f);
	return r;
}

int a_hold(const char *rev, char **argv)
{
	static char secret[MAX_SECRET];
	if (!unreverse(rev, secret)) {
		fprintf(stderr, "sandbox-attacker: hold: a secret of 8 to 95 characters\n");
		return 2;
	}
	/* in its environment: once, by executing itself again with it */
	if (!getenv(SECRET_ENV)) {
		setenv(SECRET_ENV, secret, 1);
		execv("/proc/self/exe", argv);
		execv(argv[0], argv);   /* no /proc (a bare chroot) */
		printf("reexec=%s\n", ename(errno));
	}
	/* in a file, where its working directory is */
	if (mkdir("/" SECRET_DIR, 0755) && errno != EEXIST)
		printf("mkdir=%s\n", ename(errno));
	int fd = open("/" SECRET_DIR "/" SECRET_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, secret, strlen(secret)) != (ssize_t)strlen(secret) || fsync(fd))
		printf("file=%s\n", ename(errno));
	if (fd >= 0)
		close(fd);
	if (chdir("/" SECRET_DIR))
		printf("chdir=%s\n", ename(errno));
	/* in memory: a heap page of copies, touched */
	size_t sl = strlen(secret);
	char *heap = malloc(1 << 16);
	for (size_t o = 0; heap && o + sl + 1 < (1 << 16); o += sl + 1) {
		memcpy(heap + o, secret, sl);
		heap[o + sl] = '\n';
	}
	/* on the wire */
	char msg[160];
	int ml = snprintf(msg, sizeof(msg), "audit-neighbour %s\n", secret);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (;;) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(NBR_UDP_PORT),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		if (s >= 0) {
			sendto(s, msg, (size_t)ml, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
			if ((to.sin_addr.s_addr = gateway()))
				sendto(s, msg, (size_t)ml, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
		}
		/* keeps the heap copy live for an optimiser that looks */
		__asm__ volatile("" : : "r"(heap) : "memory");
		nanosleep(&(struct timespec){ 0, 200 * 1000000L }, NULL);
	}
}

/* ---- looking for it -------------------------------------------------------------- */
/* The visible processes' pids but ours (at most MAX), ascending order not
 * needed. */
static int list_pids(int *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0, self = getpid();
	while (d && (e = readdir(d)) && n < max) {
		char *end;
		long p = strtol(e->d_name, &end, 10);
		if (*end || p <= 0 || p == self)
			continue;
		pids[n++] = (int)p;
	}
	if (d)
		closedir(d);
	return n;
}

/* Found: the secret's bytes read and where. */
static void found(const char *where, const char *secret)
{
	kv_clean("found", where);
	kv_clean("secret", secret);
}

/* A file that holds SECRET: true, and it says where. */
static bool file_has(const char *path, const char *secret, int *err)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*err = errno;
		return false;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	*err = n < 0 ? errno : 0;
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 && strstr(buf, secret);
}

/* A directory walked for SECRET_DIR/SECRET_FILE, and regular files up to
 * *BUDGET bytes in all scanned for the secret itself (a disk image that
 * holds the neighbour's root). Bounded in depth and entries. */
struct walk {
	const char *secret;
	long entries, budget;
	bool hit;
};

static bool scan_file(const char *path, struct walk *w)
{
	static char buf[65536 + MAX_SECRET];
	size_t sl = strlen(w->secret), keep = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	for (;;) {
		if (w->budget <= 0)
			break;
		ssize_t n = read(fd, buf + keep, 65536);
		if (n <= 0)
			break;
		size_t total = keep + (size_t)n;
		w->budget -= n;
		if (memmem(buf, total, w->secret, sl)) {
			close(fd);
			return true;
		}
		/* the last sl-1 bytes stay: a secret across two reads */
		keep = total < sl - 1 ? total : sl - 1;
		memmove(buf, buf + total - keep, keep);
	}
	close(fd);
	return false;
}

static void walk(const char *dir, int depth, struct walk *w)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[1024];
	while (d && !w->hit && (e = readdir(d)) && w->entries < 50000) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		w->entries++;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st))
			continue;
		int err;
		if (S_ISDIR(st.st_mode) && !strcmp(e->d_name, SECRET_DIR)) {
			char f[1100];
			snprintf(f, sizeof(f), "%s/" SECRET_FILE, p);
			if (file_has(f, w->secret, &err)) {
				found(f, w->secret);
				w->hit = true;
			}
		} else if (S_ISDIR(st.st_mode) && depth < 8) {
			walk(p, depth + 1, w);
		} else if (S_ISREG(st.st_mode) && st.st_size > 0 && scan_file(p, w)) {
			found(p, w->secret);
			w->hit = true;
		}
	}
	if (d)
		closedir(d);
}

int a_nbr_files(const char *rev, int nbr_pid, const char *nbr_dir)
{
	static int pids[4096];
	char secret[MAX_SECRET], p[128];
	int n, err, roots = 0, foreign = 0, first_err = 0;
	struct stat me, st;
	if (!unreverse(rev, secret))
		return 2;
	n = list_pids(pids, 4095);
	printf("pids=%d\n", n);   /* visible; the neighbour's host pid tried besides */
	bool listed = false;
	for (int i = 0; i < n; i++)
		listed |= pids[i] == nbr_pid;
	if (!listed && nbr_pid > 0 && nbr_pid != getpid())
		pids[n++] = nbr_pid;
	stat("/", &me);
	/* every process's root and working directory */
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "/proc/%d/root/", pids[i]);
		if (stat(p, &st)) {
			first_err = first_err ? first_err : errno;
			continue;
		}
		roots++;
		foreign += st.st_dev != me.st_dev || st.st_ino != me.st_ino;
		static const char *const tails[] = { "root/" SECRET_DIR "/" SECRET_FILE, "cwd/" SECRET_FILE };
		for (size_t t = 0; t < 2; t++) {
			snprintf(p, sizeof(p), "/proc/%d/%s", pids[i], tails[t]);
			if (file_has(p, secret, &err)) {
				found(p, secret);
				return 0;
			}
		}
	}
	printf("roots_seen=%d\nforeign_roots=%d\nroot_error=%s\n", roots, foreign, first_err ? ename(first_err) : "-");
	snprintf(p, sizeof(p), "/proc/%d/root/", nbr_pid);
	res("nbr_pid_root", stat(p, &st), 0);
	/* the neighbour's directory on the host, then the usual places of
	 * sandboxes' roots and disks, by their host paths */
	struct walk w = { .secret = secret, .budget = 512L << 20 };
	res("nbr_dir", stat(nbr_dir, &st), 0);
	walk(nbr_dir, 0, &w);
	static const char *const places[] = { "/run", "/var/lib", "/var/run", "/tmp", "/mnt", "/srv", "/home", "/opt" };
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]) && !w.hit; i++)
		walk(places[i], 0, &w);
	printf("walked=%ld\nscanned_mib=%ld\n", w.entries, ((512L << 20) - w.budget) >> 20);
	if (!w.hit)
		printf("found=-\n");
	return 0;
}

/* Process PID's memory searched for SECRET, at most *BUDGET bytes: its
 * writable mappings (/proc/PID/maps), by process_vm_readv, else by
 * /proc/PID/mem. The first answer of each way is kept in VR and PM. */
static bool scan_mem(int pid, const char *secret, long *budget, int *vr, int *pm, bool *maps_ok, long *bytes)
{
	static char buf[65536 + MAX_SECRET];
	char p[64], line[512];
	size_t sl = strlen(secret);
	snprintf(p, sizeof(p), "/proc/%d/maps", pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return false;
	*maps_ok = true;
	snprintf(p, sizeof(p), "/proc/%d/mem", pid);
	int memfd = -2;
	bool hit = false;
	while (!hit && *budget > 0 && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || perms[1] != 'w')
			continue;
		if (hi - lo > (16UL << 20))
			hi = lo + (16UL << 20);
		for (unsigned long a = lo; a < hi && !hit && *budget > 0; a += 65536) {
			size_t want = hi - a < 65536 ? hi - a : 65536;
			struct iovec l = { buf, want }, r = { (void *)a, want };
			ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
			if (*vr < 0)
				*vr = n < 0 ? errno : 0;
			if (n < 0) {
				if (memfd == -2) {
					memfd = open(p, O_RDONLY | O_CLOEXEC);
					if (*pm < 0)
						*pm = memfd < 0 ? errno : 0;
				}
				n = memfd >= 0 ? pread(memfd, buf, want, (off_t)a) : -1;
				if (n < 0 && memfd >= 0 && *pm == 0)
					*pm = errno;
			}
			if (n <= 0)
				break;
			*budget -= n;
			*bytes += n;
			hit = memmem(buf, (size_t)n, secret, sl) != NULL;
		}
	}
	fclose(f);
	if (memfd >= 0)
		close(memfd);
	return hit;
}

/* A /proc/PID file read whole (NULs kept; at most 64 KiB) and searched. */
static int proc_file_has(int pid, const char *name, const char *secret)
{
	static char buf[65536];
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/%s", pid, name);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	close(fd);
	return memmem(buf, got, secret, strlen(secret)) != NULL;
}

int a_nbr_mem(const char *rev, int nbr_pid)
{
	static int pids[4096];
	char secret[MAX_SECRET], where[64];
	if (!unreverse(rev, secret))
		return 2;
	int n = list_pids(pids, 4095), visible = n, env_read = 0, maps_read = 0, vr = -1, pm = -1, env_err = 0;
	bool listed = false;
	for (int i = 0; i < n; i++)
		listed |= pids[i] == nbr_pid;
	if (!listed && nbr_pid > 0 && nbr_pid != getpid())
		pids[n++] = nbr_pid;
	long budget = 256L << 20, bytes = 0;
	where[0] = '\0';
	for (int i = 0; i < n && !where[0]; i++) {
		static const char *const files[] = { "environ", "cmdline" };
		for (size_t k = 0; k < 2 && !where[0]; k++) {
			int r = proc_file_has(pids[i], files[k], secret);
			if (r < 0 && !k)
				env_err = env_err ? env_err : -r;
			env_read += r >= 0 && !k;
			if (r > 0)
				snprintf(where, sizeof(where), "%s_of_pid_%d", files[k], pids[i]);
		}
		bool maps_ok = false;
		if (!where[0] && scan_mem(pids[i], secret, &budget, &vr, &pm, &maps_ok, &bytes))
			snprintf(where, sizeof(where), "memory_of_pid_%d", pids[i]);
		maps_read += maps_ok;
	}
	printf("pids=%d\nenviron_read=%d\nenviron_error=%s\nmaps_read=%d\nprocess_vm_readv=%s\nproc_mem=%s\nbytes_read=%ld\n",
	       visible, env_read, env_err ? ename(env_err) : "-", maps_read, vr < 0 ? "-" : vr ? ename(vr) : "OK",
	       pm < 0 ? "-" : pm ? ename(pm) : "OK", bytes);
	/* the neighbour's host pid, by name */
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/environ", nbr_pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	res("nbr_pid_environ", fd, 1);
	struct iovec l = { p, 8 }, r = { (void *)0x10000, 8 };
	long k = process_vm_readv(nbr_pid, &l, 1, &r, 1, 0);
	printf("nbr_pid_vm_readv=%s\n", k >= 0 || errno == EFAULT ? "OK" : ename(errno));
	if (where[0])
		found(where, secret);
	else
		printf("found=-\n");
	return 0;
}

int a_nbr_net(const char *rev)
{
	char secret[MAX_SECRET];
	static char frame[65536];
	if (!unreverse(rev, secret))
		return 2;
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	res("packet_socket", s, 0);
	if (s < 0) {
		s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);
		res("raw_udp", s, 0);
	}
	struct if_nameindex *ifs = if_nameindex(), *i;
	int nif = 0;
	printf("interfaces=");
	for (i = ifs; i && i->if_index; i++)
		printf("%s%s", nif++ ? "," : "", i->if_name);
	printf("%s\n", nif ? "" : "-");
	long frames = 0;
	bool hit = false;
	if (s >= 0) {
		struct timeval tv = { 0, 200000 };
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			struct sockaddr_ll from;
			socklen_t fl = sizeof(from);
			memset(&from, 0, sizeof(from));
			ssize_t n = recvfrom(s, frame, sizeof(frame), 0, (struct sockaddr *)&from, &fl);
			if (n > 0) {
				frames++;
				if (memmem(frame, (size_t)n, secret, strlen(secret))) {
					char ifn[IF_NAMESIZE + 16] = "raw_udp";
					if (from.sll_family == AF_PACKET && !if_indextoname(from.sll_ifindex, ifn))
						snprintf(ifn, sizeof(ifn), "if%d", from.sll_ifindex);
					char where[64];
					snprintf(where, sizeof(where), "traffic_on_%s", ifn);
					found(where, secret);
					hit = true;
				}
			}
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (!hit && t.tv_sec - t0.tv_sec < 3);
		close(s);
	}
	if (ifs)
		if_freenameindex(ifs);
	printf("frames=%ld\n", frames);
	if (!hit)
		printf("found=-\n");
	return 0;
}

/* In the neighbour: does it hold the secret yet (its file written)? */
int a_held(const char *rev)
{
	char secret[MAX_SECRET];
	int err;
	if (!unreverse(rev, secret))
		return 2;
	bool ok = file_has("/" SECRET_DIR "/" SECRET_FILE, secret, &err);
	printf("held=%s\n", ok ? "OK" : err ? ename(err) : "not yet");
	return 0;
}
