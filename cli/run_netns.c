/* `sandbox run` for sandbox-runtime: the VM's NIC in an engine's network
 * namespace (config.json's linux.namespaces network path), so the
 * networks podman (netavark) and CNI make reach the sandbox.
 *
 * The engine has put one interface (a veth, the container's end) with an
 * IPv4 address and a default route into the namespace. In the VMM child,
 * before the VM is made:
 *   - join the namespace (setns; the jail later leaves it, and the tap's
 *     fd keeps working);
 *   - take the interface's address, prefix, gateway and MAC, and take the
 *     address off it (the guest will own it);
 *   - give the interface a fresh MAC and make it a port of a new bridge,
 *     which the tap joins (the VMM's bridge= option): the guest's eth0 gets
 *     the interface's old MAC and address, so the engine's neighbours and
 *     routes stay right.
 * The bridge lives in the engine's namespace and goes with it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run_impl.h"

#define NETNS_BRIDGE "sbbr0"

static int ifreq_ioctl(int s, unsigned long req, struct ifreq *ifr, const char *name, const char *what, struct err *e)
{
	if (ioctl(s, req, ifr))
		return err_sys(e, "network namespace: %s %s", what, name);
	return 0;
}

static int set_up(int s, const char *name, bool up, struct err *e)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ifreq_ioctl(s, SIOCGIFFLAGS, &ifr, name, "flags of", e))
		return -1;
	ifr.ifr_flags = (short)(up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
	return ifreq_ioctl(s, SIOCSIFFLAGS, &ifr, name, "bringing up/down", e);
}

/* The default route's gateway through NAME (network order), 0 if none. */
static uint32_t gateway_of(const char *name)
{
	FILE *f = fopen("/proc/self/net/route", "re");
	if (!f)
		return 0;
	char line[256], ifn[IFNAMSIZ + 1];
	unsigned long dst, gw;
	uint32_t r = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%16s %lx %lx", ifn, &dst, &gw) == 3 && !strcmp(ifn, name) && dst == 0 && gw)
			r = (uint32_t)gw;      /* printed as the raw 32 bits: network order in memory */
	fclose(f);
	return r;
}

int netns_wire(const char *path, const char *tap, struct net_config *net, struct cspec *c, struct err *e)
{
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return err_sys(e, "network namespace %s", path);
	if (setns(ns, CLONE_NEWNET)) {
		close(ns);
		return err_sys(e, "joining the network namespace %s", path);
	}
	close(ns);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return err_sys(e, "network namespace: socket");
	/* the engine's interface: the first with an IPv4 address but lo */
	struct if_nameindex *ifs = if_nameindex(), *it;
	struct ifreq ifr = { 0 };
	char name[IFNAMSIZ] = "";
	for (it = ifs; it && it->if_index; it++) {
		if (!strcmp(it->if_name, "lo"))
			continue;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", it->if_name);
		if (!ioctl(s, SIOCGIFADDR, &ifr)) {
			snprintf(name, sizeof(name), "%s", it->if_name);
			break;
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	if (!name[0]) {
		close(s);
		return err_set(e, "network namespace %s: no interface with an IPv4 address in it", path);
	}
	uint32_t addr = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
	if (ifreq_ioctl(s, SIOCGIFNETMASK, &ifr, name, "netmask of", e))
		goto fail;
	uint32_t mask = ntohl(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
	uint8_t prefix = (uint8_t)__builtin_popcount(mask);
	if (!prefix || prefix > 32)
		prefix = 32;
	uint32_t gw = gateway_of(name);
	if (ifreq_ioctl(s, SIOCGIFHWADDR, &ifr, name, "MAC of", e))
		goto fail;
	memcpy(net->mac, ifr.ifr_hwaddr.sa_data, 6);
	net->has_mac = true;
	/* the address goes to the guest */
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_addr.sa_family = AF_INET;
	if (ifreq_ioctl(s, SIOCSIFADDR, &ifr, name, "taking the address off", e))
		goto fail;
	/* a fresh, locally administered MAC for the interface itself */
	uint8_t mac[6];
	if (getrandom(mac, sizeof(mac), 0) != (ssize_t)sizeof(mac))
		memcpy(mac, net->mac, 6), mac[5] ^= 0x5a;
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	if (set_up(s, name, false, e))
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_hwaddr.sa_family = 1;  /* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (ifreq_ioctl(s, SIOCSIFHWADDR, &ifr, name, "a new MAC for", e) || set_up(s, name, true, e))
		goto fail;
	if (ioctl(s, SIOCBRADDBR, NETNS_BRIDGE) && errno != EEXIST) {
		err_sys(e, "network namespace: bridge %s (CONFIG_BRIDGE?)", NETNS_BRIDGE);
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", NETNS_BRIDGE);
	ifr.ifr_ifindex = (int)if_nametoindex(name);
	if (ifreq_ioctl(s, SIOCBRADDIF, &ifr, name, "bridging", e) || set_up(s, NETNS_BRIDGE, true, e))
		goto fail;
	close(s);
	snprintf(net->tap, sizeof(net->tap), "%s", tap);
	snprintf(net->bridge, sizeof(net->bridge), "%s", NETNS_BRIDGE);
	c->eth = true;
	c->eth_addr = addr;
	c->eth_prefix = prefix;
	c->eth_gw = gw;
	c->network = CSPEC_NET_HOST;
	return 0;
fail:
	close(s);
	return -1;
}
