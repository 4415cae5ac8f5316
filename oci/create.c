/* sandbox-runtime create (cmd.h): a container of its own VM (the owner
 * and VMM of sandbox run, started and held at the start gate), or a
 * pod's container in another's VM (pod.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "map.h"
#include "oci.h"
#include "pod.h"
#include "state.h"
#include "vm.h"

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
int oci_dir_remove(const char *dir)
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
		return oci_fail("create %s: %s", id, e.msg);
	if (c->netns)
		oci_log("warning", "config.json: a pod's container: its network namespace path is the pod's (the VM's NIC is there)");
	static struct cspec x;
	static char user[32];
	if (oci_member_spec(c, id, pr->share_pid, &x, user, &e))
		return oci_fail_err(&e);
	char dir[PATH_MAX], gate_path[PATH_MAX];
	oci_path(dir, sizeof(dir), id, NULL);
	oci_path(gate_path, sizeof(gate_path), id, "start");
	if (mkdir(dir, 0700))
		return errno == EEXIST ? oci_fail("container with id exists: %s", id) : oci_fail("mkdir %s: %s", dir, strerror(errno));
	int gate = -1;
	if ((console && c->terminal && oci_console_setup(console, &e)) ||
	    (mkfifo(gate_path, 0600) && err_sys(&e, "mkfifo %s", gate_path)) ||
	    ((gate = open(gate_path, O_RDWR | O_CLOEXEC)) < 0 && err_sys(&e, "open %s", gate_path))) {
		oci_dir_remove(dir);
		return oci_fail_err(&e);
	}
	/* its root and its binds of host paths in the pod's share */
	int r = oci_pod_root_add(pod.id, id, c->root, c->root_ro, &e);
	if (!r && oci_pod_binds_add(pod.id, id, c, &e)) {
		oci_pod_root_remove(pod.id, id);
		r = -1;
	}
	if (r) {
		close(gate);
		oci_dir_remove(dir);
		return oci_fail_err(&e);
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
	if (standin < 0 || oci_state_write(&s, &e) || (pid_file && oci_pid_file_write(pid_file, standin, &e))) {
		if (standin > 0) {
			kill(standin, SIGKILL);
			waitpid(standin, NULL, 0);
		}
		oci_pod_root_remove(pod.id, id);
		oci_dir_remove(dir);
		return oci_fail_err(&e);
	}
	return 0;
}

int oci_cmd_create(int argc, char **argv)
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
				return oci_fail("create: --preserve-fds %s: passing extra fds is not supported", optarg);
			break;
		case 'h':
			printf("usage: sandbox-runtime create --bundle DIR [--pid-file FILE] [--console-socket SOCK] ID\n");
			return 0;
		default:
			return oci_fail("create: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return oci_fail("create: want exactly one container id");
	const char *id = argv[optind];
	if (!oci_id_valid(id))
		return oci_fail("invalid container id '%.80s'", id);
	char abs_bundle[PATH_MAX];
	if (!realpath(bundle, abs_bundle))
		return oci_fail("bundle %s: %s", bundle, strerror(errno));
	static struct oci_config c;
	struct err e = { 0 };
	if (oci_config_load(abs_bundle, &c, &e))
		return oci_fail_err(&e);
	struct stat st;
	if (stat(c.root, &st) || !S_ISDIR(st.st_mode))
		return oci_fail("config.json: root.path %s: not a directory", c.root);
	if (c.terminal && !console)
		return oci_fail("create: process.terminal is true but no --console-socket was given");
	for (unsigned i = 0; i < c.nnotes; i++) {
		char msg[160];
		snprintf(msg, sizeof(msg), "config.json: %s: not applied (the guest's own default holds)", c.notes[i]);
		oci_log("warning", msg);
	}
	struct oci_pod_ref pr;
	if (oci_pod_role_of(&c, &pr, &e) || oci_set_roots(&e))
		return oci_fail_err(&e);
	if (pr.role == OCI_POD_MEMBER)
		return create_member(&c, &pr, id, abs_bundle, pid_file, console);
	for (unsigned i = 0; i < c.nmounts; i++)
		if (c.mounts[i].kind == OCI_MOUNT_BIND_FILE && c.mounts[i].engine) {
			oci_log("warning", "config.json: mounts[] file binds (/etc/hosts, /etc/resolv.conf, ...): not "
				 "applied in a VM of its own (the guest's own apply)");
			break;
		}
	static struct run_opts o;
	if (oci_map(&c, id, &o, &e))
		return oci_fail_err(&e);
	char dir[PATH_MAX];
	oci_path(dir, sizeof(dir), id, NULL);
	if (mkdir(dir, 0700))
		return errno == EEXIST ? oci_fail("container with id exists: %s", id) : oci_fail("mkdir %s: %s", dir, strerror(errno));
	static char share[PATH_MAX];
	/* Every container's VM serves a pod's share, its root at ID/rootfs
	 * in it (pod.c), so that any container can be a pod's sandbox: CRI's
	 * pause, podman's infra (which says nothing of it), or any container
	 * whose namespaces another joins by path. */
	if (oci_pod_share_create(id, c.root, c.root_ro, &e)) {
		oci_dir_remove(dir);
		return oci_fail_err(&e);
	}
	oci_pod_share(share, sizeof(share), id);
	o.rootfs = share;
	o.rootfs_ro = false;    /* the root's bind in it is (on the host) */
	o.pod_member = id;
	if (console && c.terminal && oci_console_setup(console, &e)) {
		oci_pod_share_remove(id);
		oci_dir_remove(dir);
		return oci_fail_err(&e);
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC)) {
		oci_pod_share_remove(id);
		oci_dir_remove(dir);
		return oci_fail("pipe: %s", strerror(errno));
	}
	o.start_gate = true;
	fflush(NULL);
	pid_t owner = fork();
	if (owner < 0) {
		oci_pod_share_remove(id);
		oci_dir_remove(dir);
		return oci_fail("fork: %s", strerror(errno));
	}
	if (owner == 0) {
		close(p[0]);
		o.ready_fd = p[1];
		int r = run_main(&o, oci_started_ns, &e);
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
		if (oci_state_write(&s, &e) || (pid_file && oci_pid_file_write(pid_file, owner, &e))) {
			kill(owner, SIGKILL);
			waitpid(owner, NULL, 0);
			state_remove(s.sid);
			if (s.pod_share)
				oci_pod_share_remove(id);
			oci_dir_remove(dir);
			return oci_fail_err(&e);
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
	oci_dir_remove(dir);
	return oci_fail("create %s: %s", id, msg);
}
