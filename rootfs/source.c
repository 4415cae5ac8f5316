/* Input formats: detection, archive extraction, manifests (json-c).
 *
 * oci            an OCI image layout directory (oci-layout, index.json, blobs/)
 * oci-archive    a tar of such a layout: extracted into WORK/src first
 * docker-archive `docker save` / `podman save` / skopeo: manifest.json
 *                (a docker save that also carries index.json is read as OCI)
 * rootfs-tar     one tar (plain, gzip, zstd, xz) of a root filesystem
 * rootfs-dir     a directory: written as a deterministic tar into WORK first
 *
 * Archives are extracted with apply.c (no whiteouts), so their entries can
 * never land outside WORK/src; blobs are then opened with
 * RESOLVE_BENEATH. SRC:TAG selects an image by its
 * org.opencontainers.image.ref.name annotation (oci) or RepoTags (docker). */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_JSON (16u << 20)

static const char *const names[] = {
	[SRC_AUTO] = "auto", [SRC_OCI] = "oci", [SRC_OCI_ARCHIVE] = "oci-archive",
	[SRC_DOCKER_ARCHIVE] = "docker-archive", [SRC_ROOTFS_TAR] = "rootfs-tar",
	[SRC_ROOTFS_DIR] = "rootfs-dir",
};

const char *src_format_name(enum src_format f)
{
	return names[f];
}

int src_format_parse(const char *s, enum src_format *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*f = (enum src_format)i;
			return 0;
		}
	return -1;
}

static int add_layer(struct image_src *s, const char *path, const char *hex, int64_t size,
		     const char *diff_id, struct err *e)
{
	/* Each array grows on its own; one that did stays valid (and is
	 * freed by src_close) if a later one cannot. */
	size_t n = s->nlayers + 1;
	char **layers = realloc(s->layers, n * sizeof(char *));
	if (layers)
		s->layers = layers;
	char **layer_hex = layers ? realloc(s->layer_hex, n * sizeof(char *)) : NULL;
	if (layer_hex)
		s->layer_hex = layer_hex;
	int64_t *layer_size = layer_hex ? realloc(s->layer_size, n * sizeof(int64_t)) : NULL;
	if (layer_size)
		s->layer_size = layer_size;
	char **diff_ids = layer_size ? realloc(s->diff_ids, n * sizeof(char *)) : NULL;
	if (!diff_ids)
		return err_oom(e, "layers");
	s->diff_ids = diff_ids;
	char *p = strdup(path), *h = hex ? strdup(hex) : NULL, *d = diff_id ? strdup(diff_id) : NULL;
	if (!p || (hex && !h) || (diff_id && !d)) {
		free(p);
		free(h);
		free(d);
		return err_oom(e, "layers");
	}
	s->layers[s->nlayers] = p;
	s->layer_hex[s->nlayers] = h;
	s->layer_size[s->nlayers] = size;
	s->diff_ids[s->nlayers] = d;
	s->nlayers = n;
	return 0;
}

