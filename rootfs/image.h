/* sandbox-image: image import into cached read-only guest disks.
 *
 * Flow (import.c, image_import): detect the input format (source.c) →
 * read and verify the manifest and config (source.c, digest.c) → apply the
 * layers in order into a temp tree (apply.c), each blob opened once and
 * verified from the bytes applied (struct hstream) → mkfs.erofs (mkfs.c)
 * → publish <key>.erofs and <key>.json atomically under the cache lock
 * (cache.c). The command line: main.c; built-in images: builtin.c; run
 * defaults for sandbox run: runconf.c. Errors follow common/err.h's struct err convention; running
 * out of memory is one of them (err_oom), never an abort. */
#ifndef SANDBOX_IMAGE_H
#define SANDBOX_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* Bumped whenever the disk layout we produce changes: part of the key. */
#define IMAGE_FORMAT_VERSION 2      /* 2: erofs without inline data (DAX) */

#define EXIT_USAGE 1
#define EXIT_FAIL 125

/* ---- digest.c ---- */
#define SHA256_HEX_LEN 64
/* "sha256:<64 lowercase hex>" → hex (65 bytes with NUL). */
int digest_parse(const char *digest, char hex[SHA256_HEX_LEN + 1], struct err *e);
struct sha256;
/* NULL with E filled (err_oom) if out of memory. */
struct sha256 *sha256_new(struct err *e);
void sha256_update(struct sha256 *h, const void *buf, size_t n);
/* Writes the hex digest and frees h. */
void sha256_final(struct sha256 *h, char hex[SHA256_HEX_LEN + 1]);
void sha256_free(struct sha256 *h);
/* sha256 of the file at (dirfd, path), opened beneath dirfd; also its size. */
int sha256_file_at(int dirfd, const char *path, char hex[SHA256_HEX_LEN + 1], uint64_t *size,
		   struct err *e);
/* sha256 of the decompressed stream of a (maybe gzip/zstd/xz) file. */
int sha256_uncompressed_at(int dirfd, const char *path, char hex[SHA256_HEX_LEN + 1],
			   struct err *e);
/* A (maybe gzip/zstd/xz) stream read once from an fd and hashed as it is
 * read: the sha256 and size of the bytes read from the fd (a blob's
 * digest) and the sha256 of the decompressed bytes (its diff_id). What is
 * verified is then exactly what was applied: no reopening by path that a
 * swapped or rewritten file could change in between. */
struct hstream;
struct stream_digests {
	char blob[SHA256_HEX_LEN + 1];
	char diff[SHA256_HEX_LEN + 1];
	uint64_t size;
};
/* Fails (NULL, E filled) only for want of memory: a stream that does not
 * decompress fails its first read. */
struct hstream *hstream_open(int fd, struct err *e);
/* Decompressed bytes: > 0, 0 at the end, -1 (hstream_error says why). */
ssize_t hstream_read(struct hstream *h, void *buf, size_t n);
const char *hstream_error(const struct hstream *h);
/* Read what is left (decompressed stream and bytes after it) and fill D.
 * A stream that does not decompress: -1, and D's blob digest and size
 * still filled if FD could be read (diff empty), to tell a corrupt blob. */
int hstream_finish(struct hstream *h, struct stream_digests *d, struct err *e);
/* After a failure while reading: the blob digest and size only (the rest
 * of FD read raw; diff empty); -1 (blob empty) if that fails too. */
int hstream_blob_only(struct hstream *h, struct stream_digests *d);
void hstream_free(struct hstream *h);
/* Open PATH beneath DIRFD (no escaping via "..", absolute paths or
 * symlinks pointing outside); AT_FDCWD: a user's path, opened as is. */
int open_beneath(int dirfd, const char *path, int flags, struct err *e);
/* Read a whole (small) file beneath dirfd; NUL-terminated; max bytes. */
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, struct err *e);
/* Recursively remove NAME in DIRFD (never follows symlinks). */
int rm_rf_at(int dirfd, const char *name);

/* ---- apply.c (its parts: apply_impl.h) ---- */
struct apply;
/* Apply into the directory ROOTFD. layers=true: interpret whiteouts.
 * Ownership is applied only when running as root. NULL with E filled if
 * out of memory. */
struct apply *apply_new(int rootfd, bool layers, struct err *e);
/* Limits on what one struct apply unpacks, across all its tars: the
 * regular-file bytes (each file's final size, sparse holes included) and
 * the number of entries. Defaults, unless the environment says otherwise
 * (SANDBOX_IMAGE_MAX_BYTES: bytes or k/m/g; SANDBOX_IMAGE_MAX_ENTRIES). */
#define APPLY_MAX_BYTES (16 * GIB)
#define APPLY_MAX_ENTRIES 1000000ULL
/* Set both limits (> 0), overriding the environment; before the first
 * apply_tar_at, which otherwise reads the environment (a bad value is an
 * error there). */
void apply_set_limits(struct apply *a, uint64_t max_bytes, uint64_t max_entries);
/* Apply one tar (any of libarchive's compression filters) beneath the
 * root, reading it from (dirfd, path). Over a limit: -1, "image too
 * large: ..." / "image has more than N entries ...". */
int apply_tar_at(struct apply *a, int dirfd, const char *path, struct err *e);
/* The same from FD, read once to its end; D (if not NULL): the digests of
 * what was read (see struct hstream), for the caller to check; on an
 * error, the blob digest if it could be had (hstream_blob_only). */
int apply_tar_fd(struct apply *a, int fd, struct stream_digests *d, struct err *e);
/* Finish: directory modes and times. */
int apply_finish(struct apply *a, struct err *e);
void apply_free(struct apply *a);
/* Normalise a tar path in place ("./" and repeated or trailing "/"
 * dropped; "" is the root); -1 if absolute or holding "..". */
