/* sandbox-runtime start, state, kill, delete, ps, pause, resume (cmd.h). */
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
#include "oci.h"
#include "pod.h"
#include "snapshot.h"
#include "state.h"
#include "vm.h"

int oci_one_id(int argc, char **argv, const char *cmd, const char **id)
{
	if (argc != 2)
		return oci_fail("%s: want exactly one container id", cmd);
	*id = argv[1];
	return 0;
}

int oci_load(const char *id, struct oci_state *s)
{
	struct err e = { 0 };
	if (oci_state_read(id, s, &e))
		return oci_fail_err(&e);
	return 0;
}

int oci_cmd_start(int argc, char **argv)
{
	const char *id = NULL;
	struct oci_state s;
	if (oci_one_id(argc, argv, "start", &id) || oci_load(id, &s))
		return 1;
	if (!oci_owner_alive(&s))
		return oci_fail("cannot start a container that has stopped");
	if (s.started)
		return oci_fail("cannot start an already running container");
	char path[PATH_MAX];
	if (s.pod[0])   /* a pod's container: its stand-in's gate */
		oci_path(path, sizeof(path), id, "start");
	else
		state_path(path, sizeof(path), s.sid, "start");
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return oci_fail("start %s: the sandbox is not waiting (%s: %s)", id, path, strerror(errno));
	ssize_t w = write(fd, "g", 1);
	close(fd);
	if (w != 1)
		return oci_fail("start %s: %s", id, strerror(errno));
	s.started = true;
	struct err e = { 0 };
	if (oci_state_write(&s, &e))
		return oci_fail_err(&e);
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

int oci_cmd_state(int argc, char **argv)
{
	const char *id = NULL;
	struct oci_state s;
	if (oci_one_id(argc, argv, "state", &id) || oci_load(id, &s))
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
			oci_sleep_ms(10);
	}
}

int oci_cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, 0, 'a' }, { 0, 0, 0, 0 } };
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+a", opts, NULL)) != -1)
		if (ch != 'a')
			return oci_fail("kill: flag provided but not defined: %s", argv[optind - 1]);
	int left = argc - optind;
	if (left < 1 || left > 2)
		return oci_fail("kill: want ID [SIGNAL]");
	const char *id = argv[optind], *signame = left == 2 ? argv[optind + 1] : "TERM";
	int sig = state_signal(signame);
	if (sig < 1 || sig > 31)
		return oci_fail("kill: unknown signal '%.40s'", signame);
	struct oci_state s;
	if (oci_load(id, &s))
		return 1;
	if (!oci_owner_alive(&s))
		return oci_fail("container not running");
	/* KILL, or any signal before start (the process does not exist yet):
	 * the owner, and the VM with it. Else the container's process. */
	if (s.pod[0]) {
		/* a pod's container: its stand-in, or (started) the signal
		 * through it to the container in the pod's VM */
		union sigval v = { .sival_int = sig };
		if (s.started ? sigqueue(s.pid, SIG_FORWARD, v) : kill(s.pid, SIGKILL))
			return oci_fail("kill %d: %s", (int)s.pid, strerror(errno));
		return 0;
	}
	if (sig == SIGKILL || !s.started) {
		if (kill(s.pid, SIGKILL))
			return oci_fail("kill %d: %s", (int)s.pid, strerror(errno));
		kill_vmm(&s);
		return 0;
	}
	union sigval v = { .sival_int = sig };
	if (sigqueue(s.pid, SIG_FORWARD, v))
		return oci_fail("kill %d: %s", (int)s.pid, strerror(errno));
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
			return oci_fail("cannot delete pod sandbox %s: its container %s is not stopped (delete it first, "
				    "or --force)", pod, m.id);
		kill(m.pid, SIGKILL);
		for (int t = 0; t < 500 && oci_owner_alive(&m); t++)
			oci_sleep_ms(10);
	}
	return 0;
}

int oci_cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, 0, 'f' }, { 0, 0, 0, 0 } };
	bool force = false;
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (ch != 'f')
			return oci_fail("delete: flag provided but not defined: %s", argv[optind - 1]);
		force = true;
	}
	if (argc - optind != 1)
		return oci_fail("delete: want exactly one container id");
	const char *id = argv[optind];
	struct oci_state s;
	struct err e = { 0 };
	if (oci_state_read(id, &s, &e)) {
		if (e.errnum == ENOENT && force)
			return 0;
		return oci_fail_err(&e);
	}
	if (oci_owner_alive(&s)) {
		if (!force && s.started)
			return oci_fail("cannot delete container %s that is not stopped: running", id);
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
			oci_sleep_ms(10);
		oci_pod_root_remove(s.pod, id);
		if (oci_dir_remove(dir))
			return oci_fail("delete %s: %s: %s", id, dir, strerror(errno));
		return 0;
	}
	if (s.pod_share && pod_members_stop(id, force))
		return 1;
	if (oci_owner_alive(&s)) {
		kill(s.pid, SIGKILL);
		for (int t = 0; t < 500 && oci_owner_alive(&s); t++)
			oci_sleep_ms(10);
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
		oci_log("warning", msg);
	}
	if (s.pod_share)
		oci_pod_share_remove(id);
	if (oci_dir_remove(dir))
		return oci_fail("delete %s: %s: %s", id, dir, strerror(errno));
	return 0;
}

int oci_cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, 0, 'f' }, { 0, 0, 0, 0 } };
	bool json = false;
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (ch != 'f' || (strcmp(optarg, "json") && strcmp(optarg, "table")))
			return oci_fail("ps: want --format json|table");
		json = !strcmp(optarg, "json");
	}
	if (argc - optind != 1)
		return oci_fail("ps: want exactly one container id");
	struct oci_state s;
	if (oci_load(argv[optind], &s))
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
int oci_cmd_pause_resume(int argc, char **argv)
{
	const char *id = NULL;
	struct oci_state s;
	bool pause = !strcmp(argv[0], "pause");
	if (oci_one_id(argc, argv, argv[0], &id) || oci_load(id, &s))
		return 1;
	if (!oci_owner_alive(&s) || !s.started)
		return oci_fail("container %s is not running", id);
	if (s.pod[0])
		return oci_fail("%s %s: a pod's container is paused with its pod's sandbox (%s)", argv[0], id, s.pod);
	char *av[] = { argv[0], s.sid, NULL };
	/* sandbox pause prints the sandbox's name; runc prints nothing */
	fflush(stdout);
	int out = dup(1), nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (out < 0 || nul < 0 || dup2(nul, 1) < 0)
		return oci_fail("%s: %s", argv[0], strerror(errno));
	int r = pause ? cmd_pause(2, av) : cmd_resume(2, av);
	fflush(stdout);
	dup2(out, 1);
	close(out);
	close(nul);
	if (r)
		return oci_fail("%s %s: the sandbox's VMM refused (its message is above)", argv[0], id);
	return 0;
}
