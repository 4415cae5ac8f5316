/* The guest's PID 1 when the host runs a container (`sandbox run`):
 *
 *   connect to the host (vsock CID 2, SB_AGENT_PORT) → read CONFIG →
 *   leave the initramfs → image disk + writable layer as an overlay →
 *   volumes → network → fork the runtime (container_run(), the same code
 *   as the host mode) with pipes or a pty as its stdio → relay stdio,
 *   signals and window size until the container has ended and its output
 *   is drained → EXIT → wait for the host's BYE → sync, report, reset.
 *
 * CONFIG holds the container's spec, encoded (common/spec.h): the part
 * the host mode shares (command, environment, user, limits...) and the
 * VM's own: the image disk (read-only), volume disks and where they go,
 * eth0's addresses, whether stdin is relayed, a pty and its size, the
 * writable layer (its disk, or a tmpfs's size). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <net/route.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "../common/proto.h"
#include "../common/spec.h"
#include "container.h"
#include "oom.h"
#include "relay.h"

#define ROOT "/run/root"

_Static_assert(CSPEC_MAX_SIZE <= SB_FRAME_MAX, "a spec fits one CONFIG frame");

/* sandbox.timings=1 on the command line (SANDBOX_TIMINGS=1 on the host):
 * the agent's phases, ms since the agent started, as one stderr line at
 * the end (bench/ and profiling; off otherwise). */
static struct { const char *name; uint64_t ns; } marks[12];
static int nmarks;
static bool timings_on;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void mark(const char *name)
{
	if (timings_on && nmarks < (int)(sizeof(marks) / sizeof(marks[0])))
		marks[nmarks++] = (typeof(marks[0])){ name, mono_ns() };
}

static void queue_marks(struct sb_tx *tx)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "sandbox-guest-timings:");
	for (int i = 1; i < nmarks && n < (int)sizeof(line) - 40; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s_ms=%.3f", marks[i].name,
			      (double)(marks[i].ns - marks[0].ns) * 1e-6);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "\n");
	sb_tx_put(tx, SB_F_STDERR, line, (uint32_t)n);
}

#define AGENT_CONNECT_TIMEOUT_S 60
static int agent_connect(struct err *err)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_errno(err, errno, "vsock socket");
	/* The kernel gives up on a connection the host has not answered in
	 * 2 s (ETIMEDOUT), which a loaded host can miss (the test host, with
	 * a sibling suite on the same two cores, did once). A VMM that does
	 * not listen answers at once (ECONNRESET); one that never answers is
	 * as stuck as its guest, and ends as any (--timeout, stop, kill). */
	struct timeval wait = { .tv_sec = AGENT_CONNECT_TIMEOUT_S };
	if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &wait, sizeof(wait)))
		perror("sandbox-init: vsock connect timeout");
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = SB_AGENT_PORT };
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;
		close(fd);
		return err_errno(err, e, "connect to the host (vsock port %d)", SB_AGENT_PORT);
	}
	return fd;
}

/* Block until the first frame, which must be CONFIG, and decode it into
 * C (whose strings point into a buffer of ours: the receive buffer is
 * reused). */
static int read_config(struct relay *r, struct cspec *c, struct err *err)
{
	static uint8_t buf[CSPEC_MAX_SIZE];
	long len = relay_first_frame(r, SB_F_CONFIG, buf, sizeof(buf), err);
	if (len < 0)
		return err_wrap(err, "config");
	struct cspec_err ce;
	if (cspec_decode(buf, (size_t)len, c, &ce) < 0)
		return err_errno(err, 0, "config: %s", ce.msg);
	if (!c->image_dev)
		return err_errno(err, 0, "config: no image disk");
	return 0;
}

/* switch_root: a tmpfs becomes "/", so that the container's root can be
 * pivot_root'ed (the initramfs itself cannot). /dev, /proc, /sys move. */
static int leave_initramfs(struct err *err)
{
	static const char *const keep[] = { "/dev", "/proc", "/sys" };
	char path[64];
	if (mkdir("/newroot", 0755) && errno != EEXIST)
		return err_errno(err, errno, "mkdir /newroot");
	if (mount("tmpfs", "/newroot", "tmpfs", MS_NOSUID, "mode=0755,size=1m"))
		return err_errno(err, errno, "mount /newroot");
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/newroot%s", keep[i]);
		mkdir(path, 0755);
		if (mount(keep[i], path, NULL, MS_MOVE, NULL))
			return err_errno(err, errno, "move %s", keep[i]);
	}
	unlink("/init");    /* its pages go once we no longer need them */
	if (chdir("/newroot") || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/"))
		return err_errno(err, errno, "switch root");
	mkdir("/run", 0755);
	mkdir("/tmp", 01777);
	return 0;
}

