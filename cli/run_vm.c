/* `sandbox run`: the VMM child (--isolation vm). */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/loop.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <limits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "cli.h"
#include "jail/jail.h"
#include "relay.h"
#include "run_impl.h"
#include "proto.h"
#include "snapshot.h"
#include "snapshot/workingset.h"
#include "state.h"
#include <sys/random.h>


/* ------------------------------------------------------------------ */
/* the VMM child (--isolation vm) */

struct vm_child {
	struct relay relay;
	int sigint;
};

static void on_signal(void *arg, int sig)
{
	struct vm_child *c = arg;
	if (sig == SIGWINCH) {
		relay_winch(&c->relay);
		return;
	}
	relay_signal(&c->relay, sig);
}

/* The relay got EXIT: the container's status and all its output are here,
 * and the guest synced its disks before sending it. Waiting for the guest
 * to reset itself would only add its shutdown path (~30 ms in the test
 * host): end the VM now. */
static void end_vm_at_exit(void *arg)
{
	vm_request_end(arg, VM_END_DONE, NULL);
}

/* Snapshots (vmm/control.h): the agent channel quiet around the save. */
static int quiesce(void *arg) { return relay_quiesce(arg, 10000); }
static void unquiesce(void *arg) { relay_resume(arg); }

static int start_relay(void *arg, struct err *e)
{
	struct vm_child *c = arg;
	if (relay_start(&c->relay))
		return err_set(e, "agent relay thread: %s", strerror(errno));
	return 0;
}

/* The next disk: FILE (LEN bytes of it), read-only or not. */
static int set_disk(struct vm_config *c, const char *file, size_t len, bool ro, struct err *e)
{
	struct blk_config *d = &c->disks[c->ndisks];
	if (c->ndisks == VM_MAX_DISKS)
		return err_set(e, "at most %u disks (the image, the writable layer and %u volumes)", VM_MAX_DISKS,
			       VM_MAX_DISKS - 2);
	if (len >= sizeof(d->path))
		return err_set(e, "disk image %.*s: path longer than %zu bytes", (int)len, file, sizeof(d->path) - 1);
	*d = (struct blk_config){ .ro = ro };
	memcpy(d->path, file, len);
	c->ndisks++;
	return 0;
}

/* The image FILE on virtio-pmem (read-only, mapped as the guest's). */
static int set_pmem(struct vm_config *c, const char *file, struct err *e)
{
	size_t len = strlen(file);
	if (len >= sizeof(c->pmem.path))
		return err_set(e, "image %s: path longer than %zu bytes", file, sizeof(c->pmem.path) - 1);
	memcpy(c->pmem.path, file, len + 1);
	c->has_pmem = true;
	return 0;
}

void vm_size(const struct run_opts *o, uint64_t *mem_bytes, unsigned *ncpus)
{
	uint64_t m = o->memory ? (uint64_t)o->memory + GUEST_MEM_OVERHEAD : GUEST_MEM_DEFAULT;
	*mem_bytes = (m + 2 * MIB - 1) & ~(2 * MIB - 1);
	*ncpus = o->cpus ? (unsigned)ceil(strtod(o->cpus, NULL)) : 1;
}

enum image_transport run_image_transport(const struct run_opts *o, const struct runconf *rc)
{
	if (o->image_transport != IMAGE_TRANSPORT_DEFAULT)
		return o->image_transport;
	return rc->fstype && !strcmp(rc->fstype, "erofs") ? IMAGE_TRANSPORT_PREFERRED : IMAGE_TRANSPORT_BLK;
}

/* Free page reporting (virtio-balloon, docs/pmem.md; run_impl.h). The
 * guest reports free blocks of 2^BALLOON_REPORTING_ORDER pages and up. */
#define BALLOON_REPORTING_ORDER "9"
bool run_balloon(void)
{
	return getenv("SANDBOX_NO_BALLOON") == NULL;
}

/* The socket directory and the two sockets in it: vsock and control. */
static int vm_sockets(struct vm_config *c, const char *id, const struct run_spec *spec, struct err *e)
{
	char path[700];
	/* The socket's directory is all the jail lets the VMM reach of
	 * ours: one made for it, never the sandbox's own (state, log). */
	state_path(path, sizeof(path), id, "sock");
	if (!(spec->fsd && spec->fsd->sock_dir_made) && jail_socket_dir(path, e))
		return -1;
	state_path(path, sizeof(path), id, "sock/vsock");
	if (strlen(path) >= sizeof(c->vsock.uds))
		return err_set(e, "vsock socket %s: longer than %zu bytes (use a shorter SANDBOX_STATE_DIR)", path,
			       sizeof(c->vsock.uds) - 1);
	c->has_vsock = true;
	c->vsock.cid = 3;
	memcpy(c->vsock.uds, path, strlen(path) + 1);
	state_path(path, sizeof(path), id, "sock/ctl");
	if (strlen(path) >= sizeof(c->control))
		return err_set(e, "control socket %s: too long (use a shorter SANDBOX_STATE_DIR)", path);
	memcpy(c->control, path, strlen(path) + 1);
	return 0;
}

