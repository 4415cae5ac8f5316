/* Snapshots: the file format (vmm/snapshot/format.c), the loader's checks
 * (snapshot_parse, snapshot_serial), the RESTORED frame's payload
 * (common/proto.c) and the snapshot's record (cli/snapshot.c). */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "../../cli/snapshot.h"
#include "../../common/proto.h"
#include "../../vmm/arch/x86/vcpu_state.h"
#include "../../vmm/devices/serial.h"
#include "../../vmm/snapshot/format.h"
#include "../../vmm/snapshot/snapshot.h"

/* A file from W's records with a valid header; the caller frees it. */
static uint8_t *file_of(const struct snap_w *w, size_t *len)
{
	uint8_t *f = malloc(SNAP_HDR_SIZE + w->len);
	assert_non_null(f);
	snap_header(w, 0x1234, "test-build", f);
	memcpy(f + SNAP_HDR_SIZE, w->buf, w->len);
	*len = SNAP_HDR_SIZE + w->len;
	return f;
}

static void test_format_roundtrip(void **state)
{
	(void)state;
	struct snap_w w;
	snap_w_init(&w);
	snap_w_rec(&w, 7, "abc", 3, "de", 2);
	snap_w_rec(&w, 9, NULL, 0, NULL, 0);
	size_t len;
	uint8_t *f = file_of(&w, &len);
	struct snap_r r;
	struct err e;
	assert_int_equal(snap_open(&r, f, len, true, &e), 0);
	assert_int_equal(r.cpu_fp, 0x1234);
	assert_string_equal(r.build, "test-build");
	struct snap_rec rec;
	assert_int_equal(snap_next(&r, &rec), 1);
	assert_int_equal(rec.tag, 7);
	assert_int_equal(rec.len, 5);
	assert_memory_equal(rec.data, "abcde", 5);
	assert_int_equal(snap_next(&r, &rec), 1);
	assert_int_equal(rec.tag, 9);
	assert_int_equal(rec.len, 0);
	assert_int_equal(snap_next(&r, &rec), 0);
	assert_int_equal(snap_find(&r, 7, 5, &rec, &e), 0);
	assert_int_equal(snap_find(&r, 7, 4, &rec, &e), -1);
	assert_non_null(strstr(e.msg, "bytes"));
	assert_int_equal(snap_find(&r, 8, 0, &rec, &e), -1);
	free(f);
	snap_w_free(&w);
}

static void test_format_hostile(void **state)
{
	(void)state;
	struct snap_w w;
	snap_w_init(&w);
	snap_w_rec(&w, 1, "0123456789", 10, NULL, 0);
	size_t len;
	uint8_t *f = file_of(&w, &len);
	struct snap_r r;
	struct err e;
	/* truncated, padded, short of a header */
	assert_int_equal(snap_open(&r, f, len - 1, true, &e), -1);
	assert_non_null(strstr(e.msg, "truncated"));
	assert_int_equal(snap_open(&r, f, 10, true, &e), -1);
	/* one flipped payload byte: the checksum */
	f[SNAP_HDR_SIZE + 9] ^= 1;
	assert_int_equal(snap_open(&r, f, len, true, &e), -1);
	assert_non_null(strstr(e.msg, "checksum"));
	assert_int_equal(snap_open(&r, f, len, false, &e), 0);
	f[SNAP_HDR_SIZE + 9] ^= 1;
	/* a record longer than the payload */
	f[SNAP_HDR_SIZE + 4] = 11;
	assert_int_equal(snap_open(&r, f, len, false, &e), -1);
	assert_non_null(strstr(e.msg, "past the end"));
	f[SNAP_HDR_SIZE + 4] = 10;
	/* magic, version */
	f[0] = 'X';
	assert_int_equal(snap_open(&r, f, len, true, &e), -1);
	assert_non_null(strstr(e.msg, "magic"));
	f[0] = 'S';
	f[8] = 99;
	assert_int_equal(snap_open(&r, f, len, true, &e), -1);
	assert_non_null(strstr(e.msg, "version"));
	free(f);
	snap_w_free(&w);
}

/* A whole snapshot of NCPUS vCPUs and no device, as the VMM writes it
 * (the record layouts are snapshot.c's, mirrored here). */
struct t_config {
	uint64_t mem_bytes;
	uint32_t ncpus, nvirtio;
	uint32_t device_id[SNAP_MAX_DEVICES];
};
struct t_vcpu {
	uint32_t index, pad;
	struct vcpu_state s;
};

