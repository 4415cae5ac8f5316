/* sandbox-runtime: config.json into struct oci_config (oci.h).
 *
 * Every key is looked up in a table of its object: honoured (parsed into
 * the struct), taken with a note (the guest's own default applies: the
 * note goes to the log), or refused. A key in no table is an error naming
 * it: an engine asking for something we do not do must hear so. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci.h"

enum what { HONOUR, NOTE, NOTE_IF_SET, REFUSE_IF_SET };

struct key {
	const char *name;
	enum what what;
};

static int note(struct oci_config *c, const char *path)
{
	for (unsigned i = 0; i < c->nnotes; i++)
		if (!strcmp(c->notes[i], path))
			return 0;
	if (c->nnotes < OCI_MAX_NOTES)
		snprintf(c->notes[c->nnotes++], sizeof(c->notes[0]), "%s", path);
	return 0;
}

static bool set(json_object *v)
{
	if (!v)
		return false;
	switch (json_object_get_type(v)) {
	case json_type_null: return false;
	case json_type_array: return json_object_array_length(v) > 0;
	case json_type_object: return json_object_object_length(v) > 0;
	case json_type_string: return json_object_get_string_len(v) > 0;
	default: return true;
	}
}

/* Check OBJ's keys against KEYS (PATH names OBJ in errors). */
static int check_keys(struct oci_config *c, json_object *obj, const char *path, const struct key *keys, size_t n,
		      struct err *e)
{
	if (!json_object_is_type(obj, json_type_object))
		return err_set(e, "config.json: %s must be an object", path);
	json_object_object_foreach(obj, k, v) {
		size_t i = 0;
		while (i < n && strcmp(keys[i].name, k))
			i++;
		if (i == n)
			return err_set(e, "config.json: %s.%.80s: unknown or unsupported field", path, k);
		char full[96];
		snprintf(full, sizeof(full), "%s.%s", path, k);
		if (keys[i].what == NOTE || (keys[i].what == NOTE_IF_SET && set(v)))
			note(c, full);
		if (keys[i].what == REFUSE_IF_SET && set(v))
			return err_set(e, "config.json: %s: not supported by sandbox-runtime", full);
	}
	return 0;
}

static int get_str(json_object *v, const char *path, const char **out, struct err *e)
{
	if (!json_object_is_type(v, json_type_string))
		return err_set(e, "config.json: %s must be a string", path);
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return err_set(e, "config.json: %s holds a NUL byte", path);
	*out = json_object_get_string(v);
	return 0;
}

static int get_int(json_object *v, const char *path, int64_t min, int64_t max, int64_t *out, struct err *e)
{
	if (!json_object_is_type(v, json_type_int))
		return err_set(e, "config.json: %s must be an integer", path);
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno || x < min || x > max) {
		/* a uint64 above INT64_MAX (json-c keeps those apart) */
		if (max == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
			return err_set(e, "config.json: %s is out of range", path);
		return err_set(e, "config.json: %s is out of range (%lld to %lld)", path, (long long)min, (long long)max);
	}
	*out = x;
	return 0;
}

static int get_bool(json_object *v, const char *path, bool *out, struct err *e)
{
	if (!json_object_is_type(v, json_type_boolean))
		return err_set(e, "config.json: %s must be true or false", path);
	*out = json_object_get_boolean(v);
	return 0;
}

/* An array of strings into OUT (at most MAX). */
static int get_strs(json_object *v, const char *path, const char **out, unsigned *n, unsigned max, struct err *e)
{
	if (!json_object_is_type(v, json_type_array))
		return err_set(e, "config.json: %s must be an array of strings", path);
	size_t len = json_object_array_length(v);
	if (len > max)
		return err_set(e, "config.json: %s: more than %u entries", path, max);
	for (size_t i = 0; i < len; i++) {
		char p[64];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (get_str(json_object_array_get_idx(v, i), p, &out[i], e))
			return -1;
	}
	*n = (unsigned)len;
	return 0;
}

