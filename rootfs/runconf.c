/* sandbox-image runconf: an image's run defaults for sandbox run, as
 * NUL-terminated key=value records (docs/images.md), printed and kept
 * beside the entry as <key>.runconf. */
#include "image.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The runconf output, built in memory: printed, and kept beside the
 * image entry as <key>.runconf (content-addressed like the entry, so it is
 * never stale) for sandbox run to read without starting this program. */
static char *rc_buf;
static size_t rc_len, rc_cap;
/* A record did not fit in memory: the output is not printed or kept
 * (a short one would drop Cmd or Env entries without a word). */
static bool rc_oom;

/* One runconf record: KEY=VALUE and a NUL. */
static void record(const char *key, const char *value)
{
	if (!value || rc_oom)
		return;
	size_t n = strlen(key) + 1 + strlen(value) + 1;
	if (rc_len + n > rc_cap) {
		size_t cap = (rc_cap ? 2 * rc_cap : 4096) + n;
		char *nb = realloc(rc_buf, cap);
		if (!nb) {
			rc_oom = true;
			return;
		}
		rc_buf = nb;
		rc_cap = cap;
	}
	rc_len += (size_t)sprintf(rc_buf + rc_len, "%s=%s", key, value) + 1;
}

/* Write <key>.runconf once (temp file + rename; best effort: sandbox run
 * falls back to asking this program). */
static void keep_runconf(struct cache *c, const char *key)
{
	char path[128], tmp[160];
	snprintf(path, sizeof(path), "%s.runconf", key);
	if (!faccessat(c->vfd, path, F_OK, 0))
		return;
	snprintf(tmp, sizeof(tmp), ".tmp.%d.%s", (int)getpid(), path);
	int fd = openat(c->vfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, cache_file_mode());
	if (fd < 0)
		return;
	bool ok = write(fd, rc_buf, rc_len) == (ssize_t)rc_len;
	close(fd);
	if (!ok || renameat(c->vfd, tmp, c->vfd, path))
		unlinkat(c->vfd, tmp, 0);
}

static void records(json_object *m, const char *field, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(m, field, &v) || !v)
		return;
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			record(key, json_object_get_string(json_object_array_get_idx(v, i)));
	} else {
		record(key, json_object_get_string(v));
	}
}

/* Run defaults for sandbox run: NUL-terminated "key=value" records, in
 * this order: disk (absolute path), fstype, entrypoint*, cmd*, env*,
 * workdir, user, stopsignal (each if set), port* (docs/images.md). */
int runconf_print(struct cache *c, const char *name, struct err *e)
{
	char key[SHA256_HEX_LEN + 1], link[4200], *json = NULL, *text = NULL;
	if (builtin_import(c, name, e) < 0)
		return -1;
	if (cache_name_key(c, name, key))
		return err_set(e, "no image '%s' (see sandbox image ls, sandbox image import)", name);
	snprintf(link, sizeof(link), "%s/names/%s", c->dir, name);
	if (!(json = realpath(link, NULL)))
		return err_set(e, "no image '%s' (see sandbox image ls, sandbox image import)", name);
	json_object *m = NULL, *v;
	int rc = -1;
	if (read_file_at(AT_FDCWD, json, 1 << 20, &text, NULL, e))
		goto out;
	if (!(m = json_tokener_parse(text)) || !json_object_object_get_ex(m, "Disk", &v) ||
	    !json_object_is_type(v, json_type_string) || strchr(json_object_get_string(v), '/') ||
	    !json_object_object_get_ex(m, "FsType", &v) || !json_object_is_type(v, json_type_string)) {
		err_set(e, "%s: not an image entry", json);
		goto out;
	}
	char disk[4400];
	json_object_object_get_ex(m, "Disk", &v);
	snprintf(disk, sizeof(disk), "%s/%s", dirname(json), json_object_get_string(v));
	if (access(disk, R_OK)) {
		err_sys(e, "image '%s': disk %s", name, disk);
		goto out;
	}
	/* An entry imported before StopSignal was checked at import. */
	if (json_object_object_get_ex(m, "StopSignal", &v) && v &&
	    (!json_object_is_type(v, json_type_string) || !stop_signal_valid(json_object_get_string(v)))) {
		err_set(e, "image '%s': its StopSignal is not a signal (import it again)", name);
		goto out;
	}
	record("disk", disk);
	records(m, "FsType", "fstype");
	records(m, "Entrypoint", "entrypoint");
	records(m, "Cmd", "cmd");
	records(m, "Env", "env");
	records(m, "WorkingDir", "workdir");
	records(m, "User", "user");
	records(m, "StopSignal", "stopsignal");
	records(m, "ExposedPorts", "port");
	if (rc_oom) {
		err_oom(e, "runconf");
		goto out;
	}
	if (fwrite(rc_buf, 1, rc_len, stdout) != rc_len || fflush(stdout) || ferror(stdout)) {
		err_sys(e, "write");
		goto out;
	}
	keep_runconf(c, key);
	rc = 0;
out:
	json_object_put(m);
	free(text);
	free(json);
	return rc;
}
