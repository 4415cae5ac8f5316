/* The container spec's decoder (see spec.h for the encoding): guest-init's
 * side, cspec_decode. Everything the encoder (spec_enc.c) would not write
 * is refused and the result passes the same check (spec.c). Built into the
 * static guest-init: no allocation, no libc beyond string functions. */
#include <string.h>

#include "spec_int.h"

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