void src_close(struct image_src *s)
{
	if (s->dirfd >= 0 && s->dirfd != AT_FDCWD)
		close(s->dirfd);
	for (size_t i = 0; i < s->nlayers; i++) {
		free(s->layers[i]);
		free(s->layer_hex[i]);
		free(s->diff_ids[i]);
	}
	free(s->layers);
	free(s->layer_hex);
	free(s->layer_size);
	free(s->diff_ids);
	free(s->tar_path);
	free(s->config_json);
	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *jarr(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* Read a small file once and hash those bytes: what is parsed is what
 * was verified (never a second read of a path that may have changed). */
static char *read_hashed(int dirfd, const char *path, char got[SHA256_HEX_LEN + 1], size_t *len,
			 struct err *e)
{
	char *buf;
	if (read_file_at(dirfd, path, MAX_JSON, &buf, len, e))
		return NULL;
	struct sha256 *h = sha256_new(e);
	if (!h) {
		free(buf);
		return NULL;
	}
	sha256_update(h, buf, *len);
	sha256_final(h, got);
	return buf;
}

static json_object *parse_json_text(char *buf, const char *path, char **text, struct err *e)
{
	json_object *j = json_tokener_parse(buf);
	if (!j) {
		err_set(e, "%s: not valid JSON", path);
		free(buf);
		return NULL;
	}
	if (text)
		*text = buf;
	else
		free(buf);
	return j;
}

static json_object *parse_json_at(int dirfd, const char *path, char **text, struct err *e)
{
	char *buf;
	size_t len;
	if (read_file_at(dirfd, path, MAX_JSON, &buf, &len, e))
		return NULL;
	return parse_json_text(buf, path, text, e);
}

/* Read blob DIGEST of the layout, verify digest (and size if >= 0). */
static json_object *read_blob_json(int dirfd, const char *digest, int64_t size, char **text,
				   char hex[SHA256_HEX_LEN + 1], struct err *e)
{
	char path[128], got[SHA256_HEX_LEN + 1];
	size_t n;
	if (digest_parse(digest, hex, e))
		return NULL;
	snprintf(path, sizeof(path), "blobs/sha256/%s", hex);
	char *buf = read_hashed(dirfd, path, got, &n, e);
	if (!buf)
		return NULL;
	if (strcmp(got, hex)) {
		err_set(e, "blob %s: digest mismatch (content is sha256:%s)", digest, got);
		free(buf);
		return NULL;
	}
	if (size >= 0 && (uint64_t)size != n) {
		err_set(e, "blob %s: size %zu, descriptor says %lld", digest, n, (long long)size);
		free(buf);
		return NULL;
	}
	return parse_json_text(buf, path, text, e);
}

static int64_t jsize(json_object *desc)
{
	json_object *v;
	if (!json_object_object_get_ex(desc, "size", &v))
		return -1;
	return json_object_get_int64(v);
}

static bool is_index(const char *mt)
{
	return mt && (!strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
		      !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

/* Pick the descriptor for linux/amd64 from an index's manifests. */
static json_object *pick_platform(json_object *manifests, struct err *e)
{
	size_t n = json_object_array_length(manifests);
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(manifests, i), *p;
		if (!json_object_object_get_ex(d, "platform", &p))
			continue;
		const char *os = jstr(p, "os"), *arch = jstr(p, "architecture");
		if (os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64"))
			return d;
	}
	err_set(e, "no linux/amd64 image in the index");
	return NULL;
}

static int read_manifest(struct image_src *s, json_object *desc, int depth, struct err *e);

static int read_index(struct image_src *s, json_object *index, const char *tag, int depth,
		      struct err *e)
{
	json_object *m = jarr(index, "manifests");
	if (!m || !json_object_array_length(m))
		return err_set(e, "index has no manifests");
	size_t n = json_object_array_length(m);
	json_object *pick = NULL;
	if (tag) {
		for (size_t i = 0; i < n; i++) {
			json_object *d = json_object_array_get_idx(m, i), *ann;
			const char *ref = json_object_object_get_ex(d, "annotations", &ann)
						  ? jstr(ann, "org.opencontainers.image.ref.name")
						  : NULL;
			if (ref && !strcmp(ref, tag))
				pick = d;
		}
		if (!pick)
			return err_set(e, "no image tagged '%s'", tag);
	} else if (n == 1) {
		pick = json_object_array_get_idx(m, 0);
	} else {
		/* An index of platforms, or several tags: a platform index only. */
		bool platforms = true;
		for (size_t i = 0; i < n; i++)
			if (!json_object_object_get_ex(json_object_array_get_idx(m, i), "platform", NULL))
				platforms = false;
		if (!platforms)
			return err_set(e, "%zu images in the layout: choose one with SRC:TAG", n);
		if (!(pick = pick_platform(m, e)))
			return -1;
	}
	return read_manifest(s, pick, depth + 1, e);
}

static int read_manifest(struct image_src *s, json_object *desc, int depth, struct err *e)
{
	char hex[SHA256_HEX_LEN + 1];
	const char *digest = jstr(desc, "digest");
	if (!digest)
		return err_set(e, "descriptor without a digest");
	if (depth > 4)
		return err_set(e, "indexes nested too deeply");
	json_object *j = read_blob_json(s->dirfd, digest, jsize(desc), NULL, hex, e);
	if (!j)
		return -1;
	int rc = -1;
	const char *mt = jstr(j, "mediaType");
	if (!mt)
		mt = jstr(desc, "mediaType");
	if (is_index(mt) || (jarr(j, "manifests") && !jarr(j, "layers"))) {
		json_object *m = jarr(j, "manifests");
		json_object *pick = m ? pick_platform(m, e) : NULL;
		rc = pick ? read_manifest(s, pick, depth + 1, e) : (m ? -1 : err_set(e, "bad index"));
		goto out;
	}
	json_object *cfg, *layers = jarr(j, "layers");
	if (!json_object_object_get_ex(j, "config", &cfg) || !layers || !jstr(cfg, "digest")) {
		err_set(e, "manifest %s: no config or layers", digest);
		goto out;
	}
	json_object *config = read_blob_json(s->dirfd, jstr(cfg, "digest"), jsize(cfg), &s->config_json,
					     s->key, e);
	if (!config)
		goto out;
	json_object *rootfs, *diff_ids = NULL;
	if (json_object_object_get_ex(config, "rootfs", &rootfs))
		diff_ids = jarr(rootfs, "diff_ids");
	size_t n = json_object_array_length(layers);
	if (!diff_ids || json_object_array_length(diff_ids) != n) {
		err_set(e, "config: rootfs.diff_ids does not match the %zu layers", n);
		json_object_put(config);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(layers, i);
		const char *ld = jstr(l, "digest");
		const char *did = json_object_get_string(json_object_array_get_idx(diff_ids, i));
		char lhex[SHA256_HEX_LEN + 1], dhex[SHA256_HEX_LEN + 1], path[128];
		if (!ld || !did || digest_parse(ld, lhex, e) || digest_parse(did, dhex, e)) {
			if (!ld || !did)
				err_set(e, "layer %zu: no digest", i);
			json_object_put(config);
			goto out;
		}
		snprintf(path, sizeof(path), "blobs/sha256/%s", lhex);
		if (add_layer(s, path, lhex, jsize(l), dhex, e)) {
			json_object_put(config);
			goto out;
		}
	}
	json_object_put(config);
	rc = 0;
out:
	json_object_put(j);
	return rc;
}

static int open_oci(struct image_src *s, const char *tag, struct err *e)
{
	json_object *index = parse_json_at(s->dirfd, "index.json", NULL, e);
	if (!index)
		return -1;
	int rc = read_index(s, index, tag, 0, e);
	json_object_put(index);
	return rc;
}

static int open_docker(struct image_src *s, const char *tag, struct err *e)
{
	json_object *m = parse_json_at(s->dirfd, "manifest.json", NULL, e);
	if (!m)
		return -1;
	int rc = -1;
	if (!json_object_is_type(m, json_type_array) || !json_object_array_length(m)) {
		err_set(e, "manifest.json: not a non-empty array");
		goto out;
	}
	json_object *pick = NULL;
	size_t n = json_object_array_length(m);
	for (size_t i = 0; i < n && tag; i++) {
		json_object *im = json_object_array_get_idx(m, i), *tags = jarr(im, "RepoTags");
		for (size_t k = 0; tags && k < json_object_array_length(tags); k++) {
			const char *t = json_object_get_string(json_object_array_get_idx(tags, k));
			const char *colon = t ? strrchr(t, ':') : NULL;
			if (t && (!strcmp(t, tag) || (colon && !strcmp(colon + 1, tag))))
				pick = im;
		}
	}
	if (tag && !pick) {
		err_set(e, "no image tagged '%s'", tag);
		goto out;
	}
	if (!tag) {
		if (n != 1) {
			err_set(e, "%zu images in the archive: choose one with SRC:TAG", n);
			goto out;
		}
		pick = json_object_array_get_idx(m, 0);
	}
	const char *cfgpath = jstr(pick, "Config");
	json_object *layers = jarr(pick, "Layers");
	if (!cfgpath || !layers) {
		err_set(e, "manifest.json: no Config or Layers");
		goto out;
	}
	size_t sz;
	char *cfgtext = read_hashed(s->dirfd, cfgpath, s->key, &sz, e);
	if (!cfgtext)
		goto out;
	/* The config's name is its digest ("<hex>.json" or blobs/sha256/<hex>). */
	const char *base = strrchr(cfgpath, '/') ? strrchr(cfgpath, '/') + 1 : cfgpath;
	if (strlen(base) >= SHA256_HEX_LEN && strspn(base, "0123456789abcdef") == SHA256_HEX_LEN &&
	    strncmp(base, s->key, SHA256_HEX_LEN)) {
		err_set(e, "%s: digest mismatch (content is sha256:%s)", cfgpath, s->key);
		free(cfgtext);
		goto out;
	}
	json_object *config = parse_json_text(cfgtext, cfgpath, &s->config_json, e);
	if (!config)
		goto out;
	json_object *rootfs, *diff_ids = NULL;
	if (json_object_object_get_ex(config, "rootfs", &rootfs))
		diff_ids = jarr(rootfs, "diff_ids");
	size_t nl = json_object_array_length(layers);
	if (!diff_ids || json_object_array_length(diff_ids) != nl) {
		err_set(e, "config: rootfs.diff_ids does not match the %zu layers", nl);
		json_object_put(config);
		goto out;
	}
	rc = 0;
	for (size_t i = 0; i < nl && !rc; i++) {
		const char *lp = json_object_get_string(json_object_array_get_idx(layers, i));
		const char *did = json_object_get_string(json_object_array_get_idx(diff_ids, i));
		char dhex[SHA256_HEX_LEN + 1];
		if (!lp || !did || digest_parse(did, dhex, e)) {
			rc = lp && did ? -1 : err_set(e, "layer %zu: no path or diff_id", i);
			break;
		}
		const char *lb = strrchr(lp, '/') ? strrchr(lp, '/') + 1 : lp;
		bool named = !strncmp(lp, "blobs/sha256/", 13) && strlen(lb) == SHA256_HEX_LEN;
		rc = add_layer(s, lp, named ? lb : NULL, -1, dhex, e);
	}
	json_object_put(config);
out:
	json_object_put(m);
	return rc;
}

/* Scan an archive's entry names to tell the three tar formats apart. */
static enum src_format sniff_archive(const char *path, struct err *e)
{
	struct archive *a = archive_read_new();
	if (!a) {
		err_oom(e, path);
		return SRC_AUTO;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	enum src_format f = SRC_AUTO;
	bool index = false, manifest = false, layout = false;
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		err_set(e, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	struct archive_entry *ent;
	int r;
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *p = archive_entry_pathname(ent);
		if (p && !strncmp(p, "./", 2))
			p += 2;
		if (!p)
			continue;
		index |= !strcmp(p, "index.json");
		layout |= !strcmp(p, "oci-layout");
		manifest |= !strcmp(p, "manifest.json");
	}
	if (r != ARCHIVE_EOF) {
		err_set(e, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	f = index && layout ? SRC_OCI_ARCHIVE : manifest ? SRC_DOCKER_ARCHIVE : SRC_ROOTFS_TAR;
out:
	archive_read_free(a);
	return f;
}

/* ---- rootfs-dir → deterministic tar ---- */

struct tarw {
	struct archive *disk, *w;
	struct archive_entry_linkresolver *lr;
};

static int tar_add(struct tarw *t, const char *abs, const char *rel, struct err *e);

/* "A/B", or NULL if out of memory. */
static char *path_join(const char *a, const char *b)
{
	char *s;
	return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

static int tar_dir(struct tarw *t, const char *abs, const char *rel, struct err *e)
{
	struct dirent **list;
	int n = scandir(abs, &list, NULL, alphasort);
	if (n < 0)
		return err_sys(e, "%s", abs);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = list[i]->d_name;
		if (!rc && strcmp(nm, ".") && strcmp(nm, "..")) {
			char *ca = path_join(abs, nm), *cr = path_join(rel, nm);
			rc = ca && cr ? tar_add(t, ca, cr, e) : err_oom(e, abs);
			free(ca);
			free(cr);
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

static int tar_add(struct tarw *t, const char *abs, const char *rel, struct err *e)
{
	struct stat st;
	if (lstat(abs, &st))
		return err_sys(e, "%s", abs);
	struct archive_entry *ent = archive_entry_new(), *sparse = NULL;
	if (!ent)
		return err_oom(e, abs);
	archive_entry_copy_pathname(ent, rel);
	archive_entry_copy_sourcepath(ent, abs);
	if (archive_read_disk_entry_from_file(t->disk, ent, -1, &st) != ARCHIVE_OK) {
		err_set(e, "%s: %s", abs, archive_error_string(t->disk));
		archive_entry_free(ent);
		return -1;
	}
	/* Only what the image keeps, so the stream depends on content only. */
	archive_entry_unset_atime(ent);
	archive_entry_unset_ctime(ent);
	archive_entry_unset_birthtime(ent);
	archive_entry_set_uname(ent, NULL);
	archive_entry_set_gname(ent, NULL);
	archive_entry_set_ino(ent, st.st_ino);
	archive_entry_set_dev(ent, st.st_dev);
	int rc = 0;
	struct archive_entry *out = ent;
	archive_entry_linkify(t->lr, &out, &sparse);
	if (out) {
		if (archive_write_header(t->w, out) != ARCHIVE_OK) {
			rc = err_set(e, "%s: %s", abs, archive_error_string(t->w));
		} else if (S_ISREG(st.st_mode) && archive_entry_size(out) > 0) {
			int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			static char buf[1 << 16];
			ssize_t n = 0;
			while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
				if (archive_write_data(t->w, buf, (size_t)n) != n) {
					n = -1;
					break;
				}
			if (fd < 0 || n < 0)
				rc = err_sys(e, "read %s", abs);
			if (fd >= 0)
				close(fd);
		}
	}
	/* The tar strategy never defers entries: out is ent (or NULL). */
	if (out && out != ent)
		archive_entry_free(out);
	archive_entry_free(ent);
	if (!rc && S_ISDIR(st.st_mode))
		rc = tar_dir(t, abs, rel, e);
	return rc;
}

static int rootfs_dir_to_tar(const char *dir, int workfd, struct err *e)
{
	int fd = openat(workfd, "rootfs.tar", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, "rootfs.tar");
	struct tarw t = { .disk = archive_read_disk_new(), .w = archive_write_new(),
			  .lr = archive_entry_linkresolver_new() };
	int rc = -1;
	if (!t.disk || !t.w || !t.lr) {
		err_oom(e, "rootfs.tar");
		goto out;
	}
	archive_read_disk_set_symlink_physical(t.disk);
	archive_write_set_format_pax_restricted(t.w);
	archive_entry_linkresolver_set_strategy(t.lr, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	if (archive_write_open_fd(t.w, fd) != ARCHIVE_OK) {
		err_set(e, "%s", archive_error_string(t.w));
		goto out;
	}
	rc = tar_add(&t, dir, ".", e);
	if (!rc && archive_write_close(t.w) != ARCHIVE_OK)
		rc = err_set(e, "rootfs.tar: %s", archive_error_string(t.w));
out:
	archive_entry_linkresolver_free(t.lr);
	archive_write_free(t.w);
	archive_read_free(t.disk);
	close(fd);
	return rc;
}

/* Split SRC:TAG when SRC itself does not exist. */
static char *split_tag(char *spec)
{
	struct stat st;
	if (!stat(spec, &st))
		return NULL;
	char *colon = strrchr(spec, ':');
	if (!colon || strchr(colon, '/'))
		return NULL;
	*colon = '\0';
	return colon + 1;
}

int src_open(const char *spec_in, enum src_format fmt, int workfd, struct image_src *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
	char *spec = strdup(spec_in);
	if (!spec)
		return err_oom(e, "image source");
	char *tag = split_tag(spec);
	int rc = -1;
	struct stat st;
	if (stat(spec, &st)) {
		err_sys(e, "%s", spec);
		goto out;
	}
	if (fmt == SRC_AUTO) {
		if (S_ISDIR(st.st_mode)) {
			int fd = open(spec, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0) {
				err_sys(e, "%s", spec);
				goto out;
			}
			fmt = !faccessat(fd, "index.json", F_OK, 0) && !faccessat(fd, "oci-layout", F_OK, 0)
				      ? SRC_OCI
				      : SRC_ROOTFS_DIR;
			close(fd);
		} else if ((fmt = sniff_archive(spec, e)) == SRC_AUTO) {
			goto out;
		}
	}
	s->format = fmt;
	if ((fmt == SRC_OCI || fmt == SRC_ROOTFS_DIR) != S_ISDIR(st.st_mode)) {
		err_set(e, "%s: %s wants a %s", spec, src_format_name(fmt),
			S_ISDIR(st.st_mode) ? "file" : "directory");
		goto out;
	}
	switch (fmt) {
	case SRC_OCI:
		if ((s->dirfd = open(spec, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			err_sys(e, "%s", spec);
			goto out;
		}
		rc = open_oci(s, tag, e);
		break;
	case SRC_OCI_ARCHIVE:
	case SRC_DOCKER_ARCHIVE: {
		if (mkdirat(workfd, "src", 0700) ||
		    (s->dirfd = openat(workfd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			err_sys(e, "work dir");
			goto out;
		}
		struct apply *a = apply_new(s->dirfd, false, e);
		rc = a ? apply_tar_at(a, AT_FDCWD, spec, e) : -1;
		apply_free(a);
		if (rc) {
			err_wrap(e, "%s", spec);
			goto out;
		}
		/* A docker save with an OCI layout inside is read as OCI. */
		if (!faccessat(s->dirfd, "index.json", F_OK, 0) && !faccessat(s->dirfd, "oci-layout", F_OK, 0))
			rc = open_oci(s, tag, e);
		else
			rc = open_docker(s, tag, e);
		break;
	}
	case SRC_ROOTFS_TAR:
		s->dirfd = AT_FDCWD;
		s->tar_path = realpath(spec, NULL);
		if (!s->tar_path) {
			err_sys(e, "%s", spec);
			goto out;
		}
		rc = sha256_file_at(AT_FDCWD, s->tar_path, s->key, NULL, e);
		break;
	case SRC_ROOTFS_DIR:
		if (rootfs_dir_to_tar(spec, workfd, e))
			goto out;
		s->dirfd = dup(workfd);
		s->tar_path = strdup("rootfs.tar");
		if (!s->tar_path) {
			err_oom(e, "image source");
			goto out;
		}
		rc = sha256_file_at(s->dirfd, s->tar_path, s->key, NULL, e);
		break;
	default:
		err_set(e, "bad format");
	}
out:
	free(spec);
	return rc;
}

/* Layer I's digests (what was read from its one open) against the
 * manifest's and the config's. */
static int check_layer(const struct image_src *s, size_t i, const struct stream_digests *d, struct err *e)
{
	if (s->layer_hex[i] && strcmp(d->blob, s->layer_hex[i]))
		return err_set(e, "layer %zu (sha256:%.12s): digest mismatch (content is sha256:%.12s)",
			       i + 1, s->layer_hex[i], d->blob);
	if (s->layer_hex[i] && s->layer_size[i] >= 0 && (uint64_t)s->layer_size[i] != d->size)
		return err_set(e, "layer %zu: size %llu, descriptor says %lld", i + 1,
			       (unsigned long long)d->size, (long long)s->layer_size[i]);
	if (s->diff_ids[i] && strcmp(d->diff, s->diff_ids[i]))
		return err_set(e, "layer %zu: diff_id mismatch (uncompressed is sha256:%.12s, config says %.12s)",
			       i + 1, d->diff, s->diff_ids[i]);
	return 0;
}

/* Layer I read once (A: applied into A as it is read; NULL: only hashed),
 * then checked. An applied layer that fails the check fails the import:
 * its tree is thrown away with the work directory. */
static int layer_pass(struct image_src *s, size_t i, struct apply *a, struct err *e)
{
	struct stream_digests d = { "", "", 0 };
	int fd = open_beneath(s->dirfd, s->layers[i], O_RDONLY, e);
	if (fd < 0)
		return err_wrap(e, "layer %zu", i + 1);
	int rc;
	if (a) {
		rc = apply_tar_fd(a, fd, &d, e);
	} else {
		struct hstream *h = hstream_open(fd, e);
		rc = h ? hstream_finish(h, &d, e) : -1;
		hstream_free(h);
	}
	close(fd);
	/* A blob that fails its digest is reported as such, whatever the
	 * error its content caused. */
	if (rc && s->layer_hex[i] && d.blob[0] && strcmp(d.blob, s->layer_hex[i]))
		return check_layer(s, i, &d, e);
	if (rc)
		return err_wrap(e, "layer %zu", i + 1);
	return check_layer(s, i, &d, e);
}

int src_verify_layers(struct image_src *s, struct err *e)
{
	for (size_t i = 0; i < s->nlayers; i++)
		if (layer_pass(s, i, NULL, e))
			return -1;
	return 0;
}

int src_apply_layer(struct image_src *s, size_t i, struct apply *a, struct err *e)
{
	return layer_pass(s, i, a, e);
}

int src_apply_tar(struct image_src *s, struct apply *a, struct err *e)
{
	struct stream_digests d;
	int fd = open_beneath(s->dirfd, s->tar_path, O_RDONLY, e);
	if (fd < 0)
		return -1;
	int rc = apply_tar_fd(a, fd, &d, e);
	close(fd);
	if (!rc && strcmp(d.blob, s->key))
		rc = err_set(e, "%s changed while it was imported (sha256:%.12s, then sha256:%.12s)",
			     s->tar_path, s->key, d.blob);
	return rc;
}
