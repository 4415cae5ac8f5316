/* virtio-pmem (virtio 1.x, 5.19): a host file, the erofs image, mapped
 * read-only into guest-physical space above RAM. The guest's virtio_pmem
 * driver makes it /dev/pmem0, whose pages erofs mounted with dax=always
 * reads and maps directly: the image's pages are the host's page cache,
 * one copy for every sandbox using the image (docs/pmem.md).
 *
 *   --pmem PATH
 *
 * The region: the file MAP_SHARED, PROT_READ, from an O_RDONLY fd (so it
 * can never be made writable), followed by anonymous read-only zero pages
 * up to a multiple of DEVICE_WINDOW_GRAIN; shown to the guest in a
 * KVM_MEM_READONLY memory slot (vm_map_window), so a guest store exits to
 * the VMM as MMIO, which no device claims: it is dropped. The file is held
 * with an OFD read lock, so no --disk can open it writable meanwhile.
 *
 * The one queue carries flush requests (struct virtio_pmem_req, 4 bytes
 * readable, then struct virtio_pmem_resp, 4 bytes writable). Nothing can
 * have been written, so a flush writes nothing and succeeds; any other
 * type gets an error. A chain the virtqueue layer rejects or without room
 * for the answer is completed empty. Config space: start and size. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../arch/x86/layout.h"
#include "modules.h"
#include "virtio_pmem.h"

#define PMEM_MAX_FILE (64ULL << 30)     /* a larger image is refused */
#define PMEM_BATCH 64                   /* requests per run before yielding */
#define PMEM_RESP_ERR 1u                /* virtio_pmem_resp.ret for a failed request */

static const char pmem_usage[] =
	"--pmem PATH\n"
	"  virtio-pmem device: file PATH (an erofs image) mapped read-only from the\n"
	"  host's page cache into guest memory above RAM (/dev/pmem0 in the guest,\n"
	"  mount it with -o dax=always). Guest writes to it are dropped; flush\n"
	"  requests write nothing.\n";

struct pmem {
	struct virtio_dev dev;          /* first: d->priv and the container are the same */
	struct pmem_state st;
	struct pmem_map map;            /* the caller's in pmem_dev_new, ours with the module */
	int fd;                         /* the file, holding its OFD read lock; -1 */
	char *path;                     /* its path (a snapshot saves it); NULL */
	struct virtio_pmem_config cfg;  /* little-endian, as the guest reads it */
	struct virtq_chain chain;
};

/* ------------------------------------------------------------------ */
/* the mapping */