/* tap sb<ID>, the host's end 172.30.NET.1/24 (the guest's .2). */
static void vm_net(struct vm_config *c, const char *id, int net)
{
	c->has_net = true;
	snprintf(c->net.tap, sizeof(c->net.tap), "sb%.12s", id);
	c->net.has_ip = true;
	c->net.ip.s_addr = htonl(0xac1e0001u | (uint32_t)net << 8);
	c->net.prefix = 24;
}

/* A clone of a snapshot (--from): the VM it was, restored, with the
 * clone's own disk layer, sockets, tap, MAC, address and host name,
 * which the guest takes from the RESTORED frame (docs/snapshots.md). */
static int vm_restore_setup(const struct run_opts *o, const char *id, int net, struct run_spec *spec,
			    struct vm *vm, struct relay *r, struct err *e)
{
	const struct snap_from *f = spec->from;
	struct vm_config *c = &vm->cfg;
	c->mem_bytes = f->rec.mem_bytes;
	c->ncpus = f->rec.ncpus;
	c->no_seccomp = getenv("SANDBOX_NO_SECCOMP") != NULL;    /* debugging only */
	c->timings = getenv("SANDBOX_TIMINGS") != NULL;
	if (getenv("SANDBOX_NO_JAIL"))
		c->jail = -1;
	/* The image as the snapshot had it: virtio-pmem maps the same file
	 * again at the same place (the device checks it is the same file). */
	if (f->rec.pmem ? set_pmem(c, f->rec.disk, e) : set_disk(c, f->rec.disk, strlen(f->rec.disk), true, e))
		return -1;
	if (f->rec.layer && set_disk(c, spec->storage, strlen(spec->storage), false, e))
		return -1;
	if (vm_sockets(c, id, spec, e))
		return -1;
	c->has_rng = true;
	c->has_balloon = f->rec.balloon;   /* as the snapshotted VM had it */
	static struct sb_restored id_frame;
	static uint8_t payload[SB_RESTORED_SIZE];
	memset(&id_frame, 0, sizeof(id_frame));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	id_frame.realtime_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	if (getrandom(id_frame.seed, sizeof(id_frame.seed), 0) != (ssize_t)sizeof(id_frame.seed))
		return err_sys(e, "getrandom (the clone's seed)");
	if (net) {
		vm_net(c, id, net);
		/* a locally administered MAC of the clone's own */
		c->net.has_mac = true;
		c->net.mac[0] = 0x02;
		if (getrandom(c->net.mac + 1, 5, 0) != 5)
			return err_sys(e, "getrandom (the clone's MAC)");
		memcpy(id_frame.mac, c->net.mac, 6);
		id_frame.has_net = true;
		id_frame.prefix = 24;
		id_frame.addr = htonl(0xac1e0002u | (uint32_t)net << 8);
		id_frame.gw = htonl(0xac1e0001u | (uint32_t)net << 8);
	}
	snprintf(id_frame.hostname, sizeof(id_frame.hostname), "%.63s", o->hostname ? o->hostname : spec->hostname);
	for (char *p = id_frame.hostname; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			*p = '-';
	sb_restored_encode(&id_frame, payload);
	c->restore = true;
	c->restore_state_fd = f->state_fd;
	c->restore_mem_fd = f->mem_fd;
	c->restore_ws_fd = f->ws_fd;
	c->restore_record_ws = f->ws_scope < (o->ncmd ? WS_SCOPE_COMMAND : WS_SCOPE_RESTORE);

	int guest_end;
	if (relay_init(r, &guest_end))
		return err_sys(e, "agent channel");
	r->config = payload;
	r->config_len = sizeof(payload);
	r->config_type = SB_F_RESTORED;
	r->in_fd = -1;
	/* with a command (run --from NAME CMD) the snapshot's own process is
	 * not what the caller asked for: its output goes nowhere */
	int nul = o->ncmd ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
	r->out_fd = nul >= 0 ? nul : 1;
	r->err_fd = nul >= 0 ? nul : 2;
	r->no_seccomp = c->no_seccomp;
	c->has_agent = true;
	c->agent_fd = guest_end;
	return 0;
}

/* The VM's configuration (into VM) and the relay's (R), from the options,
 * the image and the spec, which gets the VM's devices and stdio. */
static int vm_child_setup(const struct run_opts *o, const struct runconf *rc, const char *id, int net,
			  struct run_spec *spec, struct vm *vm, struct relay *r, struct err *e)
{
	/* The configuration points at these for the VM's life. */
	static char kernel[4200], initrd[4200], append[512];
	struct vm_config *c = &vm->cfg;
	if (spec->from)
		return vm_restore_setup(o, id, net, spec, vm, r, e);
	snprintf(kernel, sizeof(kernel), "%s/guest-vmlinux", run_bindir);
	snprintf(initrd, sizeof(initrd), "%s/guest-initramfs.cpio", run_bindir);
	c->kernel = o->kernel ? o->kernel : kernel;
	c->initrd = o->initrd ? o->initrd : initrd;
	if (access(c->kernel, R_OK))
		return err_set(e, "guest kernel %s: %s (build it with make, or give --kernel)", c->kernel, strerror(errno));
	if (access(c->initrd, R_OK))
		return err_set(e, "guest initramfs %s: %s (build it with make, or give --initrd)", c->initrd,
			       strerror(errno));
	vm_size(o, &c->mem_bytes, &c->ncpus);
	const char *extra = getenv("SANDBOX_KERNEL_APPEND");    /* experiments only */
	snprintf(append, sizeof(append), "sandbox.agent=1%s%s%s%s", getenv("SANDBOX_TIMINGS") ? " sandbox.timings=1" : "",
		 run_balloon() ? " page_reporting.page_reporting_order=" BALLOON_REPORTING_ORDER : "",
		 extra ? " " : "", extra ? extra : "");
	c->append = append;
	c->no_seccomp = getenv("SANDBOX_NO_SECCOMP") != NULL;    /* debugging only */
	c->timings = getenv("SANDBOX_TIMINGS") != NULL;         /* phases, for bench/ */
	if (getenv("SANDBOX_NO_JAIL"))                          /* debugging only */
		c->jail = -1;