/* Make PATH (absolute, inside ROOT) a directory without following any
 * symlink on the way, and return an O_PATH fd for it. */
static int mkdir_beneath(const char *path, struct err *err)
{
	int dir = open(ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return err_errno(err, errno, "open %s", ROOT);
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "..") || !strcmp(c, ".")) {
			close(dir);
			return err_errno(err, EINVAL, "volume path %s", path);
		}
		if (mkdirat(dir, c, 0755) && errno != EEXIST) {
			int e = errno;
			close(dir);
			return err_errno(err, e, "mkdir %s", path);
		}
		struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
					.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
		int next = (int)syscall(SYS_openat2, dir, c, &how, sizeof(how));
		int e = errno;
		close(dir);
		if (next < 0)
			return err_errno(err, e, "volume path %s (a symlink or not a directory?)", path);
		dir = next;
	}
	return dir;
}

/* Every sandbox starts with a cold page cache, and each disk request is a
 * round trip to the VMM: read the image in larger chunks (the kernel's
 * default read-ahead is 128 KiB). */
static void readahead_kb(const char *dev)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/block/%s/queue/read_ahead_kb", dev);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1024", 4) < 0) {
			/* an older kernel's limit: keep its default */
		}
		close(fd);
	}
}

/* The nvdimm bus registers its region, namespace and /dev/pmem0 from an
 * async domain of its own, which the kernel does not wait for before it
 * runs init (async_synchronize_full skips exclusive domains), and the
 * namespace's probe is the long one (struct pages for the whole image,
 * ~1.5 % of it: hundreds of ms under the test host for a 170 MiB image).
 * Reading the bus's wait_probe flushes that domain: pmem0 exists after,
 * and the probe ran while we waited for the host's CONFIG. No bus (no
 * pmem device): the mount's error says so. */
static void nd_wait_probe(void)
{
	char c;
	int fd = open("/sys/bus/nd/devices/ndbus0/wait_probe", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) < 0) {
			/* the mount's error tells */
		}
		close(fd);
	}
}

static int mount_volumes(const struct cspec *o, struct err *err);

/* What before_exit syncs when the layer is scratch (--rm): the writable
 * volumes, each by a descriptor of its root opened right after its mount
 * (before any container process exists to move paths around). */
static struct {
	bool scratch;
	int fd[CSPEC_MAX_VOLUMES];
	unsigned n;
} to_sync;

static int mount_root(const struct cspec *o, struct err *err)
{
	char dev[128], opts[256];
	mkdir("/run/image", 0755);
	mkdir("/run/rw", 0755);
	mkdir(ROOT, 0755);
	if (!strcmp(o->image_fs, "virtiofs")) {
		/* sandbox-runtime: the engine's root directory, shared by the
		 * host (virtio-fs tag image_dev) and written there, as runc
		 * writes it; no overlay (read_only is applied with the rest of
		 * the root's setup, rootfs.c). */
		if (o->pod_member) {
			/* a pod's first container: the share is the pod's
			 * directory (every member's root beneath it, pod.c),
			 * this container's root at NAME/rootfs */
			if (pod_mount_share(o->image_dev, err) < 0 || pod_bind_root(o->pod_member, ROOT, err) < 0)
				return -1;
			return mount_volumes(o, err);
		}
		if (mount(o->image_dev, ROOT, "virtiofs", MS_NODEV, NULL))
			return err_errno(err, errno, "mount the root directory (virtio-fs %s)", o->image_dev);
		return mount_volumes(o, err);
	}
	snprintf(dev, sizeof(dev), "/dev/%s", o->image_dev);
	/* virtio-pmem: the image is memory (the host's page cache, read-only);
	 * with dax=always erofs reads and maps its files there, without a
	 * copy in this kernel's page cache (docs/pmem.md). No read-ahead. */
	if (!o->image_dax)
		readahead_kb(o->image_dev);
	else
		nd_wait_probe();
	if (mount(dev, "/run/image", o->image_fs, MS_RDONLY | MS_NODEV, o->image_dax ? "dax=always" : NULL))
		return err_errno(err, errno, "mount the image %s (%s%s)", dev, o->image_fs, o->image_dax ? ", dax=always" : "");
	mark("image");
	if (o->upper_dev) {
		/* --storage: an ext4 disk (a sparse file on the host), so a full
		 * layer is ENOSPC, not guest memory. noinit_itable: no
		 * background zeroing of the inode tables mke2fs left
		 * uninitialised (it would write them all to the host's file). */
		snprintf(dev, sizeof(dev), "/dev/%s", o->upper_dev);
		if (mount(dev, "/run/rw", "ext4", MS_NODEV | MS_NOSUID, "noinit_itable"))
			return err_errno(err, errno, "mount the writable layer %s (ext4)", dev);
	} else {
		if (o->upper_size)
			snprintf(opts, sizeof(opts), "mode=0755,size=%llu", (unsigned long long)o->upper_size);
		else
			snprintf(opts, sizeof(opts), "mode=0755");
		if (mount("tmpfs", "/run/rw", "tmpfs", MS_NODEV, opts))
			return err_errno(err, errno, "mount the writable layer");
	}
	mark("layer");
	if (mkdir("/run/rw/upper", 0755) || mkdir("/run/rw/work", 0755))
		return err_errno(err, errno, "mkdir the writable layer");
	if (mount("overlay", ROOT, "overlay", MS_NODEV,
		  "lowerdir=/run/image,upperdir=/run/rw/upper,workdir=/run/rw/work"))
		return err_errno(err, errno, "mount the overlay root");
	return mount_volumes(o, err);
}