int pmem_map_file(int fd, uint64_t size, struct pmem_map *m, struct err *e)
{
	memset(m, 0, sizeof(*m));
	if (size == 0 || size > PMEM_MAX_FILE)
		return err_set(e, "size %llu bytes: want 1 byte to %llu GiB", (unsigned long long)size,
			       PMEM_MAX_FILE >> 30);
	uint64_t len = (size + DEVICE_WINDOW_GRAIN - 1) & ~(DEVICE_WINDOW_GRAIN - 1);
	/* Reserve the whole window as read-only zero pages, then put the file
	 * over its start: one contiguous host range for one memory slot. */
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return err_sys(e, "reserving %llu MiB of address space", (unsigned long long)(len >> 20));
	uint64_t fpages = (size + 4095) & ~4095ULL; /* the last page's tail reads as zeroes */
	if (mmap(p, fpages, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
		err_sys(e, "mapping the file");
		munmap(p, len);
		return -1;
	}
	m->host = p;
	m->len = len;
	m->file_size = size;
	return 0;
}

void pmem_unmap(struct pmem_map *m)
{
	if (m->host)
		munmap(m->host, m->len);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* requests */

uint32_t pmem_serve(const uint8_t *req, uint64_t req_len, uint64_t write_len, uint32_t *resp)
{
	if (write_len < sizeof(struct virtio_pmem_resp))
		return 0;
	uint32_t type = 0;
	if (req_len < sizeof(struct virtio_pmem_req)) {
		*resp = htole32(PMEM_RESP_ERR);
		return sizeof(struct virtio_pmem_resp);
	}
	memcpy(&type, req, sizeof(type));
	*resp = htole32(le32toh(type) == VIRTIO_PMEM_REQ_TYPE_FLUSH ? 0 : PMEM_RESP_ERR);
	return sizeof(struct virtio_pmem_resp);
}

static void pmem_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct pmem *p = d->priv;
	struct virtq *q = &d->vq[qi];
	unsigned done = 0;
	bool yield = false;
	for (;;) {
		if (done == PMEM_BATCH) {
			yield = true;
			break;
		}
		if (virtio_next_chain(d, qi, &p->chain) != 1)
			break;
		const struct virtq_chain *c = &p->chain;
		uint32_t n = 0, resp = 0;
		if (!c->err) {
			uint8_t req[sizeof(struct virtio_pmem_req)] = { 0 };
			uint64_t got = virtq_chain_read(d->gm, c, 0, req, sizeof(req));
			n = pmem_serve(req, got, c->write_len, &resp);
			if (n && virtq_chain_write(d->gm, c, 0, &resp, n) != n)
				n = 0;
		}
		if (n && resp == 0)
			p->st.flushes++;
		else
			p->st.bad++;
		virtq_push(q, d->gm, c->head, n);
		done++;
	}
	if (yield && d->kick)
		d->kick(d, qi); /* let the other devices on this thread run; come back */
	if (done)
		virtio_notify_used(d, qi);
}

static void pmem_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
	struct pmem *p = d->priv;
	memcpy(data, (const uint8_t *)&p->cfg + off, len); /* off + len checked by the transport */
}

static void pmem_destroy(struct virtio_dev *d)
{
	struct pmem *p = d->priv;
	pmem_unmap(&p->map);
	if (p->fd >= 0)
		close(p->fd);
	free(p->path);
	pthread_mutex_destroy(&d->lock);
	free(p);
}

/* ------------------------------------------------------------------ */
/* snapshots: the window's identity, not its bytes */

#define PMEM_PHYS_LIMIT (1ULL << 52)    /* x86-64's widest guest-physical address */

long pmem_snap_encode(const struct pmem_state *st, const char *path, uint8_t *buf, size_t cap, struct err *e)
{
	size_t n = path ? strlen(path) : 0;
	if (n == 0 || n >= PATH_MAX)
		return err_set(e, "virtio-pmem: no image path to save");
	if (cap < sizeof(struct pmem_snap) + n)
		return err_set(e, "virtio-pmem: no room for its state");
	struct pmem_snap s = { .st = *st, .path_len = (uint32_t)n };
	memcpy(buf, &s, sizeof(s));
	memcpy(buf + sizeof(s), path, n);
	return (long)(sizeof(s) + n);
}

/* The first guest-physical address above RAM (and 4 GiB): where windows
 * may start (vm_window_base's floor). */
static uint64_t ram_end(const struct guest_mem *gm)
{
	uint64_t end = 4ULL << 30;
	for (unsigned i = 0; i < gm->nregions && i < 2; i++)
		if (gm->r[i].gpa + gm->r[i].len > end)
			end = gm->r[i].gpa + gm->r[i].len;
	return end;
}

