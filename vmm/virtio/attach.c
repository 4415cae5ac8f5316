/* Glue between the virtio-mmio transport and KVM: MMIO window on the bus,
 * irqfd for the interrupt, one ioeventfd per queue served by the device
 * thread, and the virtio_mmio.device= announcement for the guest. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "../arch/x86/layout.h"
#include "../devices/modules.h"
#include "../vm.h"

/* GSIs for virtio devices: free ISA lines first, then the IOAPIC's upper
 * pins. 4 is COM1, 8 the RTC, 0-2 timer/keyboard/cascade. */
static const unsigned virtio_gsis[VM_MAX_VIRTIO] = { 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21 };

static void raise_irq(struct virtio_dev *d)
{
	struct virtio_slot *s = d->host;
	uint64_t one = 1;
	if (write(s->irqfd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, an interrupt is pending anyway */
	}
}

static void kick(struct virtio_dev *d, unsigned q)
{
	struct virtio_slot *s = d->host;
	uint64_t one = 1;
	if (q < VIRTIO_MAX_QUEUES && s->kickfd[q] >= 0 && write(s->kickfd[q], &one, sizeof(one)) < 0) {
		/* saturated: a kick is pending anyway */
	}
}

static int queue_kickfd(struct virtio_dev *d, unsigned q)
{
	struct virtio_slot *s = d->host;
	return q < VIRTIO_MAX_QUEUES ? s->kickfd[q] : -1;
}

static void on_kick(void *ctx, uint32_t events)
{
	struct virtio_kick *k = ctx;
	uint64_t n;
	(void)events;
	if (read(k->slot->kickfd[k->q], &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	virtio_process_queue(k->slot->dev, k->q);
}

/* DEV never got a slot: free it now (a device in a slot is freed by
 * vm_destroy(), whatever else failed). */
static int refuse(struct virtio_dev *d)
{
	if (d->ops->destroy)
		d->ops->destroy(d);
	return -1;
}

int virtio_attach(struct vm *vm, struct virtio_dev *d, struct err *e)
{
	if (vm->nvirtio >= VM_MAX_VIRTIO) {
		err_set(e, "%s: too many virtio devices (max %u)", d->ops->name, VM_MAX_VIRTIO);
		return refuse(d);
	}
	if (d->ops->nqueues > VIRTIO_MAX_QUEUES) {
		err_set(e, "%s: too many queues", d->ops->name);
		return refuse(d);
	}
	/* From here the slot holds DEV: on any failure below vm_destroy()
	 * frees it with the slot's fds. */
	unsigned idx = vm->nvirtio;
	struct virtio_slot *s = &vm->virtio[idx];
	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->dev = d;
	s->irqfd = -1;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		s->kickfd[q] = -1;
	vm->nvirtio++;

	d->base = VIRTIO_MMIO_BASE + (uint64_t)idx * VIRTIO_MMIO_SIZE;
	d->gsi = virtio_gsis[idx];
	d->host = s;
	d->raise_irq = raise_irq;
	d->kick = kick;
	d->queue_kickfd = queue_kickfd;
	if (bus_register(&vm->mmio, d->base, VIRTIO_MMIO_SIZE, virtio_mmio_io, d, d->ops->name, e))
		return -1;

	s->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->irqfd < 0)
		return err_sys(e, "%s: eventfd", d->ops->name);
	struct kvm_irqfd irqfd = { .fd = (uint32_t)s->irqfd, .gsi = d->gsi };
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd))
		return err_sys(e, "%s: KVM_IRQFD", d->ops->name);

	for (unsigned q = 0; q < d->ops->nqueues; q++) {
		s->kickfd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->kickfd[q] < 0)
			return err_sys(e, "%s: eventfd", d->ops->name);
		struct kvm_ioeventfd io = {
			.datamatch = q,
			.addr = d->base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.len = 4,
			.fd = s->kickfd[q],
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io))
			return err_sys(e, "%s: KVM_IOEVENTFD", d->ops->name);
		s->kick[q] = (struct virtio_kick){ .slot = s, .q = q };
		/* A vhost-user back end reads this eventfd itself. */
		if (!d->ops->external_kicks && evloop_add(&vm->loop, s->kickfd[q], EPOLLIN, on_kick, &s->kick[q], e))
			return err_wrap(e, "%s", d->ops->name);
	}
	size_t used = strlen(vm->virtio_cmdline);
	snprintf(vm->virtio_cmdline + used, sizeof(vm->virtio_cmdline) - used, "%svirtio_mmio.device=4K@0x%llx:%u",
		 used ? " " : "", (unsigned long long)d->base, d->gsi);
	return 0;
}

int virtio_attach_ctx(const struct device_ctx *ctx, struct virtio_dev *d, struct err *e)
{
	return virtio_attach(ctx->host, d, e);
}

void virtio_detach_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		struct virtio_slot *s = &vm->virtio[i];
		if (s->irqfd >= 0)
			close(s->irqfd);
		for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
			if (s->kickfd[q] >= 0)
				close(s->kickfd[q]);
	}
	vm->nvirtio = 0;
}