/* The volumes, beneath the mounted root. */
static int mount_volumes(const struct cspec *o, struct err *err)
{
	char dev[128];
	for (unsigned i = 0; i < o->nvolumes; i++) {
		const struct cspec_volume *v = &o->volumes[i];
		int fd = mkdir_beneath(v->path, err);
		if (fd < 0)
			return -1;
		char target[64];
		snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
		snprintf(dev, sizeof(dev), "/dev/%s", v->dev);
		unsigned long fl = MS_NODEV | MS_NOSUID | (v->ro ? MS_RDONLY : 0);
		int r = -1;
		static const char *const fs[] = { "ext4", "erofs" };
		if (v->fs) {
			/* a host directory: virtio-fs by its tag (read-only for
			 * real on the host: the daemon's bind is) */
			snprintf(dev, sizeof(dev), "%s", v->dev);
			r = mount(v->dev, target, "virtiofs", fl, NULL);
		}
		for (size_t k = 0; k < 2 && r && !v->fs; k++)
			r = mount(dev, target, fs[k], fl, NULL);
		int e = errno;
		close(fd);
		if (r)
			return err_errno(err, e, "mount volume %s at %s", dev, v->path);
		if (!v->ro && o->upper_scratch) {
			char at[CSPEC_MAX_PATH + sizeof(ROOT) + 1];
			snprintf(at, sizeof(at), ROOT "%s", v->path);
			to_sync.fd[to_sync.n] = open(at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (to_sync.fd[to_sync.n] < 0)
				return err_errno(err, errno, "open volume %s", v->path);
			to_sync.n++;
		}
	}
	to_sync.scratch = o->upper_scratch;
	return 0;
}

int if_ioctl(int s, unsigned long req, struct ifreq *ifr, const char *what, struct err *err)
{
	if (ioctl(s, req, ifr) < 0)
		return err_errno(err, errno, "%s", what);
	return 0;
}

int set_addr(int s, unsigned long req, const char *ifname, in_addr_t a, const char *what,
		    struct err *err)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = a;
	return if_ioctl(s, req, &ifr, what, err);
}

int link_up(int s, const char *ifname, struct err *err)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (if_ioctl(s, SIOCGIFFLAGS, &ifr, "get flags", err) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return if_ioctl(s, SIOCSIFFLAGS, &ifr, "set flags", err);
}

/* The container's /etc/NAME, written by PID 1 (hosts, resolv.conf).
 * Resolved beneath the container root with no symlink followed at all:
 * an image whose /etc is a symlink (/etc -> /anywhere) would otherwise
 * aim PID 1's write at a path of its own root, outside the container's.
 * A symlinked /etc/NAME is replaced by the file; a symlinked /etc, or
 * none, is skipped (with a note for the symlink). */
