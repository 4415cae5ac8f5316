#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TUN_PATH "/dev/net/tun"

static void ifr_init(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
}

int tap_open(const char *name, int hdr_len, struct err *e)
{
	int fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "%s", TUN_PATH);
	unsigned features = 0;
	if (ioctl(fd, TUNGETFEATURES, &features) == 0 && !(features & IFF_VNET_HDR)) {
		close(fd);
		return err_set(e, "%s: the kernel's tun driver has no IFF_VNET_HDR", TUN_PATH);
	}
	struct ifreq ifr;
	ifr_init(&ifr, name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int err = errno;
		close(fd);
		errno = err;
		if (err == EINVAL)
			return err_sys(e, "tap %s: TUNSETIFF (is %s an existing non-tap interface?)", name, name);
		if (err == EBUSY)
			return err_sys(e, "tap %s: TUNSETIFF (another process has it open?)", name);
		return err_sys(e, "tap %s: TUNSETIFF", name);
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len)) {
		int err = errno;
		close(fd);
		errno = err;
		return err_sys(e, "tap %s: TUNSETVNETHDRSZ %d", name, hdr_len);
	}
	/* virtio 1.x headers are little-endian; the tap's default is the
	 * host's byte order, which is the same on x86. Say it anyway where
	 * the kernel supports it. */
	int le = 1;
	(void)ioctl(fd, TUNSETVNETLE, &le);
	if (tap_set_offload(fd, 0)) {
		int err = errno;
		close(fd);
		errno = err;
		return err_sys(e, "tap %s: TUNSETOFFLOAD", name);
	}
	return fd;
}

int tap_set_offload(int fd, unsigned flags)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) ? -1 : 0;
}

static int ctl_socket(struct err *e)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		err_sys(e, "socket(AF_INET)");
	return s;
}

int tap_set_up(const char *name, struct err *e)
{
	int s = ctl_socket(e);
	if (s < 0)
		return -1;
	struct ifreq ifr;
	ifr_init(&ifr, name);
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (r)
		err_sys(e, "tap %s: bringing it up", name);
	close(s);
	return r ? -1 : 0;
}

static void set_sin(struct sockaddr *sa, struct in_addr a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };
	memcpy(sa, &sin, sizeof(sin));
}

int tap_set_ipv4(const char *name, struct in_addr addr, unsigned prefix, struct err *e)
{
	int s = ctl_socket(e);
	if (s < 0)
		return -1;
	struct ifreq ifr;
	int r;
	char buf[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr, buf, sizeof(buf));
	ifr_init(&ifr, name);
	set_sin(&ifr.ifr_addr, addr);
	if ((r = ioctl(s, SIOCSIFADDR, &ifr))) {
		err_sys(e, "tap %s: setting address %s", name, buf);
		goto out;
	}
	struct in_addr mask = { .s_addr = htonl(prefix ? 0xffffffffu << (32 - prefix) : 0) };
	ifr_init(&ifr, name);
	set_sin(&ifr.ifr_netmask, mask);
	if ((r = ioctl(s, SIOCSIFNETMASK, &ifr)))
		err_sys(e, "tap %s: setting netmask /%u", name, prefix);
out:
	close(s);
	return r ? -1 : 0;
}

int tap_enslave(const char *name, const char *bridge, struct err *e)
{
	unsigned idx = if_nametoindex(name);
	if (!idx)
		return err_sys(e, "tap %s", name);
	int s = ctl_socket(e);
	if (s < 0)
		return -1;
	struct ifreq ifr;
	ifr_init(&ifr, bridge);
	ifr.ifr_ifindex = (int)idx;
	int r = ioctl(s, SIOCBRADDIF, &ifr);
	if (r) {
		if (errno == EOPNOTSUPP || errno == EINVAL)
			err_sys(e, "bridge %s: adding %s (is %s a bridge?)", bridge, name, bridge);
		else
			err_sys(e, "bridge %s: adding %s", bridge, name);
	}
	close(s);
	return r ? -1 : 0;
}
