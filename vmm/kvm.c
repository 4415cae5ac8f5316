#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

const char kvm_pvm_advice[] =
	"this host's KVM is PVM (kvm_pvm, the pagetable-based virtual machine: shadow paging "
	"without hardware VMX/SVM), which runs only PVM-patched guest kernels, so a stock "
	"Linux guest cannot boot here; run inside the nested KVM test host instead: "
	"tests/kvmhost/run build/sandbox vm ... (or pass --allow-pvm to try anyway)";

bool kvm_host_is_pvm(void)
{
	const char *override = getenv("SANDBOX_ASSUME_PVM");
	if (override && *override)
		return override[0] == '1';
	struct stat st;
	return stat(KVM_PVM_SYSFS, &st) == 0;
}

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_IRQ_INJECT_STATUS, "KVM_CAP_IRQ_INJECT_STATUS" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
};

int kvm_open(struct kvm *k, const char *path, bool allow_pvm, struct err *e)
{
	k->fd = -1;
	k->pvm = kvm_host_is_pvm();
	if (k->pvm && !allow_pvm)
		return err_set(e, "%s", kvm_pvm_advice);
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			return err_set(e, "%s does not exist: this host offers no KVM (enable VT-x/AMD-V, load "
				       "kvm_intel or kvm_amd, or use a VM with nested virtualization)", path);
		if (errno == EACCES || errno == EPERM)
			return err_set(e, "no permission to open %s: run as root or add your user to the "
				       "group that owns it (usually 'kvm')", path);
		return err_sys(e, "opening %s", path);
	}
	int v = ioctl(k->fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		err_set(e, "%s speaks KVM API version %d, we need %d", path, v, KVM_API_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(k->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			err_set(e, "this KVM lacks %s, which the VMM needs", required_caps[i].name);
			goto fail;
		}
	}
	/* KVM_GET_SUPPORTED_CPUID leaves this bit to userspace. */
	k->tsc_deadline = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	k->run_size = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size < (int)sizeof(struct kvm_run)) {
		err_sys(e, "KVM_GET_VCPU_MMAP_SIZE");
		goto fail;
	}
	return 0;
fail:
	close(k->fd);
	k->fd = -1;
	return -1;
}

void kvm_close(struct kvm *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

int kvm_supported_cpuid(struct kvm *k, struct kvm_cpuid2 **out, struct err *e)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return err_set(e, "out of memory");
		c->nent = n;
		if (ioctl(k->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return err_sys(e, "KVM_GET_SUPPORTED_CPUID");
	}
	return err_set(e, "KVM_GET_SUPPORTED_CPUID: too many entries");
}
