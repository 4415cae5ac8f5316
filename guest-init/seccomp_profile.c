/* The default seccomp profile, loaded last before exec. The filter is
 * compiled at build time by guest-init/gen/seccomp-bpf.c (libseccomp; the
 * rules and why are there) into seccomp_default.h; loading it here is one
 * seccomp(2) call. no_new_privs is already set (container.c). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container.h"
#include "seccomp_default.h"

int seccomp_apply_default(struct err *err)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(sb_default_filter) / sizeof(sb_default_filter[0])),
		.filter = (struct sock_filter *)sb_default_filter,
	};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return err_errno(err, errno, "load the filter");
	return 0;
}
