/* `sandbox pause` and `resume` (snapshot.h): a running VM sandbox's
 * vCPUs stop, a paused one's go on, asked through the VMM's control
 * socket; the state says which (ps shows it, exec refuses a paused one).
 * Also what sandbox-runtime's pause and resume call. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"
#include "snapshot.h"
#include "state.h"

static int set_status(const char *id, const char *status, struct err *e)
{
	int lock = state_lock(e);
	if (lock < 0)
		return -1;
	struct sandbox_state s;
	int r = state_read(id, &s, e);
	if (!r && strcmp(s.status, "exited")) {
		snprintf(s.status, sizeof(s.status), "%s", status);
		r = state_write(&s, e);
	}
	state_unlock(lock);
	return r;
}

static int one_ref(int argc, char **argv, const char *what, struct err *e)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: sandbox %s ID|NAME\n", what);
		return 1;
	}
	if (argc != 2 || argv[1][0] == '-')
		return err_set(e, "usage: sandbox %s ID|NAME", what);
	return 0;
}

static int pause_resume(int argc, char **argv, bool pause)
{
	const char *what = pause ? "pause" : "resume";
	struct err e = { 0 };
	struct sandbox_state s;
	char ctl[700];
	int k = one_ref(argc, argv, what, &e);
	if (k)
		return k > 0 ? 0 : cli_report(&e);
	if (pause) {
		if (snap_vm_sandbox(argv[1], &s, &e))
			return cli_report(&e);
	} else {
		if (state_find(argv[1], &s, &e))
			return cli_report(&e);
		if (strcmp(s.status, "paused") || !state_vmm_alive(&s))
			return cli_fail("%s is not paused", argv[1]);
	}
	snap_ctl_path(&s, ctl, sizeof(ctl));
	if (control_request(ctl, what, NULL, 0, 30, &e) || set_status(s.id, pause ? "paused" : "running", &e))
		return cli_report(&e);
	printf("%s\n", s.name);
	return 0;
}

int cmd_pause(int argc, char **argv) { return pause_resume(argc, argv, true); }
int cmd_resume(int argc, char **argv) { return pause_resume(argc, argv, false); }
