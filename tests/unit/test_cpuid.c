/* Unit tests for vmm/arch/x86/cpuid.c on a fake KVM_GET_SUPPORTED_CPUID
 * result. */
#include "unit.h"

#include "../../vmm/arch/x86/cpuid.h"

#define SIG KVM_CPUID_FLAG_SIGNIFCANT_INDEX

/* Cache descriptors for leaf 4, EAX bits 0-4 type, 5-7 level; the host's
 * core/sharing fields (bits 14-31) are set to junk the filter must
 * replace. */
#define HOST_JUNK_4 (0x3fu << 26 | 0xfffu << 14)
#define L1D (1u | 1u << 5 | 1u << 8)
#define L1I (2u | 1u << 5 | 1u << 8)
#define L2  (3u | 2u << 5 | 1u << 8)
#define L3  (3u | 3u << 5 | 1u << 9)

static const struct kvm_cpuid_entry2 host_leaves[] = {
	{ .function = 0x0, .eax = 0x1f, .ebx = 0x756e6547, .ecx = 0x6c65746e, .edx = 0x49656e69 },
	/* EBX: APIC ID 0x55, 0x22 logical CPUs, CLFLUSH 8, brand 0x34;
	 * EDX has HTT set, which a 1-CPU guest must lose. */
	{ .function = 0x1, .eax = 0x000906ea, .ebx = 0x55220834, .ecx = 0x7ffafbff,
	  .edx = 0xbfebfbff },
	{ .function = 0x4, .index = 0, .flags = SIG, .eax = HOST_JUNK_4 | L1D, .ebx = 0x01c0003f, .ecx = 0x3f },
	{ .function = 0x4, .index = 1, .flags = SIG, .eax = HOST_JUNK_4 | L1I, .ebx = 0x01c0003f, .ecx = 0x3f },
	{ .function = 0x4, .index = 2, .flags = SIG, .eax = HOST_JUNK_4 | L2, .ebx = 0x00c0003f, .ecx = 0x3ff },
	{ .function = 0x4, .index = 3, .flags = SIG, .eax = HOST_JUNK_4 | L3, .ebx = 0x03c0003f, .ecx = 0x2fff },
	{ .function = 0x4, .index = 4, .flags = SIG, .eax = 0, .ebx = 0, .ecx = 0, .edx = 0 },
	{ .function = 0x6, .eax = 0x27f7, .ebx = 2, .ecx = 9, .edx = 0 },
	{ .function = 0x7, .index = 0, .flags = SIG, .eax = 0, .ebx = 0x029c67af, .ecx = 0x40000000 },
	{ .function = 0xa, .eax = 0x07300404, .ebx = 0, .ecx = 0, .edx = 0x603 },
	{ .function = 0xb, .index = 0, .flags = SIG, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 0x55 },
	{ .function = 0xb, .index = 1, .flags = SIG, .eax = 4, .ebx = 12, .ecx = 0x201, .edx = 0x55 },
	{ .function = 0xb, .index = 2, .flags = SIG, .eax = 0, .ebx = 0, .ecx = 2, .edx = 0x55 },
	{ .function = 0x80000000, .eax = 0x80000008 },
	/* ECX: NC = 0x0b, ApicIdCoreIdSize = 4, plus bits 8-11 and 16-17
	 * that must survive. */
	{ .function = 0x80000008, .eax = 0x3027, .ecx = 0x0003470b },
};

#define NLEAVES ARRAY_SIZE(host_leaves)

static struct kvm_cpuid2 *fake_new(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + NLEAVES * sizeof(c->entries[0]));
	assert_non_null(c);
	c->nent = NLEAVES;
	memcpy(c->entries, host_leaves, sizeof(host_leaves));
	return c;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(c, fn, idx);
	if (!e)
		fail_msg("leaf 0x%x.%u missing", fn, idx);
	return e;
}

