/* Whiteouts (layers only, apply_impl.h): ".wh.NAME" removes NAME from
 * the lower layers, ".wh..wh..opq" marks its directory opaque: at the end
 * of the layer every child the layer did not write is removed (OCI image
 * spec: whiteouts apply to lower layers only). The paths a layer wrote
 * are kept in a set (open addressing, FNV-1a). */
#include "apply_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

bool pathset_has(const struct pathset *p, const char *s)
{
	if (!p->cap)
		return false;
	for (size_t i = fnv(s) & (p->cap - 1);; i = (i + 1) & (p->cap - 1)) {
		if (!p->slot[i])
			return false;
		if (!strcmp(p->slot[i], s))
			return true;
	}
}

int pathset_add(struct pathset *p, const char *s, struct err *e)
{
	if (pathset_has(p, s))
		return 0;
	char *copy = strdup(s);
	if (!copy)
		return err_oom(e, "layer paths");
	if ((p->n + 1) * 2 > p->cap) {
		struct pathset np = { .cap = p->cap ? p->cap * 2 : 256 };
		np.slot = calloc(np.cap, sizeof(char *));
		if (!np.slot) {
			free(copy);
			return err_oom(e, "layer paths");
		}
		for (size_t i = 0; i < p->cap; i++)
			if (p->slot[i]) {
				size_t j = fnv(p->slot[i]) & (np.cap - 1);
				while (np.slot[j])
					j = (j + 1) & (np.cap - 1);
				np.slot[j] = p->slot[i];
				np.n++;
			}
		free(p->slot);
		*p = np;
	}
	size_t i = fnv(s) & (p->cap - 1);
	while (p->slot[i])
		i = (i + 1) & (p->cap - 1);
	p->slot[i] = copy;
	p->n++;
	return 0;
}

void pathset_clear(struct pathset *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->slot[i]);
	free(p->slot);
	memset(p, 0, sizeof(*p));
}

int apply_whiteout(struct apply *a, char *path, const char *name, int pfd, struct err *e)
{
	if (!strcmp(name, ".wh..wh..opq")) {
		char *slash = strrchr(path, '/');
		char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup("");
		char **opaque = dir ? realloc(a->opaque, (a->nopaque + 1) * sizeof(char *)) : NULL;
		if (!opaque) {
			free(dir);
			return err_oom(e, "whiteouts");
		}
		a->opaque = opaque;
		a->opaque[a->nopaque++] = dir;
		return 0;
	}
	const char *victim = name + 4;
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
		return err_set(e, "%s: bad whiteout", path);
	/* The path of the hidden entry, to skip same-layer entries. */
	size_t plen = (size_t)(name - path);
	char *vpath = malloc(plen + strlen(victim) + 1);
	if (!vpath)
		return err_oom(e, "whiteouts");
	memcpy(vpath, path, plen);
	strcpy(vpath + plen, victim);
	bool same = pathset_has(&a->seen, vpath);
	free(vpath);
	if (!same && rm_rf_at(pfd, victim))
		return err_sys(e, "whiteout %s", path);
	return 0;
}

/* Remove children of DIRFD (whose path is PREFIX) not written this layer. */
/* Deep enough for any real image; an input nesting directories deeper
 * under an opaque whiteout is refused rather than walked (each level holds
 * two descriptors and a path). */
#define OPAQUE_MAX_DEPTH 256

static int prune_opaque(struct apply *a, int dirfd, const char *prefix, unsigned depth, struct err *e)
{
	if (depth > OPAQUE_MAX_DEPTH)
		return err_set(e, "directories nested deeper than %d levels under an opaque whiteout (%.200s...)",
			       OPAQUE_MAX_DEPTH, prefix);
	size_t cap = strlen(prefix) + 2 + 256;  /* prefix, '/', a d_name (< 256), NUL */
	char *child = malloc(cap);
	if (!child) {
		errno = ENOMEM;         /* err_oom's message, with the path */
		return err_sys(e, "opaque %s", prefix);
	}
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		free(child);
		return err_sys(e, "opaque %s", prefix);
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(child, cap, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name);
		if (!pathset_has(&a->seen, child)) {
			if (rm_rf_at(dirfd, de->d_name))
				rc = err_sys(e, "opaque: remove %s", child);
			continue;
		}
		if (de->d_type == DT_DIR) {
			int cfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0)
				rc = err_sys(e, "opaque %s", child);
			else {
				rc = prune_opaque(a, cfd, child, depth + 1, e);
				close(cfd);
			}
		}
	}
	closedir(d);
	free(child);
	return rc;
}

int apply_finish_layer(struct apply *a, struct err *e)
{
	int rc = 0;
	for (size_t i = 0; i < a->nopaque && !rc; i++) {
		int fd = apply_open_dir(a, a->opaque[i]);
		if (fd < 0) {
			if (errno != ENOENT)
				rc = err_sys(e, "opaque %s", a->opaque[i]);
			continue;
		}
		rc = prune_opaque(a, fd, a->opaque[i], 0, e);
		close(fd);
	}
	for (size_t i = 0; i < a->nopaque; i++)
		free(a->opaque[i]);
	a->nopaque = 0;
	pathset_clear(&a->seen);
	return rc;
}
