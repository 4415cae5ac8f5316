/* virtio-fs (virtio 1.x, 5.11) over vhost-user: a host directory that a
 * daemon outside the VMM (Debian's virtiofsd) serves, mounted in the
 * guest with `mount -t virtiofs TAG DIR`.
 *
 *   --fs tag=TAG,socket=PATH     (repeatable, up to VM_MAX_FS)
 *
 * The VMM keeps the transport (virtio-mmio registers, feature
 * negotiation, the config space: tag[36] and num_request_queues) and
 * hands the queues to the daemon: the guest's memory (a memfd, mapped
 * MAP_SHARED: vm_create makes it so when any --fs is given), each queue's
 * addresses and its kick eventfd (the ioeventfd on the queue notify
 * address, which the device thread then leaves alone: ops.external_kicks).
 * Interrupts stay ours: with virtio-mmio the guest reads InterruptStatus,
 * so the daemon signals a call eventfd per queue, which the device thread
 * watches; it sets the VRING bit and raises the irqfd. The irqfd never
 * leaves the VMM.
 *
 * Threads: create (connect, GET_FEATURES, protocol features, SET_OWNER)
 * runs at start-up, before the jail: the socket is open when the jail
 * closes the file system. Activation (DRIVER_OK) and reset run on the vCPU
 * thread that wrote the status register, under the device lock, and talk
 * to the daemon there (sendmsg/recvmsg, in the vCPU seccomp list for this
 * only), bounded by the socket's 5 s timeouts: the device is really ready
 * when the status write returns, and a refusal is DEVICE_NEEDS_RESET at
 * once. The daemon hanging up is noticed on the device thread (RDHUP on
 * the socket): the device asks for a reset, and every later message fails.
 *
 * Hostile daemon: every reply is checked (vhost_user.c); the daemon only
 * ever gets guest memory, which the guest could write anyway. A hostile
 * guest reaches the daemon only through FUSE requests in the queues. */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../virtio/vhost_user.h"
#include "modules.h"

#define FS_REQUEST_QUEUES 1             /* plus the high-priority queue */
#define FS_NQUEUES (1 + FS_REQUEST_QUEUES)
#define FS_CONNECT_WAIT_MS 5000         /* the daemon's socket may lag its start */
#define FS_TIMEOUT_MS 5000              /* any one message or reply */
#define FS_CONFIG_SIZE (FS_TAG_MAX + 4)

/* virtiofsd keeps the guest's FUSE state (open files, inodes) in its own
 * process: nothing a snapshot could carry. */
static long fs_save(struct virtio_dev *d, uint8_t *buf, size_t cap, struct err *e)
{
	(void)d;
	(void)buf;
	(void)cap;
	return err_set(e, "a sandbox with a host directory as a volume (-v DIR:PATH, virtio-fs) cannot be "
			  "snapshotted: virtiofsd's state is not the VM's");
}

static const char fs_usage[] =
	"--fs tag=TAG,socket=PATH\n"
	"  virtio-fs device: the directory that the vhost-user daemon listening on\n"
	"  PATH (virtiofsd) exports, mounted in the guest with\n"
	"  `mount -t virtiofs TAG DIR` (TAG: 1 to 36 bytes). Repeatable (up to 6).\n"
	"  Guest memory then is a memfd shared with the daemon.\n";

struct fs;

struct fs_call {
	struct fs *fs;
	unsigned q;
};

struct fs {
	struct virtio_dev dev;          /* first: d->priv and the container are the same */
	struct virtio_ops ops;
	struct evloop *loop;
	struct vhu vhu;
	bool watching;                  /* the socket is in the loop (hang-up) */
	int callfd[FS_NQUEUES];
	struct fs_call call[FS_NQUEUES];
	bool started[FS_NQUEUES];       /* the daemon has this ring */
	uint8_t config[FS_CONFIG_SIZE];
	char name[64];
};

/* ------------------------------------------------------------------ */
/* the device */

static void fs_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
	struct fs *f = d->priv;
	memcpy(data, f->config + off, len);     /* OFF + LEN checked by the transport */
}

/* Take the rings back from the daemon (GET_VRING_BASE stops each). */
static void stop_rings(struct fs *f)
{
	for (unsigned q = 0; q < FS_NQUEUES; q++) {
		if (!f->started[q])
			continue;
		f->started[q] = false;
		unsigned base;
		struct err e;
		if (vhu_get_vring_base(&f->vhu, q, &base, &e))
			break;  /* broken now: later messages fail, the daemon is not trusted */
	}
}