	/* The image: a host directory as the root (sandbox-runtime: virtio-fs
	 * to its virtiofsd), virtio-pmem (/dev/pmem0, mounted with DAX: the
	 * host's page cache is the guest's) or the first disk (vda); then the
	 * volumes (vdb, ... or from vda without an image disk). */
	enum image_transport t = run_image_transport(o, rc);
	bool erofs = rc->fstype && !strcmp(rc->fstype, "erofs");
	if (o->rootfs) {
		const struct fs_daemon *fd = spec->fsd && spec->fsd->n && spec->fsd->d[0].vol < 0 ? &spec->fsd->d[0] : NULL;
		struct fs_config *f = &c->fs[c->nfs];
		if (!fd || strlen(fd->sock) >= sizeof(f->socket))
			return err_set(e, "the root directory %s has no virtiofsd", o->rootfs);
		snprintf(f->tag, sizeof(f->tag), "%s", fd->tag);
		memcpy(f->socket, fd->sock, strlen(fd->sock) + 1);
		c->nfs++;
		spec->c.image_dev = fd->tag;
		spec->c.image_fs = "virtiofs";
		spec->c.pod_member = o->pod_member;
	} else if (t == IMAGE_TRANSPORT_PMEM) {
		if (!erofs)
			return err_set(e, "--image-transport pmem needs an erofs image (this one is %s)",
				       rc->fstype ? rc->fstype : "of no known type");
		if (set_pmem(c, rc->disk, e))
			return -1;
		spec->c.image_dev = "pmem0";
		spec->c.image_dax = true;
		spec->c.image_fs = rc->fstype;
	} else {
		if (set_disk(c, rc->disk, strlen(rc->disk), true, e))
			return -1;
		spec->c.image_dev = "vda";
		spec->c.image_fs = rc->fstype;
	}
	for (int i = 0; i < o->nvol; i++) {
		const char *colon = strchr(o->volumes[i], ':');
		const char *path = colon + 1, *mode = strchr(path, ':');
		bool ro = mode && !strcmp(mode, ":ro");
		const struct fs_daemon *fd = NULL;
		for (int k = 0; spec->fsd && k < spec->fsd->n; k++)
			if (spec->fsd->d[k].vol == i)
				fd = &spec->fsd->d[k];
		if (fd) {
			/* a host directory: virtio-fs to its virtiofsd (run_fs.c) */
			struct fs_config *f = &c->fs[c->nfs];
			if (c->nfs == VM_MAX_FS)
				return err_set(e, "at most %d host directories as volumes", VM_MAX_FS);
			if (strlen(fd->sock) >= sizeof(f->socket))
				return err_set(e, "virtiofsd socket %s: too long", fd->sock);
			snprintf(f->tag, sizeof(f->tag), "%s", fd->tag);
			memcpy(f->socket, fd->sock, strlen(fd->sock) + 1);   /* fits: checked above */
			c->nfs++;
			if (spec_volume_fs(spec, fd->tag, path, mode ? (size_t)(mode - path) : strlen(path), ro, e))
				return -1;
			continue;
		}
		if (set_disk(c, o->volumes[i], (size_t)(colon - o->volumes[i]), ro, e))
			return -1;
		if (spec_volume(spec, c->ndisks - 1, path, mode ? (size_t)(mode - path) : strlen(path), ro, e))
			return -1;
	}
	/* The writable layer last (its own disk, read-write), so that the
	 * volumes keep their names. */
	if (spec->storage[0]) {
		if (set_disk(c, spec->storage, strlen(spec->storage), false, e))
			return -1;
		snprintf(spec->upper_dev, sizeof(spec->upper_dev), "vd%c", 'a' + (int)c->ndisks - 1);
		spec->c.upper_dev = spec->upper_dev;
	}
	if (vm_sockets(c, id, spec, e))
		return -1;
	/* entropy for the guest's kernel (/dev/hwrng), at the default rate */
	c->has_rng = true;
	if (net) {
		vm_net(c, id, net);
		spec->c.eth = true;
		spec->c.eth_addr = htonl(0xac1e0002u | (uint32_t)net << 8);
		spec->c.eth_gw = htonl(0xac1e0001u | (uint32_t)net << 8);
		spec->c.eth_prefix = 24;
	} else if (o->netns) {
		/* sandbox-runtime: the engine's network namespace (run_netns.c) */
		char tap[IFNAMSIZ];
		snprintf(tap, sizeof(tap), "sb%.12s", id);
		c->has_net = true;
		if (netns_wire(o->netns, tap, &c->net, &spec->c, e))
			return -1;
	}
	/* Free page reporting: what the guest frees goes back to the host.
	 * Optional: a sandbox with so many disks and directories that no
	 * virtio slot is left runs without it rather than not at all. */
	unsigned ndev = c->ndisks + c->nfs + c->has_pmem + c->has_net + c->has_vsock + c->has_rng;
	c->has_balloon = run_balloon() && ndev < VM_MAX_VIRTIO;
	spec->c.stdin_open = o->interactive;
	if (o->tty) {
		struct winsize ws = { .ws_row = 24, .ws_col = 80 };
		ioctl(0, TIOCGWINSZ, &ws);
		spec->c.tty = true;
		spec->c.rows = ws.ws_row ? ws.ws_row : 24;
		spec->c.cols = ws.ws_col ? ws.ws_col : 80;
	}
	/* The spec, encoded, is the CONFIG frame's payload. */
	static uint8_t config[CSPEC_MAX_SIZE];
	size_t config_len;
	struct cspec_err ce;
	if (cspec_encode(&spec->c, config, sizeof(config), &config_len, &ce))
		return err_set(e, "the container's spec: %s", ce.msg);

