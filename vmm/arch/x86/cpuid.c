#include "cpuid.h"

#include <stddef.h>

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

static void topology_leaf(struct kvm_cpuid_entry2 *e, unsigned id, unsigned ncpus)
{
	/* Level 0 is SMT (1 thread per core), level 1 is core (ncpus per
	 * package), anything above is invalid. EDX is the x2APIC ID. */
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (1u << 8) | e->index;
		break;
	case 1:
		e->eax = bits_for(ncpus);
		e->ebx = ncpus;
		e->ecx = (2u << 8) | e->index;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
		break;
	}
	e->edx = id;
}

void cpuid_filter(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 0x1:
			e->ebx = (e->ebx & 0x0000ffffu) | (id << 24) | ((ncpus & 0xff) << 16);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (ncpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 0x4:
			/* EAX[31:26]: cores per package - 1; EAX[25:14]: threads
			 * sharing this cache - 1 (L3 shared by all, others private). */
			if (e->eax & 0x1f) {
				unsigned level = (e->eax >> 5) & 0x7;
				unsigned sharing = level >= 3 ? ncpus - 1 : 0;
				e->eax = (e->eax & 0x3fffu) | ((ncpus - 1) << 26) | (sharing << 14);
			}
			break;
		case 0x6:
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xa:
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xb:
		case 0x1f:
			topology_leaf(e, id, ncpus);
			break;
		case 0x80000008:
			e->ecx = (e->ecx & ~0xf0ffu) | ((ncpus - 1) & 0xff) | (bits_for(ncpus) << 12);
			break;
		}
	}
}