int pmem_snap_decode(const uint8_t *buf, size_t len, const struct guest_mem *gm, struct pmem_state *st, char *path,
		     size_t path_cap, struct err *e)
{
	struct pmem_snap s;
	if (len < sizeof(s))
		return err_set(e, "snapshot: virtio-pmem state of %zu bytes (want at least %zu)", len, sizeof(s));
	memcpy(&s, buf, sizeof(s));
	if (s.pad || s.path_len == 0 || s.path_len >= path_cap || len != sizeof(s) + s.path_len)
		return err_set(e, "snapshot: virtio-pmem state of %zu bytes with a path of %u", len, s.path_len);
	if (memchr(buf + sizeof(s), '\0', s.path_len))
		return err_set(e, "snapshot: virtio-pmem image path holds a NUL byte");
	const struct pmem_state *t = &s.st;
	uint64_t want = (t->file_size + DEVICE_WINDOW_GRAIN - 1) & ~(DEVICE_WINDOW_GRAIN - 1);
	if (t->file_size == 0 || t->file_size > PMEM_MAX_FILE || t->size != want)
		return err_set(e, "snapshot: virtio-pmem window of %llu bytes for a file of %llu",
			       (unsigned long long)t->size, (unsigned long long)t->file_size);
	if (t->gpa % DEVICE_WINDOW_ALIGN || t->gpa < ram_end(gm) || t->gpa > PMEM_PHYS_LIMIT ||
	    t->size > PMEM_PHYS_LIMIT - t->gpa)
		return err_set(e, "snapshot: virtio-pmem window at 0x%llx+0x%llx is not above RAM on a %llu MiB boundary "
			       "inside guest-physical space", (unsigned long long)t->gpa, (unsigned long long)t->size,
			       DEVICE_WINDOW_ALIGN >> 20);
	*st = *t;
	memcpy(path, buf + sizeof(s), s.path_len);
	path[s.path_len] = '\0';
	return 0;
}

static long pmem_save(struct virtio_dev *d, uint8_t *buf, size_t cap, struct err *e)
{
	struct pmem *p = d->priv;
	return pmem_snap_encode(&p->st, p->path, buf, cap, e);
}

/* The restoring VM made this device from the same path (the snapshot's
 * meta), mapped the file and put the window where the allocator puts it:
 * the saved window must be that one, of that very file (device, inode,
 * size, mtime to the nanosecond; the image cache replaces an image by
 * renaming a new file over it, never by writing into it). */
static int pmem_restore(struct virtio_dev *d, const uint8_t *buf, size_t len, struct err *e)
{
	struct pmem *p = d->priv;
	struct pmem_state s;
	char path[PATH_MAX];
	if (pmem_snap_decode(buf, len, d->gm, &s, path, sizeof(path), e))
		return -1;
	if (!p->path || strcmp(path, p->path))
		return err_set(e, "snapshot: its image was %s, this VM maps %s", path, p->path ? p->path : "none");
	if (s.file_dev != p->st.file_dev || s.file_ino != p->st.file_ino || s.file_size != p->st.file_size ||
	    s.file_mtime_ns != p->st.file_mtime_ns)
		return err_set(e, "snapshot: its image %s changed since (another file, size or mtime): the guest's "
			       "view of it would not match", path);
	if (s.gpa != p->st.gpa || s.size != p->st.size)
		return err_set(e, "snapshot: its virtio-pmem window 0x%llx+0x%llx is not this VM's 0x%llx+0x%llx",
			       (unsigned long long)s.gpa, (unsigned long long)s.size, (unsigned long long)p->st.gpa,
			       (unsigned long long)p->st.size);
	p->st.flushes = s.flushes;
	p->st.bad = s.bad;
	return 0;
}

static const struct virtio_ops pmem_ops = {
	.save = pmem_save,
	.restore = pmem_restore,
	.name = "virtio-pmem",
	.device_id = VIRTIO_ID_PMEM,
	.nqueues = 1,
	.features = 0,                  /* no SHMEM_REGION: the config space says where */
	.config_size = sizeof(struct virtio_pmem_config),
	.config_read = pmem_config_read,
	.queue_notify = pmem_queue_notify,
	.destroy = pmem_destroy,
};

