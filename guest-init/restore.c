/* A VM restored from a snapshot: what must differ between the clones of
 * one snapshot (docs/snapshots.md). Every clone resumes the same memory,
 * so the same kernel random state, clock and identity: the host sends
 * RESTORED, and PID 1 makes this clone its own before the container goes
 * on. Each step is best effort and says on the console what failed: the
 * container keeps running either way. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/proto.h"
#include "container.h"
#include "relay.h"

static void note(const char *what)
{
	fprintf(stderr, "sandbox-init: restore: %s: %s\n", what, strerror(errno));
}

/* What the restore needs, opened by PID 1 before the snapshot is taken
 * (restore_prepare): in a restored guest every first touch of a kernel
 * path faults its pages in again, and opening files is much of that. */
static struct {
	int urandom;            /* /dev/urandom, for writing */
	int uts_self, uts_ct;   /* PID 1's and the container's UTS namespaces */
} prep = { -1, -1, -1 };

static void prep_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void restore_prepare(pid_t runtime)
{
	prep_close(&prep.urandom);
	prep_close(&prep.uts_self);
	prep_close(&prep.uts_ct);
	prep.urandom = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	pid_t init = runtime > 0 ? exec_container_note(runtime) : 0;
	if (init > 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/uts", (int)init);
		prep.uts_ct = open(path, O_RDONLY | O_CLOEXEC);
		prep.uts_self = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	}
}

/* The host's seed into the pool, credited, and the CRNG reseeded from it
 * at once: from here on no two clones share a random byte. */
static void reseed(const uint8_t *seed)
{
	int fd = prep.urandom >= 0 ? prep.urandom : open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	prep.urandom = -1;
	if (fd < 0) {
		note("/dev/urandom");
		return;
	}
	struct {
		int entropy_count, buf_size;
		uint8_t buf[SB_SEED_LEN];
	} ent = { .entropy_count = SB_SEED_LEN * 8, .buf_size = SB_SEED_LEN };
	memcpy(ent.buf, seed, SB_SEED_LEN);
	if (ioctl(fd, RNDADDENTROPY, &ent))
		note("RNDADDENTROPY");
	if (ioctl(fd, RNDRESEEDCRNG))
		note("RNDRESEEDCRNG");
	memset(&ent, 0, sizeof(ent));
	close(fd);
}

static void new_network(const struct sb_restored *id)
{
	struct err err = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		note("socket");
		return;
	}
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "eth0");
	if (if_ioctl(s, SIOCGIFFLAGS, &ifr, "eth0 flags", &err) == 0) {
		ifr.ifr_flags &= ~IFF_UP;
		if_ioctl(s, SIOCSIFFLAGS, &ifr, "eth0 down", &err);
	}
	struct ifreq hw = { 0 };
	snprintf(hw.ifr_name, sizeof(hw.ifr_name), "eth0");
	hw.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(hw.ifr_hwaddr.sa_data, id->mac, 6);
	if_ioctl(s, SIOCSIFHWADDR, &hw, "eth0 MAC", &err);
	in_addr_t mask = htonl(id->prefix == 32 ? 0xffffffffu : id->prefix ? ~(0xffffffffu >> id->prefix) : 0);
	set_addr(s, SIOCSIFADDR, "eth0", id->addr, "eth0 address", &err);
	set_addr(s, SIOCSIFNETMASK, "eth0", mask, "eth0 netmask", &err);
	link_up(s, "eth0", &err);
	if (id->gw) {
		struct rtentry rt = { 0 };
		struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst, *gwa = (struct sockaddr_in *)&rt.rt_gateway,
				   *msk = (struct sockaddr_in *)&rt.rt_genmask;
		dst->sin_family = gwa->sin_family = msk->sin_family = AF_INET;
		gwa->sin_addr.s_addr = id->gw;
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = "eth0";
		if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
			note("default route");
	}
	if (err.msg[0])
		fprintf(stderr, "sandbox-init: restore: %s\n", err.msg);
	close(s);
}

/* The host name, in the container's UTS namespace: PID 1 steps into it
 * and back (no fork: the first fork of a restored guest is its dearest
 * step). The namespaces were opened before the snapshot if the container
 * ran then; else they are looked up now. */
static void new_hostname(pid_t runtime, const char *name)
{
	if (prep.uts_ct < 0 || prep.uts_self < 0) {
		pid_t init = runtime > 0 ? exec_container_init(runtime) : 0;
		if (init <= 0)
			return;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/uts", (int)init);
		prep_close(&prep.uts_ct);
		prep_close(&prep.uts_self);
		prep.uts_self = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
		prep.uts_ct = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (prep.uts_self < 0 || prep.uts_ct < 0 || setns(prep.uts_ct, CLONE_NEWUTS)) {
		note("the container's UTS namespace");
	} else {
		if (sethostname(name, strlen(name)))
			note("sethostname (container)");
		if (setns(prep.uts_self, CLONE_NEWUTS))
			note("back to PID 1's UTS namespace");
	}
	prep_close(&prep.uts_self);
	prep_close(&prep.uts_ct);
}

void agent_restored(struct relay *r, const struct sb_restored *id)
{
	reseed(id->seed);
	struct timespec ts = { .tv_sec = (time_t)(id->realtime_ns / 1000000000ULL),
			       .tv_nsec = (long)(id->realtime_ns % 1000000000ULL) };
	if (id->realtime_ns && clock_settime(CLOCK_REALTIME, &ts))
		note("clock_settime");
	if (id->has_net)
		new_network(id);
	if (id->hostname[0]) {
		if (sethostname(id->hostname, strlen(id->hostname)))
			note("sethostname");
		new_hostname(r->status < 0 ? r->child : 0, id->hostname);
	}
}
