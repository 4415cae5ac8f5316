/* The attack surface: which syscall numbers reach a kernel at all. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attacker.h"
#include "inside.h"

/* Every syscall number in a child of its own (2 s alarm), all arguments
 * -1: refused (EPERM or ENOSYS: a filter, a missing capability checked
 * first, or no such call) or reached (any other answer: the kernel's code
 * for it ran, if only to validate the arguments). Never called: the ones
 * that end, fork, block or sync the machine whatever the arguments. */
int a_syscalls(void)
{
	static const int skip[] = { SYS_exit, SYS_exit_group, SYS_fork, SYS_vfork, SYS_clone, SYS_rt_sigreturn,
				    SYS_pause, SYS_rt_sigsuspend, SYS_sync, SYS_reboot, SYS_vhangup, 435 /* clone3 */,
				    /* key -1 is a real key: they would make IPC objects */
				    SYS_msgget, SYS_semget, SYS_shmget };
	int reached = 0, refused = 0, skipped = 0, max = 463;
	for (int nr = 0; nr < max; nr++) {
		size_t i;
		for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			if (skip[i] == nr)
				break;
		if (i < sizeof(skip) / sizeof(skip[0]) || (nr > 334 && nr < 424)) {
			skipped += i < sizeof(skip) / sizeof(skip[0]);
			continue;
		}
		pid_t c = fork();
		if (c == 0) {
			alarm(2);
			long r = syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
			_exit(r < 0 && (errno == EPERM || errno == ENOSYS) ? 1 : 0);
		}
		int st = 0;
		if (c < 0 || waitpid(c, &st, 0) < 0) {
			printf("fork=%s\n", ename(errno));
			return 0;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
			refused++;
		else
			reached++;
	}
	printf("syscalls_reached=%d\nsyscalls_refused=%d\nsyscalls_skipped=%d\n", reached, refused, skipped);
	return 0;
}
