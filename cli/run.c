/* `sandbox run [OPTIONS] IMAGE [CMD [ARG...]]`, with Docker's habits.
 *
 * Processes: `sandbox run` is the owner. It resolves the image (the image
 * tool's runconf), records the sandbox in the state directory, and forks
 * the VMM (--isolation vm: this same binary's VM code with the agent
 * relay, run/relay.c) or the host-mode runtime (--isolation container:
 * guest-init --host over the image mounted on the host). The owner waits,
 * forwards signals, enforces --timeout, proxies -p ports, cleans up, and
 * exits with the container's status. Errors of sandbox itself: 125; the
 * command cannot be run: 126; not found: 127 (reported by guest-init).
 *
 * The VMM process is separate from the owner so that the owner can clean
 * up whatever happens to the VMM (killed, crashed, jailed as another uid),
 * and so that "VM up and container set up" can later be split from
 * "process started" for an OCI runtime command line. */
#include "run.h"
#include "cli.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/loop.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <limits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "relay.h"
#include "state.h"
#include "vm.h"

#define EXIT_ERR 125
#define MAX_LIST 64
#define GUEST_MEM_DEFAULT (128 * MIB)
#define GUEST_MEM_OVERHEAD (96 * MIB)   /* guest kernel + init beside a --memory limit */

struct run_opts {
	bool interactive, tty, rm, detach, read_only, init;
	const char *name, *workdir, *user, *hostname, *network, *kernel, *initrd, *isolation, *image;
	char *env[MAX_LIST * 4];
	int nenv;
	char *ports[16];
	int nports;
	char *volumes[VM_MAX_DISKS - 1];
	int nvol;
	const char *cpus;
	long long memory, pids;
	unsigned timeout;
	char **cmd;
	int ncmd;
};

/* The image's run defaults (image tool: `sandbox-image runconf NAME`). */
struct runconf {
	char *buf;
	const char *disk, *fstype, *workdir, *user, *stopsignal;
	char *entrypoint[SB_RUN_MAX_ARGS], *cmd[SB_RUN_MAX_ARGS], *env[SB_RUN_MAX_ARGS];
	int nentry, ncmd, nenv;
};

/* Where the guest kernel, initramfs, sandbox-image and guest-init are. */
static const char *bindir;

void run_usage(FILE *f)
{
	fprintf(f,
		"usage: sandbox run [OPTIONS] IMAGE [CMD [ARG...]]\n"
		"\n"
		"  -i, --interactive      relay stdin to the container\n"
		"  -t, --tty              give the container a terminal (a pty in the guest)\n"
		"  -d, --detach           run in the background; print the id (see sandbox logs)\n"
		"      --rm               remove the sandbox's state when it ends\n"
		"      --name NAME        a name for ps, kill, stop, logs, rm, inspect\n"
		"  -e, --env K=V | K      set (K alone: copy from this environment)\n"
		"      --env-file FILE    K=V lines (# comments)\n"
		"  -w, --workdir DIR      working directory (default: the image's, or /)\n"
		"  -u, --user USER[:GROUP] name from the image's /etc/passwd, or numeric\n"
		"  -h, --hostname NAME    host name (default: the id's first 12 digits)\n"
		"      --cpus N           vCPUs (rounded up) and a CPU quota of N\n"
		"      --memory SIZE      the container's memory limit (e.g. 256m); the guest\n"
		"                         gets this plus 96m for its kernel (default guest: 128m)\n"
		"      --pids-limit N     at most N processes\n"
		"      --network none|tap none (default): loopback only; tap: a point-to-point\n"
		"                         link host 172.30.K.1 <-> guest 172.30.K.2 (root only)\n"
		"  -p HOST:GUEST          forward TCP port HOST on this host to GUEST (tap only)\n"
		"  -v FILE:PATH[:ro]      a disk image (ext4 or erofs) as a volume at PATH\n"
		"      --read-only        no writable root filesystem\n"
		"      --init             a reaper as PID 1, the command as its child\n"
		"      --timeout SECONDS  kill the sandbox if it runs longer (exit 124)\n"
		"      --kernel FILE      guest kernel (default: guest-vmlinux beside sandbox)\n"
		"      --initrd FILE      guest initramfs (default: guest-initramfs.cpio)\n"
		"      --isolation vm|container  vm (default): own kernel in a microVM;\n"
		"                         container: namespaces on this host (the baseline)\n"
		"\n"
		"exit status: the container's; 125 sandbox failed; 126 the command cannot\n"
		"be run; 127 it was not found; 124 --timeout; 128+N killed by signal N.\n");
}

/* ------------------------------------------------------------------ */
/* options */

static int parse_size_ll(const char *s, long long *out)
{
	uint64_t v;
	if (parse_size(s, &v) || v > (1ULL << 50))
		return -1;
	*out = (long long)v;
	return 0;
}

static int add_env(struct run_opts *o, const char *kv)
{
	if ((size_t)o->nenv >= sizeof(o->env) / sizeof(o->env[0]))
		return cli_fail("too many environment variables");
	if (!*kv || *kv == '=')
		return cli_fail("--env '%s': want KEY=VALUE or KEY", kv);
	if (strchr(kv, '=')) {
		o->env[o->nenv++] = strdup(kv);
		return 0;
	}
	const char *v = getenv(kv);
	if (!v)
		return 0;   /* Docker: unset on the host, not set inside */
	char *s;
	if (asprintf(&s, "%s=%s", kv, v) < 0)
		return cli_fail("out of memory");
	o->env[o->nenv++] = s;
	return 0;
}

static int read_env_file(struct run_opts *o, const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return cli_fail("--env-file %s: %s", path, strerror(errno));
	char line[8192];
	int r = 0;
	while (!r && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		r = add_env(o, p);
	}
	fclose(f);
	return r;
}

