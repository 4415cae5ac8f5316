/* Unit tests for vmm/arch/x86/mptable.c: the MP floating pointer and
 * configuration table, parsed back the way a guest would read them. */
#include "unit.h"

#include "../../vmm/arch/x86/layout.h"
#include "../../vmm/arch/x86/mptable.h"

#define FILL 0xcc

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s += p[i];
	return s;
}

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Write the table for NCPUS into fresh memory and check all of it. */
static void check_table(unsigned ncpus)
{
	struct guest_mem gm;
	test_gm_alloc(&gm, 2 * MIB, FILL);
	struct err e = { 0 };
	int n = mptable_write(&gm, ncpus, &e);
	if (n < 0)
		fail_msg("%u CPUs: %s", ncpus, e.msg);
	assert_int_equal(n, mptable_size(ncpus));
	assert_true(MPTABLE_ADDR + (uint64_t)n <= EBDA_END);
	/* Nothing written outside the table. */
	assert_true(all_bytes(gm.host, MPTABLE_ADDR, FILL));
	assert_true(all_bytes(gm.host + MPTABLE_ADDR + n, gm.size - MPTABLE_ADDR - n, FILL));

	/* Floating pointer: 16 bytes, "_MP_", sums to zero. */
	const uint8_t *mpf = gm.host + MPTABLE_ADDR;
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(sum8(mpf, 16), 0);
	assert_int_equal(mpf[8], 1); /* length in 16-byte units */
	assert_int_equal(mpf[9], 4); /* MP spec 1.4 */
	assert_true(all_bytes(mpf + 11, 5, 0)); /* no default config: table present */
	uint32_t physptr = rd32(mpf + 4);
	assert_int_equal(physptr, MPTABLE_ADDR + 16);

	/* Configuration table header. */
	const uint8_t *mpc = gm.host + physptr;
	assert_memory_equal(mpc, "PCMP", 4);
	uint16_t length = rd16(mpc + 4);
	assert_int_equal(length, (uint64_t)n - 16);
	assert_int_equal(mpc[6], 4);
	assert_int_equal(sum8(mpc, length), 0);
	uint16_t count = rd16(mpc + 34);
	assert_int_equal(count, ncpus + 1 + 1 + 24 + 2);
	assert_int_equal(rd32(mpc + 36), LAPIC_ADDR);

	/* Walk the entries as Linux's smp_read_mpc() does. */
	unsigned cpus = 0, buses = 0, ioapics = 0, intsrcs = 0, lintsrcs = 0;
	const uint8_t *p = mpc + 44, *end = mpc + length;
	for (unsigned i = 0; i < count; i++) {
		assert_true(p < end);
		switch (p[0]) {
		case 0: /* processor */
			assert_int_equal(p[1], cpus); /* APIC IDs 0..n-1 in order */
			assert_true(p[3] & 1);          /* enabled */
			assert_int_equal(!!(p[3] & 2), cpus == 0); /* BSP only on CPU 0 */
			cpus++;
			p += 20;
			break;
		case 1: /* bus */
			assert_memory_equal(p + 2, "ISA   ", 6);
			buses++;
			p += 8;
			break;
		case 2: /* IOAPIC */
			assert_int_equal(p[1], ncpus); /* ID after the CPUs' APIC IDs */
			assert_true(p[3] & 1);         /* usable */
			assert_int_equal(rd32(p + 4), IOAPIC_ADDR);
			ioapics++;
			p += 8;
			break;
		case 3: /* I/O interrupt: ISA IRQ n -> IOAPIC pin n */
			assert_int_equal(p[4], 0);        /* source bus: ISA */
			assert_int_equal(p[5], intsrcs);  /* source IRQ */
			assert_int_equal(p[6], ncpus);    /* destination IOAPIC */
			assert_int_equal(p[7], intsrcs);  /* pin */
			intsrcs++;
			p += 8;
			break;
		case 4: /* local interrupt: LINT0 ExtINT, LINT1 NMI */
			assert_int_equal(p[1], lintsrcs == 0 ? 3 : 1);
			assert_int_equal(p[7], lintsrcs);
			lintsrcs++;
			p += 8;
			break;
		default:
			fail_msg("entry %u: unknown type %u", i, p[0]);
		}
	}
	assert_ptr_equal(p, end); /* the entries fill the table exactly */
	assert_int_equal(cpus, ncpus);
	assert_int_equal(buses, 1);
	assert_int_equal(ioapics, 1);
	assert_int_equal(intsrcs, IOAPIC_PINS);
	assert_int_equal(lintsrcs, 2);
	test_gm_release(&gm);
}

