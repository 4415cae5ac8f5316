/* Layer application: tar entries (libarchive) into a directory, in order,
 * never outside it.
 *
 * Every entry path is normalised ("./" and trailing "/" dropped) and
 * rejected if absolute or containing "..". Its parent is walked one
 * component at a time with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
 * so a symlink anywhere in the parent path is an error, never followed;
 * missing parents are created (0755). The final component is created with
 * *at() calls relative to that parent fd, without following symlinks.
 *
 * Whiteouts (layers only): ".wh.NAME" removes NAME from lower layers,
 * ".wh..wh..opq" marks its directory opaque: at the end of the layer every
 * child not written by this layer is removed (OCI image spec: whiteouts
 * apply to lower layers only).
 *
 * Ownership is applied when running as root (chown); otherwise files
 * belong to the importing user and mkfs makes them root-owned (mkfs.c).
 * Device nodes are created only as root, else skipped with a note.
 * Directory modes and times are applied at the end (children would
 * change the times; a read-only directory would block its children).
 *
 * Limits: an untrusted image must not fill the host's disk, nor hand
 * mkfs a terabyte of sparse holes to read. The regular-file bytes (each
 * file's final size, holes included) and the entries of everything one
 * struct apply unpacks are capped (16 GiB, 1000000; SANDBOX_IMAGE_MAX_BYTES
 * and SANDBOX_IMAGE_MAX_ENTRIES), checked before anything past the cap is
 * written.
 *
 * This file: the tar reader, the limits and the end (apply_finish); the
 * rest in apply_path.c, apply_entry.c and apply_whiteout.c (apply_impl.h). */
#include "apply_impl.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct apply *apply_new(int rootfd, bool layers, struct err *e)
{
	struct apply *a = calloc(1, sizeof(*a));
	if (!a) {
		err_oom(e, "apply");
		return NULL;
	}
	a->rootfd = rootfd;
	a->layers = layers;
	a->root = geteuid() == 0;
	if (!apply_dir_rec(a, "", e)) { /* root: 0755, time 0 unless an entry says */
		apply_free(a);
		return NULL;
	}
	return a;
}

void apply_free(struct apply *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->ndirs; i++)
		free(a->dirs[i].path);
	free(a->dirs);
	for (size_t i = 0; i < a->nopaque; i++)
		free(a->opaque[i]);
	free(a->opaque);
	pathset_clear(&a->seen);
	free(a);
}

void apply_set_limits(struct apply *a, uint64_t max_bytes, uint64_t max_entries)
{
	a->max_bytes = max_bytes;
	a->max_entries = max_entries;
	a->limits_set = true;
}

/* SANDBOX_IMAGE_MAX_BYTES: plain digits are bytes (parse_size would read
 * them as MiB), else parse_size's k/m/g forms. A bad value is an error,
 * not the default: the user asked for a limit we cannot honour. */
static int env_limits(struct apply *a, struct err *e)
{
	uint64_t bytes = APPLY_MAX_BYTES, entries = APPLY_MAX_ENTRIES;
	const char *s = getenv("SANDBOX_IMAGE_MAX_BYTES");
	if (s && *s) {
		const char *p = s;
		while (isdigit((unsigned char)*p))
			p++;
		bool ok;
		if (!*p) {
			errno = 0;
			bytes = strtoull(s, NULL, 10);
			ok = !errno;
		} else {
			ok = !parse_size(s, &bytes);
		}
		if (!ok)
			return err_set(e, "SANDBOX_IMAGE_MAX_BYTES=%.100s: not a size (bytes, or a number with k, m or g)", s);
		if (!bytes)
			return err_set(e, "SANDBOX_IMAGE_MAX_BYTES=%.100s: must be more than 0", s);
	}
	s = getenv("SANDBOX_IMAGE_MAX_ENTRIES");
	if (s && *s) {
		char *end;
		errno = 0;
		entries = strtoull(s, &end, 10);
		if (!isdigit((unsigned char)*s) || *end || errno)
			return err_set(e, "SANDBOX_IMAGE_MAX_ENTRIES=%.100s: not a number", s);
		if (!entries)
			return err_set(e, "SANDBOX_IMAGE_MAX_ENTRIES=%.100s: must be more than 0", s);
	}
	apply_set_limits(a, bytes, entries);
	return 0;
}

