/* The pmem window's working set: see pmem_ws.h. */
#include "pmem_ws.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGEMAP_PRESENT (1ULL << 63)
#define PMEM_WS_MAX_PAGES ((64ULL << 30) / PMEM_WS_PAGE)     /* PMEM_MAX_FILE's window */

static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

size_t pmem_ws_size(uint64_t window_len)
{
	return PMEM_WS_HDR + (size_t)((window_len / PMEM_WS_PAGE + 7) / 8);
}

void pmem_ws_header(uint8_t *rec, const struct pmem_ws_id *id, uint64_t window_len)
{
	memcpy(rec, PMEM_WS_MAGIC, 8);
	put64(rec + 8, id->file_size);
	put64(rec + 16, id->dev);
	put64(rec + 24, id->ino);
	put64(rec + 32, id->mtime_ns);
	put64(rec + 40, window_len / PMEM_WS_PAGE);
}

int pmem_ws_parse(const uint8_t *buf, size_t len, const struct pmem_ws_id *id, uint64_t window_len,
		  const uint8_t **bits, struct err *e)
{
	uint64_t pages = window_len / PMEM_WS_PAGE;
	if (!pages || pages > PMEM_WS_MAX_PAGES || window_len % PMEM_WS_PAGE)
		return err_set(e, "pmem working set: a window of %llu bytes", (unsigned long long)window_len);
	if (len != pmem_ws_size(window_len))
		return err_set(e, "pmem working set: %zu bytes, want %zu", len, pmem_ws_size(window_len));
	if (memcmp(buf, PMEM_WS_MAGIC, 8))
		return err_set(e, "pmem working set: not a record");
	if (get64(buf + 8) != id->file_size || get64(buf + 16) != id->dev || get64(buf + 24) != id->ino ||
	    get64(buf + 32) != id->mtime_ns)
		return err_set(e, "pmem working set: of another file");
	if (get64(buf + 40) != pages)
		return err_set(e, "pmem working set: %llu pages, the window has %llu",
			       (unsigned long long)get64(buf + 40), (unsigned long long)pages);
	if (pages % 8 && buf[len - 1] >> (pages % 8))
		return err_set(e, "pmem working set: bits past the window");
	*bits = buf + PMEM_WS_HDR;
	return 0;
}

uint64_t pmem_ws_add_present(uint8_t *bits, const uint64_t *ent, uint64_t pages)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < pages; i++) {
		if (ent[i] & PAGEMAP_PRESENT)
			bits[i / 8] |= (uint8_t)(1u << (i % 8));
		n += (bits[i / 8] >> (i % 8)) & 1;
	}
	return n;
}

int pmem_ws_next_run(const uint8_t *bits, uint64_t pages, uint64_t *pos, uint64_t *start, uint64_t *n)
{
	uint64_t i = *pos;
	while (i < pages && !(bits[i / 8] >> (i % 8) & 1)) {
		if (!(i % 8) && !bits[i / 8])
			i += 8;     /* a whole empty byte */
		else
			i++;
	}
	if (i >= pages) {
		*pos = pages;
		return 0;
	}
	uint64_t j = i;
	while (j < pages && (bits[j / 8] >> (j % 8) & 1))
		j++;
	*start = i;
	*n = j - i;
	*pos = j;
	return 1;
}

void pmem_ws_free(struct pmem_ws *w)
{
	free(w->rec);
	w->rec = NULL;
	if (w->out_fd >= 0)
		close(w->out_fd);
	if (w->pagemap_fd >= 0)
		close(w->pagemap_fd);
	w->out_fd = w->pagemap_fd = -1;
}

static void load(struct pmem_ws *w, const char *path, const struct pmem_ws_id *id, uint64_t window_len,
		 bool *valid)
{
	size_t size = pmem_ws_size(window_len);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		if (fd >= 0)
			close(fd);
		return;
	}
	uint8_t *buf = malloc(size);
	size_t got = 0;
	while (buf && got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	const uint8_t *bits;
	struct err e;
	if (buf && got == size && !pmem_ws_parse(buf, size, id, window_len, &bits, &e)) {
		memcpy(w->rec + PMEM_WS_HDR, bits, size - PMEM_WS_HDR);
		*valid = true;
	}
	free(buf);
}

void pmem_ws_open(struct pmem_ws *w, const char *image, const struct pmem_ws_id *id, const void *host,
		  uint64_t window_len)
{
	*w = (struct pmem_ws){ .out_fd = -1, .pagemap_fd = -1, .host = host, .pages = window_len / PMEM_WS_PAGE };
	if (!w->pages || w->pages > PMEM_WS_MAX_PAGES || window_len % PMEM_WS_PAGE)
		return;
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s.ws", image) >= sizeof(path))
		return;
	w->rec = calloc(1, pmem_ws_size(window_len));
	if (!w->rec)
		return;
	pmem_ws_header(w->rec, id, window_len);
	bool valid = false;
	load(w, path, id, window_len, &valid);
	uint64_t pos = 0, start, n;
	while (pmem_ws_next_run(w->rec + PMEM_WS_HDR, w->pages, &pos, &start, &n))
		w->loaded += n;
	/* In place from offset 0 if it is this image's (same size), else
	 * made again: nothing of another record may stay behind. */
	w->out_fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (valid ? 0 : O_TRUNC), 0600);
	struct stat st;
	if (w->out_fd >= 0 && (fstat(w->out_fd, &st) || !S_ISREG(st.st_mode))) {
		close(w->out_fd);
		w->out_fd = -1;
	}
	w->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (w->pagemap_fd >= 0 &&
	    lseek(w->pagemap_fd, (off_t)((uintptr_t)host / PMEM_WS_PAGE * 8), SEEK_SET) < 0) {
		close(w->pagemap_fd);
		w->pagemap_fd = -1;
	}
}

const uint8_t *pmem_ws_bits(const struct pmem_ws *w)
{
	return w->rec && w->loaded ? w->rec + PMEM_WS_HDR : NULL;
}

void pmem_ws_save(struct pmem_ws *w)
{
	if (!w->rec || w->out_fd < 0 || w->pagemap_fd < 0) {
		pmem_ws_free(w);
		return;
	}
	/* the window's pagemap entries, in chunks (read(2) from where
	 * pmem_ws_open put the file offset: no seek after the jail) */
	uint64_t chunk[512];
	uint64_t done = 0;
	while (done < w->pages) {
		uint64_t want = w->pages - done < 512 ? w->pages - done : 512;
		ssize_t r = read(w->pagemap_fd, chunk, want * 8);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)(want * 8)) {
			pmem_ws_free(w);
			return;
		}
		pmem_ws_add_present(w->rec + PMEM_WS_HDR + done / 8, chunk, want); /* done: a multiple of 8 */
		done += want;
	}
	size_t size = pmem_ws_size(w->pages * PMEM_WS_PAGE), off = 0;
	while (off < size) {
		ssize_t r = write(w->out_fd, w->rec + off, size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	pmem_ws_free(w);
}
