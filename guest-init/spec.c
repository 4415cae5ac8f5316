/* The host-side mode's command line:
 *   guest-init --host ROOTFS --spec-fd N
 *       the container spec's encoding (common/spec.h) on fd N, as
 *       `sandbox run --isolation container` passes it;
 *   guest-init --host ROOTFS [--hostname H] [--user U] [--cwd D] [--env K=V]...
 *              [--read-only] [--memory SIZE] [--pids N] [--cpus F]
 *              [--rlimit NAME=SOFT[:HARD]]... [--network none|host] [--init]
 *              -- CMD ARGS...
 *       the same for humans (and tests/container/run.sh): the options
 *       fill the same struct cspec and pass the same check.
 * It runs the same container setup as the guest, on this host, against a
 * rootfs directory: the "plain container" baseline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static const struct { const char *name; int res; } rlimit_names[] = {
	{ "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC }, { "core", RLIMIT_CORE },
	{ "stack", RLIMIT_STACK }, { "as", RLIMIT_AS }, { "fsize", RLIMIT_FSIZE },
	{ "cpu", RLIMIT_CPU }, { "memlock", RLIMIT_MEMLOCK }, { "data", RLIMIT_DATA },
};

static int parse_rlimit(struct cspec *c, const char *s, struct err *err)
{
	const char *eq = strchr(s, '=');
	if (!eq || c->nrlimits == CSPEC_MAX_RLIMITS)
		return err_errno(err, 0, "bad --rlimit %s (NAME=SOFT[:HARD])", s);
	for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++) {
		if (strlen(rlimit_names[i].name) != (size_t)(eq - s) || strncmp(s, rlimit_names[i].name, eq - s))
			continue;
		char *end;
		unsigned long long soft = strtoull(eq + 1, &end, 10), hard = soft;
		if (*end == ':')
			hard = strtoull(end + 1, &end, 10);
		if (*end || soft > hard)
			break;
		struct cspec_rlimit *r = &c->rlimits[c->nrlimits++];
		r->resource = (uint32_t)rlimit_names[i].res;
		r->soft = soft;
		r->hard = hard;
		return 0;
	}
	return err_errno(err, 0, "bad --rlimit %s (NAME=SOFT[:HARD])", s);
}

/* The options for humans, from ARGV[I] on. */
static int parse_options(struct cspec *c, int i, int argc, char **argv, struct err *err)
{
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--read-only")) { c->read_only = true; continue; }
		if (!strcmp(o, "--init")) { c->init = true; continue; }
		if (!v)
			return err_errno(err, 0, "%s: missing value (or unknown option)", o);
		i++;
		if (!strcmp(o, "--hostname")) c->hostname = v;
		else if (!strcmp(o, "--user")) c->user = v;
		else if (!strcmp(o, "--cwd")) c->cwd = v;
		else if (!strcmp(o, "--env")) {
			if (!strchr(v, '=') || c->nenv == CSPEC_MAX_ENV)
				return err_errno(err, 0, "bad --env %s (K=V)", v);
			c->env[c->nenv++] = v;
		} else if (!strcmp(o, "--memory")) {
			if (parse_size(v, &c->memory) < 0)
				return err_errno(err, 0, "bad --memory %s", v);
		} else if (!strcmp(o, "--pids")) {
			if (parse_size(v, &c->pids) < 0)
				return err_errno(err, 0, "bad --pids %s", v);
		} else if (!strcmp(o, "--cpus")) {
			char *end;
			double f = strtod(v, &end);
			if (*end || f <= 0 || f > 1024)
				return err_errno(err, 0, "bad --cpus %s", v);
			c->cpu_quota_us = (uint64_t)(f * 100000);
		} else if (!strcmp(o, "--rlimit")) {
			if (parse_rlimit(c, v, err) < 0)
				return -1;
		} else if (!strcmp(o, "--network")) {
			if (!strcmp(v, "none")) c->network = CSPEC_NET_NONE;
			else if (!strcmp(v, "host")) c->network = CSPEC_NET_HOST;
			else return err_errno(err, 0, "bad --network %s (none|host)", v);
		} else
			return err_errno(err, 0, "unknown option %s", o);
	}
	for (i++; i < argc && c->nargv < CSPEC_MAX_ARGS; i++)
		c->argv[c->nargv++] = argv[i];
	if (i < argc)
		return err_errno(err, 0, "too many arguments");
	if (!c->nargv)
		return err_errno(err, 0, "no command (-- CMD ARGS...)");
	return 0;
}

/* --spec-fd N: the encoding, read whole (and the fd closed: it must not
 * reach the container). */