/* The tar reader's input: the decompressed stream of an hstream. */
struct tar_in {
	struct hstream *h;
	char buf[1 << 16];
};

static la_ssize_t tar_fill(struct archive *ar, void *arg, const void **out)
{
	struct tar_in *t = arg;
	ssize_t n = hstream_read(t->h, t->buf, sizeof(t->buf));
	if (n < 0) {
		archive_set_error(ar, EIO, "%s", hstream_error(t->h));
		return -1;
	}
	*out = t->buf;
	return n;
}

int apply_tar_fd(struct apply *a, int fd, struct stream_digests *d, struct err *e)
{
	if (d)
		d->blob[0] = d->diff[0] = '\0';
	if (!a->limits_set && env_limits(a, e))
		return -1;
	struct tar_in *t = malloc(sizeof(*t));
	if (!t)
		return err_oom(e, "tar reader");
	if (!(t->h = hstream_open(fd, e))) {
		free(t);
		return -1;
	}
	/* Decompression is the hstream's; this reader sees a plain tar. */
	struct archive *ar = archive_read_new();
	if (!ar) {
		hstream_free(t->h);
		free(t);
		return err_oom(e, "tar reader");
	}
	int rc = -1;
	bool finished = false;
	/* These fail only for want of memory; libarchive must not be opened
	 * half set up. */
	if (archive_read_support_format_tar(ar) != ARCHIVE_OK ||
	    archive_read_support_format_gnutar(ar) != ARCHIVE_OK ||
	    archive_read_open(ar, t, NULL, tar_fill, NULL) != ARCHIVE_OK) {
		err_set(e, "%s", archive_error_string(ar));
		goto out;
	}
	struct archive_entry *ent;
	int r;
	while ((r = archive_read_next_header(ar, &ent)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		/* Counted before it is applied: whiteouts, links and
		 * directories cost inodes and mkfs time too. */
		if (++a->entries > a->max_entries) {
			err_set(e, "image has more than %llu entries (SANDBOX_IMAGE_MAX_ENTRIES)",
				(unsigned long long)a->max_entries);
			goto out;
		}
		if (apply_entry(a, ar, ent, e))
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		err_set(e, "%s", archive_error_string(ar));
		goto out;
	}
	if (a->layers && apply_finish_layer(a, e))
		goto out;
	struct stream_digests dummy;
	rc = hstream_finish(t->h, d ? d : &dummy, e);
	finished = true;
out:
	/* The layer failed: the blob's digest tells a corrupt blob. */
	if (rc && d && !finished)
		hstream_blob_only(t->h, d);
	archive_read_free(ar);
	hstream_free(t->h);
	free(t);
	return rc;
}

int apply_tar_at(struct apply *a, int dirfd, const char *path, struct err *e)
{
	int fd = open_beneath(dirfd, path, O_RDONLY, e);
	if (fd < 0)
		return -1;
	int rc = apply_tar_fd(a, fd, NULL, e);
	close(fd);
	return rc;
}

int apply_finish(struct apply *a, struct err *e)
{
	/* Later records win: apply in order. Vanished directories are fine. */
	for (size_t i = 0; i < a->ndirs; i++) {
		struct dir_rec *d = &a->dirs[i];
		int fd = apply_open_dir(a, d->path);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return err_sys(e, "%s", d->path);
		}
		if (fchmod(fd, d->mode) || futimens(fd, d->times)) {
			close(fd);
			return err_sys(e, "%s", d->path);
		}
		close(fd);
	}
	return 0;
}