static bool valid_name(const char *n)
{
	if (!isalnum((unsigned char)n[0]) || strlen(n) > 63)
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

static int parse_run_args(int argc, char **argv, struct run_opts *o)
{
	enum { O_RM = 256, O_NAME, O_ENV_FILE, O_CPUS, O_MEMORY, O_PIDS, O_NETWORK, O_READ_ONLY, O_TIMEOUT,
	       O_KERNEL, O_INITRD, O_ISOLATION, O_INIT, O_HELP };
	static const struct option opts[] = {
		{ "interactive", no_argument, 0, 'i' }, { "tty", no_argument, 0, 't' },
		{ "detach", no_argument, 0, 'd' }, { "rm", no_argument, 0, O_RM },
		{ "name", required_argument, 0, O_NAME }, { "env", required_argument, 0, 'e' },
		{ "env-file", required_argument, 0, O_ENV_FILE }, { "workdir", required_argument, 0, 'w' },
		{ "user", required_argument, 0, 'u' }, { "hostname", required_argument, 0, 'h' },
		{ "cpus", required_argument, 0, O_CPUS }, { "memory", required_argument, 0, O_MEMORY },
		{ "pids-limit", required_argument, 0, O_PIDS }, { "network", required_argument, 0, O_NETWORK },
		{ "publish", required_argument, 0, 'p' }, { "volume", required_argument, 0, 'v' },
		{ "read-only", no_argument, 0, O_READ_ONLY }, { "timeout", required_argument, 0, O_TIMEOUT },
		{ "kernel", required_argument, 0, O_KERNEL }, { "initrd", required_argument, 0, O_INITRD },
		{ "isolation", required_argument, 0, O_ISOLATION }, { "init", no_argument, 0, O_INIT },
		{ "help", no_argument, 0, O_HELP }, { 0, 0, 0, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->network = "none";
	o->isolation = "vm";
	opterr = 0;
	optind = 1;
	int c;
	char *end;
	/* "+": options end at the image name; what follows is the command. */
	while ((c = getopt_long(argc, argv, "+itde:w:u:h:p:v:", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o->interactive = true; break;
		case 't': o->tty = true; break;
		case 'd': o->detach = true; break;
		case O_RM: o->rm = true; break;
		case O_INIT: o->init = true; break;
		case O_NAME:
			if (!valid_name(optarg))
				return cli_fail("--name '%s': want letters, digits, '_', '.', '-' (at most 63)", optarg);
			o->name = optarg;
			break;
		case 'e':
			if (add_env(o, optarg))
				return EXIT_ERR;
			break;
		case O_ENV_FILE:
			if (read_env_file(o, optarg))
				return EXIT_ERR;
			break;
		case 'w':
			if (optarg[0] != '/')
				return cli_fail("--workdir '%s': must be an absolute path", optarg);
			o->workdir = optarg;
			break;
		case 'u':
			if (!*optarg)
				return cli_fail("--user: empty");
			o->user = optarg;
			break;
		case 'h':
			if (!*optarg || strlen(optarg) > 63)
				return cli_fail("--hostname '%s': 1 to 63 characters", optarg);
			o->hostname = optarg;
			break;
		case O_CPUS: {
			double v = strtod(optarg, &end);
			if (end == optarg || *end || !(v > 0) || v > MAX_VCPUS)
				return cli_fail("--cpus: '%s' is not a number above 0 and at most %u", optarg, MAX_VCPUS);
			o->cpus = optarg;
			break;
		}
		case O_MEMORY:
			if (parse_size_ll(optarg, &o->memory) || o->memory < 4 * (long long)MIB)
				return cli_fail("--memory: '%s' is not a size of at least 4m (try 256m or 1g)", optarg);
			break;
		case O_PIDS: {
			long v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 4194304)
				return cli_fail("--pids-limit: '%s' is not a number from 1 to 4194304", optarg);
			o->pids = v;
			break;
		}
		case O_NETWORK:
			if (strcmp(optarg, "none") && strcmp(optarg, "tap"))
				return cli_fail("--network: '%s' is not none or tap", optarg);
			o->network = optarg;
			break;
		case 'p': {
			unsigned h, g;
			char x;
			if (sscanf(optarg, "%u:%u%c", &h, &g, &x) != 2 || !h || h > 65535 || !g || g > 65535)
				return cli_fail("-p '%s': want HOSTPORT:GUESTPORT", optarg);
			if (o->nports == 16)
				return cli_fail("-p: at most 16 ports");
			o->ports[o->nports++] = optarg;
			break;
		}
		case 'v': {
			char *colon = strchr(optarg, ':');
			if (!colon || colon == optarg || colon[1] != '/')
				return cli_fail("-v '%s': want FILE:/PATH[:ro] (FILE a disk image)", optarg);
			char *mode = strchr(colon + 1, ':');
			if (mode && strcmp(mode, ":ro") && strcmp(mode, ":rw"))
				return cli_fail("-v '%s': the mode must be ro or rw", optarg);
			if (o->nvol == (int)(sizeof(o->volumes) / sizeof(o->volumes[0])))
				return cli_fail("-v: at most %zu volumes", sizeof(o->volumes) / sizeof(o->volumes[0]));
			o->volumes[o->nvol++] = optarg;
			break;
		}
		case O_READ_ONLY: o->read_only = true; break;
		case O_TIMEOUT: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 86400 * 365)
				return cli_fail("--timeout: '%s' is not a number of seconds", optarg);
			o->timeout = (unsigned)v;
			break;
		}
		case O_KERNEL: o->kernel = optarg; break;
		case O_INITRD: o->initrd = optarg; break;
		case O_ISOLATION:
			if (strcmp(optarg, "vm") && strcmp(optarg, "container"))
				return cli_fail("--isolation: '%s' is not vm or container", optarg);
			o->isolation = optarg;
			break;
		case O_HELP:
			run_usage(stdout);
			exit(0);
		default:
			if (optopt && optopt < 256 && !strchr("ewuhpv", optopt))
				return cli_fail("unknown option '-%c' (see sandbox run --help)", optopt);
			return cli_fail("unknown or incomplete option '%s' (see sandbox run --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_fail("no image given (sandbox run [OPTIONS] IMAGE [CMD...])");
	o->image = argv[optind++];
	o->cmd = argv + optind;
	o->ncmd = argc - optind;
	if (o->nports && strcmp(o->network, "tap"))
		return cli_fail("-p needs --network tap (with --network none nothing can reach the sandbox)");
	if (!strcmp(o->isolation, "container") && strcmp(o->network, "none"))
		return cli_fail("--isolation container supports --network none only");
	if (o->detach && (o->interactive || o->tty))
		return cli_fail("-d cannot be combined with -i or -t");
	return 0;
}

/* ------------------------------------------------------------------ */
/* the image */

static int runconf_parse(const char *image, struct runconf *rc, size_t len);

/* Ask the image tool (it imports a built-in image on first use). */
static int runconf_load(const char *image, struct runconf *rc)
{
	char tool[4200];
	snprintf(tool, sizeof(tool), "%s/sandbox-image", bindir);
	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC))
		return cli_fail("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		return cli_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(errp[1], 2);
		execl(tool, tool, "runconf", image, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", tool, strerror(errno));
		_exit(EXIT_ERR);
	}
	close(out[1]);
	close(errp[1]);
	size_t cap = 65536, len = 0;
	rc->buf = malloc(cap + 1);
	char msg[1024] = "";
	size_t mlen = 0;
	for (;;) {
		if (len == cap) {
			char *nb = realloc(rc->buf, 2 * cap + 1);
			if (!nb)
				break;
			rc->buf = nb;
			cap *= 2;
		}
		ssize_t n = read(out[0], rc->buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	for (ssize_t n; mlen < sizeof(msg) - 1 && (n = read(errp[0], msg + mlen, sizeof(msg) - 1 - mlen)) > 0;)
		mlen += (size_t)n;
	msg[mlen] = '\0';
	close(out[0]);
	close(errp[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		char *nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		const char *m = msg;
		if (!strncmp(m, "sandbox-image: ", 15))
			m += 15;
		return cli_fail("%s", *m ? m : "the image tool failed");
	}
	rc->buf[len] = '\0';
	if (runconf_parse(image, rc, len))
		return cli_fail("image %s: the image tool gave no disk", image);
	return 0;
}

/* Split RC->buf (LEN bytes of NUL-terminated key=value records). */
static int runconf_parse(const char *image, struct runconf *rc, size_t len)
{
	for (size_t off = 0; off < len;) {
		char *rec = rc->buf + off;
		size_t rl = strnlen(rec, len - off);
		off += rl + 1;
		char *v = strchr(rec, '=');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(rec, "disk")) rc->disk = v;
		else if (!strcmp(rec, "fstype")) rc->fstype = v;
		else if (!strcmp(rec, "workdir")) rc->workdir = v;
		else if (!strcmp(rec, "user")) rc->user = v;
		else if (!strcmp(rec, "stopsignal")) rc->stopsignal = v;
		else if (!strcmp(rec, "entrypoint") && rc->nentry < SB_RUN_MAX_ARGS) rc->entrypoint[rc->nentry++] = v;
		else if (!strcmp(rec, "cmd") && rc->ncmd < SB_RUN_MAX_ARGS) rc->cmd[rc->ncmd++] = v;
		else if (!strcmp(rec, "env") && rc->nenv < SB_RUN_MAX_ARGS) rc->env[rc->nenv++] = v;
	}
	(void)image;
	if (!rc->disk)
		return -1;
	if (!rc->fstype)
		rc->fstype = "erofs";
	return 0;
}

/* The fast path: the image tool keeps each image's runconf output as
 * CACHE/v<N>/<key>.runconf beside its entry (content-addressed, so never
 * stale); names/NAME points at the entry. Reading it saves starting the
 * tool (5 ms natively, ~65 ms in the nested test host). Anything unusual
 * — no such file, a built-in image rebuilt since it was imported, a disk
 * gone — returns -1 and the tool decides. The cache location follows
 * rootfs/main.c's cache_open(). */
static int runconf_cached(const char *image, struct runconf *rc)
{
	char dir[4096], path[8400], link[256];
	const char *d = getenv("SANDBOX_IMAGE_DIR");
	if (!*image || *image == '.' || strchr(image, '/'))
		return -1;
	if (d && *d)
		snprintf(dir, sizeof(dir), "%s", d);
	else if (!geteuid())
		snprintf(dir, sizeof(dir), "/var/lib/sandbox/images");
	else if ((d = getenv("XDG_DATA_HOME")) && *d)
		snprintf(dir, sizeof(dir), "%s/sandbox/images", d);
	else if ((d = getenv("HOME")) && *d)
		snprintf(dir, sizeof(dir), "%s/.local/share/sandbox/images", d);
	else
		return -1;
	snprintf(path, sizeof(path), "%s/names/%s", dir, image);
	struct stat name_st, layout_st;
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n <= 5 || lstat(path, &name_st))
		return -1;
	link[n] = '\0';
	if (strncmp(link, "../", 3) || strcmp(link + n - 5, ".json") || strstr(link + 3, ".."))
		return -1;
	snprintf(path, sizeof(path), "%s/images/%s/index.json", bindir, image);
	if (!stat(path, &layout_st) && (layout_st.st_mtim.tv_sec > name_st.st_mtim.tv_sec ||
					(layout_st.st_mtim.tv_sec == name_st.st_mtim.tv_sec &&
					 layout_st.st_mtim.tv_nsec > name_st.st_mtim.tv_nsec)))
		return -1;      /* a built-in image rebuilt since: the tool re-imports it */
	snprintf(path, sizeof(path), "%s/%.*s.runconf", dir, (int)(n - 3 - 5), link + 3);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char *buf = malloc(65536 + 1);
	ssize_t len = buf ? read(fd, buf, 65536) : -1;
	close(fd);
	if (len <= 0 || len == 65536) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	struct runconf t = { .buf = buf };
	if (runconf_parse(image, &t, (size_t)len) || access(t.disk, R_OK)) {
		free(buf);
		return -1;
	}
	*rc = t;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the container's spec, in guest-init's option syntax */

struct argvec {
	char *v[SB_RUN_MAX_ARGS * 4];
	int n;
};

static void push(struct argvec *a, const char *s)
{
	if (a->n < (int)(sizeof(a->v) / sizeof(a->v[0])) - 1)
		a->v[a->n++] = strdup(s);
	a->v[a->n] = NULL;
}

static void pushf(struct argvec *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pushf(struct argvec *a, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	push(a, buf);
}

static bool env_overridden(const struct run_opts *o, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (int i = 0; i < o->nenv; i++)
		if (!strncmp(o->env[i], kv, klen) && o->env[i][klen] == '=')
			return true;
	return false;
}

/* The options both isolation modes share (spec.c's syntax), then "--"
 * and the command. */
static int spec_args(const struct run_opts *o, const struct runconf *rc, const char *id, struct argvec *a)
{
	pushf(a, "--hostname");
	if (o->hostname)
		push(a, o->hostname);
	else
		pushf(a, "%.12s", id);
	push(a, "--cwd");
	push(a, o->workdir ? o->workdir : rc->workdir && *rc->workdir ? rc->workdir : "/");
	const char *user = o->user ? o->user : rc->user && *rc->user ? rc->user : NULL;
	if (user) {
		push(a, "--user");
		push(a, user);
	}
	for (int i = 0; i < rc->nenv; i++)
		if (!env_overridden(o, rc->env[i])) {
			push(a, "--env");
			push(a, rc->env[i]);
		}
	for (int i = 0; i < o->nenv; i++) {
		push(a, "--env");
		push(a, o->env[i]);
	}
	if (o->tty && !env_overridden(o, "TERM=")) {
		push(a, "--env");
		const char *t = getenv("TERM");
		pushf(a, "TERM=%s", t && *t ? t : "xterm");
	}
	if (o->memory) {
		push(a, "--memory");
		pushf(a, "%lld", o->memory);
	}
	if (o->pids) {
		push(a, "--pids");
		pushf(a, "%lld", o->pids);
	}
	if (o->cpus) {
		push(a, "--cpus");
		push(a, o->cpus);
	}
	if (o->read_only)
		push(a, "--read-only");
	if (o->init)
		push(a, "--init");
	push(a, "--network");
	push(a, strcmp(o->network, "tap") ? "none" : "host");
	push(a, "--");
	int before = a->n;
	for (int i = 0; i < rc->nentry; i++)
		push(a, rc->entrypoint[i]);
	if (o->ncmd)
		for (int i = 0; i < o->ncmd; i++)
			push(a, o->cmd[i]);
	else
		for (int i = 0; i < rc->ncmd; i++)
			push(a, rc->cmd[i]);
	if (a->n == before)
		return cli_fail("no command given and the image has no Cmd or Entrypoint");
	return 0;
}

/* ------------------------------------------------------------------ */
/* the VMM child (--isolation vm) */

/* The owner's signal for "the VMM's status pipe has something". */
#define SIG_DONE (SIGRTMIN + 5)

struct vm_child {
	struct relay relay;
	int sigint;
};

static void on_signal(void *arg, int sig)
{
	struct vm_child *c = arg;
	if (sig == SIGWINCH) {
		relay_winch(&c->relay);
		return;
	}
	relay_signal(&c->relay, sig);
}

/* The relay got EXIT: the container's status and all its output are here,
 * and the guest synced its disks before sending it. Waiting for the guest
 * to reset itself would only add its shutdown path (~30 ms in the test
 * host): end the VM now. */
static void end_vm_at_exit(void *arg)
{
	vm_request_end(arg, VM_END_DONE, NULL);
}

static int start_relay(void *arg, struct err *e)
{
	struct vm_child *c = arg;
	if (relay_start(&c->relay))
		return err_set(e, "agent relay thread: %s", strerror(errno));
	return 0;
}

/* DONE_FD (-1: none): where the container's status goes, one byte, as
 * soon as it is final and all output is written, before the VM is torn
 * down (the kernel's part of that, closing the VM, waits for RCU grace
 * periods: ~70 ms in the test host). The owner can end on it. */
static int vm_child_main(const struct run_opts *o, const struct runconf *rc, const char *id, int net,
			 struct argvec *spec, uint64_t start, int done_fd)
{
	static struct vm vm;
	static struct vm_child child;
	struct err e = { { 0 } };
	struct argvec g = { .n = 0 };
	char kernel[4200], initrd[4200], vsock[700], netopt[128], append[512];
	static char disks[VM_MAX_DISKS][4200];

	vm.t.start = start;
	vm.vm_fd = -1;
	vm.kvm.fd = -1;
	struct vm_config *c = &vm.cfg;
	snprintf(kernel, sizeof(kernel), "%s/guest-vmlinux", bindir);
	snprintf(initrd, sizeof(initrd), "%s/guest-initramfs.cpio", bindir);
	c->kernel = o->kernel ? o->kernel : kernel;
	c->initrd = o->initrd ? o->initrd : initrd;
	if (access(c->kernel, R_OK))
		return cli_fail("guest kernel %s: %s (build it with make, or give --kernel)", c->kernel, strerror(errno));
	if (access(c->initrd, R_OK))
		return cli_fail("guest initramfs %s: %s (build it with make, or give --initrd)", c->initrd,
			    strerror(errno));
	c->mem_bytes = o->memory ? (uint64_t)o->memory + GUEST_MEM_OVERHEAD : GUEST_MEM_DEFAULT;
	c->mem_bytes = (c->mem_bytes + 2 * MIB - 1) & ~(2 * MIB - 1);
	c->ncpus = o->cpus ? (unsigned)ceil(strtod(o->cpus, NULL)) : 1;
	const char *extra = getenv("SANDBOX_KERNEL_APPEND");    /* experiments only */
	snprintf(append, sizeof(append), "sandbox.agent=1%s%s%s", getenv("SANDBOX_TIMINGS") ? " sandbox.timings=1" : "",
		 extra ? " " : "", extra ? extra : "");
	c->append = append;
	c->no_seccomp = getenv("SANDBOX_NO_SECCOMP") != NULL;    /* debugging only */
	c->timings = getenv("SANDBOX_TIMINGS") != NULL;         /* phases, for bench/ */
	if (getenv("SANDBOX_NO_JAIL"))                          /* debugging only */
		c->jail = -1;

	/* Disks: the image first (vda), then the volumes (vdb, ...). */
	snprintf(disks[0], sizeof(disks[0]), "%s,ro", rc->disk);
	c->disk_opts[c->ndisks++] = disks[0];
	push(&g, "--image");
	pushf(&g, "vda:%s", rc->fstype);
	for (int i = 0; i < o->nvol; i++) {
		char file[4096];
		const char *colon = strchr(o->volumes[i], ':');
		snprintf(file, sizeof(file), "%.*s", (int)(colon - o->volumes[i]), o->volumes[i]);
		const char *path = colon + 1, *mode = strchr(path, ':');
		bool ro = mode && !strcmp(mode, ":ro");
		unsigned d = c->ndisks++;
		snprintf(disks[d], sizeof(disks[0]), "%s%s", file, ro ? ",ro" : "");
		c->disk_opts[d] = disks[d];
		push(&g, "--volume");
		pushf(&g, "vd%c:%.*s:%s", 'a' + c->ndisks - 1, mode ? (int)(mode - path) : (int)strlen(path), path,
		      ro ? "ro" : "rw");
	}
	state_path(vsock, sizeof(vsock), id, "vsock");
	static char vsock_opt[800];
	snprintf(vsock_opt, sizeof(vsock_opt), "cid=3,uds=%s", vsock);
	c->vsock_opts = vsock_opt;
	if (net) {
		snprintf(netopt, sizeof(netopt), "tap=sb%.12s,host-ip=172.30.%d.1/24", id, net);
		c->net_opts = netopt;
		push(&g, "--eth");
		pushf(&g, "172.30.%d.2/24:172.30.%d.1:", net, net);
	}
	if (o->interactive)
		push(&g, "--stdin");
	if (o->tty) {
		struct winsize ws = { .ws_row = 24, .ws_col = 80 };
		ioctl(0, TIOCGWINSZ, &ws);
		push(&g, "--tty");
		pushf(&g, "%u:%u", ws.ws_row ? ws.ws_row : 24, ws.ws_col ? ws.ws_col : 80);
	}
	for (int i = 0; i < spec->n; i++)
		push(&g, spec->v[i]);

	struct relay *r = &child.relay;
	int guest_end;
	if (relay_init(r, &guest_end))
		return cli_fail("agent channel: %s", strerror(errno));
	r->config = g.v;
	r->in_fd = o->interactive || o->tty ? 0 : -1;
	r->out_fd = 1;
	r->err_fd = 2;
	r->tty = o->tty;
	r->no_seccomp = c->no_seccomp;
	c->has_agent = true;
	c->agent_fd = guest_end;
	if (vm_prepare(&vm, &e)) {
		fprintf(stderr, "sandbox: %s\n", e.msg);
		vm_destroy(&vm);
		return EXIT_ERR;
	}
	vm.on_signal = on_signal;
	vm.on_signal_arg = &child;
	vm.on_start = start_relay;
	r->on_exit = end_vm_at_exit;
	r->on_exit_arg = &vm;
	e.msg[0] = '\0';
	int status = vm_run(&vm, &e);
	uint64_t t_ended = now_ns();
	relay_stop(r);
	int reported = atomic_load(&r->status);
	if (r->err[0])
		fprintf(stderr, "sandbox: %s\n", r->err);
	if (c->timings && atomic_load(&r->exit_ns))
		fprintf(stderr, "sandbox-run-timings: exit_frame_ms=%.3f vm_run_returned_ms=%.3f relay_stopped_ms=%.3f\n",
			(double)(atomic_load(&r->exit_ns) - start) * 1e-6, (double)(t_ended - start) * 1e-6,
			(double)(now_ns() - start) * 1e-6);
	if (reported >= 0 && done_fd >= 0) {
		/* Hand over the status and let go of stdio, so neither the owner
		 * nor a reader of our output waits for the teardown below. */
		uint8_t b = (uint8_t)reported;
		if (write(done_fd, &b, 1) == 1) {
			close(0);
			close(1);
			close(2);
		}
	}
	vm_destroy(&vm);
	if (reported >= 0)
		return reported;
	if (e.msg[0])
		fprintf(stderr, "sandbox: %s\n", e.msg);
	else
		fprintf(stderr, "sandbox: the guest ended without reporting the container's status\n");
	return status == 0 ? EXIT_ERR : status;
}

/* ------------------------------------------------------------------ */
/* the host-mode child (--isolation container) */

/* Mount a disk image file read-only (or not) at DIR: erofs can mount a
 * file directly on recent kernels; otherwise through a loop device. */
static int mount_image_file(const char *file, const char *dir, const char *fstype, bool ro)
{
	unsigned long fl = MS_NODEV | MS_NOSUID | (ro ? MS_RDONLY : 0);
	if (fstype && !strcmp(fstype, "erofs") && mount(file, dir, "erofs", fl, NULL) == 0)
		return 0;
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return cli_fail("mount %s: no file-backed mount and no /dev/loop-control: %s", file, strerror(errno));
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		char dev[64];
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		int lfd = open(dev, O_RDWR | O_CLOEXEC), ffd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (lfd < 0 || ffd < 0) {
			int err = errno;
			if (lfd >= 0)
				close(lfd);
			if (ffd >= 0)
				close(ffd);
			close(ctl);
			return cli_fail("mount %s: %s", lfd < 0 ? dev : file, strerror(err));
		}
		struct loop_config lc = { .fd = (unsigned)ffd,
					  .info = { .lo_flags = LO_FLAGS_AUTOCLEAR | (ro ? LO_FLAGS_READ_ONLY : 0) } };
		int r = ioctl(lfd, LOOP_CONFIGURE, &lc);
		close(ffd);
		if (r && errno == EBUSY) {  /* raced for that loop device */
			close(lfd);
			continue;
		}
		close(ctl);
		if (r) {
			close(lfd);
			return cli_fail("mount %s: loop device: %s", file, strerror(errno));
		}
		static const char *const fss[] = { "erofs", "ext4" };
		int m = -1;
		for (int k = 0; k < 2 && m; k++)
			m = mount(dev, dir, fstype ? fstype : fss[k], fl, NULL);
		int err = errno;
		close(lfd);  /* autoclear: the device goes with the mount */
		if (m)
			return cli_fail("mount %s: %s", file, strerror(err));
		return 0;
	}
	close(ctl);
	return cli_fail("mount %s: no free loop device", file);
}

static int host_child_main(const struct run_opts *o, const struct runconf *rc, const char *id,
			   struct argvec *spec)
{
	char dir[700], img[800], rw[800], root[800], opts[2600];
	state_path(dir, sizeof(dir), id, NULL);
	snprintf(img, sizeof(img), "%s/image", dir);
	snprintf(rw, sizeof(rw), "%s/rw", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	/* Mounts live in a namespace of our own: nothing is left behind. */
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return cli_fail("--isolation container: a mount namespace: %s (needs root)", strerror(errno));
	if ((mkdir(img, 0700) && errno != EEXIST) || (mkdir(rw, 0700) && errno != EEXIST) ||
	    (mkdir(root, 0755) && errno != EEXIST))
		return cli_fail("mkdir in %s: %s", dir, strerror(errno));
	if (mount_image_file(rc->disk, img, rc->fstype, true))
		return EXIT_ERR;
	/* The writable layer is host memory here: bounded (as the VM's is by
	 * the guest's memory), by --memory or 512 MiB. */
	char rwopts[64];
	snprintf(rwopts, sizeof(rwopts), "mode=0755,size=%lld", o->memory ? o->memory : 512LL << 20);
	if (mount("tmpfs", rw, "tmpfs", MS_NODEV, rwopts))
		return cli_fail("mount the writable layer: %s", strerror(errno));
	snprintf(opts, sizeof(opts), "%s/upper", rw);
	mkdir(opts, 0755);
	snprintf(opts, sizeof(opts), "%s/work", rw);
	mkdir(opts, 0755);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", img, rw, rw);
	if (mount("overlay", root, "overlay", MS_NODEV, opts))
		return cli_fail("mount the overlay root: %s", strerror(errno));
	for (int i = 0; i < o->nvol; i++) {
		char file[4096], target[4200];
		const char *colon = strchr(o->volumes[i], ':');
		snprintf(file, sizeof(file), "%.*s", (int)(colon - o->volumes[i]), o->volumes[i]);
		const char *path = colon + 1, *mode = strchr(path, ':');
		snprintf(target, sizeof(target), "%s%.*s", root, mode ? (int)(mode - path) : (int)strlen(path), path);
		/* The volume path is created in the writable layer; a symlink in
		 * the image on the way is refused by the kernel's O_NOFOLLOW
		 * walk in guest-init; here the same check is a realpath. */
		char real[PATH_MAX];
		if (mkdir(target, 0755) && errno != EEXIST)
			return cli_fail("-v %s: mkdir: %s", o->volumes[i], strerror(errno));
		if (!realpath(target, real) || strncmp(real, root, strlen(root)))
			return cli_fail("-v %s: the path leaves the container's root", o->volumes[i]);
		if (mount_image_file(file, real, NULL, mode && !strcmp(mode, ":ro")))
			return EXIT_ERR;
	}
	if (!o->interactive && !o->tty) {       /* as in the VM: stdin is empty */
		int nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0)
			return cli_fail("/dev/null: %s", strerror(errno));
		if (nul)
			close(nul);
	}
	char tool[4200];
	snprintf(tool, sizeof(tool), "%s/guest-init", bindir);
	struct argvec a = { .n = 0 };
	push(&a, tool);
	push(&a, "--host");
	push(&a, root);
	for (int i = 0; i < spec->n; i++)
		push(&a, spec->v[i]);
	execv(tool, a.v);
	return cli_fail("cannot run %s: %s", tool, strerror(errno));
}

/* ------------------------------------------------------------------ */
/* -p: TCP from this host's port to the guest's */

struct proxy {
	int listen_fd;
	struct sockaddr_in to;
};

static void *splice_conn(void *arg)
{
	int *fds = arg, a = fds[0], b = fds[1];
	free(fds);
	char buf[65536];
	bool a_open = true, b_open = true;
	while (a_open || b_open) {
		struct pollfd p[2] = { { .fd = a_open ? a : -1, .events = POLLIN },
				       { .fd = b_open ? b : -1, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			int from = i ? b : a, to = i ? a : b;
			ssize_t n = read(from, buf, sizeof(buf));
			if (n <= 0) {
				shutdown(to, SHUT_WR);
				if (i)
					b_open = false;
				else
					a_open = false;
				continue;
			}
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(to, buf + off, (size_t)(n - off));
				if (w <= 0) {
					a_open = b_open = false;
					break;
				}
				off += w;
			}
		}
	}
	close(a);
	close(b);
	return NULL;
}

static void *proxy_main(void *arg)
{
	struct proxy *px = arg;
	for (;;) {
		int c = accept4(px->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		int g = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (g < 0 || connect(g, (struct sockaddr *)&px->to, sizeof(px->to))) {
			if (g >= 0)
				close(g);
			close(c);
			continue;
		}
		int *fds = malloc(2 * sizeof(int));
		pthread_t t;
		if (!fds) {
			close(c);
			close(g);
			continue;
		}
		fds[0] = c;
		fds[1] = g;
		if (pthread_create(&t, NULL, splice_conn, fds)) {
			free(fds);
			close(c);
			close(g);
			continue;
		}
		pthread_detach(t);
	}
}

static int start_proxies(const struct run_opts *o, int net)
{
	for (int i = 0; i < o->nports; i++) {
		unsigned h, g;
		sscanf(o->ports[i], "%u:%u", &h, &g);
		struct proxy *px = calloc(1, sizeof(*px));
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h),
					 .sin_addr.s_addr = htonl(INADDR_ANY) };
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!px || fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64))
			return cli_fail("-p %s: cannot listen on port %u: %s", o->ports[i], h, strerror(errno));
		px->listen_fd = fd;
		px->to = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)g) };
		char ip[32];
		snprintf(ip, sizeof(ip), "172.30.%d.2", net);
		inet_aton(ip, &px->to.sin_addr);
		pthread_t t;
		if (pthread_create(&t, NULL, proxy_main, px))
			return cli_fail("-p: thread: %s", strerror(errno));
		pthread_detach(t);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the owner */

/* A free subnet index 1..250 among live sandboxes (under the state lock). */
static int alloc_net(void)
{
	bool used[256] = { false };
	size_t n;
	char **ids = state_list(&n);
	for (size_t i = 0; i < n; i++) {
		struct sandbox_state s;
		struct err e;
		if (!state_read(ids[i], &s, &e) && s.net > 0 && s.net < 256 && state_owner_alive(&s))
			used[s.net] = true;
	}
	state_free_list(ids, n);
	for (int k = 1; k <= 250; k++)
		if (!used[k])
			return k;
	return -1;
}

static int name_in_use(const char *name)
{
	size_t n;
	int hit = 0;
	char **ids = state_list(&n);
	for (size_t i = 0; i < n && !hit; i++) {
		struct sandbox_state s;
		struct err e;
		hit = !state_read(ids[i], &s, &e) && !strcmp(s.name, name);
	}
	state_free_list(ids, n);
	return hit;
}

static struct termios saved_tio;
static bool tio_saved;

static void tty_raw(void)
{
	struct termios t;
	if (!isatty(0) || tcgetattr(0, &saved_tio))
		return;
	tio_saved = true;
	t = saved_tio;
	cfmakeraw(&t);
	tcsetattr(0, TCSANOW, &t);
}

static void tty_restore(void)
{
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
}

/* The container's status: from the VMM's status pipe DONE (-1: none)
 * when it comes there first (the VMM then finishes its teardown on its
 * own), else from the child's exit. */
static int wait_child(pid_t child, int done, const struct run_opts *o, const sigset_t *set)
{
	uint64_t deadline = o->timeout ? now_ns() + o->timeout * 1000000000ULL : 0;
	for (;;) {
		int st;
		pid_t w = waitpid(child, &st, WNOHANG);
		if (w == child)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		siginfo_t si;
		int sig;
		if (deadline) {
			uint64_t now = now_ns();
			if (now >= deadline) {
				kill(child, SIGKILL);
				while (waitpid(child, &st, 0) < 0 && errno == EINTR)
					;
				tty_restore();
				fprintf(stderr, "sandbox: the sandbox ran longer than --timeout %u s: killed\n",
					o->timeout);
				return 124;
			}
			uint64_t left = deadline - now;
			struct timespec ts = { .tv_sec = (time_t)(left / 1000000000ULL),
					       .tv_nsec = (long)(left % 1000000000ULL) };
			sig = sigtimedwait(set, &si, &ts);
		} else {
			sig = sigwaitinfo(set, &si);
		}
		if (sig == SIG_DONE && done >= 0) {
			uint8_t b;
			ssize_t n = read(done, &b, 1);
			if (n == 1)
				return b;
			if (n == 0) {       /* the VMM exited without one: waitpid has it */
				close(done);
				done = -1;
			}
			continue;
		}
		if (sig <= 0 || sig == SIGCHLD || sig == SIG_DONE)
			continue;
		/* Signals from the terminal reach the VMM (same process group)
		 * by themselves; those sent to us by a process are passed on. */
		if (sig == SIG_FORWARD || si.si_code == SI_USER || si.si_code == SI_QUEUE) {
			if (sig == SIG_FORWARD)
				sigqueue(child, SIG_FORWARD, si.si_value);
			else
				kill(child, sig);
		}
	}
}

int cmd_run(int argc, char **argv, uint64_t start)
{
	static struct run_opts o;
	static struct runconf rc;
	struct err e = { { 0 } };
	int r = parse_run_args(argc, argv, &o);
	if (r)
		return r;
	bindir = self_dir();
	if (runconf_cached(o.image, &rc) && runconf_load(o.image, &rc))
		return EXIT_ERR;
	uint64_t t_runconf = now_ns();
	for (int i = 0; i < o.nvol; i++) {
		char file[4096];
		snprintf(file, sizeof(file), "%.*s", (int)(strchr(o.volumes[i], ':') - o.volumes[i]), o.volumes[i]);
		if (access(file, R_OK))
			return cli_fail("-v %s: %s: %s", o.volumes[i], file, strerror(errno));
	}

	struct sandbox_state s = { 0 };
	state_new_id(s.id);
	int lock = state_lock(&e);
	if (lock < 0)
		return cli_fail("%s", e.msg);
	if (o.name && name_in_use(o.name)) {
		state_unlock(lock);
		return cli_fail("the name '%s' is in use (sandbox rm %s)", o.name, o.name);
	}
	if (!strcmp(o.network, "tap")) {
		if (geteuid() != 0) {
			state_unlock(lock);
			return cli_fail("--network tap needs root (it creates a tap device)");
		}
		s.net = alloc_net();
		if (s.net < 0) {
			state_unlock(lock);
			return cli_fail("--network tap: no free subnet (250 networked sandboxes run)");
		}
		snprintf(s.tap, sizeof(s.tap), "sb%.12s", s.id);
	}
	snprintf(s.name, sizeof(s.name), "%s", o.name ? o.name : s.id);
	snprintf(s.image, sizeof(s.image), "%s", o.image);
	size_t off = 0;
	for (int i = 0; i < o.ncmd && off < sizeof(s.command) - 1; i++)
		off += (size_t)snprintf(s.command + off, sizeof(s.command) - off, "%s%s", i ? " " : "", o.cmd[i]);
	for (char *p = s.command; *p; p++)
		if (*p == '\n')
			*p = ' ';
	s.created = (long long)time(NULL);
	snprintf(s.isolation, sizeof(s.isolation), "%s", o.isolation);
	snprintf(s.cpus, sizeof(s.cpus), "%s", o.cpus ? o.cpus : "1");
	s.memory = o.memory;
	snprintf(s.stop_signal, sizeof(s.stop_signal), "%s", rc.stopsignal && *rc.stopsignal ? rc.stopsignal : "SIGTERM");
	s.rm = o.rm;
	s.detached = o.detach;
	snprintf(s.status, sizeof(s.status), "created");
	s.pid = getpid();
	s.pid_start = state_proc_start(s.pid);
	s.exit_code = -1;
	r = state_write(&s, &e);
	state_unlock(lock);
	if (r)
		return cli_fail("%s", e.msg);

	struct argvec spec = { .n = 0 };
	if (spec_args(&o, &rc, s.id, &spec)) {
		state_remove(s.id);
		return EXIT_ERR;
	}

	/* -d: the owner goes on in the background; the caller gets the id. */
	if (o.detach) {
		int p[2];
		if (pipe2(p, O_CLOEXEC)) {
			state_remove(s.id);
			return cli_fail("pipe: %s", strerror(errno));
		}
		pid_t pid = fork();
		if (pid < 0) {
			state_remove(s.id);
			return cli_fail("fork: %s", strerror(errno));
		}
		if (pid > 0) {
			close(p[1]);
			char c;
			ssize_t n = read(p[0], &c, 1);
			if (n == 1) {
				printf("%s\n", s.id);
				return 0;
			}
			return cli_fail("the sandbox did not start (sandbox logs %s)", s.id);
		}
		close(p[0]);
		setsid();
		char log[700];
		state_path(log, sizeof(log), s.id, "log");
		int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (lfd < 0 || nul < 0)
			_exit(EXIT_ERR);
		dup2(nul, 0);
		dup2(lfd, 1);
		dup2(lfd, 2);
		s.pid = getpid();
		s.pid_start = state_proc_start(s.pid);
		state_write(&s, &e);
		if (write(p[1], "s", 1) < 0) {
			/* the caller is gone: run anyway */
		}
		close(p[1]);
	}

	sigset_t set;
	sigemptyset(&set);
	int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2 };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigaddset(&set, SIG_FORWARD);
	sigaddset(&set, SIG_DONE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The VMM's status pipe (vm_child_main): its read end raises SIG_DONE
	 * here. Not with --network tap, whose device goes with the VMM. */
	int done[2] = { -1, -1 };
	if (strcmp(o.isolation, "container") && !s.net && !pipe2(done, O_CLOEXEC)) {
		if (fcntl(done[0], F_SETOWN, getpid()) || fcntl(done[0], F_SETSIG, SIG_DONE) ||
		    fcntl(done[0], F_SETFL, O_ASYNC | O_NONBLOCK)) {
			close(done[0]);
			close(done[1]);
			done[0] = done[1] = -1;
		}
	}
	if (o.tty)
		tty_raw();
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		tty_restore();
		state_remove(s.id);
		return cli_fail("fork: %s", strerror(errno));
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!strcmp(o.isolation, "container")) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			_exit(host_child_main(&o, &rc, s.id, &spec));
		}
		sigdelset(&set, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		if (done[0] >= 0)
			close(done[0]);
		int st = vm_child_main(&o, &rc, s.id, s.net, &spec, start, done[1]);
		fflush(NULL);
		_exit(st);
	}
	if (done[1] >= 0)
		close(done[1]);
	s.vmm_pid = child;
	snprintf(s.status, sizeof(s.status), "running");
	state_write(&s, &e);
	if (o.nports && start_proxies(&o, s.net)) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		state_remove(s.id);
		return EXIT_ERR;
	}
	uint64_t t_forked = now_ns();
	int status = wait_child(child, done[0], &o, &set);
	tty_restore();
	if (getenv("SANDBOX_TIMINGS"))
		fprintf(stderr, "sandbox-run-timings: runconf_ms=%.3f vmm_forked_ms=%.3f end_ms=%.3f\n",
			(double)(t_runconf - start) * 1e-6, (double)(t_forked - start) * 1e-6,
			(double)(now_ns() - start) * 1e-6);
	if (o.rm) {
		state_remove(s.id);
	} else {
		snprintf(s.status, sizeof(s.status), "exited");
		s.exit_code = status;
		s.vmm_pid = 0;
		state_write(&s, &e);
	}
	return status;
}
