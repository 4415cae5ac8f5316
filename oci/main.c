/* sandbox-runtime: runc's command line over sandbox microVMs
 * (docs/oci-runtime.md). Global flags, then one command; errors are one
 * line on stderr and, with --log, a {"level":"error","msg":...} line in the
 * log file (what podman and containerd read); exit 1, as runc. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "map.h"
#include "oci.h"
#include "ostate.h"
#include "pod.h"
#include "relay.h"
#include "snapshot.h"
#include "state.h"
#include "util.h"
#include "vm.h"

#define RUNTIME_VERSION "0.1.0"
#define OCI_SPEC_VERSION "1.0.2"

static const char *log_path;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}
static bool log_json;

static void log_line(const char *level, const char *msg)
{
	if (!log_path)
		return;
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	char ts[64];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (log_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "level", json_object_new_string(level));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		json_object_object_add(o, "time", json_object_new_string(ts));
		dprintf(fd, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		dprintf(fd, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
	}
	close(fd);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sandbox-runtime: %s\n", msg);
	log_line("error", msg);
	return 1;
}

static int fail_err(const struct err *e)
{
	return fail("%s", e->msg);
}

/* The sandbox state (cli/state.c) lives under ROOT/.sandbox. */
static int set_roots(struct err *e)
{
	static char sb[PATH_MAX];
	if (state_mkdir_p(oci_root, 0700) && errno != EEXIST)
		return err_sys(e, "--root %s", oci_root);
	/* trusted as the sandbox state root is: a real directory of ours that
	 * group and others cannot write */
	struct stat st;
	if (lstat(oci_root, &st))
		return err_sys(e, "--root %s", oci_root);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return err_set(e, "--root %s: not a directory of this user closed to group and others", oci_root);
	if ((size_t)snprintf(sb, sizeof(sb), "%s/.sandbox", oci_root) >= sizeof(sb))
		return err_set(e, "--root: too long");
	if (setenv("SANDBOX_STATE_DIR", sb, 1))
		return err_sys(e, "setenv");
	return state_root(e) ? 0 : -1;     /* made, checked, and known to state_path */
}

/* ------------------------------------------------------------------ */
/* create */

/* Write PID into FILE atomically (engines poll for it). */
static int write_pid_file(const char *file, pid_t pid, struct err *e)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%d", file, (int)getpid()) >= sizeof(tmp))
		return err_set(e, "--pid-file: too long");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(e, "--pid-file %s", tmp);
	int r = dprintf(fd, "%d", (int)pid);
	if (close(fd) || r < 0 || rename(tmp, file)) {
		unlink(tmp);
		return err_sys(e, "--pid-file %s", file);
	}
	return 0;
}

/* terminal: true: a pty whose master goes to the engine over SOCK;
 * the slave becomes our stdio (and so the owner's, and the relay's). */
static int console_setup(const char *sock, struct err *e)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m))
		return err_sys(e, "pty");
	int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return err_sys(e, "open %s", ptsname(m));
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(a.sun_path))
		return err_set(e, "--console-socket %s: path too long", sock);
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		return err_sys(e, "--console-socket %s", sock);
	char name[] = "/dev/ptmx";
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &m, sizeof(int));
	if (sendmsg(c, &msg, 0) < 0)
		return err_sys(e, "--console-socket %s: send", sock);
	close(c);
	close(m);
	if (dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0)
		return err_sys(e, "dup2 pty");
	close(s);
	return 0;
}

static void write_annotations(const struct oci_config *c, const char *id)
{
	char path[PATH_MAX];
	oci_path(path, sizeof(path), id, "annotations");
	json_object *a = json_object_new_object();
	for (unsigned i = 0; i < c->nannot; i++)
		json_object_object_add(a, c->annot_key[i], json_object_new_string(c->annot_val[i]));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dprintf(fd, "%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
		close(fd);
	}
	json_object_put(a);
}

