/* libFuzzer target: the container spec's decoder (common/spec.c), which
 * guest-init runs on the CONFIG payload. The input is the payload. Nothing
 * may read or write out of bounds (ASan); what is accepted must be a spec
 * the checks accept, its strings inside the input and ending there, and
 * encoding it again must give a buffer of the same size that decodes to
 * the same spec (the decoder takes nothing the encoder would not write). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../common/spec.h"

static const uint8_t *in_lo, *in_hi;

static void str_inside(const char *s)
{
	if (!s)
		return;
	const uint8_t *p = (const uint8_t *)s;
	assert(p >= in_lo && p < in_hi);
	assert(memchr(p, 0, (size_t)(in_hi - p)));
}

static void same_str(const char *a, const char *b)
{
	assert(!a == !b);
	assert(!a || !strcmp(a, b));
}

static void same(const struct cspec *a, const struct cspec *b)
{
	same_str(a->hostname, b->hostname);
	same_str(a->cwd, b->cwd);
	same_str(a->user, b->user);
	assert(a->nenv == b->nenv && a->nargv == b->nargv && a->nrlimits == b->nrlimits &&
	       a->nvolumes == b->nvolumes);
	for (unsigned i = 0; i < a->nenv; i++)
		same_str(a->env[i], b->env[i]);
	for (unsigned i = 0; i < a->nargv; i++)
		same_str(a->argv[i], b->argv[i]);
	assert(!memcmp(a->rlimits, b->rlimits, sizeof(a->rlimits[0]) * a->nrlimits));
	assert(a->memory == b->memory && a->pids == b->pids && a->cpu_quota_us == b->cpu_quota_us);
	assert(a->read_only == b->read_only && a->init == b->init && a->network == b->network);
	assert(a->stdin_open == b->stdin_open && a->tty == b->tty && a->rows == b->rows && a->cols == b->cols);
	same_str(a->image_dev, b->image_dev);
	same_str(a->image_fs, b->image_fs);
	for (unsigned i = 0; i < a->nvolumes; i++) {
		same_str(a->volumes[i].dev, b->volumes[i].dev);
		same_str(a->volumes[i].path, b->volumes[i].path);
		assert(a->volumes[i].ro == b->volumes[i].ro);
	}
	assert(a->eth == b->eth && a->eth_addr == b->eth_addr && a->eth_gw == b->eth_gw &&
	       a->eth_dns == b->eth_dns && a->eth_prefix == b->eth_prefix);
	assert(a->upper_size == b->upper_size);
	same_str(a->upper_dev, b->upper_dev);
	assert(a->action == b->action && a->cp_flags == b->cp_flags);
	assert(a->caps_given == b->caps_given && a->cap_bounding == b->cap_bounding &&
	       a->cap_effective == b->cap_effective && a->no_seccomp == b->no_seccomp);
	assert(a->paths_given == b->paths_given && a->nmasked == b->nmasked && a->nro_paths == b->nro_paths);
	for (unsigned i = 0; i < a->nmasked; i++)
		same_str(a->masked[i], b->masked[i]);
	for (unsigned i = 0; i < a->nro_paths; i++)
		same_str(a->ro_paths[i], b->ro_paths[i]);
	same_str(a->pod_member, b->pod_member);
	assert(a->pod_share_pid == b->pod_share_pid);
	assert(a->nbinds == b->nbinds);
	for (unsigned i = 0; i < a->nbinds; i++) {
		same_str(a->binds[i].path, b->binds[i].path);
		assert(a->binds[i].ro == b->binds[i].ro && a->binds[i].file == b->binds[i].file);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cspec s, again;
	static uint8_t enc[CSPEC_MAX_SIZE];
	struct cspec_err e;
	in_lo = data;
	in_hi = data + size;
	if (cspec_decode(data, size, &s, &e)) {
		assert(e.msg[0] && memchr(e.msg, 0, sizeof(e.msg)));
		assert(s.nargv == 0 && s.argv[0] == NULL);     /* zeroed */
		return 0;
	}
	assert(s.nargv >= 1 && s.nargv <= CSPEC_MAX_ARGS && s.nenv <= CSPEC_MAX_ENV);
	assert(s.nrlimits <= CSPEC_MAX_RLIMITS && s.nvolumes <= CSPEC_MAX_VOLUMES);
	assert(cspec_check(&s, &e) == 0);
	str_inside(s.hostname);
	str_inside(s.cwd);
	str_inside(s.user);
	str_inside(s.image_dev);
	str_inside(s.image_fs);
	for (unsigned i = 0; i < s.nenv; i++)
		str_inside(s.env[i]);
	for (unsigned i = 0; i < s.nargv; i++)
		str_inside(s.argv[i]);
	assert(s.nmasked <= CSPEC_MAX_PATHS && s.nro_paths <= CSPEC_MAX_PATHS);
	for (unsigned i = 0; i < s.nmasked; i++)
		str_inside(s.masked[i]);
	for (unsigned i = 0; i < s.nro_paths; i++)
		str_inside(s.ro_paths[i]);
	str_inside(s.pod_member);
	assert(!s.pod_member || cspec_member_ok(s.pod_member));
	assert(s.action != CSPEC_ACT_CONTAINER || s.pod_member);
	assert(s.nbinds <= CSPEC_MAX_BINDS && (!s.nbinds || s.action == CSPEC_ACT_CONTAINER));
	for (unsigned i = 0; i < s.nbinds; i++) {
		str_inside(s.binds[i].path);
		assert(s.binds[i].path[0] == '/' && !strstr(s.binds[i].path, "/.."));
	}
	for (unsigned i = 0; i < s.nvolumes; i++) {
		str_inside(s.volumes[i].dev);
		str_inside(s.volumes[i].path);
	}
	size_t len;
	assert(cspec_encode(&s, enc, sizeof(enc), &len, &e) == 0);
	assert(len == size);
	assert(cspec_decode(enc, len, &again, &e) == 0);
	same(&s, &again);
	return 0;
}
