/* The container spec's encoding (see spec.h). Built into the sandbox
 * binary and the static guest-init: no allocation, no libc beyond string
 * functions, nothing that prints. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spec.h"

#define HDR_SIZE 12
#define REC_HDR 8

enum {
	T_HOSTNAME = 1,         /* string */
	T_CWD = 2,              /* string */
	T_USER = 3,             /* string */
	T_ENV = 4,              /* string, repeated */
	T_ARG = 5,              /* string, repeated */
	T_MEMORY = 6,           /* u64 */
	T_PIDS = 7,             /* u64 */
	T_CPU_QUOTA = 8,        /* u64 */
	T_RLIMIT = 9,           /* u32 resource, u64 soft, u64 hard; repeated */
	T_FLAGS = 10,           /* u32 F_* bits */
	T_NETWORK = 11,         /* u32 enum cspec_network */
	T_TTY = 12,             /* u16 rows, u16 cols */
	T_IMAGE = 13,           /* string device, string fstype */
	T_VOLUME = 14,          /* u32 V_* bits, string device, string path; repeated */
	T_ETH = 15,             /* 4 bytes addr, 4 gw, 4 dns (network order), u32 prefix */
	T_UPPER_SIZE = 16,      /* u64 */
	T_UPPER_DEV = 17,       /* string */
	T_ACTION = 18,          /* u32 enum cspec_action (not NONE), u32 cp flags */
	T_CAPS = 19,            /* u64 bounding, u64 effective */
	T_MASKED = 20,          /* string, repeated */
	T_RO_PATH = 21,         /* string, repeated */
	T_POD = 22,             /* u32 P_* bits, string member */
	T_BIND = 23,            /* u32 B_* bits, string path; repeated */
	T_LAST = T_BIND,
};

enum {
	F_READ_ONLY = 1, F_INIT = 2, F_STDIN = 4, F_AUDIT_PRIV = 8, F_SCRATCH = 16, F_IMAGE_DAX = 32,
	F_NO_SECCOMP = 64, F_PATHS = 128, F_ALL = 255
};
enum { V_RO = 1, V_FS = 2, V_ALL = 3 };
enum { P_SHARE_PID = 1, P_ALL = 1 };
enum { B_RO = 1, B_FILE = 2, B_ALL = 3 };

#define REPEATED ((1u << T_ENV) | (1u << T_ARG) | (1u << T_RLIMIT) | (1u << T_VOLUME) | (1u << T_MASKED) | \
		  (1u << T_RO_PATH) | (1u << T_BIND))

static int fail(struct cspec_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct cspec_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------------ */
/* the check both sides make */

static bool devname_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > CSPEC_MAX_DEVNAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* A string field: NULL (unset) allowed if OPTIONAL, else 1..MAX bytes. */
static int str_ok(const char *s, size_t max, bool optional, const char *what, struct cspec_err *e)
{
	if (!s)
		return optional ? 0 : fail(e, "spec: no %s", what);
	size_t n = strnlen(s, max + 1);
	if (!n)
		return fail(e, "spec: empty %s", what);
	if (n > max)
		return fail(e, "spec: %s longer than %zu bytes", what, max);
	return 0;
}

bool cspec_member_ok(const char *s)
{
	size_t n = s ? strnlen(s, CSPEC_MAX_MEMBER + 1) : 0;
	if (!n || n > CSPEC_MAX_MEMBER || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("_+.-", s[i])))
			return false;
	return true;
}