/* ROOT/<id> holds only flat files of ours. */
static int remove_tree(const char *dir)
{
	char path[PATH_MAX];
	static const char *const files[] = { "oci", "oci.tmp", "annotations", "start" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	if (rmdir(dir) && errno != ENOENT)
		return -1;
	return 0;
}

/* A pod's container (pod.h): no VM of its own. Its root is bound into
 * the pod's share; its stand-in (the pid in --pid-file, a child of ours
 * as an owner is) waits for start on ROOT/ID/start, then runs it in the
 * pod's VM (an exec connection whose spec is a CONTAINER) with the
 * engine's stdio, and exits with its status. */
static int create_member(const struct oci_config *c, const struct oci_pod_ref *pr, const char *id, const char *bundle,
			 const char *pid_file, const char *console)
{
	struct err e = { 0 };
	struct oci_state pod;
	if (oci_pod_find(pr, &pod, &e))
		return fail("create %s: %s", id, e.msg);
	if (c->netns)
		log_line("warning", "config.json: a pod's container: its network namespace path is the pod's (the VM's NIC is there)");
	static struct cspec x;
	static char user[32];
	if (oci_member_spec(c, id, pr->share_pid, &x, user, &e))
		return fail_err(&e);
	char dir[PATH_MAX], gate_path[PATH_MAX];
	oci_path(dir, sizeof(dir), id, NULL);
	oci_path(gate_path, sizeof(gate_path), id, "start");
	if (mkdir(dir, 0700))
		return errno == EEXIST ? fail("container with id exists: %s", id) : fail("mkdir %s: %s", dir, strerror(errno));
	int gate = -1;
	if ((console && c->terminal && console_setup(console, &e)) ||
	    (mkfifo(gate_path, 0600) && err_sys(&e, "mkfifo %s", gate_path)) ||
	    ((gate = open(gate_path, O_RDWR | O_CLOEXEC)) < 0 && err_sys(&e, "open %s", gate_path))) {
		remove_tree(dir);
		return fail_err(&e);
	}
	/* its root and its binds of host paths in the pod's share */
	int r = oci_pod_root_add(pod.id, id, c->root, c->root_ro, &e);
	if (!r && oci_pod_binds_add(pod.id, id, c, &e)) {
		oci_pod_root_remove(pod.id, id);
		r = -1;
	}
	if (r) {
		close(gate);
		remove_tree(dir);
		return fail_err(&e);
	}
	fflush(NULL);
	pid_t standin = fork();
	if (standin == 0)
		oci_member_standin(&x, c->terminal, pod.sid, gate);
	close(gate);
	struct oci_state s = { 0 };
	snprintf(s.id, sizeof(s.id), "%s", id);
	memcpy(s.sid, pod.sid, sizeof(s.sid));
	snprintf(s.pod, sizeof(s.pod), "%s", pod.id);
	snprintf(s.bundle, sizeof(s.bundle), "%s", bundle);
	snprintf(s.rootfs, sizeof(s.rootfs), "%s", c->root);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	s.created_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	s.pid = standin;
	s.pid_start = standin > 0 ? state_proc_start(standin) : 0;
	if (standin < 0)
		err_sys(&e, "fork");
	else
		write_annotations(c, id);
	if (standin < 0 || oci_state_write(&s, &e) || (pid_file && write_pid_file(pid_file, standin, &e))) {
		if (standin > 0) {
			kill(standin, SIGKILL);
			waitpid(standin, NULL, 0);
		}
		oci_pod_root_remove(pod.id, id);
		remove_tree(dir);
		return fail_err(&e);
	}
	return 0;
}

static int cmd_create(int argc, char **argv, uint64_t start)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, 0, 'b' }, { "pid-file", required_argument, 0, 'p' },
		{ "console-socket", required_argument, 0, 'c' }, { "no-pivot", no_argument, 0, 'n' },
		{ "no-new-keyring", no_argument, 0, 'k' }, { "preserve-fds", required_argument, 0, 'f' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *bundle = ".", *pid_file = NULL, *console = NULL;
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+b:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': bundle = optarg; break;
		case 'p': pid_file = optarg; break;
		case 'c': console = optarg; break;
		case 'n': case 'k': break;      /* the guest's root is always pivoted; keyrings are the guest's */
		case 'f':
			if (strcmp(optarg, "0"))
				return fail("create: --preserve-fds %s: passing extra fds is not supported", optarg);
			break;
		case 'h':
			printf("usage: sandbox-runtime create --bundle DIR [--pid-file FILE] [--console-socket SOCK] ID\n");
			return 0;
		default:
			return fail("create: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return fail("create: want exactly one container id");
	const char *id = argv[optind];
	if (!oci_id_valid(id))
		return fail("invalid container id '%.80s'", id);
	char abs_bundle[PATH_MAX];
	if (!realpath(bundle, abs_bundle))
		return fail("bundle %s: %s", bundle, strerror(errno));
	static struct oci_config c;
	struct err e = { 0 };
	if (oci_config_load(abs_bundle, &c, &e))
		return fail_err(&e);
	struct stat st;
	if (stat(c.root, &st) || !S_ISDIR(st.st_mode))
		return fail("config.json: root.path %s: not a directory", c.root);
	if (c.terminal && !console)
		return fail("create: process.terminal is true but no --console-socket was given");
	for (unsigned i = 0; i < c.nnotes; i++) {
		char msg[160];
		snprintf(msg, sizeof(msg), "config.json: %s: not applied (the guest's own default holds)", c.notes[i]);
		log_line("warning", msg);
	}
	struct oci_pod_ref pr;
	if (oci_pod_role_of(&c, &pr, &e) || set_roots(&e))
		return fail_err(&e);
	if (pr.role == OCI_POD_MEMBER)
		return create_member(&c, &pr, id, abs_bundle, pid_file, console);
	for (unsigned i = 0; i < c.nmounts; i++)
		if (c.mounts[i].kind == OCI_MOUNT_BIND_FILE && c.mounts[i].engine) {
			log_line("warning", "config.json: mounts[] file binds (/etc/hosts, /etc/resolv.conf, ...): not "
				 "applied in a VM of its own (the guest's own apply)");
			break;
		}
	static struct run_opts o;
	if (oci_map(&c, id, &o, &e))
		return fail_err(&e);
	char dir[PATH_MAX];
	oci_path(dir, sizeof(dir), id, NULL);
	if (mkdir(dir, 0700))
		return errno == EEXIST ? fail("container with id exists: %s", id) : fail("mkdir %s: %s", dir, strerror(errno));
	static char share[PATH_MAX];
	/* Every container's VM serves a pod's share, its root at ID/rootfs
	 * in it (pod.c), so that any container can be a pod's sandbox: CRI's
	 * pause, podman's infra (which says nothing of it), or any container
	 * whose namespaces another joins by path. */
	if (oci_pod_share_create(id, c.root, c.root_ro, &e)) {
		remove_tree(dir);
		return fail_err(&e);
	}
	oci_pod_share(share, sizeof(share), id);
	o.rootfs = share;
	o.rootfs_ro = false;    /* the root's bind in it is (on the host) */
	o.pod_member = id;
	if (console && c.terminal && console_setup(console, &e)) {
		oci_pod_share_remove(id);
		remove_tree(dir);
		return fail_err(&e);
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC)) {
		oci_pod_share_remove(id);
		remove_tree(dir);
		return fail("pipe: %s", strerror(errno));
	}
	o.start_gate = true;
	fflush(NULL);
	pid_t owner = fork();
	if (owner < 0) {
		oci_pod_share_remove(id);
		remove_tree(dir);
		return fail("fork: %s", strerror(errno));
	}
	if (owner == 0) {
		close(p[0]);
		o.ready_fd = p[1];
		int r = run_main(&o, start, &e);
		if (r < 0 && o.ready_fd >= 0) {
			/* not ready yet: create reports it */
			uint16_t n = (uint16_t)strnlen(e.msg, sizeof(e.msg));
			char buf[3 + sizeof(e.msg)];
			buf[0] = 'e';
			memcpy(buf + 1, &n, 2);
			memcpy(buf + 3, e.msg, n);
			if (write(p[1], buf, 3 + (size_t)n) < 0) {
				/* create is gone */
			}
		} else if (r < 0) {
			fprintf(stderr, "sandbox-runtime: %s\n", e.msg);
		}
		fflush(NULL);
		_exit(r < 0 ? 125 : r);
	}
	close(p[1]);
	char buf[3 + sizeof(e.msg)];
	ssize_t n = read(p[0], buf, 1 + STATE_ID_LEN);
	if (n == 1 + STATE_ID_LEN && buf[0] == 's') {
		close(p[0]);
		struct oci_state s = { 0 };
		snprintf(s.id, sizeof(s.id), "%s", id);
		memcpy(s.sid, buf + 1, STATE_ID_LEN);
		snprintf(s.bundle, sizeof(s.bundle), "%s", abs_bundle);
		snprintf(s.rootfs, sizeof(s.rootfs), "%s", c.root);
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		s.created_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
		s.pid = owner;
		s.pid_start = state_proc_start(owner);
		s.pod_share = true;
		write_annotations(&c, id);
		if (oci_state_write(&s, &e) || (pid_file && write_pid_file(pid_file, owner, &e))) {
			kill(owner, SIGKILL);
			waitpid(owner, NULL, 0);
			state_remove(s.sid);
			if (s.pod_share)
				oci_pod_share_remove(id);
			remove_tree(dir);
			return fail_err(&e);
		}
		return 0;
	}
	char msg[sizeof(e.msg) + 1] = "the sandbox did not start";
	if (n >= 3 && buf[0] == 'e') {
		uint16_t len;
		memcpy(&len, buf + 1, 2);
		size_t have = (size_t)n - 3;
		if (len > sizeof(e.msg))
			len = sizeof(e.msg);
		memcpy(msg, buf + 3, have < len ? have : len);
		while (have < len) {
			ssize_t k = read(p[0], msg + have, len - have);
			if (k <= 0)
				break;
			have += (size_t)k;
		}
		msg[have] = '\0';
	}
	close(p[0]);
	waitpid(owner, NULL, 0);
	oci_pod_share_remove(id);
	remove_tree(dir);
	return fail("create %s: %s", id, msg);
}

