/* The VMM's seccomp filters built with libseccomp (seccomp_build.h). */
#include "jail/gen/seccomp_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jail/seccomp_policy.h"

/* NR's rule when a restricted[] call (only with a given first argument):
 * *DONE set, the rule added. */
static int add_restricted(scmp_filter_ctx ctx, int nr, uint32_t pid, bool *done)
{
	*done = false;
	for (unsigned i = 0; i < ARRAY_SIZE(restricted); i++) {
		if (seccomp_syscall_resolve_name(restricted[i].name) != nr)
			continue;
		*done = true;
		scmp_datum_t a0 = restricted[i].arg0 == SB_SECCOMP_ARG0_OWN_PID ? (scmp_datum_t)pid
										  : (scmp_datum_t)restricted[i].arg0;
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, a0));
	}
	return 0;
}

static int add_names(scmp_filter_ctx ctx, const char *const *names, unsigned n, uint32_t pid, struct err *e)
{
	for (unsigned i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			return err_set(e, "seccomp: unknown syscall %s", names[i]);
		if (nr == SCMP_SYS(ioctl))
			continue; /* only with its request numbers, below */
		bool done;
		int r = add_restricted(ctx, nr, pid, &done);
		if (!done)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r && r != -EEXIST)
			return err_set(e, "seccomp: allowing %s: %s", names[i], strerror(-r));
	}
	return 0;
}

scmp_filter_ctx seccomp_build(enum sb_seccomp_thread kind, uint32_t deny, bool sanitizer, uint32_t pid,
			      struct err *e)
{
	if (kind >= SB_SECCOMP_NKINDS) {
		err_set(e, "seccomp: bad thread kind %d", (int)kind);
		return NULL;
	}
	const struct policy *p = &policies[kind];
	scmp_filter_ctx ctx = seccomp_init(deny);
	if (!ctx) {
		err_set(e, "seccomp: seccomp_init failed");
		return NULL;
	}
	int r = add_names(ctx, p->syscalls, p->nsyscalls, pid, e);
	if (!r && sanitizer)
		r = add_names(ctx, sanitizer_syscalls, ARRAY_SIZE(sanitizer_syscalls), pid, e);
	for (unsigned i = 0; !r && i < p->nioctls; i++) {
		int rr = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					  SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)p->ioctls[i]));
		if (rr)
			r = err_set(e, "seccomp: allowing ioctl 0x%lx: %s", p->ioctls[i], strerror(-rr));
	}
	if (r) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

int seccomp_build_bpf(enum sb_seccomp_thread kind, uint32_t deny, bool sanitizer, uint32_t pid,
		      struct sock_filter **prog, size_t *len, struct err *e)
{
	scmp_filter_ctx ctx = seccomp_build(kind, deny, sanitizer, pid, e);
	if (!ctx)
		return -1;
	int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0) {
		seccomp_release(ctx);
		return err_sys(e, "seccomp: memfd_create");
	}
	int r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	struct stat st;
	if (r || fstat(fd, &st) || st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter)) {
		close(fd);
		return err_set(e, "seccomp: exporting the %s filter: %s", policies[kind].name,
			       r ? strerror(-r) : "bad size");
	}
	*len = (size_t)st.st_size / sizeof(struct sock_filter);
	*prog = malloc((size_t)st.st_size);
	if (!*prog) {
		close(fd);
		return err_oom(e, "seccomp: the exported filter");
	}
	ssize_t got = pread(fd, *prog, (size_t)st.st_size, 0);
	close(fd);
	if (got != st.st_size) {
		free(*prog);
		*prog = NULL;
		return err_set(e, "seccomp: reading the exported %s filter back", policies[kind].name);
	}
	return 0;
}

int seccomp_build_nsyscalls(enum sb_seccomp_thread kind)
{
	if (kind >= SB_SECCOMP_NKINDS)
		return -1;
	const struct policy *p = &policies[kind];
	int nr[128], n = 0;
	for (unsigned i = 0; i < p->nsyscalls; i++) {
		int s = seccomp_syscall_resolve_name(p->syscalls[i]);
		if (s == __NR_SCMP_ERROR)
			return -1;
		bool dup = false;
		for (int j = 0; j < n; j++)
			dup |= nr[j] == s;
		if (!dup && n < (int)ARRAY_SIZE(nr))
			nr[n++] = s;
	}
	return n;
}

int seccomp_build_nioctls(enum sb_seccomp_thread kind)
{
	return kind < SB_SECCOMP_NKINDS ? (int)policies[kind].nioctls : -1;
}

const char *seccomp_build_name(enum sb_seccomp_thread kind)
{
	return kind < SB_SECCOMP_NKINDS ? policies[kind].name : "?";
}