static int check_pod(const struct cspec *s, struct cspec_err *e)
{
	if (s->pod_member && !cspec_member_ok(s->pod_member))
		return fail(e, "spec: pod member %.40s: want [A-Za-z0-9_+.-]{1,%d}, not starting with '.'",
			    s->pod_member, CSPEC_MAX_MEMBER);
	if (s->action == CSPEC_ACT_CONTAINER && !s->pod_member)
		return fail(e, "spec: a pod's container without its name");
	if (s->pod_member && s->action != CSPEC_ACT_NONE && s->action != CSPEC_ACT_CONTAINER)
		return fail(e, "spec: a pod member with a copy or an update");
	if (s->pod_share_pid && s->action != CSPEC_ACT_CONTAINER)
		return fail(e, "spec: sharing the pod's PID namespace outside a pod's container");
	if (s->nbinds > CSPEC_MAX_BINDS)
		return fail(e, "spec: too many binds (%u, at most %d)", s->nbinds, CSPEC_MAX_BINDS);
	if (s->nbinds && s->action != CSPEC_ACT_CONTAINER)
		return fail(e, "spec: binds of host paths outside a pod's container");
	for (unsigned i = 0; i < s->nbinds; i++) {
		const char *p = s->binds[i].path;
		if (str_ok(p, CSPEC_MAX_PATH, false, "bind path", e))
			return -1;
		if (p[0] != '/' || !p[strspn(p, "/")] || strstr(p, "/.."))
			return fail(e, "spec: bind path %.40s: want an absolute path other than / without ..", p);
	}
	return 0;
}

static int check_lists(const struct cspec *s, struct cspec_err *e)
{
	if (s->nargv > CSPEC_MAX_ARGS)
		return fail(e, "spec: too many arguments (%u, at most %d)", s->nargv, CSPEC_MAX_ARGS);
	if (!s->nargv)
		return fail(e, "spec: no command");
	for (unsigned i = 0; i < s->nargv; i++) {
		if (!s->argv[i])
			return fail(e, "spec: argument %u missing", i);
		if (strnlen(s->argv[i], CSPEC_MAX_STR + 1) > CSPEC_MAX_STR)
			return fail(e, "spec: argument %u longer than %d bytes", i, CSPEC_MAX_STR);
	}
	if (s->nenv > CSPEC_MAX_ENV)
		return fail(e, "spec: too many environment variables (%u, at most %d)", s->nenv, CSPEC_MAX_ENV);
	for (unsigned i = 0; i < s->nenv; i++) {
		if (!s->env[i])
			return fail(e, "spec: environment variable %u missing", i);
		if (strnlen(s->env[i], CSPEC_MAX_STR + 1) > CSPEC_MAX_STR)
			return fail(e, "spec: environment variable %u longer than %d bytes", i, CSPEC_MAX_STR);
		const char *eq = strchr(s->env[i], '=');
		if (!eq || eq == s->env[i])
			return fail(e, "spec: environment variable %.40s is not KEY=VALUE", s->env[i]);
	}
	if (s->nmasked > CSPEC_MAX_PATHS || s->nro_paths > CSPEC_MAX_PATHS)
		return fail(e, "spec: too many masked or read-only paths (at most %d each)", CSPEC_MAX_PATHS);
	if ((s->nmasked || s->nro_paths) && !s->paths_given)
		return fail(e, "spec: masked or read-only paths without the flag that gives them");
	for (unsigned i = 0; i < s->nmasked + s->nro_paths; i++) {
		const char *p = i < s->nmasked ? s->masked[i] : s->ro_paths[i - s->nmasked];
		if (str_ok(p, CSPEC_MAX_PATH, false, "masked or read-only path", e))
			return -1;
		if (p[0] != '/' || strstr(p, "/.."))
			return fail(e, "spec: masked or read-only path %.40s: want an absolute path without ..", p);
	}
	if (s->nrlimits > CSPEC_MAX_RLIMITS)
		return fail(e, "spec: too many rlimits (%u, at most %d)", s->nrlimits, CSPEC_MAX_RLIMITS);
	for (unsigned i = 0; i < s->nrlimits; i++) {
		const struct cspec_rlimit *r = &s->rlimits[i];
		if (r->resource >= 16 || r->soft > r->hard)
			return fail(e, "spec: rlimit %u: resource %u, %llu > %llu", i, r->resource,
				    (unsigned long long)r->soft, (unsigned long long)r->hard);
		for (unsigned j = 0; j < i; j++)
			if (s->rlimits[j].resource == r->resource)
				return fail(e, "spec: rlimit %u given twice", r->resource);
	}
	return 0;
}

