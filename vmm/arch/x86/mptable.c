#include "mptable.h"

#include <string.h>

#include "layout.h"

/* Structures from the MP specification 1.4, chapter 4. */
struct mpf_intel {              /* floating pointer, 16 bytes */
	char signature[4];      /* "_MP_" */
	uint32_t physptr;       /* configuration table address */
	uint8_t length;         /* in 16-byte units: 1 */
	uint8_t specification;  /* 4 = version 1.4 */
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {              /* configuration table header, 44 bytes */
	char signature[4];      /* "PCMP" */
	uint16_t length;        /* header + entries */
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;      /* number of entries */
	uint32_t lapic;         /* local APIC address */
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {                /* type 0, 20 bytes */
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {                /* type 1, 8 bytes */
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {             /* type 2, 8 bytes */
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {             /* type 3 (I/O) and 4 (local), 8 bytes */
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };
#define CPU_ENABLED     1
#define CPU_BOOTPROCESSOR 2
#define MPC_APIC_USABLE 1
#define APIC_VERSION    0x14
#define IOAPIC_VERSION  0x11
#define CPU_FEATURE_FPU  (1u << 0)
#define CPU_FEATURE_APIC (1u << 9)

uint8_t mp_checksum(const void *buf, uint64_t len)
{
	const uint8_t *p = buf;
	uint8_t sum = 0;
	for (uint64_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)(0 - sum);
}

uint64_t mptable_size(unsigned ncpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       (uint64_t)ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + (IOAPIC_PINS + 2) * sizeof(struct mpc_intsrc);
}

int mptable_write(const struct guest_mem *gm, unsigned ncpus, struct err *e)
{
	if (ncpus == 0 || ncpus > MAX_VCPUS)
		return err_set(e, "vCPU count %u out of range 1..%u", ncpus, MAX_VCPUS);
	uint64_t size = mptable_size(ncpus);
	if (size > MPTABLE_MAX)
		return err_set(e, "MP table for %u vCPUs needs %llu bytes, more than %llu", ncpus,
			       (unsigned long long)size, (unsigned long long)MPTABLE_MAX);
	uint8_t *base = gm_ptr(gm, MPTABLE_ADDR, size);
	if (!base)
		return err_set(e, "guest memory too small for the MP table");
	memset(base, 0, size);

	struct mpf_intel *mpf = (void *)base;
	struct mpc_table *mpc = (void *)(mpf + 1);
	uint8_t *p = (uint8_t *)(mpc + 1);
	uint16_t count = 0;
	const uint8_t ioapic_id = (uint8_t)ncpus;

	for (unsigned i = 0; i < ncpus; i++) {
		struct mpc_cpu c = {
			.type = MP_PROCESSOR, .apicid = (uint8_t)i, .apicver = APIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0),
			.cpufeature = 0x600, /* family 6, as a generic signature */
			.featureflag = CPU_FEATURE_FPU | CPU_FEATURE_APIC,
		};
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
		count++;
	}
	struct mpc_bus bus = { .type = MP_BUS, .busid = 0, .bustype = { 'I', 'S', 'A', ' ', ' ', ' ' } };
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	count++;
	struct mpc_ioapic io = { .type = MP_IOAPIC, .apicid = ioapic_id, .apicver = IOAPIC_VERSION,
				 .flags = MPC_APIC_USABLE, .apicaddr = (uint32_t)IOAPIC_ADDR };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	count++;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		struct mpc_intsrc s = { .type = MP_INTSRC, .irqtype = MP_INT, .irqflag = 0, .srcbus = 0,
					.srcbusirq = (uint8_t)pin, .dstapic = ioapic_id, .dstirq = (uint8_t)pin };
		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
		count++;
	}
	struct mpc_intsrc lint0 = { .type = MP_LINTSRC, .irqtype = MP_EXTINT, .srcbus = 0,
				    .srcbusirq = 0, .dstapic = 0, .dstirq = 0 };
	struct mpc_intsrc lint1 = { .type = MP_LINTSRC, .irqtype = MP_NMI, .srcbus = 0,
				    .srcbusirq = 0, .dstapic = 0xff, .dstirq = 1 };
	memcpy(p, &lint0, sizeof(lint0));
	p += sizeof(lint0);
	memcpy(p, &lint1, sizeof(lint1));
	p += sizeof(lint1);
	count += 2;

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = (uint16_t)(p - (uint8_t *)mpc);
	mpc->spec = 4;
	memcpy(mpc->oem, "SANDBOX ", 8);
	memcpy(mpc->productid, "MICROVM     ", 12);
	mpc->oemcount = count;
	mpc->lapic = (uint32_t)LAPIC_ADDR;
	mpc->checksum = mp_checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(MPTABLE_ADDR + sizeof(*mpf));
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = mp_checksum(mpf, sizeof(*mpf));
	return (int)size;
}
