#include "regs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "boot.h"
#include "cpuid.h"
#include "layout.h"

#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 1ULL
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI 0x4

int regs_set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned id, unsigned ncpus,
		   bool tsc_deadline, struct err *e)
{
	size_t sz = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return err_set(e, "out of memory");
	memcpy(c, supported, sz);
	cpuid_filter(c, id, ncpus);
	/* Without it Linux calibrates and verifies the LAPIC timer against
	 * the PIT at boot, which costs time and may fail under load. */
	struct kvm_cpuid_entry2 *l1 = cpuid_find(c, 1, 0);
	if (tsc_deadline && l1)
		l1->ecx |= CPUID_1_ECX_TSC_DEADLINE;
	int r = ioctl(vcpu_fd, KVM_SET_CPUID2, c);
	free(c);
	if (r)
		return err_sys(e, "KVM_SET_CPUID2");
	return 0;
}

int regs_set_lapic(int vcpu_fd, struct err *e)
{
	struct kvm_lapic_state l;
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &l))
		return err_sys(e, "KVM_GET_LAPIC");
	uint32_t v;
	memcpy(&v, l.regs + APIC_LVT0, 4);
	v = (v & ~0x700u) | (APIC_MODE_EXTINT << 8);
	memcpy(l.regs + APIC_LVT0, &v, 4);
	memcpy(&v, l.regs + APIC_LVT1, 4);
	v = (v & ~0x700u) | (APIC_MODE_NMI << 8);
	memcpy(l.regs + APIC_LVT1, &v, 4);
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &l))
		return err_sys(e, "KVM_SET_LAPIC");
	return 0;
}

/* Expand a GDT descriptor into KVM's segment form. */
static struct kvm_segment seg_from_gdt(uint64_t d, unsigned index)
{
	struct kvm_segment s = {
		.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24),
		.limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16)),
		.selector = (uint16_t)(index * 8),
		.type = (d >> 40) & 0xf,
		.s = (d >> 44) & 1,
		.dpl = (d >> 45) & 3,
		.present = (d >> 47) & 1,
		.avl = (d >> 52) & 1,
		.l = (d >> 53) & 1,
		.db = (d >> 54) & 1,
		.g = (d >> 55) & 1,
	};
	if (s.g)
		s.limit = (s.limit << 12) | 0xfff;
	s.unusable = !s.present;
	return s;
}

int regs_set_boot_cpu(int vcpu_fd, uint64_t entry, struct err *e)
{
	struct kvm_sregs sr;
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sr))
		return err_sys(e, "KVM_GET_SREGS");
	struct kvm_segment code = seg_from_gdt(boot_gdt[BOOT_GDT_CODE], BOOT_GDT_CODE);
	struct kvm_segment data = seg_from_gdt(boot_gdt[BOOT_GDT_DATA], BOOT_GDT_DATA);
	struct kvm_segment tss = seg_from_gdt(boot_gdt[BOOT_GDT_TSS], BOOT_GDT_TSS);
	sr.cs = code;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data;
	sr.tr = tss;
	sr.gdt.base = BOOT_GDT_ADDR;
	sr.gdt.limit = sizeof(boot_gdt) - 1;
	sr.idt.base = BOOT_IDT_ADDR;
	sr.idt.limit = 7;
	sr.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sr.cr3 = PML4_ADDR;
	sr.cr4 = X86_CR4_PAE;
	sr.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sr))
		return err_sys(e, "KVM_SET_SREGS");

	struct kvm_regs r = {
		.rip = entry,
		.rsi = ZERO_PAGE_ADDR,  /* boot protocol: RSI points at boot_params */
		.rsp = BOOT_STACK_ADDR,
		.rbp = BOOT_STACK_ADDR,
		.rflags = 0x2,          /* bit 1 is always set; interrupts off */
	};
	if (ioctl(vcpu_fd, KVM_SET_REGS, &r))
		return err_sys(e, "KVM_SET_REGS");

	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	if (ioctl(vcpu_fd, KVM_SET_FPU, &fpu))
		return err_sys(e, "KVM_SET_FPU");

	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} msrs = { .hdr.nmsrs = 1 };
	msrs.hdr.entries[0] = (struct kvm_msr_entry){ .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING };
	if (ioctl(vcpu_fd, KVM_SET_MSRS, &msrs) != 1)
		return err_sys(e, "KVM_SET_MSRS");
	return 0;
}