	int guest_end;
	if (relay_init(r, &guest_end))
		return err_sys(e, "agent channel");
	r->config = config;
	r->config_len = config_len;
	r->gate_fd = o->gate_fd;
	r->booted_fd = o->booted_fd;
	r->in_fd = o->interactive || o->tty ? 0 : -1;
	r->out_fd = 1;
	r->err_fd = 2;
	r->tty = o->tty;
	r->no_seccomp = c->no_seccomp;
	c->has_agent = true;
	c->agent_fd = guest_end;
	return 0;
}

/* The VMM's notes to the owner (run_impl.h): on DONE_FD, never waiting
 * (a full pipe drops the note: the owner reads them as they come). */
static int note_fd = -1;
static void note(uint8_t kind, uint32_t v)
{
	uint8_t b[NOTE_SIZE] = { kind };
	sb_put_u32(b + 1, v);
	if (note_fd >= 0 && write(note_fd, b, sizeof(b)) < 0) {
		/* the owner is gone or behind: nothing to do about it here */
	}
}

/* The guest counted another OOM kill in the container (relay thread). */
static void on_oom(void *arg, uint32_t n)
{
	(void)arg;
	note(NOTE_OOM, n);
}

/* A clone's guest took its identity (RESUMED): tell the owner, once,
 * with the time it did (CLOCK_MONOTONIC ns). */
static int ready_fd = -1;
static void on_resumed(void *arg)
{
	(void)arg;
	if (ready_fd >= 0) {
		uint64_t t = now_ns();      /* when: the restore's latency */
		if (write(ready_fd, &t, sizeof(t)) < 0) {
			/* the owner is gone: the VM ends with it */
		}
		close(ready_fd);
		ready_fd = -1;
	}
}

/* The guest ended well for the VMM, with no status from the container:
 * say what is known of why. Its init may have said (the event port's
 * last words: it failed before the agent channel was up), or reported a
 * status but no words; if it reported nothing, its kernel ended the VM
 * (a panic reboots it). The console is off, so there is no more to say. */
static void explain_silent_end(const struct vm *vm, struct err *e)
{
	const char *words = event_port_words(&vm->events);
	int init_status = atomic_load(&vm->events.exit_status);
	if (words[0])
		err_set(e, "the guest ended without reporting the container's status: %s", words);
	else if (init_status >= 0)
		err_set(e, "the guest ended without reporting the container's status (its init ended with %d)",
			init_status);
	else
		err_set(e, "the guest ended (%s) before its init reported a status: a guest kernel panic?",
			vm->end_msg[0] ? vm->end_msg : "no reason given");
}

/* The child's top level: set up, boot and run the VM; returns the
 * container's status, or 125 with the error printed.
 * DONE_FD (-1: none): where the VMM's notes go (run_impl.h): OOM counts
 * as the guest reports them, and the container's status as soon as it is
 * final and all output is written, before the VM is torn down (the
 * kernel's part of that, closing the VM, waits for RCU grace periods:
 * ~70 ms in the test host). The owner can end on it. */
int vm_child_main(const struct run_opts *o, const struct runconf *rc, const char *id, int net,
			 struct run_spec *spec, uint64_t start, int done_fd, int ready)
{
	ready_fd = ready;
	note_fd = done_fd;
	if (note_fd >= 0)
		fcntl(note_fd, F_SETFL, fcntl(note_fd, F_GETFL) | O_NONBLOCK);
	static struct vm vm;
	static struct vm_child child;
	struct err e = { 0 };