int path_normalise(char *path);

/* ---- source.c ---- */
enum src_format { SRC_AUTO, SRC_OCI, SRC_OCI_ARCHIVE, SRC_DOCKER_ARCHIVE, SRC_ROOTFS_TAR, SRC_ROOTFS_DIR };
const char *src_format_name(enum src_format f);
int src_format_parse(const char *s, enum src_format *f);

struct image_src {
	enum src_format format;
	int dirfd;            /* layout (oci, extracted archives) or rootfs dir */
	char *tar_path;       /* rootfs tar: path; or temp tar of a rootfs dir */
	char key[SHA256_HEX_LEN + 1]; /* config digest or tar stream digest */
	char *config_json;    /* image config (NULL for rootfs inputs) */
	size_t nlayers;
	char **layers;        /* paths beneath dirfd */
	char **layer_hex;     /* expected blob sha256 (NULL: none) */
	int64_t *layer_size;  /* expected blob size (-1: none) */
	char **diff_ids;      /* expected uncompressed sha256 (NULL: none) */
};
/* Detect, extract (archives, into WORKDIR/src) and verify. */
int src_open(const char *spec, enum src_format fmt, int workfd, struct image_src *s, struct err *e);
/* Apply layer I into A from one open of its blob, hashing it as it is
 * read, then check digest, size and diff_id (so what is verified is what
 * was applied; a failed check fails the import). */
int src_apply_layer(struct image_src *s, size_t i, struct apply *a, struct err *e);
/* The rootfs tar into A, the same way: its sha256 must still be the key. */
int src_apply_tar(struct image_src *s, struct apply *a, struct err *e);
/* Verify every layer blob (digest, diff_id) without applying (each read
 * once, as src_apply_layer does; the manifest fuzz target's). */
int src_verify_layers(struct image_src *s, struct err *e);
void src_close(struct image_src *s);

/* ---- mkfs.c ---- */
/* Build OUT (a file path) from the directory DIR; deterministic. */
/* *fstype: "erofs" or "ext4". */
int mkfs_build(const char *dir, const char *out, const char *key, const char **fstype, struct err *e);

/* ---- config.c ---- */
/* Run defaults from an image config (NULL: empty defaults) as a json-c
 * object (struct json_object *) with Entrypoint, Cmd, Env, WorkingDir,
 * User, StopSignal, ExposedPorts (a sorted array of "80/tcp"...). */
struct json_object;
/* A present field of the wrong type (Cmd not an array of strings,
 * WorkingDir not a string, ExposedPorts not an object...) is an error;
 * absent or null ones are null. */
int config_defaults(const char *config_json, struct json_object **out, struct err *e);
/* A signal as StopSignal may name it: SIGTERM, TERM (any case), RTMIN+3,
 * RTMAX-1, or a number 1-64. config_defaults refuses anything else. */
bool stop_signal_valid(const char *s);
/* NAME: 1-199 of letters, digits and . _ - : @, not starting with '.'. */
bool image_name_valid(const char *name);

/* ---- cache.c: the image cache (its layout: cache.c's top) ---- */
struct cache {
	char dir[4096];
	int fd, vfd, namesfd, lockfd;   /* CACHE, CACHE/v<N>, CACHE/names, CACHE/.lock */
	char vdir[16];                  /* "v<N>" or "v<N>-user" */
};
/* Modes of what we create: private as root (cache.c's top). */
mode_t cache_dir_mode(void);
mode_t cache_file_mode(void);
mode_t cache_disk_mode(void);
/* Open (made if missing) the cache of this user, and as root make it
 * private, an older one included. */
int cache_open(struct cache *c, struct err *e);
/* CACHE/.lock, held while publishing or removing. */
int cache_lock(struct cache *c, struct err *e);
void cache_unlock(struct cache *c);
/* The key NAME points at: 0, or -1 if it points at none. */
int cache_name_key(struct cache *c, const char *name, char key[SHA256_HEX_LEN + 1]);
/* Point NAME at KEY atomically (symlink to a temp name, rename). Locked. */
int cache_set_name(struct cache *c, const char *name, const char *key, struct err *e);
/* Is the entry KEY in the cache? */
bool cache_has(struct cache *c, const char *key);
/* Sorted names (free with cache_free_names); NULL with E filled if the
 * directory cannot be read or memory runs out, never a short list. */
char **cache_list_names(struct cache *c, size_t *n, struct err *e);
void cache_free_names(char **v, size_t n);
/* The entry KEY's metadata (run defaults and more), or NULL with E. */
struct json_object *cache_load_meta(struct cache *c, const char *key, struct err *e);
/* Remove disks no name points at (TMP_TOO: and work dirs a day old).
 * Locked. */
int cache_gc(struct cache *c, bool tmp_too, struct err *e);

/* ---- import.c ---- */
/* Import SPEC (FMT, or SRC_AUTO: detected) as NAME; prints "NAME
 * sha256:KEY" unless QUIET (runconf's import of a built-in image). */
int image_import(struct cache *c, const char *spec, enum src_format fmt, const char *name, bool quiet,
		 struct err *e);

/* ---- builtin.c ---- */
/* Import the built-in image NAME if the cache lacks it or holds an older
 * build of it: 0, 1 if there is no built-in image NAME, -1 with E. */
int builtin_import(struct cache *c, const char *name, struct err *e);

/* ---- runconf.c ---- */
/* NAME's run defaults on stdout as NUL-terminated key=value records (a
 * built-in image imported first if need be). */
int runconf_print(struct cache *c, const char *name, struct err *e);

#endif