/* ------------------------------------------------------------------ */
/* start, state, kill, delete, ps */

static int one_id(int argc, char **argv, const char *cmd, const char **id)
{
	if (argc != 2)
		return fail("%s: want exactly one container id", cmd);
	*id = argv[1];
	return 0;
}

static int load(const char *id, struct oci_state *s)
{
	struct err e = { 0 };
	if (oci_state_read(id, s, &e))
		return fail_err(&e);
	return 0;
}

static int cmd_start(int argc, char **argv)
{
	const char *id = NULL;
	struct oci_state s;
	if (one_id(argc, argv, "start", &id) || load(id, &s))
		return 1;
	if (!oci_owner_alive(&s))
		return fail("cannot start a container that has stopped");
	if (s.started)
		return fail("cannot start an already running container");
	char path[PATH_MAX];
	if (s.pod[0])   /* a pod's container: its stand-in's gate */
		oci_path(path, sizeof(path), id, "start");
	else
		state_path(path, sizeof(path), s.sid, "start");
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail("start %s: the sandbox is not waiting (%s: %s)", id, path, strerror(errno));
	ssize_t w = write(fd, "g", 1);
	close(fd);
	if (w != 1)
		return fail("start %s: %s", id, strerror(errno));
	s.started = true;
	struct err e = { 0 };
	if (oci_state_write(&s, &e))
		return fail_err(&e);
	return 0;
}