struct virtio_dev *pmem_dev_new(const struct guest_mem *gm, uint64_t gpa, uint64_t size, struct err *e)
{
	if (!size || size % DEVICE_WINDOW_GRAIN || gpa % DEVICE_WINDOW_GRAIN || gpa + size < gpa) {
		err_set(e, "virtio-pmem: region 0x%llx+0x%llx is not %llu MiB aligned", (unsigned long long)gpa,
			(unsigned long long)size, DEVICE_WINDOW_GRAIN >> 20);
		return NULL;
	}
	struct pmem *p = calloc(1, sizeof(*p));
	if (!p) {
		err_set(e, "virtio-pmem: out of memory");
		return NULL;
	}
	p->fd = -1;
	p->st.gpa = gpa;
	p->st.size = size;
	p->cfg.start = htole64(gpa);
	p->cfg.size = htole64(size);
	virtio_dev_init(&p->dev, &pmem_ops, p, gm);
	return &p->dev;
}

const struct pmem_state *pmem_dev_state(const struct virtio_dev *d)
{
	return d->ops == &pmem_ops ? &((const struct pmem *)d->priv)->st : NULL;
}

/* ------------------------------------------------------------------ */
/* the module: --pmem */

static int pmem_module_parse(const char *arg, struct vm_config *c, struct err *e)
{
	if (c->has_pmem)
		return err_set(e, "--pmem: one pmem device at most");
	size_t n = strlen(arg);
	if (n == 0)
		return err_set(e, "--pmem: no file name");
	if (n >= sizeof(c->pmem.path))
		return err_set(e, "--pmem: path longer than %zu bytes", sizeof(c->pmem.path) - 1);
	memcpy(c->pmem.path, arg, n + 1);
	c->has_pmem = true;
	return 0;
}

static int open_image(const char *path, struct stat *st, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "--pmem %s", path);
	if (fstat(fd, st)) {
		err_sys(e, "--pmem %s: stat", path);
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		err_set(e, "--pmem %s: not a regular file", path);
		goto fail;
	}
	/* Many readers or one writer, as virtio-blk's disks: a --disk that
	 * would write the image is refused while it is mapped here. */
	struct flock lk = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_OFD_SETLK, &lk) && (errno == EAGAIN || errno == EACCES)) {
		err_set(e, "--pmem %s: the file is in use by a writer", path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int pmem_module_create(const struct device_ctx *ctx, const struct vm_config *c, struct err *e)
{
	if (!c->has_pmem)
		return 0;
	if (!ctx->map_window)
		return err_set(e, "--pmem: no guest memory windows here");
	char *path = strdup(c->pmem.path);
	if (!path)
		return err_oom(e, "--pmem");
	struct stat st;
	int fd = open_image(path, &st, e);
	if (fd < 0)
		goto fail_path;
	struct pmem_map map;
	if (pmem_map_file(fd, (uint64_t)st.st_size, &map, e)) {
		err_wrap(e, "--pmem %s", path);
		goto fail_fd;
	}
	uint64_t gpa;
	if (ctx->map_window(ctx, map.host, map.len, true, &gpa, e)) {
		err_wrap(e, "--pmem %s", path);
		goto fail_map;
	}
	struct virtio_dev *d = pmem_dev_new(ctx->mem, gpa, map.len, e);
	if (!d)
		goto fail_map; /* the window stays in the VM until it ends (the VM is not started) */
	struct pmem *p = d->priv;
	p->map = map;
	p->fd = fd;
	p->path = path;
	p->st.file_size = map.file_size;
	p->st.file_dev = (uint64_t)st.st_dev;
	p->st.file_ino = (uint64_t)st.st_ino;
	p->st.file_mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	if (ctx->attach(ctx, d, e))
		return err_wrap(e, "--pmem");
	return 0;
fail_map:
	pmem_unmap(&map);
fail_fd:
	close(fd);
fail_path:
	free(path);
	return -1;
}

const struct device_module pmem_module = {
	.name = "virtio-pmem",
	.option = "pmem",
	.arg = "PATH",
	.summary = "virtio-pmem device: a read-only file mapped into guest memory, see below",
	.usage = pmem_usage,
	.parse = pmem_module_parse,
	.create = pmem_module_create,
};