static int check_vm(const struct cspec *s, struct cspec_err *e)
{
	if (!s->tty && (s->rows || s->cols))
		return fail(e, "spec: a terminal size without a terminal");
	if (!s->image_dev != !s->image_fs)
		return fail(e, "spec: an image needs a device and a file system type");
	if (s->image_dev && (!devname_ok(s->image_dev) || !devname_ok(s->image_fs)))
		return fail(e, "spec: image %.40s:%.40s: want [a-z0-9]{1,%d} names", s->image_dev, s->image_fs,
			    CSPEC_MAX_DEVNAME);
	if (s->image_dax && !s->image_dev)
		return fail(e, "spec: DAX without an image");
	if (s->nvolumes > CSPEC_MAX_VOLUMES)
		return fail(e, "spec: too many volumes (%u, at most %d)", s->nvolumes, CSPEC_MAX_VOLUMES);
	for (unsigned i = 0; i < s->nvolumes; i++) {
		const struct cspec_volume *v = &s->volumes[i];
		if (!v->dev || !devname_ok(v->dev))
			return fail(e, "spec: volume %u: bad device name", i);
		if (str_ok(v->path, CSPEC_MAX_PATH, false, "volume path", e))
			return -1;
		if (v->path[0] != '/')
			return fail(e, "spec: volume path %.40s is not absolute", v->path);
	}
	if (s->upper_dev && !devname_ok(s->upper_dev))
		return fail(e, "spec: writable layer %.40s: want a [a-z0-9]{1,%d} device name", s->upper_dev,
			    CSPEC_MAX_DEVNAME);
	if (s->upper_dev && s->upper_size)
		return fail(e, "spec: a writable layer on a disk and a tmpfs size");
	if (s->eth) {
		if (!s->eth_addr || s->eth_prefix < 1 || s->eth_prefix > 32)
			return fail(e, "spec: eth0 needs an address and a prefix of 1 to 32");
	} else if (s->eth_addr || s->eth_gw || s->eth_dns || s->eth_prefix) {
		return fail(e, "spec: eth0 addresses without eth0");
	}
	return 0;
}

int cspec_check(const struct cspec *s, struct cspec_err *e)
{
	if (str_ok(s->hostname, CSPEC_MAX_HOSTNAME, true, "hostname", e) ||
	    str_ok(s->cwd, CSPEC_MAX_PATH, true, "working directory", e) ||
	    str_ok(s->user, CSPEC_MAX_PATH, true, "user", e))
		return -1;
	if (check_lists(s, e))
		return -1;
	if (s->memory > INT64_MAX || s->pids > INT64_MAX || s->cpu_quota_us > INT64_MAX ||
	    s->upper_size > INT64_MAX)
		return fail(e, "spec: a limit above 2^63");
	if (s->network != CSPEC_NET_NONE && s->network != CSPEC_NET_HOST)
		return fail(e, "spec: network mode %d", (int)s->network);
	if (s->action != CSPEC_ACT_NONE && s->action != CSPEC_ACT_TAR_OUT && s->action != CSPEC_ACT_TAR_IN &&
	    s->action != CSPEC_ACT_UPDATE && s->action != CSPEC_ACT_CONTAINER)
		return fail(e, "spec: action %d", (int)s->action);
	if (s->cp_flags & ~CSPEC_CP_FLAGS ||
	    (s->cp_flags && s->action != CSPEC_ACT_TAR_OUT && s->action != CSPEC_ACT_TAR_IN))
		return fail(e, "spec: bad copy flags %#x", s->cp_flags);
	if (s->caps_given && (s->cap_bounding >> CSPEC_CAP_BITS || s->cap_effective & ~s->cap_bounding))
		return fail(e, "spec: capabilities: a bit above %d, or effective outside bounding", CSPEC_CAP_BITS - 1);
	if (!s->caps_given && (s->cap_bounding || s->cap_effective))
		return fail(e, "spec: capability sets without the flag that gives them");
	if (s->action == CSPEC_ACT_UPDATE && (!(s->memory || s->pids || s->cpu_quota_us) || s->nargv != 1 ||
					      strcmp(s->argv[0], "update")))
		return fail(e, "spec: an update sets memory, pids or cpu and has the one argument \"update\"");
	if (check_pod(s, e))
		return -1;
	if ((s->action == CSPEC_ACT_TAR_OUT || s->action == CSPEC_ACT_TAR_IN) &&
	    (s->nargv != 1 || s->argv[0][0] != '/' || strnlen(s->argv[0], CSPEC_MAX_PATH + 1) > CSPEC_MAX_PATH))
		return fail(e, "spec: a copy takes one absolute path of at most %d bytes", CSPEC_MAX_PATH);
	return check_vm(s, e);
}