static const char *status_of(const struct oci_state *s)
{
	if (!oci_owner_alive(s))
		return "stopped";
	struct sandbox_state ss;
	struct err e;
	if (s->started && !state_read(s->sid, &ss, &e) && !strcmp(ss.status, "paused"))
		return "paused";
	return s->started ? "running" : "created";
}

static int cmd_state(int argc, char **argv)
{
	const char *id = NULL;
	struct oci_state s;
	if (one_id(argc, argv, "state", &id) || load(id, &s))
		return 1;
	const char *status = status_of(&s);
	json_object *o = json_object_new_object();
	char ts[80], path[PATH_MAX];
	time_t sec = (time_t)(s.created_ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t k = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + k, sizeof(ts) - k, ".%09lldZ", s.created_ns % 1000000000LL);
	json_object_object_add(o, "ociVersion", json_object_new_string(OCI_SPEC_VERSION));
	json_object_object_add(o, "id", json_object_new_string(s.id));
	json_object_object_add(o, "pid", json_object_new_int(strcmp(status, "stopped") ? s.pid : 0));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "bundle", json_object_new_string(s.bundle));
	json_object_object_add(o, "rootfs", json_object_new_string(s.rootfs));
	json_object_object_add(o, "created", json_object_new_string(ts));
	oci_path(path, sizeof(path), id, "annotations");
	json_object *a = json_object_from_file(path);
	json_object_object_add(o, "annotations", a && json_object_is_type(a, json_type_object) ? a : json_object_new_object());
	if (a && !json_object_is_type(a, json_type_object))
		json_object_put(a);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

/* The VMM of S, if it still runs: it outlives a killed owner (its jail
 * changes its uid, which clears the parent-death signal). */
static void kill_vmm(const struct oci_state *s)
{
	struct sandbox_state ss;
	struct err e;
	if (!state_read(s->sid, &ss, &e) && ss.vmm_pid > 0 && state_vmm_alive(&ss)) {
		kill(ss.vmm_pid, SIGKILL);
		for (int t = 0; t < 500 && state_vmm_alive(&ss); t++)
			sleep_ms(10);
	}
}

static int cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, 0, 'a' }, { 0, 0, 0, 0 } };
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+a", opts, NULL)) != -1)
		if (ch != 'a')
			return fail("kill: flag provided but not defined: %s", argv[optind - 1]);
	int left = argc - optind;
	if (left < 1 || left > 2)
		return fail("kill: want ID [SIGNAL]");
	const char *id = argv[optind], *signame = left == 2 ? argv[optind + 1] : "TERM";
	int sig = state_signal(signame);
	if (sig < 1 || sig > 31)
		return fail("kill: unknown signal '%.40s'", signame);
	struct oci_state s;
	if (load(id, &s))
		return 1;
	if (!oci_owner_alive(&s))
		return fail("container not running");
	/* KILL, or any signal before start (the process does not exist yet):
	 * the owner, and the VM with it. Else the container's process. */
	if (s.pod[0]) {
		/* a pod's container: its stand-in, or (started) the signal
		 * through it to the container in the pod's VM */
		union sigval v = { .sival_int = sig };
		if (s.started ? sigqueue(s.pid, SIG_FORWARD, v) : kill(s.pid, SIGKILL))
			return fail("kill %d: %s", (int)s.pid, strerror(errno));
		return 0;
	}
	if (sig == SIGKILL || !s.started) {
		if (kill(s.pid, SIGKILL))
			return fail("kill %d: %s", (int)s.pid, strerror(errno));
		kill_vmm(&s);
		return 0;
	}
	union sigval v = { .sival_int = sig };
	if (sigqueue(s.pid, SIG_FORWARD, v))
		return fail("kill %d: %s", (int)s.pid, strerror(errno));
	return 0;
}