static void test_mptable_1cpu(void **state) { (void)state; check_table(1); }
static void test_mptable_2cpus(void **state) { (void)state; check_table(2); }
static void test_mptable_32cpus(void **state) { (void)state; check_table(32); }

static void test_mptable_cpu_count_rejected(void **state)
{
	(void)state;
	struct guest_mem gm;
	test_gm_alloc(&gm, 2 * MIB, FILL);
	struct err e = { 0 };
	assert_int_equal(mptable_write(&gm, 0, &e), -1);
	assert_err_contains(&e, "out of range");
	memset(&e, 0, sizeof(e));
	assert_int_equal(mptable_write(&gm, MAX_VCPUS + 1, &e), -1);
	assert_err_contains(&e, "33");
	assert_int_equal(mptable_write(&gm, 255, &e), -1);
	assert_int_equal(mptable_write(&gm, 256, &e), -1); /* would wrap a u8 APIC ID */
	assert_true(all_bytes(gm.host, gm.size, FILL));
	test_gm_release(&gm);
}

static void test_mptable_memory_too_small(void **state)
{
	(void)state;
	struct guest_mem gm;
	struct err e = { 0 };
	/* Memory ends in the middle of where the table would go. */
	test_gm_alloc(&gm, MPTABLE_ADDR + 64, FILL);
	assert_int_equal(mptable_write(&gm, 1, &e), -1);
	assert_err_contains(&e, "too small for the MP table");
	assert_true(all_bytes(gm.host, gm.size, FILL));
	test_gm_release(&gm);
	/* Just enough for 1 CPU, not for 2. */
	test_gm_alloc(&gm, MPTABLE_ADDR + mptable_size(1), FILL);
	assert_int_equal(mptable_write(&gm, 1, &e), (int)mptable_size(1));
	assert_int_equal(mptable_write(&gm, 2, &e), -1);
	test_gm_release(&gm);
}

static void test_mptable_size(void **state)
{
	(void)state;
	/* 16 + 44 + 20 per CPU + 8 (bus) + 8 (IOAPIC) + 26 * 8 (interrupts) */
	assert_int_equal(mptable_size(1), 16 + 44 + 20 + 8 + 8 + 26 * 8);
	assert_int_equal(mptable_size(2) - mptable_size(1), 20);
	assert_true(mptable_size(32) <= 1024);
	assert_true(mptable_size(MAX_VCPUS) <= MPTABLE_MAX);
	assert_true(MPTABLE_ADDR + MPTABLE_MAX <= EBDA_END);
}

static void test_mp_checksum(void **state)
{
	(void)state;
	uint8_t buf[7] = { 1, 2, 3, 0xff, 0x80, 0, 0 };
	buf[6] = mp_checksum(buf, 6);
	assert_int_equal(sum8(buf, 7), 0);
	assert_int_equal(mp_checksum(buf, 0), 0);
	uint8_t z[3] = { 0, 0, 0 };
	assert_int_equal(mp_checksum(z, 3), 0);
	uint8_t one = 1;
	assert_int_equal(mp_checksum(&one, 1), 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mptable_1cpu),
		cmocka_unit_test(test_mptable_2cpus),
		cmocka_unit_test(test_mptable_32cpus),
		cmocka_unit_test(test_mptable_cpu_count_rejected),
		cmocka_unit_test(test_mptable_memory_too_small),
		cmocka_unit_test(test_mptable_size),
		cmocka_unit_test(test_mp_checksum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