static void write_etc(const char *name, const char *text)
{
	SB_AUTOCLOSE int root = open(ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return;
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	SB_AUTOCLOSE int etc = (int)syscall(SYS_openat2, root, "etc", &how, sizeof(how));
	if (etc < 0) {
		if (errno == ELOOP)
			fprintf(stderr, "sandbox-init: the image's /etc is a symlink: /etc/%s not written\n", name);
		return;
	}
	how.flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	how.mode = 0644;
	int fd = (int)syscall(SYS_openat2, etc, name, &how, sizeof(how));
	if (fd < 0 && errno == ELOOP && unlinkat(etc, name, 0) == 0)
		fd = (int)syscall(SYS_openat2, etc, name, &how, sizeof(how));
	if (fd < 0) {
		fprintf(stderr, "sandbox-init: /etc/%s: %s\n", name, strerror(errno));
		return;
	}
	if (write(fd, text, strlen(text)) < 0)
		fprintf(stderr, "sandbox-init: write /etc/%s: %s\n", name, strerror(errno));
	close(fd);
}

/* eth0 from the spec: address/prefix, a gateway and a DNS server if
 * given (cspec_check made sure of the prefix). */
static int network_setup(const struct cspec *c, struct err *err)
{
	const char *hostname = c->hostname;
	struct in_addr a = { c->eth_addr }, g = { c->eth_gw }, d = { c->eth_dns };
	int prefix = c->eth_prefix;
	char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], dns[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, addr, sizeof(addr));
	inet_ntop(AF_INET, &g, gw, sizeof(gw));
	inet_ntop(AF_INET, &d, dns, sizeof(dns));
	SB_AUTOCLOSE int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return err_errno(err, errno, "socket");
	in_addr_t mask = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
	if (link_up(s, "lo", err) < 0 || set_addr(s, SIOCSIFADDR, "eth0", a.s_addr, "eth0 address", err) < 0 ||
	    set_addr(s, SIOCSIFNETMASK, "eth0", mask, "eth0 netmask", err) < 0 || link_up(s, "eth0", err) < 0)
		return err_wrap(err, "network");
	if (g.s_addr) {
		struct rtentry rt = { 0 };
		struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst, *gwa = (struct sockaddr_in *)&rt.rt_gateway,
				   *msk = (struct sockaddr_in *)&rt.rt_genmask;
		dst->sin_family = gwa->sin_family = msk->sin_family = AF_INET;
		gwa->sin_addr = g;
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = "eth0";
		if (ioctl(s, SIOCADDRT, &rt) < 0)
			return err_errno(err, errno, "network: default route via %s", gw);
	}
	char text[512];
	if (d.s_addr) {
		snprintf(text, sizeof(text), "nameserver %s\n", dns);
		write_etc("resolv.conf", text);
	}
	snprintf(text, sizeof(text), "127.0.0.1\tlocalhost\n%s\t%s\n", addr, hostname ? hostname : "sandbox");
	write_etc("hosts", text);
	return 0;
}

/* ------------------------------------------------------------------ */
/* PID 1's relay; its child is the runtime (container_runtime,
 * container.c). */
static struct relay main_relay;

/* Before EXIT: volumes on disk before the host hears the status (it ends
 * the VM as soon as EXIT arrives), and the timings. A scratch layer (--rm:
 * the host deletes it) is left unsynced: only the writable volumes are
 * (syncfs each); a kept layer is synced with everything, consistent. */
static struct oom_watch oom;

static void before_exit(struct relay *r)
{
	oom_watch_check(&oom, &r->tx);      /* the last kills, before EXIT */
	mark("drained");
	if (to_sync.scratch)
		for (unsigned i = 0; i < to_sync.n; i++)
			syncfs(to_sync.fd[i]);
	else
		sync();
	mark("synced");
	if (timings_on)
		queue_marks(&r->tx);
}

/* sandbox exec: PID 1 listens on SB_EXEC_PORT once the container runs
 * and forks a session per connection (exec.c). */
static struct sb_spec main_spec;

static int exec_listen(struct err *err)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_errno(err, errno, "vsock socket");
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = SB_EXEC_PORT };
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64)) {
		int e = errno;
		close(fd);
		return err_errno(err, e, "listen on vsock port %d", SB_EXEC_PORT);
	}
	return fd;
}

/* The spare exec session's end (exec.c), from the last QUIESCE until an
 * exec takes it; -1: none. */
static int spare = -1;