static int start_ring(struct fs *f, unsigned qi, struct err *e)
{
	struct virtio_dev *d = &f->dev;
	struct virtq *q = &d->vq[qi];
	uint64_t n = q->num;
	void *desc = gm_ptr(d->gm, q->desc, 16 * n), *avail = gm_ptr(d->gm, q->avail, 6 + 2 * n),
	     *used = gm_ptr(d->gm, q->used, 6 + 8 * n);
	if (!desc || !avail || !used)
		return err_set(e, "%s: queue %u outside guest memory", f->name, qi);
	struct vhu_vring_addr a = { .index = qi, .desc = (uint64_t)(uintptr_t)desc,
				    .used = (uint64_t)(uintptr_t)used, .avail = (uint64_t)(uintptr_t)avail };
	int kick = d->queue_kickfd ? d->queue_kickfd(d, qi) : -1;
	if (kick < 0)
		return err_set(e, "%s: queue %u has no kick eventfd", f->name, qi);
	if (vhu_set_vring_num(&f->vhu, qi, q->num, e) || vhu_set_vring_base(&f->vhu, qi, 0, e) ||
	    vhu_set_vring_addr(&f->vhu, &a, e) || vhu_set_vring_fd(&f->vhu, VHU_SET_VRING_CALL, qi, f->callfd[qi], e))
		return -1;
	f->started[qi] = true;  /* from here GET_VRING_BASE takes it back */
	if (vhu_set_vring_fd(&f->vhu, VHU_SET_VRING_KICK, qi, kick, e))
		return -1;
	if ((f->vhu.features & (1ULL << VHU_F_PROTOCOL_FEATURES)) && vhu_set_vring_enable(&f->vhu, qi, true, e))
		return -1;
	return 0;
}

/* DRIVER_OK (vCPU thread, lock held): the features the driver took, the
 * memory table, then each ready queue. */
static int fs_activate(struct virtio_dev *d)
{
	struct fs *f = d->priv;
	struct err e;
	if (vhu_set_features(&f->vhu, d->driver_features, &e) || vhu_set_mem_table(&f->vhu, d->gm, d->gm->fd, &e))
		goto fail;
	for (unsigned q = 0; q < FS_NQUEUES; q++)
		if (d->vq[q].ready && start_ring(f, q, &e))
			goto fail;
	return 0;
fail:
	/* Not printed: the guest sees DEVICE_NEEDS_RESET (the mount fails). */
	stop_rings(f);
	return -1;
}

static void fs_reset(struct virtio_dev *d)
{
	stop_rings(d->priv);
}

