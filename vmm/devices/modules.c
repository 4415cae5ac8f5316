#include "modules.h"

#include <stdio.h>

const char *devices_usage(void)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "\n%s%s%s", blk_usage, net_usage, vsock_usage);
	return buf;
}
