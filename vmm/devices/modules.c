#include "modules.h"

#include <stdio.h>
#include <string.h>

/* The table: a device module is one line here (its struct device_module
 * lives in its own file). The order is the guest's device order. */
#define DEVICE_MODULES(M) \
	M(blk_module)      /* --disk   virtio_blk.c */ \
	M(pmem_module)     /* --pmem   virtio_pmem.c */ \
	M(net_module)      /* --net    virtio_net.c */ \
	M(vsock_module)    /* --vsock  virtio_vsock.c */ \
	M(rng_module)      /* --rng    virtio_rng.c */ \
	M(fs_module)       /* --fs     virtio_fs.c */ \
	M(balloon_module)  /* --balloon virtio_balloon.c */

#define DECLARE(m) extern const struct device_module m;
DEVICE_MODULES(DECLARE)
#define ENTRY(m) &m,
const struct device_module *const device_modules[] = { DEVICE_MODULES(ENTRY) NULL };

const char *devices_usage(void)
{
	static char buf[8192];
	size_t used = 0;
	buf[0] = '\0';
	for (const struct device_module *const *m = device_modules; *m && used < sizeof(buf); m++) {
		int n = snprintf(buf + used, sizeof(buf) - used, "\n%s", (*m)->usage);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}