static void exec_accept(struct relay *r)
{
	for (;;) {
		int c = accept4(r->extra_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			return;     /* EAGAIN: all taken */
		if (spare >= 0) {
			int handed = exec_spare_hand(spare, c);
			close(spare);
			spare = -1;
			if (!handed) {
				close(c);
				continue;
			}
		}
		if (r->status < 0)
			exec_container_note(r->child);
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			/* Nothing of PID 1's but the connection. */
			if (dup2(c, 3) < 0)
				_exit(125);
			syscall(SYS_close_range, 4U, ~0U, 0U);
			exec_session(3, &main_spec, r->child);
		}
		close(c);
	}
}

/* The container's cgroup changed its memory.events. */
static void oom_changed(struct relay *r)
{
	oom_watch_check(&oom, &r->tx);
}

/* A clone: its new identity, and its own count of OOM kills. */
static void restored(struct relay *r, const struct sb_restored *id)
{
	agent_restored(r, id);
	oom_watch_rebase(&oom);
}

/* The container's cgroup, made here so that PID 1 can watch its OOM
 * kills from the start (oom.c); without one the container runs, its
 * kills uncounted, and the host hears why. */
static void container_cgroup(struct relay *r, struct sb_spec *spec)
{
	static char dir[256];
	struct err err = { 0 };
	oom_watch_init(&oom);
	if (cgroup_container(dir, sizeof(dir), &err) < 0 || oom_watch_start(&oom, dir, &err) < 0) {
		fprintf(stderr, "sandbox-init: OOM kills not counted: %s\n", err.msg);
		return;
	}
	spec->cgroup_dir = dir;
	r->watch_fd = oom.inotify_fd;
	r->on_watch = oom_changed;
}

/* Before a snapshot: what its clones will want at once, opened while
 * the pages are warm (restore.c). */
static void agent_quiesce(struct relay *r)
{
	restore_prepare(r->status < 0 ? r->child : 0);
	if (spare < 0 && r->status < 0) {
		struct err err = { 0 };
		spare = exec_spare_start(&main_spec, r->child, &err);
		if (spare < 0)
			fprintf(stderr, "sandbox-init: no spare exec session: %s\n", err.msg);
	}
}

int agent_main(bool timings)
{
	struct relay *r = &main_relay;
	struct sb_spec *spec = &main_spec;
	static struct cspec o;
	struct err err = { 0 };

	timings_on = timings;
	mark("start");
	int vs = agent_connect(&err);
	if (vs < 0)
		goto fail_noconn;
	if (relay_init(r, vs) < 0) {
		err_errno(&err, ENOMEM, "relay");
		goto fail_noconn;
	}
	mark("connect");
	int got = read_config(r, &o, &err);
	mark("config");
	if (got < 0)
		goto fail;
	/* The runtime's spec, on the overlay root. */
	spec_from_cspec(spec, &o, ROOT);
	if (leave_initramfs(&err) < 0 || mount_root(&o, &err) < 0)
		goto fail;
	mark("root");
	if (o.pod_member && o.image_fs && !strcmp(o.image_fs, "virtiofs"))
		spec->shm = POD_SHM;    /* mounted with the pod's share (pod.c) */
	if (o.eth && network_setup(&o, &err) < 0)
		goto fail;
	if (!o.eth && spec->network == SB_NET_NONE) {
		/* --network none: this VM has no network device, so its own
		 * namespace holds a loopback and nothing else, which is what
		 * none means. The container shares it: one of its own would
		 * isolate nothing more and cost ~10 ms to make and tear down. */
		if (ns_loopback_up(&err) < 0) {
			err_wrap(&err, "network");
			goto fail;
		}
		spec->network = SB_NET_SHARE;
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->sigfd < 0) {
		err_errno(&err, errno, "signalfd");
		goto fail;
	}
	container_cgroup(r, spec);
	if (relay_spawn(r, o.tty, o.stdin_open, o.rows, o.cols, container_runtime, spec, &err) < 0)
		goto fail;
	mark("forked");
	r->before_exit = before_exit;
	r->extra_fd = exec_listen(&err);
	if (r->extra_fd < 0)    /* no exec into this one; the container runs */
		fprintf(stderr, "sandbox-init: %s\n", err.msg);
	r->on_extra = exec_accept;
	r->on_restored = restored;
	r->on_quiesce = agent_quiesce;
	return relay_run(r);

fail:
	/* Tell the host why, as the container's stderr, then the status. */
	err_wrap(&err, "guest");
	relay_fail(r, err.msg, err.status ? err.status : 125);
	return err.status ? err.status : 125;
fail_noconn:
	init_last_words(err.msg);
	return 125;
}
