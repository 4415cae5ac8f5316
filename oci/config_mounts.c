/* sandbox-runtime's config.json parser (config_int.h): the container's
 * file systems, root.path and mounts[]: the mounts guest-init provides
 * itself, bind mounts of host directories and files, tmpfs (skipped). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config_int.h"

/* root.path: relative to the bundle (and inside it), or absolute. */
int cfg_root(struct oci_config *c, json_object *r, const char *bundle, struct err *e)
{
	static const struct key keys[] = { { "path", HONOUR }, { "readonly", HONOUR } };
	if (cfg_keys(c, r, "root", keys, 2, e))
		return -1;
	json_object *v;
	const char *path;
	if (!json_object_object_get_ex(r, "path", &v))
		return err_set(e, "config.json: root.path is missing");
	if (cfg_str(v, "root.path", &path, e))
		return -1;
	if (!*path)
		return err_set(e, "config.json: root.path is empty");
	if (json_object_object_get_ex(r, "readonly", &v) && cfg_bool(v, "root.readonly", &c->root_ro, e))
		return -1;
	if (path[0] != '/') {
		/* no ".." component: it must stay inside the bundle */
		for (const char *s = path; s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL)
			if (!strncmp(s, "..", 2) && (s[2] == '/' || !s[2]))
				return err_set(e, "config.json: root.path '%.80s' leaves the bundle", path);
		if ((size_t)snprintf(c->root, sizeof(c->root), "%s/%s", bundle, path) >= sizeof(c->root))
			return err_set(e, "config.json: root.path is too long");
	} else if ((size_t)snprintf(c->root, sizeof(c->root), "%s", path) >= sizeof(c->root)) {
		return err_set(e, "config.json: root.path is too long");
	}
	if (strchr(c->root, ':'))
		return err_set(e, "config.json: root.path '%.80s': a ':' in it is not supported", c->root);
	return 0;
}

/* Where guest-init mounts its own file systems: the engine's mounts there
 * are taken as asking for the usual ones. */
static bool guest_provided(const char *dest)
{
	static const char *const d[] = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
					 "/sys/fs/cgroup" };
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (!strcmp(dest, d[i]))
			return true;
	return false;
}

/* Files the engines bind in for their own bookkeeping. */
static bool engine_file(const char *dest)
{
	static const char *const d[] = { "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv" };
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (!strcmp(dest, d[i]))
			return true;
	return false;
}

static int parse_mount(struct oci_config *c, json_object *m, unsigned i, struct err *e)
{
	static const struct key keys[] = {
		{ "destination", HONOUR }, { "type", HONOUR }, { "source", HONOUR }, { "options", HONOUR },
		{ "uidMappings", REFUSE_IF_SET }, { "gidMappings", REFUSE_IF_SET },
	};
	if (cfg_keys(c, m, "mounts[]", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	struct oci_mount *o = &c->mounts[i];
	json_object *v;
	const char *opts[64];
	unsigned nopts = 0;
	if (!json_object_object_get_ex(m, "destination", &v))
		return err_set(e, "config.json: mounts[%u].destination is missing", i);
	if (cfg_str(v, "mounts[].destination", &o->dest, e))
		return -1;
	if (o->dest[0] != '/' || strlen(o->dest) > CSPEC_MAX_PATH || strchr(o->dest, ':') || strstr(o->dest, "/.."))
		return err_set(e, "config.json: mounts[%u].destination '%.80s': want an absolute path without ':' or '..'",
			       i, o->dest);
	o->type = "";
	o->source = "";
	if (json_object_object_get_ex(m, "type", &v) && cfg_str(v, "mounts[].type", &o->type, e))
		return -1;
	if (json_object_object_get_ex(m, "source", &v) && cfg_str(v, "mounts[].source", &o->source, e))
		return -1;
	if (json_object_object_get_ex(m, "options", &v) && cfg_strs(v, "mounts[].options", opts, &nopts, 64, e))
		return -1;
	bool bind = !strcmp(o->type, "bind");
	for (unsigned k = 0; k < nopts; k++) {
		if (!strcmp(opts[k], "ro"))
			o->ro = true;
		if (!strcmp(opts[k], "bind") || !strcmp(opts[k], "rbind"))
			bind = true;
	}
	if (guest_provided(o->dest)) {
		o->kind = OCI_MOUNT_GUEST;
		return 0;
	}
	if (!bind) {
		if (!strcmp(o->type, "tmpfs")) {
			/* podman --read-only's /tmp, /var/tmp, /run */
			cfg_note(c, "mounts[].type tmpfs (not yet: the root's directory is used)");
			o->kind = OCI_MOUNT_SKIPPED;
			return 0;
		}
		return err_set(e, "config.json: mounts[%u]: type '%.40s' at %.80s is not supported", i, o->type, o->dest);
	}
	if (o->source[0] != '/' || strchr(o->source, ':'))
		return err_set(e, "config.json: mounts[%u].source '%.80s': want an absolute host path without ':'", i,
			       o->source);
	struct stat st;
	if (stat(o->source, &st))
		return err_set(e, "config.json: mounts[%u].source %.80s: %s", i, o->source, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		o->kind = OCI_MOUNT_BIND_DIR;
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		/* a pod's container binds it; a VM of its own skips the
		 * engine's and refuses the rest (map.c) */
		o->kind = OCI_MOUNT_BIND_FILE;
		o->engine = engine_file(o->dest);
		return 0;
	}
	return err_set(e, "config.json: mounts[%u]: a bind mount of %.80s (neither a directory nor a regular file) is "
		       "not supported", i, o->source);
}

int cfg_mounts(struct oci_config *c, json_object *m, struct err *e)
{
	if (!json_object_is_type(m, json_type_array))
		return err_set(e, "config.json: mounts must be an array");
	size_t n = json_object_array_length(m);
	if (n > OCI_MAX_MOUNTS)
		return err_set(e, "config.json: more than %d mounts", OCI_MAX_MOUNTS);
	for (size_t i = 0; i < n; i++)
		if (parse_mount(c, json_object_array_get_idx(m, i), (unsigned)i, e))
			return -1;
	c->nmounts = (unsigned)n;
	return 0;
}