static void build(struct snap_w *w, unsigned ncpus, unsigned dup_vcpu, bool serial, uint8_t serial_bool)
{
	static struct t_vcpu v;
	struct t_config c = { .mem_bytes = 128 << 20, .ncpus = ncpus };
	snap_w_init(w);
	snap_w_rec(w, SNAP_T_CONFIG, &c, sizeof(c), NULL, 0);
	for (unsigned i = 0; i < ncpus; i++) {
		memset(&v, 0, sizeof(v));
		v.index = dup_vcpu ? 0 : i;
		snap_w_rec(w, SNAP_T_VCPU, &v, sizeof(v), NULL, 0);
	}
	struct vm_chip_state chips = { 0 };
	snap_w_rec(w, SNAP_T_CHIPS, &chips, sizeof(chips), NULL, 0);
	uint8_t ser[16] = { 0 };
	ser[9] = serial_bool;
	if (serial)
		snap_w_rec(w, SNAP_T_SERIAL, ser, sizeof(ser), NULL, 0);
}

static void test_parse(void **state)
{
	(void)state;
	static struct snap_parsed p;
	struct snap_w w;
	struct err e;
	size_t len;
	build(&w, 2, 0, true, 0);
	uint8_t *f = file_of(&w, &len);
	assert_int_equal(snapshot_parse(f, len, true, NULL, &p, &e), 0);
	assert_int_equal(p.ncpus, 2);
	assert_non_null(p.vcpu[1].data);
	struct serial_state u;
	assert_int_equal(snapshot_serial(&p.serial, &u, &e), 0);
	/* what the loading VMM expects */
	struct snap_expect x = { .build = "test-build", .cpu_fp = 0x1234, .mem_bytes = 128 << 20, .ncpus = 2 };
	assert_int_equal(snapshot_parse(f, len, true, &x, &p, &e), 0);
	x.build = "other";
	assert_int_equal(snapshot_parse(f, len, true, &x, &p, &e), -1);
	assert_non_null(strstr(e.msg, "another sandbox build"));
	x.build = "test-build";
	x.cpu_fp = 1;
	assert_int_equal(snapshot_parse(f, len, true, &x, &p, &e), -1);
	assert_non_null(strstr(e.msg, "CPU feature set"));
	x.cpu_fp = 0x1234;
	x.mem_bytes = 256 << 20;
	assert_int_equal(snapshot_parse(f, len, true, &x, &p, &e), -1);
	assert_non_null(strstr(e.msg, "is not this one"));
	free(f);
	snap_w_free(&w);

	/* a vCPU twice (and so one missing) */
	build(&w, 2, 1, true, 0);
	f = file_of(&w, &len);
	assert_int_equal(snapshot_parse(f, len, true, NULL, &p, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	free(f);
	snap_w_free(&w);
	/* no serial record */
	build(&w, 1, 0, false, 0);
	f = file_of(&w, &len);
	assert_int_equal(snapshot_parse(f, len, true, NULL, &p, &e), -1);
	free(f);
	snap_w_free(&w);
	/* an unknown record */
	build(&w, 1, 0, true, 0);
	snap_w_rec(&w, 99, "x", 1, NULL, 0);
	f = file_of(&w, &len);
	assert_int_equal(snapshot_parse(f, len, true, NULL, &p, &e), -1);
	assert_non_null(strstr(e.msg, "unknown record"));
	free(f);
	snap_w_free(&w);
	/* a serial bool that is not one */
	build(&w, 1, 0, true, 7);
	f = file_of(&w, &len);
	assert_int_equal(snapshot_parse(f, len, true, NULL, &p, &e), 0);
	assert_int_equal(snapshot_serial(&p.serial, &u, &e), -1);
	free(f);
	snap_w_free(&w);
}

static void test_restored_frame(void **state)
{
	(void)state;
	struct sb_restored a = { .realtime_ns = 1234567890123ULL, .has_net = true, .prefix = 24,
				 .addr = 0x0202a8c0, .gw = 0x0102a8c0 }, b;
	memcpy(a.mac, "\x02\x11\x22\x33\x44\x55", 6);
	memset(a.seed, 0xab, sizeof(a.seed));
	snprintf(a.hostname, sizeof(a.hostname), "clone-1.local");
	uint8_t buf[SB_RESTORED_SIZE];
	sb_restored_encode(&a, buf);
	assert_int_equal(sb_restored_decode(buf, sizeof(buf), &b), 0);
	assert_true(b.realtime_ns == a.realtime_ns);
	assert_memory_equal(b.seed, a.seed, sizeof(a.seed));
	assert_memory_equal(b.mac, a.mac, 6);
	assert_string_equal(b.hostname, "clone-1.local");
	assert_true(b.has_net && b.prefix == 24 && b.addr == a.addr && b.gw == a.gw);
	assert_true(sb_frame_valid(SB_F_RESTORED, SB_RESTORED_SIZE, false));
	assert_false(sb_frame_valid(SB_F_RESTORED, SB_RESTORED_SIZE - 1, false));
	assert_false(sb_frame_valid(SB_F_QUIESCE, 0, true));   /* the guest does not send it */
	assert_true(sb_frame_valid(SB_F_QUIESCED, 0, true));
	assert_int_equal(sb_restored_decode(buf, sizeof(buf) - 1, &b), -1);
	uint8_t bad[SB_RESTORED_SIZE];
	memcpy(bad, buf, sizeof(bad));
	bad[79] = 33;                           /* prefix */
	assert_int_equal(sb_restored_decode(bad, sizeof(bad), &b), -1);
	memcpy(bad, buf, sizeof(bad));
	bad[88] = '/';                          /* a host name character */
	assert_int_equal(sb_restored_decode(bad, sizeof(bad), &b), -1);
	memcpy(bad, buf, sizeof(bad));
	memset(bad + 88, 'a', 64);              /* not terminated */
	assert_int_equal(sb_restored_decode(bad, sizeof(bad), &b), -1);
	memcpy(bad, buf, sizeof(bad));
	bad[78] = 2;                            /* has_net */
	assert_int_equal(sb_restored_decode(bad, sizeof(bad), &b), -1);
}

/* Replace LINE (which must be there) in the file at PATH with WITH. */
static void edit_line(const char *path, const char *line, const char *with)
{
	char text[8192], out[8192];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	char *k = strstr(text, line);
	assert_non_null(k);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(k - text), text, with, k + strlen(line));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(out, f);
	fclose(f);
}

static void test_record(void **state)
{
	(void)state;
	char dir[] = "/tmp/sandbox-unit-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/meta", dir);
	struct vm_record r = { .mem_bytes = 128 << 20, .ncpus = 2, .net = 1, .layer = 1, .created = 5, .uid = 7,
			       .pmem = 1 };
	snprintf(r.image, sizeof(r.image), "busybox");
	snprintf(r.command, sizeof(r.command), "sleep infinity");
	snprintf(r.disk, sizeof(r.disk), "/images/x.erofs");
	snprintf(r.stop_signal, sizeof(r.stop_signal), "SIGTERM");
	snprintf(r.cpus, sizeof(r.cpus), "1.5");
	struct err e;
	assert_int_equal(vm_record_write(path, &r, &e), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct vm_record b;
	assert_int_equal(vm_record_read(path, &b, &e), 0);
	assert_memory_equal(&r, &b, sizeof(r));
	/* image_transport: written since pmem snapshots; without it, blk;
	 * balloon: written since clones take it from their snapshot; without
	 * it, on; another value is damage */
	edit_line(path, "image_transport=pmem\n", "");
	assert_int_equal(vm_record_read(path, &b, &e), 0);
	assert_int_equal(b.pmem, 0);
	assert_int_equal(b.balloon, 0);
	edit_line(path, "balloon=0\n", "");
	assert_int_equal(vm_record_read(path, &b, &e), 0);
	assert_int_equal(b.balloon, 1);
	r.balloon = 1;
	assert_int_equal(vm_record_write(path, &r, &e), 0);
	assert_int_equal(vm_record_read(path, &b, &e), 0);
	assert_memory_equal(&r, &b, sizeof(r));
	edit_line(path, "balloon=1\n", "balloon=2\n");
	assert_int_equal(vm_record_read(path, &b, &e), -1);
	assert_int_equal(vm_record_write(path, &r, &e), 0);
	FILE *f = fopen(path, "a");
	fprintf(f, "image_transport=dax\n");
	fclose(f);
	assert_int_equal(vm_record_read(path, &b, &e), -1);
	assert_int_equal(vm_record_write(path, &r, &e), 0);
	/* damaged: a key twice, one missing, a value out of range */
	f = fopen(path, "a");
	fprintf(f, "net=0\n");
	fclose(f);
	assert_int_equal(vm_record_read(path, &b, &e), -1);
	assert_non_null(strstr(e.msg, "damaged"));
	r.ncpus = 0;
	assert_int_equal(vm_record_write(path, &r, &e), 0);
	assert_int_equal(vm_record_read(path, &b, &e), -1);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_roundtrip), cmocka_unit_test(test_format_hostile),
		cmocka_unit_test(test_parse),            cmocka_unit_test(test_restored_frame),
		cmocka_unit_test(test_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
