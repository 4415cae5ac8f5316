/* sandbox-runtime exec (cmd.h): a process in a running container, over
 * the sandbox's exec connection. */
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
#include "exec.h"
#include "oci.h"
#include "relay.h"
#include "state.h"

int oci_cmd_exec(int argc, char **argv)
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
				return oci_fail("exec: --preserve-fds is not supported");
			break;
		case 'e':
			if (nenv == 64)
				return oci_fail("exec: too many --env");
			envs[nenv++] = optarg;
			break;
		default:
			return oci_fail("exec: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return oci_fail("exec: want a container id");
	const char *id = argv[optind++];
	struct oci_state s;
	if (oci_load(id, &s))
		return 1;
	if (!oci_owner_alive(&s) || !s.started)
		return oci_fail("exec: container %s is not running", id);
	/* The process: --process FILE (config.json's process object) or the
	 * command line's. */
	static struct oci_config pc;
	struct err e = { 0 };
	const char *args[CSPEC_MAX_ARGS];
	unsigned nargs = 0;
	if (process) {
		if (oci_process_load(process, &pc, &e))
			return oci_fail_err(&e);
		memcpy(args, pc.args, pc.nargs * sizeof(args[0]));
		nargs = pc.nargs;
		tty = tty || pc.terminal;
	} else {
		for (; optind < argc && nargs < CSPEC_MAX_ARGS; optind++)
			args[nargs++] = argv[optind];
		if (!nargs)
			return oci_fail("exec: no command (give --process FILE or ARGS)");
	}
	/* a terminal: the pty's master goes to the engine, the slave is our
	 * stdio and so the exec's (sandbox exec -t: a pty in the guest) */
	if (tty && !console)
		return oci_fail("exec: a terminal (--tty, process.terminal) needs --console-socket");
	if (tty && oci_console_setup(console, &e))
		return oci_fail_err(&e);
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
		if (pid_file && oci_pid_file_write(pid_file, getpid(), &e))
			return oci_fail_err(&e);
		return cmd_exec(k, xv);
	}
	fflush(NULL);
	pid_t child = fork();
	if (child < 0)
		return oci_fail("fork: %s", strerror(errno));
	if (child == 0)
		_exit(cmd_exec(k, xv));
	if (pid_file && oci_pid_file_write(pid_file, child, &e)) {
		kill(child, SIGKILL);
		return oci_fail_err(&e);
	}
	return 0;
}
