/* Per-thread seccomp allowlists (see seccomp.h). The policy is the tables
 * in seccomp_policy.h; they are compiled at build time, with libseccomp,
 * by gen/seccomp-vmm.c into the BPF programs of vmm_seccomp.h (in the
 * build tree), so a thread's filter costs one copy and one seccomp(2)
 * here, not a libseccomp compile per thread per VMM (docs/seccomp.md). */
#include "jail/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "vmm_seccomp.h"

const char *seccomp_kind_name(enum sb_seccomp_thread kind)
{
	return kind < SB_SECCOMP_NKINDS ? sb_seccomp_gen[kind].name : "?";
}

int seccomp_nioctls(enum sb_seccomp_thread kind)
{
	return kind < SB_SECCOMP_NKINDS ? sb_seccomp_gen[kind].nioctls : -1;
}

int seccomp_nsyscalls(enum sb_seccomp_thread kind)
{
	return kind < SB_SECCOMP_NKINDS ? sb_seccomp_gen[kind].nsyscalls : -1;
}

/* This process's copy of the program: the pid placeholder of tgkill's
 * rule made our pid, and with TRAP every refusal made SECCOMP_RET_TRAP.
 * The generator checked that these rewrites give exactly what libseccomp
 * builds for that pid and action. */
int seccomp_program(enum sb_seccomp_thread kind, bool trap, struct sock_filter *out, size_t max, struct err *e)
{
	if (kind >= SB_SECCOMP_NKINDS)
		return err_set(e, "seccomp: bad thread kind %d", (int)kind);
	const struct sb_seccomp_gen *g = &sb_seccomp_gen[kind];
	if (g->len > max)
		return err_set(e, "seccomp: the %s filter has %u instructions, room for %zu", g->name, g->len, max);
	uint32_t pid = (uint32_t)getpid();
	for (unsigned i = 0; i < g->len; i++) {
		out[i] = g->prog[i];
		if (out[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && out[i].k == SB_SECCOMP_PID_SENTINEL)
			out[i].k = pid;
		else if (trap && out[i].code == (BPF_RET | BPF_K) && out[i].k == SECCOMP_RET_KILL_PROCESS)
			out[i].k = SECCOMP_RET_TRAP;
	}
	return g->len;
}

/* SANDBOX_SECCOMP_TRAP=1 (debugging a filter): a refused call raises
 * SIGSYS instead of killing at once, and this handler names it on stderr
 * (number, the address of the syscall instruction, then 24 words of the
 * stack for addr2line) before the process dies with the same status
 * (128 + SIGSYS). Only write and the signal's own calls are used here.
 * Not instrumented by ASan: the stack words it reads include other
 * frames' redzones, and a sanitizer report here would die unsaid. */
__attribute__((no_sanitize_address)) static void trap_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char msg[1024];
	size_t len = 0;
	const char *head = "sandbox: seccomp refused syscall ";
	while (*head)
		msg[len++] = *head++;
	char num[24];
	int n = 0;
	unsigned v = (unsigned)si->si_syscall;
	do
		num[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 12);
	while (n)
		msg[len++] = num[--n];
	const char *at = " at 0x";
	while (*at)
		msg[len++] = *at++;
	uintptr_t a = (uintptr_t)si->si_call_addr;
	for (int shift = (int)sizeof(a) * 8 - 4; shift >= 0; shift -= 4)
		msg[len++] = "0123456789abcdef"[(a >> shift) & 15];
	msg[len++] = '\n';
	{
		ucontext_t *u = uc;
		uintptr_t *sp = (uintptr_t *)u->uc_mcontext.gregs[REG_RSP];
		for (int k = 0; k < 24 && len < sizeof(msg) - 20; k++) {
			uintptr_t w = sp[k];
			msg[len++] = ' ';
			for (int shift = 44; shift >= 0; shift -= 4)
				msg[len++] = "0123456789abcdef"[(w >> shift) & 15];
		}
		msg[len++] = '\n';
	}
	if (write(2, msg, len) < 0) {
		/* nothing more to say */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int seccomp_install(enum sb_seccomp_thread kind, struct err *e)
{
	const char *env = getenv("SANDBOX_SECCOMP_TRAP");
	bool trap = env && *env == '1';
	struct sock_filter prog[SB_SECCOMP_MAXLEN];
	int len = seccomp_program(kind, trap, prog, ARRAY_SIZE(prog), e);
	if (len < 0)
		return -1;
	if (trap) {
		struct sigaction sa = { .sa_sigaction = trap_handler, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSYS, &sa, NULL);
	}
	/* As seccomp_load did: no_new_privs (a filter needs it without
	 * CAP_SYS_ADMIN; the jail set it already, this is idempotent), then
	 * the filter on this thread alone (no TSYNC). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_sys(e, "seccomp: loading the %s filter: no_new_privs", seccomp_kind_name(kind));
	struct sock_fprog fp = { .len = (unsigned short)len, .filter = prog };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp))
		return err_sys(e, "seccomp: loading the %s filter", seccomp_kind_name(kind));
	return 0;
}
