/* sandbox: the command line. Each command is a function of its own: run
 * (run.c), the lifecycle commands (lifecycle.c), check (check.c), image
 * (the sandbox-image program beside this one) and the VMM's vm and
 * kvm-check (vmm/cmd.c). */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "exec.h"
#include "lifecycle.h"
#include "run.h"
#include "snapshot.h"
#include "util.h"
#include "vmm.h"

#define SANDBOX_VERSION "0.1.0"
#define EXIT_VMM_ERROR 125

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sandbox COMMAND [OPTIONS]\n"
		"\n"
		"commands:\n"
		"  run        run a command in a new sandbox (sandbox run --help)\n"
		"  exec       run a command in a running sandbox (sandbox exec --help)\n"
		"  cp         copy files into or out of a running sandbox (sandbox cp --help)\n"
		"  audit      run the attack catalogue against every isolation here (see below)\n"
		"  pause, resume, snapshot, clone: see below\n"
		"  ps, kill, stop, logs, rm, inspect, check: see below\n"
		"  vm         boot a kernel in a microVM (the VMM)\n"
		"  kvm-check  say whether this host's KVM can boot a stock Linux guest\n"
		"  version    print the version\n"
		"\n"
		"sandbox COMMAND ... (sandboxes started by run; ID: the id, a unique prefix\n"
		"of at least 4 digits, or the --name)\n");
	exec_usage(f);
	cp_usage(f);
	audit_usage(f);
	lifecycle_usage(f);
	snapshot_usage(f);
	vmm_usage(f);
}

/* `sandbox image ...` runs the image tool that sits beside this binary. */
static int cmd_image(char **argv)
{
	char tool[4160];
	snprintf(tool, sizeof(tool), "%s/sandbox-image", self_dir());
	argv[1] = tool;
	execv(tool, argv + 1);
	fprintf(stderr, "sandbox: cannot run %s: %s\n", tool, strerror(errno));
	return EXIT_VMM_ERROR;
}

/* Timings count from VMM start, or from the moment a benchmark harness
 * spawned us if it passes its CLOCK_MONOTONIC stamp in SANDBOX_T0_NS. */
static uint64_t start_time(void)
{
	uint64_t now = now_ns();
	const char *t0 = getenv("SANDBOX_T0_NS");
	if (t0) {
		char *end;
		unsigned long long v = strtoull(t0, &end, 10);
		if (*t0 && !*end && v <= now && now - v < 60ULL * 1000000000ULL)
			return v;
	}
	return now;
}

int main(int argc, char **argv)
{
	uint64_t start = start_time();
	/* One malloc arena for every thread. glibc gives each thread an arena
	 * of its own and, when a thread's heap shrinks (at its exit, say),
	 * reads /proc/sys/vm/overcommit_memory once with openat: a thread under
	 * a seccomp filter (the relay's, the VMM's) died of SIGSYS there
	 * (sandbox cp into a sandbox that refused the copy). The main arena
	 * shrinks with brk. Our threads allocate little; no contention to
	 * speak of. */
	mallopt(M_ARENA_MAX, 1);
	if (argc < 2) {
		usage(stderr);
		return EXIT_VMM_ERROR;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "vm"))
		return vmm_main(argc - 1, argv + 1, start);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1, start);
	if (!strcmp(cmd, "image"))
		return cmd_image(argv);
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} lifecycle[] = {
		{ "ps", cmd_ps }, { "kill", cmd_kill }, { "stop", cmd_stop }, { "logs", cmd_logs },
		{ "rm", cmd_rm }, { "inspect", cmd_inspect }, { "check", cmd_check }, { "exec", cmd_exec },
		{ "cp", cmd_cp }, { "pause", cmd_pause }, { "resume", cmd_resume }, { "snapshot", cmd_snapshot },
		{ "clone", cmd_clone }, { "audit", cmd_audit },
	};
	for (size_t i = 0; i < sizeof(lifecycle) / sizeof(lifecycle[0]); i++)
		if (!strcmp(cmd, lifecycle[i].name))
			return lifecycle[i].fn(argc - 1, argv + 1);
	if (!strcmp(cmd, "kvm-check"))
		return vmm_kvm_check();
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("sandbox %s\n", SANDBOX_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "sandbox: unknown command '%s' (see sandbox --help)\n", cmd);
	return EXIT_VMM_ERROR;
}
