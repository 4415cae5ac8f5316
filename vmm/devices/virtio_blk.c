/* virtio-blk (virtio 1.x, 5.2): disks backed by host files.
 *
 *   --disk PATH[,ro][,id=ID]
 *
 * Every request is checked before anything touches the file: the 16-byte
 * header must be readable, the status byte is the last writable byte, the
 * data direction must match the type, lengths are whole sectors and the
 * sector range lies inside the capacity (no overflow). A bad request gets
 * IOERR/UNSUPP (or, without a status byte, a zero-length completion); the
 * device keeps serving. Data moves with preadv/pwritev directly between
 * the page cache and guest memory; FLUSH is fdatasync. Requests run
 * synchronously on the device thread. */
#include "virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules.h"

#define SECTOR 512ULL
#define HDR_LEN 16U
/* Config space up to write_zeroes_may_unmap and its padding. */
#define BLK_CONFIG_SIZE offsetof(struct virtio_blk_config, max_secure_erase_sectors)
_Static_assert(BLK_ID_MAX == VIRTIO_BLK_ID_BYTES, "config.h's BLK_ID_MAX");

static const char blk_usage[] =
	"--disk PATH[,ro][,id=ID]\n"
	"  virtio-blk disk backed by file PATH (size a multiple of 512; a block\n"
	"  device also works); repeatable, up to 8. ro: read-only (the guest sees\n"
	"  a read-only disk, writes fail). id: the ID string the guest reads\n"
	"  (/sys/block/vdX/serial), up to 20 printable characters; default: the\n"
	"  file name. The guest sees the disks as /dev/vda, vdb... in order.\n"
	"  PATH must not contain ','; an image in use by another disk or process\n"
	"  (lock) is refused.\n";

struct blk {
	struct virtio_dev dev;          /* first: d->priv and the container are the same */
	struct virtio_ops ops;          /* per device: features depend on ro */
	int fd;
	bool ro;
	uint64_t capacity;              /* 512-byte sectors */
	char id[VIRTIO_BLK_ID_BYTES + 1];
	struct virtio_blk_config cfg;   /* little-endian, as the guest reads it */
	struct blk_stats stats;
	struct virtq_chain chain;       /* the request in progress */
	struct iovec iov[VIRTQ_MAX_SEGS];
};

static struct blk *to_blk(const struct virtio_dev *d)
{
	return d->priv;
}

/* ------------------------------------------------------------------ */
/* requests */

/* Is [sector, sector + n) inside the disk? No multiplication before the
 * check, so no overflow. */
static bool in_range(const struct blk *b, uint64_t sector, uint64_t n)
{
	return sector <= b->capacity && n <= b->capacity - sector;
}