static int read_spec_fd(struct cspec *c, const char *arg, struct err *err)
{
	static uint8_t buf[CSPEC_MAX_SIZE + 1];
	char *end;
	errno = 0;
	long fd = strtol(arg, &end, 10);
	if (errno || *end || end == arg || fd < 0 || fd > 1 << 20)
		return err_errno(err, 0, "bad --spec-fd %s", arg);
	size_t len = 0;
	while (len < sizeof(buf)) {
		ssize_t n = read((int)fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close((int)fd);
			return err_errno(err, e, "--spec-fd %ld: read", fd);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close((int)fd);
	struct cspec_err ce;
	if (cspec_decode(buf, len, c, &ce) < 0)
		return err_errno(err, 0, "--spec-fd %ld: %s", fd, ce.msg);
	/* The VM's devices and stdio have no meaning here. */
	if (c->image_dev || c->nvolumes || c->eth || c->tty || c->stdin_open || c->upper_size ||
	    c->upper_dev)
		return err_errno(err, 0, "--spec-fd %ld: the spec has the VM's parts (image, volumes, eth0, stdio, writable layer)", fd);
	return 0;
}

int spec_parse_host_args(struct cspec *c, const char **rootfs, int argc, char **argv, struct err *err)
{
	memset(c, 0, sizeof(*c));
	int i = 1;
	if (i >= argc || strcmp(argv[i], "--host") || i + 1 >= argc)
		return err_errno(err, 0, "usage: guest-init --host ROOTFS [--spec-fd N | [options] -- CMD ARGS...]");
	static char root[4096];
	if (!realpath(argv[++i], root))
		return err_errno(err, errno, "rootfs %s", argv[i]);
	*rootfs = root;
	i++;
	if (i < argc && !strcmp(argv[i], "--spec-fd")) {
		if (i + 2 != argc)
			return err_errno(err, 0, "--spec-fd N: nothing else");
		return read_spec_fd(c, argv[i + 1], err);
	}
	if (parse_options(c, i, argc, argv, err) < 0)
		return -1;
	struct cspec_err ce;
	if (cspec_check(c, &ce) < 0)
		return err_errno(err, 0, "%s", ce.msg);
	return 0;
}

void spec_from_cspec(struct sb_spec *spec, const struct cspec *c, const char *rootfs)
{
	memset(spec, 0, sizeof(*spec));
	spec->rootfs = rootfs;
	for (unsigned i = 0; i < c->nargv; i++)
		spec->args[i] = (char *)c->argv[i];
	spec->nargs = (int)c->nargv;
	for (unsigned i = 0; i < c->nenv; i++)
		spec->env[i] = (char *)c->env[i];
	spec->nenv = (int)c->nenv;
	spec->cwd = c->cwd;
	spec->user = c->user;
	spec->hostname = c->hostname;
	for (unsigned i = 0; i < c->nrlimits; i++) {
		spec->rlimits[i].resource = (int)c->rlimits[i].resource;
		spec->rlimits[i].lim.rlim_cur = c->rlimits[i].soft;
		spec->rlimits[i].lim.rlim_max = c->rlimits[i].hard;
	}
	spec->nrlimits = (int)c->nrlimits;
	/* cspec_check bounded these by 2^63 */
	spec->memory_max = (long long)c->memory;
	spec->pids_max = (long long)c->pids;
	spec->cpu_quota_us = (long long)c->cpu_quota_us;
	spec->read_only = c->read_only;
	spec->init = c->init;
	spec->audit_privileged = c->audit_privileged;
	spec->caps_given = c->caps_given;
	spec->cap_bounding = c->cap_bounding;
	spec->cap_effective = c->cap_effective;
	spec->no_seccomp = c->no_seccomp;
	spec->paths_given = c->paths_given;
	spec->masked = c->masked;
	spec->nmasked = c->nmasked;
	spec->ro_paths = c->ro_paths;
	spec->nro_paths = c->nro_paths;
	spec->network = c->network == CSPEC_NET_HOST ? SB_NET_SHARE : SB_NET_NONE;
}

int host_main(int argc, char **argv)
{
	static struct cspec c;
	static struct sb_spec spec;
	struct err err = { 0 };
	const char *root;
	if (spec_parse_host_args(&c, &root, argc, argv, &err) < 0) {
		fprintf(stderr, "sandbox-init: %s\n", err.msg);
		return 125;
	}
	spec_from_cspec(&spec, &c, root);
	int status = container_run(&spec, &err);
	if (status < 0) {
		fprintf(stderr, "sandbox-init: container: %s\n", err.msg);
		return err.status ? err.status : 125;
	}
	return status;
}
