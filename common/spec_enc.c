/* The container spec's encoder (see spec.h for the encoding): the owner's
 * side, cspec_encode. It checks first (spec.c), writes nothing past its
 * buffer and allocates nothing. */
#include <string.h>

#include "spec_int.h"

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
