/* sandbox-runtime: runc's command line over sandbox microVMs
 * (docs/oci-runtime.md). Global flags, then one command (the table
 * below; cmd.h says which file holds each); errors are one line on stderr
 * and, with --log, a {"level":"error","msg":...} line in the log file
 * (what podman and containerd read); exit 1, as runc. */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "oci.h"
#include "state.h"
#include "util.h"

uint64_t oci_started_ns;

static const char *log_path;
static bool log_json;

void oci_sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

void oci_log(const char *level, const char *msg)
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

int oci_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sandbox-runtime: %s\n", msg);
	oci_log("error", msg);
	return 1;
}

int oci_fail_err(const struct err *e)
{
	return oci_fail("%s", e->msg);
}

/* The sandbox state (cli/state.c) lives under ROOT/.sandbox. */
int oci_set_roots(struct err *e)
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

int oci_cmd_features(int argc, char **argv)
{
	(void)argc;
	(void)argv;
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

/* The commands, in runc's words. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	bool roots;     /* --root made and checked first (oci_set_roots) */
} commands[] = {
	{ "create", oci_cmd_create, true }, { "start", oci_cmd_start, true }, { "state", oci_cmd_state, true },
	{ "kill", oci_cmd_kill, true }, { "delete", oci_cmd_delete, true }, { "exec", oci_cmd_exec, true },
	{ "ps", oci_cmd_ps, true }, { "pause", oci_cmd_pause_resume, true }, { "resume", oci_cmd_pause_resume, true },
	{ "update", oci_cmd_update, true }, { "features", oci_cmd_features, false },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sandbox-runtime [--root DIR] [--log FILE] [--log-format text|json] [--systemd-cgroup]\n"
		   "                       COMMAND [OPTIONS] ID\n"
		   "runc's command line; each container runs in a sandbox microVM (docs/oci-runtime.md)\n"
		   "commands: create, start, state, kill, delete, exec, ps, features, pause, resume, update\n");
}

int main(int argc, char **argv)
{
	oci_started_ns = now_ns();
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
				return oci_fail("--log-format: '%s' is not text or json", optarg);
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
			return oci_fail("flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (oci_root[0] != '/')
		return oci_fail("--root %s: must be an absolute path", oci_root);
	char **av = argv + optind;
	int ac = argc - optind;
	const char *cmd = av[0];
	signal(SIGPIPE, SIG_IGN);
	struct err e = { 0 };
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd))
			continue;
		if (commands[i].roots && oci_set_roots(&e))
			return oci_fail_err(&e);
		return commands[i].run(ac, av);
	}
	return oci_fail("command \"%s\" does not exist", cmd);
}
