/* Capabilities: Docker's default set, or an OCI config's (the spec's
 * caps_given: its bounding and effective sets, permitted = effective),
 * through capset(2) and prctl(2) (no libcap in a static init). The
 * bounding set is dropped first, while we still hold CAP_SETPCAP; the
 * other sets once the user is switched. */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container.h"

/* CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
 * NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
 * = 0x00000000a80425fb */
static const int docker_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID,
	CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT, CAP_MKNOD,
	CAP_AUDIT_WRITE, CAP_SETFCAP,
};

static unsigned long long docker_mask(void)
{
	unsigned long long m = 0;
	for (size_t i = 0; i < sizeof(docker_caps) / sizeof(docker_caps[0]); i++)
		m |= 1ULL << docker_caps[i];
	return m;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = CAP_LAST_CAP;
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n;
}

int caps_drop_bounding(const struct sb_spec *spec, struct err *err)
{
	unsigned long long keep = spec->caps_given ? spec->cap_bounding : docker_mask();
	int last = last_cap();
	for (int c = 0; c <= last; c++)
		if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
			return err_errno(err, errno, "drop %d from the bounding set", c);
	return 0;
}

int caps_apply(const struct sb_spec *spec, struct err *err)
{
	unsigned long long m = spec->caps_given ? spec->cap_effective : docker_mask();
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {
		{ .effective = (unsigned)m, .permitted = (unsigned)m, .inheritable = 0 },
		{ .effective = (unsigned)(m >> 32), .permitted = (unsigned)(m >> 32), .inheritable = 0 },
	};
	/* After a switch to a non-root user the permitted set is what
	 * KEEPCAPS kept; capset cannot add, so ask for what is left. */
	struct __user_cap_data_struct cur[2];
	if (syscall(SYS_capget, &h, cur))
		return err_errno(err, errno, "capget");
	for (int i = 0; i < 2; i++) {
		d[i].permitted &= cur[i].permitted;
		d[i].effective &= cur[i].permitted;
	}
	if (syscall(SYS_capset, &h, d))
		return err_errno(err, errno, "capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return err_errno(err, errno, "clear the ambient set");
	return 0;
}
