/* KVM's binary statistics: see kvm_stats.h. */
#include "kvm_stats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

const char *const kvm_stat_names[KS_N] = {
	[KS_EXITS] = "exits",
	[KS_PF_TAKEN] = "pf_taken",
	[KS_PF_FIXED] = "pf_fixed",
	[KS_PF_SPURIOUS] = "pf_spurious",
	[KS_PF_FAST] = "pf_fast",
	[KS_HALT_EXITS] = "halt_exits",
	[KS_IO_EXITS] = "io_exits",
	[KS_MMIO_EXITS] = "mmio_exits",
	[KS_IRQ_EXITS] = "irq_exits",
	[KS_PAGES_4K] = "pages_4k",
	[KS_PAGES_2M] = "pages_2m",
};

/* The kernel's layout (include/uapi/linux/kvm.h), spelled out so that
 * parsing does not depend on the installed headers' version. */
#define HDR_SIZE 24u      /* flags, name_size, num_desc, id_offset, desc_offset, data_offset */
#define DESC_FIXED 16u    /* flags, exponent, size, offset, bucket_size */
#define NAME_MAX_LEN 4096u

static uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t le16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

int kvm_stats_parse(const uint8_t *buf, size_t len, uint64_t sum[KS_N], uint32_t *found, struct err *e)
{
	if (len < HDR_SIZE)
		return err_set(e, "kvm stats: %zu bytes, shorter than the header", len);
	uint32_t name_size = le32(buf + 4), ndesc = le32(buf + 8);
	uint32_t desc_off = le32(buf + 16), data_off = le32(buf + 20);
	if (name_size == 0 || name_size > NAME_MAX_LEN)
		return err_set(e, "kvm stats: name size %u", name_size);
	uint64_t stride = DESC_FIXED + (uint64_t)name_size;
	if (desc_off < HDR_SIZE || desc_off > len || (uint64_t)ndesc * stride > len - desc_off)
		return err_set(e, "kvm stats: %u descriptors at %u do not fit %zu bytes", ndesc, desc_off, len);
	if (data_off > len)
		return err_set(e, "kvm stats: data at %u beyond %zu bytes", data_off, len);
	uint64_t add[KS_N] = { 0 };
	uint32_t got = 0;
	for (uint32_t i = 0; i < ndesc; i++) {
		const uint8_t *d = buf + desc_off + i * stride;
		uint16_t size = le16(d + 6);
		uint32_t off = le32(d + 8);
		const char *name = (const char *)(d + DESC_FIXED);
		if (memchr(name, 0, name_size) == NULL)
			return err_set(e, "kvm stats: descriptor %u's name has no end", i);
		if ((uint64_t)off + (uint64_t)size * 8 > len - data_off)
			return err_set(e, "kvm stats: %s's %u values at %u beyond the data", name, size, off);
		for (unsigned k = 0; k < KS_N; k++) {
			if (size == 0 || strcmp(name, kvm_stat_names[k]) != 0)
				continue;
			uint64_t v;
			memcpy(&v, buf + data_off + off, 8);
			add[k] += v;
			got |= 1u << k;
		}
	}
	for (unsigned k = 0; k < KS_N; k++)
		sum[k] += add[k];
	*found |= got;
	return 0;
}

int kvm_stats_open(int kvm_obj_fd)
{
#ifdef KVM_GET_STATS_FD
	return ioctl(kvm_obj_fd, KVM_GET_STATS_FD, NULL);
#else
	(void)kvm_obj_fd;
	errno = ENOTTY;
	return -1;
#endif
}

int kvm_stats_collect(int sfd, uint64_t sum[KS_N], uint32_t *found, struct err *e)
{
	uint8_t *buf = malloc(KVM_STATS_MAX_FILE);
	if (!buf)
		return err_oom(e, "kvm stats");
	size_t n = 0;
	for (;;) {
		ssize_t r = read(sfd, buf + n, KVM_STATS_MAX_FILE - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return err_sys(e, "reading kvm stats");
		}
		if (r == 0 || (n += (size_t)r) == KVM_STATS_MAX_FILE)
			break;
	}
	int rc = kvm_stats_parse(buf, n, sum, found, e);
	free(buf);
	return rc;
}