static const struct { const char *name; int res; } rlimit_names[] = {
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_STACK", RLIMIT_STACK }, { "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_RSS", RLIMIT_RSS },
};

static int parse_rlimits(struct oci_config *c, json_object *v, struct err *e)
{
	if (!json_object_is_type(v, json_type_array))
		return err_set(e, "config.json: process.rlimits must be an array");
	size_t n = json_object_array_length(v);
	if (n > CSPEC_MAX_RLIMITS)
		return err_set(e, "config.json: process.rlimits: more than %d", CSPEC_MAX_RLIMITS);
	static const struct key keys[] = { { "type", HONOUR }, { "soft", HONOUR }, { "hard", HONOUR } };
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(v, i), *t, *s, *h;
		const char *type;
		int64_t soft, hard;
		if (check_keys(c, r, "process.rlimits[]", keys, 3, e))
			return -1;
		if (!json_object_object_get_ex(r, "type", &t) || !json_object_object_get_ex(r, "soft", &s) ||
		    !json_object_object_get_ex(r, "hard", &h))
			return err_set(e, "config.json: process.rlimits[%zu]: want type, soft and hard", i);
		if (get_str(t, "process.rlimits[].type", &type, e) ||
		    get_int(s, "process.rlimits[].soft", 0, INT64_MAX, &soft, e) ||
		    get_int(h, "process.rlimits[].hard", 0, INT64_MAX, &hard, e))
			return -1;
		size_t k = 0;
		while (k < sizeof(rlimit_names) / sizeof(rlimit_names[0]) && strcmp(rlimit_names[k].name, type))
			k++;
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0]))
			return err_set(e, "config.json: process.rlimits: unknown type '%.40s'", type);
		if (soft > hard)
			return err_set(e, "config.json: process.rlimits: %s: soft above hard", type);
		for (unsigned j = 0; j < c->nrlimits; j++)
			if (c->rlimits[j].resource == (uint32_t)rlimit_names[k].res)
				return err_set(e, "config.json: process.rlimits: %s twice", type);
		c->rlimits[c->nrlimits++] = (struct cspec_rlimit){ .resource = (uint32_t)rlimit_names[k].res,
								   .soft = (uint64_t)soft, .hard = (uint64_t)hard };
	}
	return 0;
}

/* Linux's capability numbers (linux/capability.h), by name. */
static const char *const cap_names[CSPEC_CAP_BITS] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

/* A list of capability names into a mask. */
static int cap_set(json_object *v, const char *path, uint64_t *mask, struct err *e)
{
	const char *names[CSPEC_CAP_BITS * 2];
	unsigned n;
	*mask = 0;
	if (get_strs(v, path, names, &n, CSPEC_CAP_BITS * 2, e))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = 0;
		while (k < CSPEC_CAP_BITS && strcmp(cap_names[k], names[i]))
			k++;
		if (k == CSPEC_CAP_BITS)
			return err_set(e, "config.json: %s: unknown capability '%.40s'", path, names[i]);
		*mask |= 1ULL << k;
	}
	return 0;
}

