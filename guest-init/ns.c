/* Namespaces: which ones the container gets, and what is set inside the
 * new UTS and network namespaces. The cgroup namespace is unshared by the
 * child itself once the runtime has put it into its cgroup. */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "container.h"

int ns_clone_flags(const struct sb_spec *spec)
{
	if (spec->pod_member)   /* the pod's namespaces are joined already (pod.c) */
		return CLONE_NEWNS | (spec->share_pid ? 0 : CLONE_NEWPID);
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	if (spec->network == SB_NET_NONE)
		flags |= CLONE_NEWNET;
	return flags;
}

int ns_loopback_up(struct err *err)
{
	SB_AUTOCLOSE int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return err_errno(err, errno, "socket");
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return err_errno(err, errno, "get lo flags");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return err_errno(err, errno, "bring lo up");
	return 0;
}

int ns_setup_uts_net(const struct sb_spec *spec, struct err *err)
{
	const char *h = spec->hostname ? spec->hostname : "sandbox";
	if (spec->pod_member)   /* the pod's host name, network */
		return 0;
	if (sethostname(h, strlen(h)))
		return err_errno(err, errno, "sethostname %s", h);
	if (spec->network == SB_NET_NONE && ns_loopback_up(err) < 0)
		return err_wrap(err, "network");
	return 0;
}
