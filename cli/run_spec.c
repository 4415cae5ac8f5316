/* `sandbox run`: the container's spec, in guest-init's option syntax. */

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
#include "cli.h"
#include "relay.h"
#include "run_impl.h"
#include "state.h"


/* ------------------------------------------------------------------ */
/* the container's spec, in guest-init's option syntax */


void push(struct argvec *a, const char *s)
{
	if (a->n < (int)(sizeof(a->v) / sizeof(a->v[0])) - 1)
		a->v[a->n++] = strdup(s);
	a->v[a->n] = NULL;
}

void pushf(struct argvec *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pushf(struct argvec *a, const char *fmt, ...)
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
int spec_args(const struct run_opts *o, const struct runconf *rc, const char *id, struct argvec *a)
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