static const struct kvm_cpuid_entry2 *host_leaf(uint32_t fn, uint32_t idx)
{
	for (size_t i = 0; i < NLEAVES; i++)
		if (host_leaves[i].function == fn && host_leaves[i].index == idx)
			return &host_leaves[i];
	fail_msg("no host leaf 0x%x.%u", fn, idx);
	return NULL;
}

/* Bits needed to number N things (what a guest uses to split APIC IDs). */
static unsigned log2_up(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

static void test_cpuid_find(void **state)
{
	(void)state;
	struct kvm_cpuid2 *c = fake_new();
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 0x4, 2);
	assert_non_null(e);
	assert_int_equal(e->function, 0x4);
	assert_int_equal(e->index, 2);
	assert_int_equal(e->eax & 0xff, L2 & 0xff);
	e = cpuid_find(c, 0xb, 1);
	assert_non_null(e);
	assert_int_equal(e->index, 1);
	assert_ptr_equal(cpuid_find(c, 0xb, 0), &c->entries[10]);
	/* A subleaf that is not there. */
	assert_null(cpuid_find(c, 0x4, 7));
	assert_null(cpuid_find(c, 0xb, 3));
	/* Without the significant-index flag the index is ignored. */
	assert_ptr_equal(cpuid_find(c, 0x1, 0), &c->entries[1]);
	assert_ptr_equal(cpuid_find(c, 0x1, 5), &c->entries[1]);
	/* Absent leaves. */
	assert_null(cpuid_find(c, 0x2, 0));
	assert_null(cpuid_find(c, 0x40000000, 0));
	/* An empty array. */
	c->nent = 0;
	assert_null(cpuid_find(c, 0x1, 0));
	free(c);
}