/* Deleting a pod's sandbox: its containers that still run are refused
 * (as the pod's VM goes with it), or with --force killed (their records
 * stay, stopped, for their own delete). */
static int pod_members_stop(const char *pod, bool force)
{
	static char ids[256][OCI_ID_MAX + 1];
	int n = oci_pod_members(pod, ids, 256);
	for (int i = 0; i < n; i++) {
		struct oci_state m;
		struct err e;
		if (oci_state_read(ids[i], &m, &e) || !oci_owner_alive(&m))
			continue;
		if (!force)
			return fail("cannot delete pod sandbox %s: its container %s is not stopped (delete it first, "
				    "or --force)", pod, m.id);
		kill(m.pid, SIGKILL);
		for (int t = 0; t < 500 && oci_owner_alive(&m); t++)
			sleep_ms(10);
	}
	return 0;
}

static int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, 0, 'f' }, { 0, 0, 0, 0 } };
	bool force = false;
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (ch != 'f')
			return fail("delete: flag provided but not defined: %s", argv[optind - 1]);
		force = true;
	}
	if (argc - optind != 1)
		return fail("delete: want exactly one container id");
	const char *id = argv[optind];
	struct oci_state s;
	struct err e = { 0 };
	if (oci_state_read(id, &s, &e)) {
		if (e.errnum == ENOENT && force)
			return 0;
		return fail_err(&e);
	}
	if (oci_owner_alive(&s)) {
		if (!force && s.started)
			return fail("cannot delete container %s that is not stopped: running", id);
	}
	char dir[PATH_MAX];
	oci_path(dir, sizeof(dir), id, NULL);
	if (s.pod[0]) {
		/* a pod's container: its stand-in (which ends the container in
		 * the VM with its connection) and its root in the share; the
		 * pod's VM stays */
		if (oci_owner_alive(&s))
			kill(s.pid, SIGKILL);
		for (int t = 0; t < 500 && oci_owner_alive(&s); t++)
			sleep_ms(10);
		oci_pod_root_remove(s.pod, id);
		if (remove_tree(dir))
			return fail("delete %s: %s: %s", id, dir, strerror(errno));
		return 0;
	}
	if (s.pod_share && pod_members_stop(id, force))
		return 1;
	if (oci_owner_alive(&s)) {
		kill(s.pid, SIGKILL);
		for (int t = 0; t < 500 && oci_owner_alive(&s); t++)
			sleep_ms(10);
	}
	/* virtiofsd dies with the owner (PDEATHSIG); the VMM may still be
	 * closing its VM (the owner does not wait for that) or, its owner
	 * killed, still run: killed and waited for (bounded), then the
	 * sandbox's state (sockets, logs) and ours go. */
	kill_vmm(&s);
	if (state_remove(s.sid) && errno != ENOENT) {
		char msg[200];
		snprintf(msg, sizeof(msg), "delete %s: the sandbox state %s could not be removed: %s", id, s.sid,
			 strerror(errno));
		log_line("warning", msg);
	}
	if (s.pod_share)
		oci_pod_share_remove(id);
	if (remove_tree(dir))
		return fail("delete %s: %s: %s", id, dir, strerror(errno));
	return 0;
}

static int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, 0, 'f' }, { 0, 0, 0, 0 } };
	bool json = false;
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (ch != 'f' || (strcmp(optarg, "json") && strcmp(optarg, "table")))
			return fail("ps: want --format json|table");
		json = !strcmp(optarg, "json");
	}
	if (argc - optind != 1)
		return fail("ps: want exactly one container id");
	struct oci_state s;
	if (load(argv[optind], &s))
		return 1;
	bool alive = oci_owner_alive(&s);
	/* The container's processes are in the guest; on this host the
	 * owner stands for them. */
	if (json)
		alive ? printf("[%d]\n", (int)s.pid) : printf("[]\n");
	else
		alive ? printf("PID CMD\n%d sandbox-runtime (the VM of %s)\n", (int)s.pid, s.id) : printf("PID CMD\n");
	return 0;
}

/* pause, resume: the VMM's vCPUs stop and go on (sandbox pause, resume:
 * its control socket). */
static int cmd_pause_resume(int argc, char **argv)
{
	const char *id = NULL;
	struct oci_state s;
	bool pause = !strcmp(argv[0], "pause");
	if (one_id(argc, argv, argv[0], &id) || load(id, &s))
		return 1;
	if (!oci_owner_alive(&s) || !s.started)
		return fail("container %s is not running", id);
	if (s.pod[0])
		return fail("%s %s: a pod's container is paused with its pod's sandbox (%s)", argv[0], id, s.pod);
	char *av[] = { argv[0], s.sid, NULL };
	/* sandbox pause prints the sandbox's name; runc prints nothing */
	fflush(stdout);
	int out = dup(1), nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (out < 0 || nul < 0 || dup2(nul, 1) < 0)
		return fail("%s: %s", argv[0], strerror(errno));
	int r = pause ? cmd_pause(2, av) : cmd_resume(2, av);
	fflush(stdout);
	dup2(out, 1);
	close(out);
	close(nul);
	if (r)
		return fail("%s %s: the sandbox's VMM refused (its message is above)", argv[0], id);
	return 0;
}