static int parse_caps(struct oci_config *c, json_object *o, struct err *e)
{
	static const struct key keys[] = {
		{ "bounding", HONOUR }, { "effective", HONOUR }, { "permitted", HONOUR },
		{ "inheritable", NOTE_IF_SET }, { "ambient", NOTE_IF_SET },
	};
	if (check_keys(c, o, "process.capabilities", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *v;
	uint64_t eff = 0, perm = 0;
	if (json_object_object_get_ex(o, "bounding", &v) &&
	    cap_set(v, "process.capabilities.bounding", &c->cap_bounding, e))
		return -1;
	if (json_object_object_get_ex(o, "effective", &v) && cap_set(v, "process.capabilities.effective", &eff, e))
		return -1;
	if (json_object_object_get_ex(o, "permitted", &v) && cap_set(v, "process.capabilities.permitted", &perm, e))
		return -1;
	/* what a process can hold: effective within permitted, both within bounding */
	c->cap_effective = eff & perm & c->cap_bounding;
	return 0;
}

/* linux.maskedPaths or readonlyPaths into OUT. */
static int parse_paths(json_object *v, const char *path, const char **out, unsigned *n, struct err *e)
{
	if (get_strs(v, path, out, n, CSPEC_MAX_PATHS, e))
		return -1;
	for (unsigned i = 0; i < *n; i++)
		if (out[i][0] != '/' || strstr(out[i], "/..") || strlen(out[i]) > CSPEC_MAX_PATH)
			return err_set(e, "config.json: %s: '%.80s': want an absolute path without '..'", path, out[i]);
	return 0;
}

static int parse_user(struct oci_config *c, json_object *u, struct err *e)
{
	static const struct key keys[] = {
		{ "uid", HONOUR }, { "gid", HONOUR }, { "umask", NOTE_IF_SET }, { "additionalGids", NOTE_IF_SET },
		{ "username", REFUSE_IF_SET },
	};
	if (check_keys(c, u, "process.user", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *v;
	int64_t x;
	if (json_object_object_get_ex(u, "uid", &v)) {
		if (get_int(v, "process.user.uid", 0, UINT32_MAX - 1, &x, e))
			return -1;
		c->uid = (uint32_t)x;
	}
	if (json_object_object_get_ex(u, "gid", &v)) {
		if (get_int(v, "process.user.gid", 0, UINT32_MAX - 1, &x, e))
			return -1;
		c->gid = (uint32_t)x;
	}
	return 0;
}

static int parse_process(struct oci_config *c, json_object *p, struct err *e)
{
	static const struct key keys[] = {
		{ "terminal", HONOUR }, { "consoleSize", HONOUR }, { "user", HONOUR }, { "args", HONOUR },
		{ "env", HONOUR }, { "cwd", HONOUR }, { "rlimits", HONOUR },
		{ "noNewPrivileges", HONOUR },  /* always on in the guest */
		{ "capabilities", HONOUR }, { "apparmorProfile", NOTE_IF_SET }, { "selinuxLabel", NOTE_IF_SET },
		{ "oomScoreAdj", NOTE_IF_SET }, { "commandLine", REFUSE_IF_SET }, { "ioPriority", NOTE_IF_SET },
		{ "scheduler", REFUSE_IF_SET },
	};
	if (check_keys(c, p, "process", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *v;
	if (json_object_object_get_ex(p, "terminal", &v) && get_bool(v, "process.terminal", &c->terminal, e))
		return -1;
	if (json_object_object_get_ex(p, "user", &v) && parse_user(c, v, e))
		return -1;
	if (!json_object_object_get_ex(p, "args", &v))
		return err_set(e, "config.json: process.args is missing");
	if (get_strs(v, "process.args", c->args, &c->nargs, CSPEC_MAX_ARGS, e))
		return -1;
	if (!c->nargs)
		return err_set(e, "config.json: process.args is empty");
	if (json_object_object_get_ex(p, "env", &v) && get_strs(v, "process.env", c->env, &c->nenv, CSPEC_MAX_ENV, e))
		return -1;
	for (unsigned i = 0; i < c->nenv; i++)
		if (!strchr(c->env[i], '=') || c->env[i][0] == '=')
			return err_set(e, "config.json: process.env[%u]: want KEY=VALUE", i);
	if (!json_object_object_get_ex(p, "cwd", &v))
		return err_set(e, "config.json: process.cwd is missing");
	if (get_str(v, "process.cwd", &c->cwd, e))
		return -1;
	if (c->cwd[0] != '/' || strlen(c->cwd) > CSPEC_MAX_PATH)
		return err_set(e, "config.json: process.cwd must be an absolute path");
	bool nnp;
	if (json_object_object_get_ex(p, "noNewPrivileges", &v) && get_bool(v, "process.noNewPrivileges", &nnp, e))
		return -1;
	if (json_object_object_get_ex(p, "rlimits", &v) && parse_rlimits(c, v, e))
		return -1;
	if (json_object_object_get_ex(p, "capabilities", &v) && !json_object_is_type(v, json_type_null) &&
	    parse_caps(c, v, e))
		return -1;
	return 0;
}

/* root.path: relative to the bundle (and inside it), or absolute. */
static int parse_root(struct oci_config *c, json_object *r, const char *bundle, struct err *e)
{
	static const struct key keys[] = { { "path", HONOUR }, { "readonly", HONOUR } };
	if (check_keys(c, r, "root", keys, 2, e))
		return -1;
	json_object *v;
	const char *path;
	if (!json_object_object_get_ex(r, "path", &v))
		return err_set(e, "config.json: root.path is missing");
	if (get_str(v, "root.path", &path, e))
		return -1;
	if (!*path)
		return err_set(e, "config.json: root.path is empty");
	if (json_object_object_get_ex(r, "readonly", &v) && get_bool(v, "root.readonly", &c->root_ro, e))
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
	if (check_keys(c, m, "mounts[]", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	struct oci_mount *o = &c->mounts[i];
	json_object *v;
	const char *opts[64];
	unsigned nopts = 0;
	if (!json_object_object_get_ex(m, "destination", &v))
		return err_set(e, "config.json: mounts[%u].destination is missing", i);
	if (get_str(v, "mounts[].destination", &o->dest, e))
		return -1;
	if (o->dest[0] != '/' || strlen(o->dest) > CSPEC_MAX_PATH || strchr(o->dest, ':') || strstr(o->dest, "/.."))
		return err_set(e, "config.json: mounts[%u].destination '%.80s': want an absolute path without ':' or '..'",
			       i, o->dest);
	o->type = "";
	o->source = "";
	if (json_object_object_get_ex(m, "type", &v) && get_str(v, "mounts[].type", &o->type, e))
		return -1;
	if (json_object_object_get_ex(m, "source", &v) && get_str(v, "mounts[].source", &o->source, e))
		return -1;
	if (json_object_object_get_ex(m, "options", &v) && get_strs(v, "mounts[].options", opts, &nopts, 64, e))
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
			note(c, "mounts[].type tmpfs (not yet: the root's directory is used)");
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

static int parse_resources(struct oci_config *c, json_object *r, struct err *e)
{
	static const struct key keys[] = {
		{ "memory", HONOUR }, { "cpu", HONOUR }, { "pids", HONOUR }, { "devices", NOTE_IF_SET },
		{ "blockIO", NOTE_IF_SET }, { "hugepageLimits", NOTE_IF_SET }, { "network", NOTE_IF_SET },
		{ "rdma", NOTE_IF_SET }, { "unified", NOTE_IF_SET },
	};
	if (check_keys(c, r, "linux.resources", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *o, *v;
	if (json_object_object_get_ex(r, "memory", &o)) {
		static const struct key mk[] = {
			{ "limit", HONOUR }, { "reservation", NOTE_IF_SET }, { "swap", NOTE_IF_SET },
			{ "kernel", NOTE_IF_SET }, { "kernelTCP", NOTE_IF_SET }, { "swappiness", NOTE_IF_SET },
			{ "disableOOMKiller", NOTE_IF_SET }, { "useHierarchy", NOTE_IF_SET },
			{ "checkBeforeUpdate", NOTE_IF_SET },
		};
		if (check_keys(c, o, "linux.resources.memory", mk, sizeof(mk) / sizeof(mk[0]), e))
			return -1;
		if (json_object_object_get_ex(o, "limit", &v) &&
		    get_int(v, "linux.resources.memory.limit", -1, 1LL << 50, &c->memory, e))
			return -1;
		if (c->memory < 0)
			c->memory = 0;
		if (c->memory && c->memory < 4 << 20)
			return err_set(e, "config.json: linux.resources.memory.limit: at least 4 MiB");
	}
	if (json_object_object_get_ex(r, "pids", &o)) {
		static const struct key pk[] = { { "limit", HONOUR } };
		if (check_keys(c, o, "linux.resources.pids", pk, 1, e))
			return -1;
		if (json_object_object_get_ex(o, "limit", &v) &&
		    get_int(v, "linux.resources.pids.limit", -1, 4194304, &c->pids, e))
			return -1;
		if (c->pids < 0)
			c->pids = 0;
	}
	if (json_object_object_get_ex(r, "cpu", &o)) {
		static const struct key ck[] = {
			{ "quota", HONOUR }, { "period", HONOUR }, { "shares", NOTE_IF_SET }, { "realtimeRuntime", NOTE_IF_SET },
			{ "realtimePeriod", NOTE_IF_SET }, { "cpus", NOTE_IF_SET }, { "mems", NOTE_IF_SET },
			{ "idle", NOTE_IF_SET }, { "burst", NOTE_IF_SET },
		};
		if (check_keys(c, o, "linux.resources.cpu", ck, sizeof(ck) / sizeof(ck[0]), e))
			return -1;
		int64_t period = 100000;
		if (json_object_object_get_ex(o, "quota", &v) &&
		    get_int(v, "linux.resources.cpu.quota", -1, 1LL << 40, &c->cpu_quota, e))
			return -1;
		if (json_object_object_get_ex(o, "period", &v) &&
		    get_int(v, "linux.resources.cpu.period", 1000, 1000000, &period, e))
			return -1;
		if (c->cpu_quota < 0)
			c->cpu_quota = 0;
		c->cpu_period = (uint64_t)period;
	}
	return 0;
}

static int parse_linux(struct oci_config *c, json_object *l, struct err *e)
{
	static const struct key keys[] = {
		{ "namespaces", HONOUR }, { "resources", HONOUR }, { "cgroupsPath", NOTE_IF_SET },
		{ "seccomp", HONOUR }, { "maskedPaths", HONOUR }, { "readonlyPaths", HONOUR },
		{ "sysctl", NOTE_IF_SET }, { "devices", NOTE_IF_SET }, { "mountLabel", NOTE_IF_SET },
		{ "rootfsPropagation", NOTE_IF_SET }, { "uidMappings", REFUSE_IF_SET }, { "gidMappings", REFUSE_IF_SET },
		{ "intelRdt", REFUSE_IF_SET }, { "personality", REFUSE_IF_SET }, { "timeOffsets", REFUSE_IF_SET },
	};
	if (check_keys(c, l, "linux", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *v;
	if (json_object_object_get_ex(l, "resources", &v) && parse_resources(c, v, e))
		return -1;
	if (json_object_object_get_ex(l, "seccomp", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_object))
			return err_set(e, "config.json: linux.seccomp must be an object");
		/* the guest's own profile (docs/seccomp.md), not the engine's rules */
		c->seccomp = true;
		note(c, "linux.seccomp (the guest's default profile applies, not the config's rules)");
	}
	if (json_object_object_get_ex(l, "maskedPaths", &v) &&
	    parse_paths(v, "linux.maskedPaths", c->masked, &c->nmasked, e))
		return -1;
	if (json_object_object_get_ex(l, "readonlyPaths", &v) &&
	    parse_paths(v, "linux.readonlyPaths", c->ro_paths, &c->nro_paths, e))
		return -1;
	if (json_object_object_get_ex(l, "namespaces", &v)) {
		if (!json_object_is_type(v, json_type_array))
			return err_set(e, "config.json: linux.namespaces must be an array");
		static const char *const types[] = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
		static const struct key nk[] = { { "type", HONOUR }, { "path", HONOUR } };
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *n = json_object_array_get_idx(v, i), *t, *p;
			const char *type, *path = "";
			if (check_keys(c, n, "linux.namespaces[]", nk, 2, e))
				return -1;
			if (!json_object_object_get_ex(n, "type", &t) || get_str(t, "linux.namespaces[].type", &type, e))
				return err_set(e, "config.json: linux.namespaces[%zu]: want a type", i);
			size_t k = 0;
			while (k < sizeof(types) / sizeof(types[0]) && strcmp(types[k], type))
				k++;
			if (k == sizeof(types) / sizeof(types[0]))
				return err_set(e, "config.json: linux.namespaces: unknown type '%.40s'", type);
			if (json_object_object_get_ex(n, "path", &p) && get_str(p, "linux.namespaces[].path", &path, e))
				return -1;
			if (*path && !strcmp(type, "network")) {
				/* the VM's NIC goes into it (cli/run_netns.c) */
				if (path[0] != '/' || strlen(path) >= 4096)
					return err_set(e, "config.json: linux.namespaces: network path '%.80s': want an absolute path", path);
				c->netns = path;
			} else if (*path && (!strcmp(type, "ipc") || !strcmp(type, "uts") || !strcmp(type, "pid"))) {
				/* a pod's: another container's (oci/pod.c) */
				if (path[0] != '/' || strlen(path) >= 4096)
					return err_set(e, "config.json: linux.namespaces: %s path '%.80s': want an absolute path", type, path);
				*(type[0] == 'i' ? &c->ns_ipc : type[0] == 'u' ? &c->ns_uts : &c->ns_pid) = path;
			} else if (*path) {
				return err_set(e, "config.json: linux.namespaces: joining the %s namespace %.80s is not supported yet (the container has the VM's own)",
					       type, path);
			}
			if (!strcmp(type, "user"))
				return err_set(e, "config.json: linux.namespaces: a user namespace is not supported yet");
		}
	}
	return 0;
}

static int parse_annotations(struct oci_config *c, json_object *a, struct err *e)
{
	if (!json_object_is_type(a, json_type_object))
		return err_set(e, "config.json: annotations must be an object");
	json_object_object_foreach(a, k, v) {
		if (c->nannot == OCI_MAX_ANNOTATIONS)
			return err_set(e, "config.json: annotations: more than %d", OCI_MAX_ANNOTATIONS);
		if (get_str(v, "annotations.*", &c->annot_val[c->nannot], e))
			return -1;
		c->annot_key[c->nannot++] = k;
	}
	return 0;
}

/* An error quotes names and values from the file: keep it one line of
 * printable text (control characters become '?'). -1. */
static int one_line(struct err *e)
{
	for (char *p = e->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

/* TEXT (LEN bytes) as one JSON value: *OUT, or -1 with E filled. */
static int parse_json(const char *text, size_t len, json_object **out, struct err *e)
{
	*out = NULL;
	if (len > OCI_CONFIG_MAX)
		return err_set(e, "config.json: larger than %d bytes", OCI_CONFIG_MAX);
	if (len > INT_MAX || memchr(text, '\0', len))
		return err_set(e, "config.json: not JSON (a NUL byte)");
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return err_oom(e, "config.json");
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || je != json_tokener_success) {
		json_object_put(root);
		return err_set(e, "config.json: not valid JSON (%s)",
			       je == json_tokener_continue || je == json_tokener_success ? "unexpected end"
											: json_tokener_error_desc(je));
	}
	while (used < len && strchr(" \t\r\n", text[used]))
		used++;
	if (used != len) {
		json_object_put(root);
		return err_set(e, "config.json: not valid JSON (text after the object)");
	}
	*out = root;
	return 0;
}

int oci_config_parse(const char *text, size_t len, const char *bundle, struct oci_config *c, struct err *e)
{
	memset(c, 0, sizeof(*c));
	json_object *root;
	if (parse_json(text, len, &root, e))
		return -1;
	c->json = root;
	static const struct key keys[] = {
		{ "ociVersion", HONOUR }, { "process", HONOUR }, { "root", HONOUR }, { "hostname", HONOUR },
		{ "mounts", HONOUR }, { "linux", HONOUR }, { "annotations", HONOUR },
		{ "domainname", NOTE_IF_SET }, { "hooks", REFUSE_IF_SET },
	};
	if (check_keys(c, root, "config", keys, sizeof(keys) / sizeof(keys[0]), e))
		goto fail;
	json_object *v;
	if (!json_object_object_get_ex(root, "ociVersion", &v) || get_str(v, "ociVersion", &c->version, e) ||
	    strncmp(c->version, "1.", 2)) {
		err_set(e, "config.json: ociVersion: want 1.x");
		goto fail;
	}
	if (!json_object_object_get_ex(root, "process", &v)) {
		err_set(e, "config.json: process is missing (sandbox-runtime runs a process)");
		goto fail;
	}
	if (parse_process(c, v, e))
		goto fail;
	if (!json_object_object_get_ex(root, "root", &v)) {
		err_set(e, "config.json: root is missing");
		goto fail;
	}
	if (parse_root(c, v, bundle, e))
		goto fail;
	if (json_object_object_get_ex(root, "hostname", &v)) {
		if (get_str(v, "hostname", &c->hostname, e))
			goto fail;
		if (strlen(c->hostname) > 63) {
			err_set(e, "config.json: hostname: at most 63 bytes");
			goto fail;
		}
		if (!*c->hostname)
			c->hostname = NULL;
	}
	if (json_object_object_get_ex(root, "mounts", &v)) {
		if (!json_object_is_type(v, json_type_array)) {
			err_set(e, "config.json: mounts must be an array");
			goto fail;
		}
		size_t n = json_object_array_length(v);
		if (n > OCI_MAX_MOUNTS) {
			err_set(e, "config.json: more than %d mounts", OCI_MAX_MOUNTS);
			goto fail;
		}
		for (size_t i = 0; i < n; i++)
			if (parse_mount(c, json_object_array_get_idx(v, i), (unsigned)i, e))
				goto fail;
		c->nmounts = (unsigned)n;
	}
	if (json_object_object_get_ex(root, "linux", &v) && parse_linux(c, v, e))
		goto fail;
	if (json_object_object_get_ex(root, "annotations", &v) && parse_annotations(c, v, e))
		goto fail;
	return 0;
fail:
	oci_config_free(c);
	return one_line(e);
}

/* PATH's bytes, NUL-terminated, in *BUF (free it): its length, or -1. */
static long read_file(const char *path, char **buf, struct err *e)
{
	*buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > OCI_CONFIG_MAX) {
		close(fd);
		return err_set(e, "%s: not a regular file of at most %d bytes", path, OCI_CONFIG_MAX);
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return err_oom(e, path);
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	(*buf)[got] = '\0';
	return (long)got;
}

int oci_config_load(const char *bundle, struct oci_config *c, struct err *e)
{
	char path[PATH_MAX], *buf;
	memset(c, 0, sizeof(*c));
	if ((size_t)snprintf(path, sizeof(path), "%s/config.json", bundle) >= sizeof(path))
		return err_set(e, "bundle %s: path too long", bundle);
	long n = read_file(path, &buf, e);
	if (n < 0)
		return -1;
	int r = oci_config_parse(buf, (size_t)n, bundle, c, e);
	free(buf);
	return r;
}

int oci_process_parse(const char *text, size_t len, struct oci_config *c, struct err *e)
{
	memset(c, 0, sizeof(*c));
	json_object *root;
	if (parse_json(text, len, &root, e))
		return -1;
	c->json = root;
	if (parse_process(c, root, e)) {
		oci_config_free(c);
		err_wrap(e, "--process");
		return one_line(e);
	}
	return 0;
}

int oci_process_load(const char *path, struct oci_config *c, struct err *e)
{
	char *buf;
	memset(c, 0, sizeof(*c));
	long n = read_file(path, &buf, e);
	if (n < 0)
		return -1;
	int r = oci_process_parse(buf, (size_t)n, c, e);
	free(buf);
	return r;
}

int oci_resources_parse(const char *text, size_t len, struct oci_config *c, struct err *e)
{
	memset(c, 0, sizeof(*c));
	json_object *root;
	if (parse_json(text, len, &root, e))
		return err_wrap(e, "--resources");
	c->json = root;
	if (parse_resources(c, root, e)) {
		oci_config_free(c);
		err_wrap(e, "--resources");
		return one_line(e);
	}
	return 0;
}

void oci_config_free(struct oci_config *c)
{
	if (c->json)
		json_object_put(c->json);
	c->json = NULL;
}

bool oci_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (!n || n > OCI_ID_MAX || id[0] == '.')
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_+.-", *p)))
			return false;
	return true;
}