/* Everything cpuid_filter() promises for vCPU ID of NCPUS. */
static void check_filtered(unsigned id, unsigned ncpus)
{
	struct kvm_cpuid2 *c = fake_new();
	cpuid_filter(c, id, ncpus);
	assert_int_equal(c->nent, NLEAVES);

	/* Leaf 1. */
	const struct kvm_cpuid_entry2 *h = host_leaf(0x1, 0);
	struct kvm_cpuid_entry2 *e = leaf(c, 0x1, 0);
	assert_int_equal(e->eax, h->eax);
	assert_int_equal(e->ebx >> 24, id);
	assert_int_equal((e->ebx >> 16) & 0xff, ncpus);
	assert_int_equal(e->ebx & 0xffff, h->ebx & 0xffff); /* CLFLUSH, brand kept */
	assert_true(e->ecx & CPUID_1_ECX_HYPERVISOR);
	assert_int_equal(e->ecx & ~CPUID_1_ECX_HYPERVISOR, h->ecx & ~CPUID_1_ECX_HYPERVISOR);
	assert_int_equal(!!(e->edx & CPUID_1_EDX_HTT), ncpus > 1);
	assert_int_equal(e->edx & ~CPUID_1_EDX_HTT, h->edx & ~CPUID_1_EDX_HTT);

	/* Leaf 4: cores per package, cache sharing; low bits kept. */
	for (uint32_t i = 0; i < 4; i++) {
		h = host_leaf(0x4, i);
		e = leaf(c, 0x4, i);
		unsigned level = (e->eax >> 5) & 7;
		assert_int_equal(e->eax & 0x3fff, h->eax & 0x3fff);
		assert_int_equal(e->eax >> 26, ncpus - 1);
		assert_int_equal((e->eax >> 14) & 0xfff, level >= 3 ? ncpus - 1 : 0);
		assert_int_equal(e->ebx, h->ebx);
		assert_int_equal(e->ecx, h->ecx);
	}
	e = leaf(c, 0x4, 4); /* the null descriptor ends the list: unchanged */
	assert_int_equal(e->eax, 0);

	/* Leaves 6 and 0xa: nothing. */
	e = leaf(c, 0x6, 0);
	assert_true(e->eax == 0 && e->ebx == 0 && e->ecx == 0 && e->edx == 0);
	e = leaf(c, 0xa, 0);
	assert_true(e->eax == 0 && e->ebx == 0 && e->ecx == 0 && e->edx == 0);

	/* Leaf 0xb: SMT level (1 thread), core level (ncpus), then invalid;
	 * EDX is the x2APIC ID on every subleaf. */
	e = leaf(c, 0xb, 0);
	assert_int_equal((e->ecx >> 8) & 0xff, 1); /* type SMT */
	assert_int_equal(e->ecx & 0xff, 0);
	assert_int_equal(e->ebx & 0xffff, 1);
	assert_int_equal(e->eax & 0x1f, 0);
	assert_int_equal(e->edx, id);
	e = leaf(c, 0xb, 1);
	assert_int_equal((e->ecx >> 8) & 0xff, 2); /* type core */
	assert_int_equal(e->ecx & 0xff, 1);
	assert_int_equal(e->ebx & 0xffff, ncpus);
	assert_int_equal(e->eax & 0x1f, log2_up(ncpus));
	assert_true((1u << (e->eax & 0x1f)) >= ncpus); /* shift covers every APIC ID */
	assert_int_equal(id >> (e->eax & 0x1f), 0);   /* all in package 0 */
	assert_int_equal(e->edx, id);
	e = leaf(c, 0xb, 2);
	assert_int_equal((e->ecx >> 8) & 0xff, 0);  /* invalid: end of levels */
	assert_int_equal(e->ecx & 0xff, 2);
	assert_int_equal(e->ebx & 0xffff, 0);
	assert_int_equal(e->edx, id);

	/* 0x80000008: NC = ncpus - 1, ApicIdCoreIdSize; other bits kept. */
	h = host_leaf(0x80000008, 0);
	e = leaf(c, 0x80000008, 0);
	assert_int_equal(e->eax, h->eax);
	assert_int_equal(e->ecx & 0xff, ncpus - 1);
	assert_int_equal((e->ecx >> 12) & 0xf, log2_up(ncpus));
	assert_int_equal(e->ecx & ~0xf0ffu, h->ecx & ~0xf0ffu);

	/* Leaves the filter does not know about are left alone. */
	static const uint32_t untouched[] = { 0x0, 0x7, 0x80000000 };
	for (size_t i = 0; i < ARRAY_SIZE(untouched); i++) {
		h = host_leaf(untouched[i], 0);
		e = leaf(c, untouched[i], 0);
		assert_memory_equal(e, h, sizeof(*e));
	}
	free(c);
}

static void test_cpuid_1_cpu(void **state) { (void)state; check_filtered(0, 1); }
static void test_cpuid_2_cpus_bsp(void **state) { (void)state; check_filtered(0, 2); }
static void test_cpuid_4_cpus_ap(void **state) { (void)state; check_filtered(3, 4); }
static void test_cpuid_3_cpus(void **state) { (void)state; check_filtered(2, 3); }
static void test_cpuid_32_cpus_last(void **state) { (void)state; check_filtered(31, 32); }

/* Filtering twice (e.g. the same array reused for the next vCPU after a
 * copy) gives the same result as once: nothing accumulates. */
static void test_cpuid_idempotent(void **state)
{
	(void)state;
	struct kvm_cpuid2 *a = fake_new(), *b = fake_new();
	cpuid_filter(a, 5, 8);
	cpuid_filter(b, 7, 16);
	cpuid_filter(b, 5, 8);
	assert_memory_equal(a->entries, b->entries, NLEAVES * sizeof(a->entries[0]));
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuid_find),
		cmocka_unit_test(test_cpuid_1_cpu),
		cmocka_unit_test(test_cpuid_2_cpus_bsp),
		cmocka_unit_test(test_cpuid_4_cpus_ap),
		cmocka_unit_test(test_cpuid_3_cpus),
		cmocka_unit_test(test_cpuid_32_cpus_last),
		cmocka_unit_test(test_cpuid_idempotent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