/* ------------------------------------------------------------------ */
/* encoding */

struct wr {
	uint8_t *p;
	size_t cap, len;
	bool over;      /* something did not fit: LEN counts on, nothing is written */
};

static void put(struct wr *w, const void *data, size_t n)
{
	if (w->over || n > w->cap - w->len) {
		w->over = true;
		w->len += n;
		return;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void put_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	put(w, b, 2);
}

static void put_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	put(w, b, 4);
}

static void put_u64(struct wr *w, uint64_t v)
{
	put_u32(w, (uint32_t)v);
	put_u32(w, (uint32_t)(v >> 32));
}

static void rec(struct wr *w, uint16_t tag, size_t len)
{
	put_u16(w, tag);
	put_u16(w, 0);
	put_u32(w, (uint32_t)len);
}

static void rec_str(struct wr *w, uint16_t tag, const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s) + 1;
	rec(w, tag, n);
	put(w, s, n);
}

static void rec_u64(struct wr *w, uint16_t tag, uint64_t v)
{
	if (!v)
		return;
	rec(w, tag, 8);
	put_u64(w, v);
}

int cspec_encode(const struct cspec *s, void *buf, size_t cap, size_t *len, struct cspec_err *e)
{
	if (cspec_check(s, e))
		return -1;
	struct wr w = { .p = buf, .cap = cap < CSPEC_MAX_SIZE ? cap : CSPEC_MAX_SIZE };
	put_u32(&w, CSPEC_MAGIC);
	put_u32(&w, CSPEC_VERSION);
	put_u32(&w, 0);         /* the records' length, below */
	rec_str(&w, T_HOSTNAME, s->hostname);
	rec_str(&w, T_CWD, s->cwd);
	rec_str(&w, T_USER, s->user);
	for (unsigned i = 0; i < s->nenv; i++)
		rec_str(&w, T_ENV, s->env[i]);
	for (unsigned i = 0; i < s->nargv; i++)
		rec_str(&w, T_ARG, s->argv[i]);
	rec_u64(&w, T_MEMORY, s->memory);
	rec_u64(&w, T_PIDS, s->pids);
	rec_u64(&w, T_CPU_QUOTA, s->cpu_quota_us);
	for (unsigned i = 0; i < s->nrlimits; i++) {
		rec(&w, T_RLIMIT, 20);
		put_u32(&w, s->rlimits[i].resource);
		put_u64(&w, s->rlimits[i].soft);
		put_u64(&w, s->rlimits[i].hard);
	}
	uint32_t flags = (s->read_only ? F_READ_ONLY : 0) | (s->init ? F_INIT : 0) | (s->stdin_open ? F_STDIN : 0) |
			 (s->audit_privileged ? F_AUDIT_PRIV : 0) |
			 (s->upper_scratch ? F_SCRATCH : 0) |
			 (s->image_dax ? F_IMAGE_DAX : 0) |
			 (s->no_seccomp ? F_NO_SECCOMP : 0) | (s->paths_given ? F_PATHS : 0);
	if (flags) {
		rec(&w, T_FLAGS, 4);
		put_u32(&w, flags);
	}
	if (s->network != CSPEC_NET_NONE) {
		rec(&w, T_NETWORK, 4);
		put_u32(&w, (uint32_t)s->network);
	}
	if (s->tty) {
		rec(&w, T_TTY, 4);
		put_u16(&w, s->rows);
		put_u16(&w, s->cols);
	}
	if (s->image_dev) {
		rec(&w, T_IMAGE, strlen(s->image_dev) + 1 + strlen(s->image_fs) + 1);
		put(&w, s->image_dev, strlen(s->image_dev) + 1);
		put(&w, s->image_fs, strlen(s->image_fs) + 1);
	}
	for (unsigned i = 0; i < s->nvolumes; i++) {
		const struct cspec_volume *v = &s->volumes[i];
		rec(&w, T_VOLUME, 4 + strlen(v->dev) + 1 + strlen(v->path) + 1);
		put_u32(&w, (v->ro ? V_RO : 0) | (v->fs ? V_FS : 0));
		put(&w, v->dev, strlen(v->dev) + 1);
		put(&w, v->path, strlen(v->path) + 1);
	}
	if (s->eth) {
		rec(&w, T_ETH, 16);
		put(&w, &s->eth_addr, 4);
		put(&w, &s->eth_gw, 4);
		put(&w, &s->eth_dns, 4);
		put_u32(&w, s->eth_prefix);
	}
	rec_u64(&w, T_UPPER_SIZE, s->upper_size);
	rec_str(&w, T_UPPER_DEV, s->upper_dev);
	if (s->action != CSPEC_ACT_NONE) {
		rec(&w, T_ACTION, 8);
		put_u32(&w, (uint32_t)s->action);
		put_u32(&w, s->cp_flags);
	}
	if (s->caps_given) {
		rec(&w, T_CAPS, 16);
		put_u64(&w, s->cap_bounding);
		put_u64(&w, s->cap_effective);
	}
	for (unsigned i = 0; i < s->nmasked; i++)
		rec_str(&w, T_MASKED, s->masked[i]);
	for (unsigned i = 0; i < s->nro_paths; i++)
		rec_str(&w, T_RO_PATH, s->ro_paths[i]);
	if (s->pod_member) {
		rec(&w, T_POD, 4 + strlen(s->pod_member) + 1);
		put_u32(&w, s->pod_share_pid ? P_SHARE_PID : 0);
		put(&w, s->pod_member, strlen(s->pod_member) + 1);
	}
	for (unsigned i = 0; i < s->nbinds; i++) {
		const struct cspec_bind *b = &s->binds[i];
		rec(&w, T_BIND, 4 + strlen(b->path) + 1);
		put_u32(&w, (b->ro ? B_RO : 0) | (b->file ? B_FILE : 0));
		put(&w, b->path, strlen(b->path) + 1);
	}
	if (w.over)
		return fail(e, "spec: %zu bytes encoded, more than the %zu that fit", w.len, w.cap);
	size_t body = w.len - HDR_SIZE;
	uint8_t *p = buf;
	p[8] = (uint8_t)body;
	p[9] = (uint8_t)(body >> 8);
	p[10] = (uint8_t)(body >> 16);
	p[11] = (uint8_t)(body >> 24);
	*len = w.len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* decoding: everything the encoder would not write is refused */

struct rd {
	const uint8_t *p;
	size_t left;
};

static bool get(struct rd *r, void *out, size_t n)
{
	if (r->left < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

static bool get_u16(struct rd *r, uint16_t *v)
{
	uint8_t b[2];
	if (!get(r, b, 2))
		return false;
	*v = (uint16_t)(b[0] | b[1] << 8);
	return true;
}

static bool get_u32(struct rd *r, uint32_t *v)
{
	uint8_t b[4];
	if (!get(r, b, 4))
		return false;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return true;
}

static bool get_u64(struct rd *r, uint64_t *v)
{
	uint32_t lo, hi;
	if (!get_u32(r, &lo) || !get_u32(r, &hi))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

/* A string up to and including its NUL, at most CSPEC_MAX_STR bytes. */
static bool get_str(struct rd *r, const char **s)
{
	size_t lim = r->left < CSPEC_MAX_STR + 1 ? r->left : CSPEC_MAX_STR + 1;
	const uint8_t *nul = memchr(r->p, 0, lim);
	if (!nul)
		return false;
	*s = (const char *)r->p;
	r->left -= (size_t)(nul - r->p) + 1;
	r->p = nul + 1;
	return true;
}

/* One record's value, V, into OUT. */
static int record(struct cspec *out, uint16_t tag, struct rd *v, struct cspec_err *e)
{
	bool ok = true;
	uint32_t u = 0;
	switch (tag) {
	case T_HOSTNAME: ok = get_str(v, &out->hostname); break;
	case T_CWD: ok = get_str(v, &out->cwd); break;
	case T_USER: ok = get_str(v, &out->user); break;
	case T_ENV:
		if (out->nenv == CSPEC_MAX_ENV)
			return fail(e, "spec: too many environment variables (at most %d)", CSPEC_MAX_ENV);
		ok = get_str(v, &out->env[out->nenv++]);
		break;
	case T_ARG:
		if (out->nargv == CSPEC_MAX_ARGS)
			return fail(e, "spec: too many arguments (at most %d)", CSPEC_MAX_ARGS);
		ok = get_str(v, &out->argv[out->nargv++]);
		break;
	/* 0 is "no limit", which is not written */
	case T_MEMORY: ok = get_u64(v, &out->memory) && out->memory; break;
	case T_PIDS: ok = get_u64(v, &out->pids) && out->pids; break;
	case T_CPU_QUOTA: ok = get_u64(v, &out->cpu_quota_us) && out->cpu_quota_us; break;
	case T_UPPER_SIZE: ok = get_u64(v, &out->upper_size) && out->upper_size; break;
	case T_RLIMIT: {
		if (out->nrlimits == CSPEC_MAX_RLIMITS)
			return fail(e, "spec: too many rlimits (at most %d)", CSPEC_MAX_RLIMITS);
		struct cspec_rlimit *l = &out->rlimits[out->nrlimits++];
		ok = get_u32(v, &l->resource) && get_u64(v, &l->soft) && get_u64(v, &l->hard);
		break;
	}
	case T_FLAGS:
		if (!get_u32(v, &u) || (u & ~(uint32_t)F_ALL) || !u)
			return fail(e, "spec: bad flags");
		out->read_only = u & F_READ_ONLY;
		out->init = u & F_INIT;
		out->stdin_open = u & F_STDIN;
		out->audit_privileged = u & F_AUDIT_PRIV;
		out->upper_scratch = u & F_SCRATCH;
		out->image_dax = u & F_IMAGE_DAX;
		out->no_seccomp = u & F_NO_SECCOMP;
		out->paths_given = u & F_PATHS;
		break;
	case T_CAPS:
		ok = get_u64(v, &out->cap_bounding) && get_u64(v, &out->cap_effective);
		out->caps_given = true;
		break;
	case T_MASKED:
		if (out->nmasked == CSPEC_MAX_PATHS)
			return fail(e, "spec: too many masked paths (at most %d)", CSPEC_MAX_PATHS);
		ok = get_str(v, &out->masked[out->nmasked++]);
		break;
	case T_RO_PATH:
		if (out->nro_paths == CSPEC_MAX_PATHS)
			return fail(e, "spec: too many read-only paths (at most %d)", CSPEC_MAX_PATHS);
		ok = get_str(v, &out->ro_paths[out->nro_paths++]);
		break;
	case T_NETWORK:
		if (!get_u32(v, &u) || u != CSPEC_NET_HOST)     /* NONE is the default: never written */
			return fail(e, "spec: bad network mode");
		out->network = (enum cspec_network)u;
		break;
	case T_TTY:
		ok = get_u16(v, &out->rows) && get_u16(v, &out->cols);
		out->tty = true;
		break;
	case T_UPPER_DEV: ok = get_str(v, &out->upper_dev); break;
	case T_IMAGE: ok = get_str(v, &out->image_dev) && get_str(v, &out->image_fs); break;
	case T_VOLUME: {
		if (out->nvolumes == CSPEC_MAX_VOLUMES)
			return fail(e, "spec: too many volumes (at most %d)", CSPEC_MAX_VOLUMES);
		struct cspec_volume *vol = &out->volumes[out->nvolumes++];
		if (!get_u32(v, &u) || (u & ~(uint32_t)V_ALL))
			return fail(e, "spec: bad volume flags");
		vol->ro = u & V_RO;
		vol->fs = u & V_FS;
		ok = get_str(v, &vol->dev) && get_str(v, &vol->path);
		break;
	}
	case T_ETH:
		ok = get(v, &out->eth_addr, 4) && get(v, &out->eth_gw, 4) && get(v, &out->eth_dns, 4) &&
		     get_u32(v, &u) && u <= 255;
		out->eth_prefix = (uint8_t)u;
		out->eth = true;
		break;
	case T_ACTION:
		/* NONE is the default: never written; the rest cspec_check sees */
		if (!get_u32(v, &u) || u == CSPEC_ACT_NONE || u > CSPEC_ACT_CONTAINER || !get_u32(v, &out->cp_flags))
			return fail(e, "spec: bad action");
		out->action = (enum cspec_action)u;
		break;
	case T_POD:
		if (!get_u32(v, &u) || (u & ~(uint32_t)P_ALL))
			return fail(e, "spec: bad pod flags");
		out->pod_share_pid = u & P_SHARE_PID;
		ok = get_str(v, &out->pod_member);
		break;
	case T_BIND: {
		if (out->nbinds == CSPEC_MAX_BINDS)
			return fail(e, "spec: too many binds (at most %d)", CSPEC_MAX_BINDS);
		struct cspec_bind *b = &out->binds[out->nbinds++];
		if (!get_u32(v, &u) || (u & ~(uint32_t)B_ALL))
			return fail(e, "spec: bad bind flags");
		b->ro = u & B_RO;
		b->file = u & B_FILE;
		ok = get_str(v, &b->path);
		break;
	}
	default:
		return fail(e, "spec: unknown record %u", tag);
	}
	if (!ok)
		return fail(e, "spec: record %u is truncated or malformed", tag);
	if (v->left)
		return fail(e, "spec: record %u has %zu bytes too many (a NUL inside a string?)", tag, v->left);
	return 0;
}

static int decode(const uint8_t *p, size_t len, struct cspec *out, struct cspec_err *e)
{
	struct rd r = { p, len };
	uint32_t magic, version, body;
	if (len > CSPEC_MAX_SIZE)
		return fail(e, "spec: %zu bytes, more than %d", len, CSPEC_MAX_SIZE);
	if (!get_u32(&r, &magic) || !get_u32(&r, &version) || !get_u32(&r, &body))
		return fail(e, "spec: truncated header");
	if (magic != CSPEC_MAGIC)
		return fail(e, "spec: not a container spec (magic %#x)", magic);
	if (version != CSPEC_VERSION)
		return fail(e, "spec: version %u, this guest-init knows %u", version, CSPEC_VERSION);
	if (body != r.left)
		return fail(e, "spec: %u bytes of records announced, %zu there", body, r.left);
	uint32_t seen = 0;
	while (r.left) {
		uint16_t tag, zero;
		uint32_t vlen;
		if (!get_u16(&r, &tag) || !get_u16(&r, &zero) || !get_u32(&r, &vlen))
			return fail(e, "spec: truncated record header");
		if (zero)
			return fail(e, "spec: record %u: reserved bits set", tag);
		if (vlen > r.left)
			return fail(e, "spec: record %u: %u bytes, %zu left", tag, vlen, r.left);
		if (tag >= 1 && tag <= T_LAST && !(REPEATED & (1u << tag))) {
			if (seen & (1u << tag))
				return fail(e, "spec: record %u twice", tag);
			seen |= 1u << tag;
		}
		struct rd v = { r.p, vlen };
		if (record(out, tag, &v, e))
			return -1;
		r.p += vlen;
		r.left -= vlen;
	}
	return cspec_check(out, e);
}

int cspec_decode(const void *buf, size_t len, struct cspec *out, struct cspec_err *e)
{
	memset(out, 0, sizeof(*out));
	if (decode(buf, len, out, e) == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	return -1;
}