/* ------------------------------------------------------------------ */
/* exec */

static int cmd_exec_oci(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "process", required_argument, 0, 'p' }, { "detach", no_argument, 0, 'd' },
		{ "pid-file", required_argument, 0, 'P' }, { "console-socket", required_argument, 0, 'c' },
		{ "tty", no_argument, 0, 't' }, { "cwd", required_argument, 0, 'w' },
		{ "env", required_argument, 0, 'e' }, { "user", required_argument, 0, 'u' },
		{ "no-new-privs", no_argument, 0, 'N' }, { "preserve-fds", required_argument, 0, 'f' },
		{ 0, 0, 0, 0 },
	};
	const char *process = NULL, *pid_file = NULL, *cwd = NULL, *user = NULL, *console = NULL;
	const char *envs[64];
	int nenv = 0;
	bool detach = false, tty = false;
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+p:dte:u:w:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': process = optarg; break;
		case 'd': detach = true; break;
		case 'P': pid_file = optarg; break;
		case 'c': console = optarg; break;
		case 't': tty = true; break;
		case 'w': cwd = optarg; break;
		case 'u': user = optarg; break;
		case 'N': break;
		case 'f':
			if (strcmp(optarg, "0"))
				return fail("exec: --preserve-fds is not supported");
			break;
		case 'e':
			if (nenv == 64)
				return fail("exec: too many --env");
			envs[nenv++] = optarg;
			break;
		default:
			return fail("exec: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return fail("exec: want a container id");
	const char *id = argv[optind++];
	struct oci_state s;
	if (load(id, &s))
		return 1;
	if (!oci_owner_alive(&s) || !s.started)
		return fail("exec: container %s is not running", id);
	/* The process: --process FILE (config.json's process object) or the
	 * command line's. */
	static struct oci_config pc;
	struct err e = { 0 };
	const char *args[CSPEC_MAX_ARGS];
	unsigned nargs = 0;
	if (process) {
		if (oci_process_load(process, &pc, &e))
			return fail_err(&e);
		memcpy(args, pc.args, pc.nargs * sizeof(args[0]));
		nargs = pc.nargs;
		tty = tty || pc.terminal;
	} else {
		for (; optind < argc && nargs < CSPEC_MAX_ARGS; optind++)
			args[nargs++] = argv[optind];
		if (!nargs)
			return fail("exec: no command (give --process FILE or ARGS)");
	}
	/* a terminal: the pty's master goes to the engine, the slave is our
	 * stdio and so the exec's (sandbox exec -t: a pty in the guest) */
	if (tty && !console)
		return fail("exec: a terminal (--tty, process.terminal) needs --console-socket");
	if (tty && console_setup(console, &e))
		return fail_err(&e);
	/* sandbox exec's command line, in this process or a child that
	 * stands for the exec (--detach: its pid goes to --pid-file). */
	static char *xv[CSPEC_MAX_ARGS + CSPEC_MAX_ENV * 2 + 16];
	static char ug[32];
	int k = 0;
	xv[k++] = "exec";
	xv[k++] = "-i";
	if (s.pod[0]) { /* a pod's container in its pod's VM */
		xv[k++] = "--pod-member";
		xv[k++] = s.id;
	}
	if (tty)
		xv[k++] = "-t";
	if (process) {
		for (unsigned i = 0; i < pc.nenv; i++) {
			xv[k++] = "-e";
			xv[k++] = (char *)pc.env[i];
		}
		xv[k++] = "-w";
		xv[k++] = (char *)pc.cwd;
		snprintf(ug, sizeof(ug), "%u:%u", pc.uid, pc.gid);
		xv[k++] = "-u";
		xv[k++] = ug;
	}
	for (int i = 0; i < nenv; i++) {
		xv[k++] = "-e";
		xv[k++] = (char *)envs[i];
	}
	if (cwd) {
		xv[k++] = "-w";
		xv[k++] = (char *)cwd;
	}
	if (user) {
		xv[k++] = "-u";
		xv[k++] = (char *)user;
	}
	xv[k++] = "--";
	xv[k++] = s.sid;
	for (unsigned i = 0; i < nargs; i++)
		xv[k++] = (char *)args[i];
	xv[k] = NULL;
	/* "exec -i ... -- SID": getopt stops at "--" */
	if (!detach) {
		if (pid_file && write_pid_file(pid_file, getpid(), &e))
			return fail_err(&e);
		return cmd_exec(k, xv);
	}
	fflush(NULL);
	pid_t child = fork();
	if (child < 0)
		return fail("fork: %s", strerror(errno));
	if (child == 0)
		_exit(cmd_exec(k, xv));
	if (pid_file && write_pid_file(pid_file, child, &e)) {
		kill(child, SIGKILL);
		return fail_err(&e);
	}
	return 0;
}

