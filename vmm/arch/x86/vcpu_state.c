/* Saving and restoring x86 vCPU and in-kernel device state through KVM.
 * The order of the restore follows what KVM needs: special registers
 * (with the APIC base) before the LAPIC, MSRs (TSC among them) before the
 * events, and the clock last. */
#include "vcpu_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

static uint32_t msr_index[VCPU_STATE_MAX_MSRS];
static uint32_t msr_count;

int vcpu_state_msr_list(int kvm_fd, struct err *e)
{
	/* struct kvm_msr_list: u32 nmsrs, then the indices */
	uint32_t req[1 + 1024] = { 1024 };
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, req))
		return err_sys(e, "KVM_GET_MSR_INDEX_LIST");
	msr_count = 0;
	for (uint32_t i = 0; i < req[0] && i < 1024 && msr_count < VCPU_STATE_MAX_MSRS; i++)
		msr_index[msr_count++] = req[1 + i];
	return 0;
}

/* One MSR at a time: KVM_GET_MSRS stops at the first it cannot read (an
 * MSR the vCPU's CPUID does not have), and those are left out. */
static int save_msrs(int fd, struct vcpu_state *s, struct err *e)
{
	s->nmsrs = 0;
	for (uint32_t i = 0; i < msr_count; i++) {
		/* struct kvm_msrs (u32 nmsrs, u32 pad) and one entry */
		uint64_t one[1 + sizeof(struct kvm_msr_entry) / 8] = { 1 };
		struct kvm_msr_entry ent = { .index = msr_index[i] };
		memcpy(one + 1, &ent, sizeof(ent));
		int r = ioctl(fd, KVM_GET_MSRS, one);
		if (r < 0)
			return err_sys(e, "KVM_GET_MSRS");
		if (r == 1)
			memcpy(&s->msrs[s->nmsrs++], one + 1, sizeof(ent));
	}
	return 0;
}

int vcpu_state_save(int fd, struct vcpu_state *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	if (ioctl(fd, KVM_GET_MP_STATE, &s->mp))
		return err_sys(e, "KVM_GET_MP_STATE");
	if (ioctl(fd, KVM_GET_REGS, &s->regs))
		return err_sys(e, "KVM_GET_REGS");
	if (ioctl(fd, KVM_GET_SREGS, &s->sregs))
		return err_sys(e, "KVM_GET_SREGS");
	if (ioctl(fd, KVM_GET_XSAVE, s->xsave))
		return err_sys(e, "KVM_GET_XSAVE");
	if (ioctl(fd, KVM_GET_XCRS, &s->xcrs))
		return err_sys(e, "KVM_GET_XCRS");
	if (ioctl(fd, KVM_GET_DEBUGREGS, &s->debugregs))
		return err_sys(e, "KVM_GET_DEBUGREGS");
	if (ioctl(fd, KVM_GET_LAPIC, &s->lapic))
		return err_sys(e, "KVM_GET_LAPIC");
	if (save_msrs(fd, s, e))
		return -1;
	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events))
		return err_sys(e, "KVM_GET_VCPU_EVENTS");
	return 0;
}

int vcpu_state_restore(int fd, const struct vcpu_state *s, struct err *e)
{
	if (s->nmsrs > VCPU_STATE_MAX_MSRS)
		return err_set(e, "vCPU state: %u MSRs (at most %u)", s->nmsrs, VCPU_STATE_MAX_MSRS);
	if (ioctl(fd, KVM_SET_MP_STATE, &s->mp))
		return err_sys(e, "KVM_SET_MP_STATE");
	if (ioctl(fd, KVM_SET_REGS, &s->regs))
		return err_sys(e, "KVM_SET_REGS");
	if (ioctl(fd, KVM_SET_SREGS, &s->sregs))
		return err_sys(e, "KVM_SET_SREGS");
	if (ioctl(fd, KVM_SET_XSAVE, s->xsave))
		return err_sys(e, "KVM_SET_XSAVE");
	/* A host CPU without XSAVE reports no XCRs and takes none. */
	if (s->xcrs.nr_xcrs > KVM_MAX_XCRS)
		return err_set(e, "vCPU state: %u XCRs", s->xcrs.nr_xcrs);
	if (s->xcrs.nr_xcrs && ioctl(fd, KVM_SET_XCRS, &s->xcrs))
		return err_sys(e, "KVM_SET_XCRS");
	if (ioctl(fd, KVM_SET_DEBUGREGS, &s->debugregs))
		return err_sys(e, "KVM_SET_DEBUGREGS");
	if (ioctl(fd, KVM_SET_LAPIC, &s->lapic))
		return err_sys(e, "KVM_SET_LAPIC");
	/* struct kvm_msrs: u32 nmsrs, u32 pad, the entries */
	uint64_t *m = calloc(1 + s->nmsrs * sizeof(struct kvm_msr_entry) / 8, 8);
	if (!m)
		return err_oom(e, "vCPU state");
	m[0] = s->nmsrs;
	memcpy(m + 1, s->msrs, s->nmsrs * sizeof(struct kvm_msr_entry));
	int r = ioctl(fd, KVM_SET_MSRS, m);
	free(m);
	if (r < 0)
		return err_sys(e, "KVM_SET_MSRS");
	if ((uint32_t)r != s->nmsrs)
		return err_set(e, "KVM_SET_MSRS: MSR 0x%x refused (another CPU model?)", s->msrs[r].index);
	if (ioctl(fd, KVM_SET_VCPU_EVENTS, &s->events))
		return err_sys(e, "KVM_SET_VCPU_EVENTS");
	return 0;
}

int vm_chip_save(int vm_fd, struct vm_chip_state *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	s->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	s->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	if (ioctl(vm_fd, KVM_GET_IRQCHIP, &s->pic_master) || ioctl(vm_fd, KVM_GET_IRQCHIP, &s->pic_slave) ||
	    ioctl(vm_fd, KVM_GET_IRQCHIP, &s->ioapic))
		return err_sys(e, "KVM_GET_IRQCHIP");
	if (ioctl(vm_fd, KVM_GET_PIT2, &s->pit))
		return err_sys(e, "KVM_GET_PIT2");
	if (ioctl(vm_fd, KVM_GET_CLOCK, &s->clock))
		return err_sys(e, "KVM_GET_CLOCK");
	return 0;
}

int vm_chip_restore(int vm_fd, const struct vm_chip_state *s, struct err *e)
{
	if (s->pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER || s->pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
	    s->ioapic.chip_id != KVM_IRQCHIP_IOAPIC)
		return err_set(e, "interrupt controller state: wrong chip ids");
	struct kvm_irqchip c[3] = { s->pic_master, s->pic_slave, s->ioapic };
	for (int i = 0; i < 3; i++)
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &c[i]))
			return err_sys(e, "KVM_SET_IRQCHIP %d", i);
	struct kvm_pit_state2 pit = s->pit;
	if (ioctl(vm_fd, KVM_SET_PIT2, &pit))
		return err_sys(e, "KVM_SET_PIT2");
	/* The guest's clock continues where it was saved (no jump for its
	 * monotonic time); the agent steps the wall clock after the restore. */
	struct kvm_clock_data clk = { .clock = s->clock.clock };
	if (ioctl(vm_fd, KVM_SET_CLOCK, &clk))
		return err_sys(e, "KVM_SET_CLOCK");
	return 0;
}