/* preadv/pwritev the whole of IOV[0..N) at OFF; -1 on error or EOF. */
static int rw_full(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t r = write ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1; /* error, or EOF: the file shrank under us */
		off += (uint64_t)r;
		size_t left = (size_t)r;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

/* IN / OUT: LEN bytes of data at SECTOR. *DONE gets the bytes read into
 * guest memory (for the used length). */
static uint8_t do_rw(struct blk *b, const struct virtq_chain *c, uint64_t sector, uint64_t len, bool write,
		     uint64_t *done)
{
	if (len % SECTOR || len > BLK_MAX_DATA || !in_range(b, sector, len / SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (len == 0)
		return VIRTIO_BLK_S_OK;
	uint64_t got;
	/* Data follows the header in the readable part (OUT), or comes first in
	 * the writable part, before the status byte (IN). */
	int n = virtq_chain_iov(b->dev.gm, c, !write, write ? HDR_LEN : 0, len, b->iov, VIRTQ_MAX_SEGS, &got);
	if (got != len || rw_full(b->fd, b->iov, n, sector * SECTOR, write))
		return VIRTIO_BLK_S_IOERR;
	if (!write)
		*done = len;
	return VIRTIO_BLK_S_OK;
}

static int punch(int fd, uint64_t off, uint64_t len)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
}

static int write_zeroes(int fd, uint64_t off, uint64_t len, bool unmap)
{
	static const uint8_t zeroes[64 * 1024];
	if (unmap && punch(fd, off, len) == 0)
		return 0;
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	while (len) {
		size_t n = len < sizeof(zeroes) ? (size_t)len : sizeof(zeroes);
		ssize_t r = pwrite(fd, zeroes, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* DISCARD / WRITE_ZEROES: LEN bytes of segments after the header. Every
 * segment is checked before any is carried out. */
static uint8_t do_dwz(struct blk *b, const struct virtq_chain *c, uint64_t len, bool wz)
{
	struct virtio_blk_discard_write_zeroes seg[BLK_DWZ_SEG_MAX];
	if (len == 0 || len % sizeof(seg[0]) || len / sizeof(seg[0]) > BLK_DWZ_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	unsigned n = (unsigned)(len / sizeof(seg[0]));
	if (virtq_chain_read(b->dev.gm, c, HDR_LEN, seg, len) != len)
		return VIRTIO_BLK_S_IOERR;
	uint32_t max = wz ? BLK_WZ_SECTORS_MAX : BLK_DISCARD_SECTORS_MAX;
	for (unsigned i = 0; i < n; i++) {
		uint32_t flags = le32toh(seg[i].flags);
		if (flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;    /* unknown flag */
		if (!wz && flags)
			return VIRTIO_BLK_S_UNSUPP;    /* unmap is for write zeroes only */
		uint32_t ns = le32toh(seg[i].num_sectors);
		if (ns > max || !in_range(b, le64toh(seg[i].sector), ns))
			return VIRTIO_BLK_S_IOERR;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t off = le64toh(seg[i].sector) * SECTOR, l = le32toh(seg[i].num_sectors) * SECTOR;
		if (l == 0)
			continue;
		if (wz) {
			if (write_zeroes(b->fd, off, l, le32toh(seg[i].flags) & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
				return VIRTIO_BLK_S_IOERR;
		} else if (punch(b->fd, off, l) && errno != EOPNOTSUPP && errno != ENOSYS) {
			return VIRTIO_BLK_S_IOERR; /* discard may do nothing; a real error is an error */
		}
	}
	return VIRTIO_BLK_S_OK;
}

/* Serve one chain; returns the used length (bytes written to the guest). */
static uint32_t blk_request(struct blk *b, const struct virtq_chain *c)
{
	const struct guest_mem *gm = b->dev.gm;
	if (c->err || c->write_len == 0) {
		/* No trustworthy status byte to write: complete with nothing. */
		b->stats.bad_chains++;
		return 0;
	}
	uint64_t status_off = c->write_len - 1;   /* the last writable byte */
	uint64_t in_len = c->write_len - 1;       /* writable data before it */
	uint64_t out_len = 0;                     /* readable data after the header */
	uint64_t done = 0;
	uint8_t st = VIRTIO_BLK_S_IOERR;
	struct virtio_blk_outhdr h;

	if (c->read_len < HDR_LEN || virtq_chain_read(gm, c, 0, &h, HDR_LEN) != HDR_LEN)
		goto out; /* no readable header (e.g. it sits in a writable buffer) */
	out_len = c->read_len - HDR_LEN;
	uint32_t type = le32toh(h.type);
	uint64_t sector = le64toh(h.sector);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (out_len)
			break;
		st = do_rw(b, c, sector, in_len, false, &done);
		b->stats.reads++;
		break;
	case VIRTIO_BLK_T_OUT:
		if (in_len)
			break;
		if (b->ro)
			break; /* IOERR, nothing written (5.2.6.2) */
		st = do_rw(b, c, sector, out_len, true, &done);
		b->stats.writes++;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (in_len || out_len)
			break;
		st = (b->ro || fdatasync(b->fd) == 0) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		b->stats.flushes++;
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (out_len || in_len == 0)
			break;
		done = in_len < VIRTIO_BLK_ID_BYTES ? in_len : VIRTIO_BLK_ID_BYTES;
		{
			char id[VIRTIO_BLK_ID_BYTES] = { 0 }; /* NUL-padded, no terminator at 20 */
			memcpy(id, b->id, strnlen(b->id, VIRTIO_BLK_ID_BYTES));
			done = virtq_chain_write(gm, c, 0, id, done);
		}
		st = VIRTIO_BLK_S_OK;
		b->stats.get_ids++;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		bool wz = type == VIRTIO_BLK_T_WRITE_ZEROES;
		if (!virtio_has_feature(&b->dev, wz ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD)) {
			st = VIRTIO_BLK_S_UNSUPP;
			break;
		}
		if (in_len || b->ro)
			break;
		st = do_dwz(b, c, out_len, wz);
		if (wz)
			b->stats.write_zeroes++;
		else
			b->stats.discards++;
		break;
	}
	default:
		st = VIRTIO_BLK_S_UNSUPP; /* SCSI, GET_LIFETIME, SECURE_ERASE, zones, ... */
		break;
	}
out:
	if (st == VIRTIO_BLK_S_IOERR)
		b->stats.ioerr++;
	else if (st == VIRTIO_BLK_S_UNSUPP)
		b->stats.unsupp++;
	if (st != VIRTIO_BLK_S_OK)
		done = 0;
	virtq_chain_write(gm, c, status_off, &st, 1);
	return (uint32_t)done + 1; /* done <= BLK_MAX_DATA */
}

static void blk_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct blk *b = to_blk(d);
	struct virtq *q = &d->vq[qi];
	unsigned served = 0;
	while (virtio_next_chain(d, qi, &b->chain) == 1) {
		uint32_t len = blk_request(b, &b->chain);
		virtq_push(q, d->gm, b->chain.head, len);
		if (++served == BLK_BATCH) {
			/* Let the other devices on this thread run; come back. */
			if (d->kick)
				d->kick(d, qi);
			break;
		}
	}
	if (served)
		virtio_notify_used(d, qi);
}

static void blk_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
	memcpy(data, (const uint8_t *)&to_blk(d)->cfg + off, len); /* off + len checked by the transport */
}

/* ------------------------------------------------------------------ */
/* setup */

void blk_destroy(struct virtio_dev *d)
{
	struct blk *b = to_blk(d);
	if (b->fd >= 0)
		close(b->fd);
	pthread_mutex_destroy(&d->lock);
	free(b);
}

const char *blk_id(const struct virtio_dev *d)
{
	return to_blk(d)->id;
}

const struct blk_stats *blk_get_stats(const struct virtio_dev *d)
{
	return &to_blk(d)->stats;
}

/* Parse "PATH[,ro][,id=ID]" into C (the command line's --disk). */
int blk_parse(const char *spec, struct blk_config *c, struct err *e)
{
	memset(c, 0, sizeof(*c));
	const char *comma = strchr(spec, ',');
	size_t plen = comma ? (size_t)(comma - spec) : strlen(spec);
	if (plen == 0)
		return err_set(e, "--disk '%s': no file name (want PATH[,ro][,id=ID])", spec);
	if (plen >= sizeof(c->path))
		return err_set(e, "--disk '%s': path longer than %zu bytes", spec, sizeof(c->path) - 1);
	memcpy(c->path, spec, plen);
	for (const char *o = comma; o; ) {
		o++;
		const char *next = strchr(o, ',');
		size_t n = next ? (size_t)(next - o) : strlen(o);
		if (n == 2 && !strncmp(o, "ro", 2)) {
			c->ro = true;
		} else if (n >= 3 && !strncmp(o, "id=", 3)) {
			if (n - 3 == 0 || n - 3 > BLK_ID_MAX)
				return err_set(e, "--disk '%s': id must be 1 to %u characters", spec, BLK_ID_MAX);
			memcpy(c->id, o + 3, n - 3);
			c->id[n - 3] = '\0';
		} else {
			return err_set(e, "--disk '%s': unknown option '%.*s' (want PATH[,ro][,id=ID])", spec, (int)n, o);
		}
		o = next;
	}
	return 0;
}

/* Open PATH and find its size in bytes; regular files and block devices. */
static int open_backing(const struct blk_config *s, uint64_t *size, struct err *e)
{
	int fd = open(s->path, (s->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "--disk %s", s->path);
	struct stat st;
	if (fstat(fd, &st)) {
		err_sys(e, "--disk %s: stat", s->path);
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size)) {
			err_sys(e, "--disk %s: BLKGETSIZE64", s->path);
			goto fail;
		}
	} else {
		err_set(e, "--disk %s: not a regular file or block device", s->path);
		goto fail;
	}
	if (*size % SECTOR) {
		err_set(e, "--disk %s: size %llu is not a multiple of 512 bytes", s->path, (unsigned long long)*size);
		goto fail;
	}
	/* One writer or many readers per image, across processes too (an OFD
	 * lock on the whole file): two VMs writing one image corrupt it. */
	struct flock lk = { .l_type = s->ro ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_OFD_SETLK, &lk) && (errno == EAGAIN || errno == EACCES)) {
		err_set(e, "--disk %s: image is in use by another disk or process", s->path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

struct virtio_dev *blk_create(const struct blk_config *s, const struct guest_mem *gm, struct err *e)
{
	if (!s->path[0]) {
		err_set(e, "--disk: no file name");
		return NULL;
	}
	/* Checked here, not only by blk_parse: sandbox run fills the config
	 * itself, and the ID is what the guest reads. */
	size_t idlen = strnlen(s->id, sizeof(s->id));
	if (idlen == sizeof(s->id)) {
		err_set(e, "--disk %s: id longer than %u characters", s->path, BLK_ID_MAX);
		return NULL;
	}
	for (size_t i = 0; i < idlen; i++)
		if (s->id[i] <= ' ' || s->id[i] > '~') {
			err_set(e, "--disk %s: id must be printable ASCII without spaces", s->path);
			return NULL;
		}
	struct blk *b = calloc(1, sizeof(*b));
	if (!b) {
		err_set(e, "--disk: out of memory");
		return NULL;
	}
	uint64_t size;
	b->fd = open_backing(s, &size, e);
	if (b->fd < 0) {
		free(b);
		return NULL;
	}
	b->ro = s->ro;
	b->capacity = size / SECTOR;
	if (s->id[0]) {
		snprintf(b->id, sizeof(b->id), "%s", s->id);
	} else {
		const char *base = strrchr(s->path, '/');
		base = base && base[1] ? base + 1 : s->path;
		snprintf(b->id, sizeof(b->id), "%.*s", VIRTIO_BLK_ID_BYTES, base);
	}

	b->cfg.capacity = htole64(b->capacity);
	b->cfg.size_max = htole32(BLK_SIZE_MAX);
	b->cfg.seg_max = htole32(BLK_SEG_MAX);
	uint64_t features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
			    (1ULL << VIRTIO_BLK_F_FLUSH);
	if (b->ro) {
		features |= 1ULL << VIRTIO_BLK_F_RO;
	} else {
		features |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
		b->cfg.max_discard_sectors = htole32(BLK_DISCARD_SECTORS_MAX);
		b->cfg.max_discard_seg = htole32(BLK_DWZ_SEG_MAX);
		b->cfg.discard_sector_alignment = htole32(8); /* 4 KiB: host file-system blocks */
		b->cfg.max_write_zeroes_sectors = htole32(BLK_WZ_SECTORS_MAX);
		b->cfg.max_write_zeroes_seg = htole32(BLK_DWZ_SEG_MAX);
		b->cfg.write_zeroes_may_unmap = 1;
	}
	b->ops = (struct virtio_ops){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.nqueues = 1,
		.features = features,
		.config_size = BLK_CONFIG_SIZE,
		.config_read = blk_config_read,
		.queue_notify = blk_queue_notify,
		.destroy = blk_destroy,
	};
	virtio_dev_init(&b->dev, &b->ops, b, gm);
	return &b->dev;
}

/* ------------------------------------------------------------------ */
/* the module: --disk */

static int blk_module_parse(const char *arg, struct vm_config *c, struct err *e)
{
	if (c->ndisks >= VM_MAX_DISKS)
		return err_set(e, "--disk: at most %u disks", VM_MAX_DISKS);
	if (blk_parse(arg, &c->disks[c->ndisks], e))
		return -1;
	c->ndisks++;
	return 0;
}

static int blk_module_create(const struct device_ctx *ctx, const struct vm_config *c, struct err *e)
{
	char ids[VM_MAX_DISKS][VIRTIO_BLK_ID_BYTES + 1];
	for (unsigned i = 0; i < c->ndisks && i < VM_MAX_DISKS; i++) {
		struct virtio_dev *d = blk_create(&c->disks[i], ctx->mem, e);
		if (!d)
			return -1;
		/* IDs name disks inside the guest: keep them unique. */
		snprintf(ids[i], sizeof(ids[i]), "%s", blk_id(d));
		for (unsigned j = 0; j < i; j++) {
			if (!strcmp(ids[j], ids[i])) {
				err_set(e, "--disk %s: id '%s' is already used by another disk (set id=)",
					c->disks[i].path, ids[i]);
				blk_destroy(d);
				return -1;
			}
		}
		if (ctx->attach(ctx, d, e))
			return err_wrap(e, "--disk %s", c->disks[i].path);
	}
	return 0;
}

const struct device_module blk_module = {
	.name = "virtio-blk",
	.option = "disk",
	.arg = "SPEC",
	.summary = "virtio-blk disk (repeatable), see below",
	.usage = blk_usage,
	.parse = blk_module_parse,
	.create = blk_module_create,
};