/* update --resources FILE|- ID (runc's JSON: linux resources), or
 * --memory BYTES, --pids-limit N, --cpu-quota US, --cpu-period US: the
 * container's cgroup in the guest takes the new limits (an exec
 * connection whose spec is an UPDATE, done by the guest's PID 1: guest-
 * init/cgroup.c). The VM's RAM and vCPUs are fixed at create: a memory
 * limit above the VM's RAM is refused here, one above what its kernel
 * has left, or a CPU quota above its vCPUs, by the guest. */
static int cmd_update(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, 0, 'r' }, { "memory", required_argument, 0, 'm' },
		{ "pids-limit", required_argument, 0, 'p' }, { "cpu-quota", required_argument, 0, 'q' },
		{ "cpu-period", required_argument, 0, 'P' }, { 0, 0, 0, 0 },
	};
	const char *res = NULL;
	long long flag[4] = { 0, 0, 0, 0 };     /* memory, pids, quota, period */
	bool flags = false;
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
		const char *p = strchr("mpqP", ch);
		if (ch == 'r') {
			res = optarg;
		} else if (p && ch) {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1)
				return fail("update: --%s '%s': want a positive number", opts[p - "mpqP" + 1].name, optarg);
			flag[p - "mpqP"] = v;
			flags = true;
		} else {
			return fail("update: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return fail("update: want exactly one container id");
	if (!res && !flags)
		return fail("update: nothing to update (--resources FILE|-, --memory, --pids-limit, --cpu-quota)");
	const char *id = argv[optind];
	static struct oci_config rc;
	struct err e = { 0 };
	if (res) {
		char *buf = NULL;
		long n;
		if (!strcmp(res, "-")) {
			size_t cap = 64 * 1024, got = 0;
			buf = malloc(cap + 1);
			while (buf && got < cap && (n = read(0, buf + got, cap - got)) > 0)
				got += (size_t)n;
			if (!buf)
				return fail("update: out of memory");
			buf[got] = '\0';
			n = (long)got;
		} else {
			int fd = open(res, O_RDONLY | O_CLOEXEC);
			struct stat st;
			if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > 64 * 1024) {
				if (fd >= 0)
					close(fd);
				return fail("update: --resources %s: not a readable file of at most 64 KiB", res);
			}
			buf = malloc((size_t)st.st_size + 1);
			n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
			close(fd);
			if (n < 0) {
				free(buf);
				return fail("update: --resources %s: cannot read it", res);
			}
			buf[n] = '\0';
		}
		int r = oci_resources_parse(buf, (size_t)n, &rc, &e);
		free(buf);
		if (r)
			return fail_err(&e);
		oci_config_free(&rc);
	}
	if (flag[0])
		rc.memory = flag[0];
	if (flag[1])
		rc.pids = flag[1];
	if (flag[2])
		rc.cpu_quota = flag[2];
	if (flag[3])
		rc.cpu_period = (uint64_t)flag[3];
	if (rc.cpu_period && (rc.cpu_period < 1000 || rc.cpu_period > 1000000))
		return fail("update: cpu period %llu: want 1000 to 1000000 us", (unsigned long long)rc.cpu_period);
	if (rc.pids > 4194304)
		return fail("update: pids limit %lld: at most 4194304", (long long)rc.pids);
	struct cspec x = { 0 };
	x.argv[0] = "update";
	x.nargv = 1;
	x.action = CSPEC_ACT_UPDATE;
	x.memory = (uint64_t)rc.memory;
	x.pids = (uint64_t)rc.pids;
	if (rc.cpu_quota) {     /* per the guest's 100 ms period */
		uint64_t period = rc.cpu_period ? rc.cpu_period : 100000;
		x.cpu_quota_us = (uint64_t)rc.cpu_quota * 100000 / period;
		if (!x.cpu_quota_us || (uint64_t)rc.cpu_quota > UINT64_MAX / 100000)
			return fail("update: cpu quota %lld per %llu us is out of range", (long long)rc.cpu_quota,
				    (unsigned long long)period);
	}
	if (!x.memory && !x.pids && !x.cpu_quota_us)
		return fail("update: nothing to change (memory.limit, pids.limit or cpu.quota above 0; "
			    "removing a limit is not supported)");
	struct oci_state s;
	if (load(id, &s))
		return 1;
	struct sandbox_state ss;
	if (!oci_owner_alive(&s) || !s.started || state_read(s.sid, &ss, &e))
		return fail("update: container %s is not running", id);
	if (s.pod[0])
		return fail("update: %s is a pod's container: updating its limits is not supported yet", id);
	/* the VM's RAM, as run_vm.c sized it at create */
	uint64_t vm = ss.memory > 0 ? (uint64_t)ss.memory + GUEST_MEM_OVERHEAD : GUEST_MEM_DEFAULT;
	if (x.memory > vm)
		return fail("update: memory %llu MiB is above the VM's %llu MiB (fixed when it was created: "
			    "give a larger --memory at create)", (unsigned long long)(x.memory >> 20),
			    (unsigned long long)(vm >> 20));
	static struct exec_stream xs;
	if (exec_stream_start(&xs, &ss, &x, -1, 1, 2, &e))
		return fail_err(&e);
	int st = exec_stream_wait(&xs, false, &e);
	if (st < 0)
		return fail_err(&e);
	if (st)
		return fail("update: container %s: the guest refused it (see above)", id);
	return 0;
}

