/* The host-side mode's command line:
 *   guest-init --host ROOTFS [--hostname H] [--user U] [--cwd D] [--env K=V]...
 *              [--read-only] [--memory SIZE] [--pids N] [--cpus F]
 *              [--rlimit NAME=SOFT[:HARD]]... [--network none|host] [--init]
 *              -- CMD ARGS...
 * It runs the same container setup as the guest, on this host, against a
 * rootfs directory: the "plain container" baseline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"

static int parse_size(const char *s, long long *out)
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
	*out = v;
	return 0;
}

static const struct { const char *name; int res; } rlimit_names[] = {
	{ "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC }, { "core", RLIMIT_CORE },
	{ "stack", RLIMIT_STACK }, { "as", RLIMIT_AS }, { "fsize", RLIMIT_FSIZE },
	{ "cpu", RLIMIT_CPU }, { "memlock", RLIMIT_MEMLOCK }, { "data", RLIMIT_DATA },
};

static int parse_rlimit(struct sb_spec *spec, const char *s, struct sb_err *err)
{
	const char *eq = strchr(s, '=');
	if (!eq || spec->nrlimits == SB_MAX_RLIMITS)
		return sb_fail(err, 0, "bad --rlimit %s (NAME=SOFT[:HARD])", s);
	for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++) {
		if (strlen(rlimit_names[i].name) != (size_t)(eq - s) || strncmp(s, rlimit_names[i].name, eq - s))
			continue;
		char *end;
		unsigned long long soft = strtoull(eq + 1, &end, 10), hard = soft;
		if (*end == ':')
			hard = strtoull(end + 1, &end, 10);
		if (*end || soft > hard)
			break;
		struct sb_rlimit *r = &spec->rlimits[spec->nrlimits++];
		r->resource = rlimit_names[i].res;
		r->lim.rlim_cur = soft;
		r->lim.rlim_max = hard;
		return 0;
	}
	return sb_fail(err, 0, "bad --rlimit %s (NAME=SOFT[:HARD])", s);
}

int spec_parse_host_args(struct sb_spec *spec, int argc, char **argv, struct sb_err *err)
{
	memset(spec, 0, sizeof(*spec));
	spec->network = SB_NET_NONE;
	int i = 1;
	if (i >= argc || strcmp(argv[i], "--host") || i + 1 >= argc)
		return sb_fail(err, 0, "usage: guest-init --host ROOTFS [options] -- CMD ARGS...");
	static char root[4096];
	if (!realpath(argv[++i], root))
		return sb_fail(err, errno, "rootfs %s", argv[i]);
	spec->rootfs = root;
	for (i++; i < argc && strcmp(argv[i], "--"); i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--read-only")) { spec->read_only = true; continue; }
		if (!strcmp(o, "--init")) { spec->init = true; continue; }
		if (!v)
			return sb_fail(err, 0, "%s: missing value (or unknown option)", o);
		i++;
		if (!strcmp(o, "--hostname")) spec->hostname = v;
		else if (!strcmp(o, "--user")) spec->user = v;
		else if (!strcmp(o, "--cwd")) spec->cwd = v;
		else if (!strcmp(o, "--env")) {
			if (!strchr(v, '=') || spec->nenv == SB_MAX_ENV)
				return sb_fail(err, 0, "bad --env %s (K=V)", v);
			spec->env[spec->nenv++] = (char *)v;
		} else if (!strcmp(o, "--memory")) {
			if (parse_size(v, &spec->memory_max) < 0)
				return sb_fail(err, 0, "bad --memory %s", v);
		} else if (!strcmp(o, "--pids")) {
			if (parse_size(v, &spec->pids_max) < 0)
				return sb_fail(err, 0, "bad --pids %s", v);
		} else if (!strcmp(o, "--cpus")) {
			char *end;
			double c = strtod(v, &end);
			if (*end || c <= 0 || c > 1024)
				return sb_fail(err, 0, "bad --cpus %s", v);
			spec->cpu_quota_us = (long long)(c * 100000);
		} else if (!strcmp(o, "--rlimit")) {
			if (parse_rlimit(spec, v, err) < 0)
				return -1;
		} else if (!strcmp(o, "--network")) {
			if (!strcmp(v, "none")) spec->network = SB_NET_NONE;
			else if (!strcmp(v, "host")) spec->network = SB_NET_SHARE;
			else return sb_fail(err, 0, "bad --network %s (none|host)", v);
		} else
			return sb_fail(err, 0, "unknown option %s", o);
	}
	for (i++; i < argc && spec->nargs < SB_MAX_ARGS; i++)
		spec->args[spec->nargs++] = argv[i];
	if (i < argc)
		return sb_fail(err, 0, "too many arguments");
	if (!spec->nargs)
		return sb_fail(err, 0, "no command (-- CMD ARGS...)");
	return 0;
}

int host_main(int argc, char **argv)
{
	static struct sb_spec spec;
	struct sb_err err = { 0 };
	if (spec_parse_host_args(&spec, argc, argv, &err) < 0) {
		fprintf(stderr, "sandbox-init: %s\n", err.msg);
		return 125;
	}
	int status = container_run(&spec, &err);
	if (status < 0) {
		fprintf(stderr, "sandbox-init: container: %s\n", err.msg);
		return err.status ? err.status : 125;
	}
	return status;
}