/* The daemon used a queue and wants the guest told (device thread). */
static void on_call(void *ctx, uint32_t events)
{
	struct fs_call *c = ctx;
	struct fs *f = c->fs;
	uint64_t n;
	(void)events;
	if (read(f->callfd[c->q], &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&f->dev.lock);
	if (f->dev.active)
		virtio_raise_vring(&f->dev);
	pthread_mutex_unlock(&f->dev.lock);
}

/* The daemon hung up (device thread). */
static void on_hangup(void *ctx, uint32_t events)
{
	struct fs *f = ctx;
	(void)events;
	pthread_mutex_lock(&f->dev.lock);
	evloop_del(f->loop, f->vhu.fd);
	f->watching = false;
	f->vhu.broken = true;
	for (unsigned q = 0; q < FS_NQUEUES; q++)
		f->started[q] = false;
	virtio_needs_reset(&f->dev);
	pthread_mutex_unlock(&f->dev.lock);
}

static void fs_destroy(struct virtio_dev *d)
{
	struct fs *f = d->priv;
	for (unsigned q = 0; q < FS_NQUEUES; q++) {
		if (f->callfd[q] >= 0) {
			evloop_forget(f->loop, f->callfd[q]);
			close(f->callfd[q]);
		}
	}
	if (f->watching)
		evloop_forget(f->loop, f->vhu.fd);
	vhu_close(&f->vhu);
	pthread_mutex_destroy(&d->lock);
	free(f);
}

/* ------------------------------------------------------------------ */
/* the module: --fs */

static int fs_module_parse(const char *arg, struct vm_config *c, struct err *e)
{
	if (c->nfs == VM_MAX_FS)
		return err_set(e, "--fs: at most %d virtio-fs devices", VM_MAX_FS);
	struct fs_config *fc = &c->fs[c->nfs];
	*fc = (struct fs_config){ 0 };
	for (const char *p = arg;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 4 && !strncmp(p, "tag=", 4)) {
			if (n - 4 > FS_TAG_MAX)
				return err_set(e, "--fs '%s': the tag is at most %d bytes", arg, FS_TAG_MAX);
			memcpy(fc->tag, p + 4, n - 4);
			fc->tag[n - 4] = '\0';
		} else if (n > 7 && !strncmp(p, "socket=", 7)) {
			if (n - 7 >= sizeof(fc->socket))
				return err_set(e, "--fs '%s': the socket path is at most %zu bytes", arg,
					       sizeof(fc->socket) - 1);
			memcpy(fc->socket, p + 7, n - 7);
			fc->socket[n - 7] = '\0';
		} else {
			return err_set(e, "--fs '%s': unknown option '%.*s' (want tag=TAG,socket=PATH)", arg, (int)n, p);
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (!fc->tag[0] || !fc->socket[0])
		return err_set(e, "--fs '%s': want tag=TAG,socket=PATH", arg);
	for (unsigned i = 0; i < c->nfs; i++)
		if (!strcmp(c->fs[i].tag, fc->tag))
			return err_set(e, "--fs: tag '%s' given twice", fc->tag);
	c->nfs++;
	return 0;
}

static int fs_create(const struct device_ctx *ctx, const struct fs_config *fc, struct err *e)
{
	if (!ctx->mem->shared || ctx->mem->fd < 0)
		return err_set(e, "--fs %s: guest memory is not shared (a memfd)", fc->tag);
	struct fs *f = calloc(1, sizeof(*f));
	if (!f)
		return err_oom(e, "--fs");
	f->loop = ctx->loop;
	f->vhu.fd = -1;
	for (unsigned q = 0; q < FS_NQUEUES; q++)
		f->callfd[q] = -1;
	snprintf(f->name, sizeof(f->name), "virtio-fs %s", fc->tag);
	virtio_dev_init(&f->dev, &f->ops, f, ctx->mem);
	memcpy(f->config, fc->tag, strlen(fc->tag));    /* NUL-padded, not terminated at 36 */
	uint32_t nreq = FS_REQUEST_QUEUES;
	memcpy(f->config + FS_TAG_MAX, &nreq, 4);       /* little endian (x86) */
	uint64_t need = (1ULL << 32) | (1ULL << 28) | (1ULL << 29); /* VERSION_1, INDIRECT_DESC, EVENT_IDX */
	if (vhu_connect(&f->vhu, fc->socket, FS_CONNECT_WAIT_MS, FS_TIMEOUT_MS, e) ||
	    vhu_handshake(&f->vhu, 1ULL << VHU_PROTOCOL_F_REPLY_ACK, e))
		goto fail;
	if ((f->vhu.features & need) != need) {
		err_set(e, "the daemon offers features 0x%llx, without VERSION_1, INDIRECT_DESC or EVENT_IDX",
			(unsigned long long)f->vhu.features);
		goto fail;
	}
	f->ops = (struct virtio_ops){
		.save = fs_save,
		.name = f->name,
		.device_id = VIRTIO_ID_FS,
		.nqueues = FS_NQUEUES,
		.features = 0,          /* no notification queue, no DAX window */
		.config_size = FS_CONFIG_SIZE,
		.config_read = fs_config_read,
		.activate = fs_activate,
		.reset = fs_reset,
		.destroy = fs_destroy,
		.external_kicks = true,
	};
	for (unsigned q = 0; q < FS_NQUEUES; q++) {
		f->call[q] = (struct fs_call){ .fs = f, .q = q };
		f->callfd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (f->callfd[q] < 0) {
			err_sys(e, "eventfd");
			goto fail;
		}
		if (evloop_add(ctx->loop, f->callfd[q], EPOLLIN, on_call, &f->call[q], e)) {
			close(f->callfd[q]);
			f->callfd[q] = -1;
			goto fail;
		}
	}
	if (evloop_add(ctx->loop, f->vhu.fd, EPOLLRDHUP, on_hangup, f, e))
		goto fail;
	f->watching = true;
	return ctx->attach(ctx, &f->dev, e);
fail:
	fs_destroy(&f->dev);
	return -1;
}

static int fs_module_create(const struct device_ctx *ctx, const struct vm_config *c, struct err *e)
{
	for (unsigned i = 0; i < c->nfs; i++)
		if (fs_create(ctx, &c->fs[i], e))
			return err_wrap(e, "--fs %s", c->fs[i].tag);
	return 0;
}

const struct device_module fs_module = {
	.name = "virtio-fs",
	.option = "fs",
	.arg = "SPEC",
	.summary = "virtio-fs device over a vhost-user daemon (virtiofsd), see below",
	.usage = fs_usage,
	.parse = fs_module_parse,
	.create = fs_module_create,
};