/* ------------------------------------------------------------------ */

static int cmd_features(void)
{
	printf("{\n"
	       "  \"ociVersionMin\": \"1.0.0\",\n"
	       "  \"ociVersionMax\": \"" OCI_SPEC_VERSION "\",\n"
	       "  \"hooks\": [],\n"
	       "  \"mountOptions\": [\"bind\", \"rbind\", \"ro\", \"rw\"],\n"
	       "  \"linux\": {\n"
	       "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"uts\"],\n"
	       "    \"capabilities\": [],\n"
	       "    \"cgroup\": { \"v1\": false, \"v2\": true, \"systemd\": false, \"systemdUser\": false },\n"
	       "    \"seccomp\": { \"enabled\": false },\n"
	       "    \"apparmor\": { \"enabled\": false },\n"
	       "    \"selinux\": { \"enabled\": false }\n"
	       "  },\n"
	       "  \"annotations\": { \"io.github.sandbox.vm\": \"true\" }\n"
	       "}\n");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sandbox-runtime [--root DIR] [--log FILE] [--log-format text|json] [--systemd-cgroup]\n"
		   "                       COMMAND [OPTIONS] ID\n"
		   "runc's command line; each container runs in a sandbox microVM (docs/oci-runtime.md)\n"
		   "commands: create, start, state, kill, delete, exec, ps, features, pause, resume, update\n");
}

int main(int argc, char **argv)
{
	uint64_t start = now_ns();
	mallopt(M_ARENA_MAX, 1);        /* as sandbox's main.c: one arena for filtered threads */
	static const struct option opts[] = {
		{ "root", required_argument, 0, 'r' }, { "log", required_argument, 0, 'l' },
		{ "log-format", required_argument, 0, 'F' }, { "systemd-cgroup", no_argument, 0, 's' },
		{ "debug", no_argument, 0, 'D' }, { "rootless", required_argument, 0, 'R' },
		{ "criu", required_argument, 0, 'C' }, { "version", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': oci_root = optarg; break;
		case 'l': log_path = optarg; break;
		case 'F':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return fail("--log-format: '%s' is not text or json", optarg);
			log_json = !strcmp(optarg, "json");
			break;
		case 's': case 'D': case 'R': case 'C': break;
		case 'v':
			printf("sandbox-runtime version %s\nspec: %s\n", RUNTIME_VERSION, OCI_SPEC_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return fail("flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (oci_root[0] != '/')
		return fail("--root %s: must be an absolute path", oci_root);
	char **av = argv + optind;
	int ac = argc - optind;
	const char *cmd = av[0];
	signal(SIGPIPE, SIG_IGN);
	struct err e = { 0 };
	if (!strcmp(cmd, "features"))
		return cmd_features();
	static const char *const known[] = { "create", "start", "state", "kill", "delete", "exec", "ps", "pause", "resume",
					     "update" };
	size_t i = 0;
	while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], cmd))
		i++;
	if (i == sizeof(known) / sizeof(known[0]))
		return fail("command \"%s\" does not exist", cmd);
	if (set_roots(&e))
		return fail_err(&e);
	if (!strcmp(cmd, "create"))
		return cmd_create(ac, av, start);
	if (!strcmp(cmd, "start"))
		return cmd_start(ac, av);
	if (!strcmp(cmd, "state"))
		return cmd_state(ac, av);
	if (!strcmp(cmd, "kill"))
		return cmd_kill(ac, av);
	if (!strcmp(cmd, "delete"))
		return cmd_delete(ac, av);
	if (!strcmp(cmd, "exec"))
		return cmd_exec_oci(ac, av);
	if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume"))
		return cmd_pause_resume(ac, av);
	if (!strcmp(cmd, "update"))
		return cmd_update(ac, av);
	return cmd_ps(ac, av);
}