	vm.t.start = start;
	vm.vm_fd = -1;
	vm.kvm.fd = -1;
	struct vm_config *c = &vm.cfg;
	struct relay *r = &child.relay;
	if (vm_child_setup(o, rc, id, net, spec, &vm, r, &e))
		return cli_report(&e);
	if (vm_prepare(&vm, &e)) {
		int st = cli_report(&e);
		vm_destroy(&vm);
		return st;
	}
	vm.on_signal = on_signal;
	vm.on_signal_arg = &child;
	vm.control.quiesce = quiesce;
	vm.control.unquiesce = unquiesce;
	vm.control.arg = r;
	vm.on_start = start_relay;
	r->on_exit = end_vm_at_exit;
	r->on_resumed = on_resumed;
	r->on_oom = on_oom;
	r->on_exit_arg = &vm;
	e.msg[0] = '\0';
	int status = vm_run(&vm, &e);
	uint64_t t_ended = now_ns();
	relay_stop(r);
	int reported = atomic_load(&r->status);
	if (r->err[0])
		fprintf(stderr, "sandbox: %s\n", r->err);
	if (c->timings && atomic_load(&r->exit_ns))
		fprintf(stderr, "sandbox-run-timings: exit_frame_ms=%.3f vm_run_returned_ms=%.3f relay_stopped_ms=%.3f\n",
			(double)(atomic_load(&r->exit_ns) - start) * 1e-6, (double)(t_ended - start) * 1e-6,
			(double)(now_ns() - start) * 1e-6);
	if (reported >= 0 && done_fd >= 0) {
		/* Hand over the status and let go of stdio, so neither the owner
		 * nor a reader of our output waits for the teardown below. */
		uint8_t b[NOTE_SIZE] = { NOTE_STATUS };
		sb_put_u32(b + 1, (uint32_t)reported);
		if (write(done_fd, b, sizeof(b)) == (ssize_t)sizeof(b)) {
			close(0);
			close(1);
			close(2);
		}
	}
	if (reported < 0 && !e.msg[0])
		explain_silent_end(&vm, &e);
	vm_destroy(&vm);
	if (reported >= 0)
		return reported;
	cli_report(&e);
	return status == 0 ? EXIT_ERR : status;
}
