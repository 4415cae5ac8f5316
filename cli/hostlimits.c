/* Host-wide limits (limits.h). */
#include "hostlimits.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_impl.h"
#include "state.h"
#include "util.h"

#define CONFIG_DEFAULT "/etc/sandbox/config"
#define CONFIG_MAX 65536

static void defaults(struct limits *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	l->outlier_factor = 10;
	l->outlier_min_age = 3600;
	snprintf(l->path, sizeof(l->path), "%s", path);
}

static int duration(const char *v, long *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	double mul = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 :
		     !strcmp(end, "d") ? 86400 : 0;
	if (end == v || errno || !mul || !(d >= 0) || d * mul > 1e9)
		return -1;
	*out = (long)(d * mul);
	return 0;
}

static int count(const char *v, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (end == v || *end || errno || n < 0 || n > 1000000)
		return -1;
	*out = n;
	return 0;
}

int limits_parse(const char *text, const char *path, struct limits *l, struct err *e)
{
	defaults(l, path);
	int lineno = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		lineno++;
		if (n >= sizeof(line))
			return err_set(e, "%s:%d: the line is too long", path, lineno);
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl != NULL);
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *k = line;
		while (isspace((unsigned char)*k))
			k++;
		if (!*k)
			continue;
		char *eq = strchr(k, '=');
		if (!eq)
			return err_set(e, "%s:%d: want KEY = VALUE", path, lineno);
		char *v = eq + 1, *kend = eq;
		while (kend > k && isspace((unsigned char)kend[-1]))
			kend--;
		*kend = '\0';
		while (isspace((unsigned char)*v))
			v++;
		for (char *t = v + strlen(v); t > v && isspace((unsigned char)t[-1]);)
			*--t = '\0';
		int bad = 0;
		if (!strcmp(k, "max_sandboxes")) {
			bad = count(v, &l->max_sandboxes);
		} else if (!strcmp(k, "max_per_user")) {
			bad = count(v, &l->max_per_user);
		} else if (!strcmp(k, "max_memory")) {
			bad = parse_size(v, &l->max_memory);
		} else if (!strcmp(k, "outlier_factor")) {
			char *end;
			l->outlier_factor = strtod(v, &end);
			bad = end == v || *end || !(l->outlier_factor >= 1) || l->outlier_factor > 1e6;
		} else if (!strcmp(k, "outlier_min_age")) {
			bad = duration(v, &l->outlier_min_age);
		} else {
			return err_set(e, "%s:%d: unknown key '%.64s' (max_sandboxes, max_memory, max_per_user, "
				       "outlier_factor, outlier_min_age)", path, lineno, k);
		}
		if (bad)
			return err_set(e, "%s:%d: %s: '%.64s' is not a valid value", path, lineno, k, v);
	}
	return 0;
}

int limits_load(struct limits *l, struct err *e)
{
	const char *env = getenv("SANDBOX_CONFIG");
	const char *path = env && *env ? env : CONFIG_DEFAULT;
	defaults(l, path);
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, "config %s", path);
	}
	char *buf = malloc(CONFIG_MAX + 1);
	if (!buf) {
		fclose(f);
		return err_oom(e, "config");
	}
	size_t n = fread(buf, 1, CONFIG_MAX + 1, f);
	fclose(f);
	if (n > CONFIG_MAX) {
		free(buf);
		return err_set(e, "config %s: larger than %d bytes", path, CONFIG_MAX);
	}
	buf[n] = '\0';
	int r = limits_parse(buf, path, l, e);
	free(buf);
	return r;
}

uint64_t limits_guest_memory(const char *isolation, long long memory)
{
	if (!strcmp(isolation, "container"))
		return memory > 0 ? (uint64_t)memory : 0;
	return memory > 0 ? (uint64_t)memory + GUEST_MEM_OVERHEAD : GUEST_MEM_DEFAULT;
}

/* The real uid of PID, (uid_t)-1 if unknown. */
static uid_t proc_uid(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	unsigned uid = (unsigned)-1;
	if (!f)
		return (uid_t)-1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u", &uid) == 1)
			break;
	fclose(f);
	return (uid_t)uid;
}

int limits_check(const struct limits *l, uint64_t mem, struct err *e)
{
	if (!l->max_sandboxes && !l->max_per_user && !l->max_memory)
		return 0;
	size_t n;
	char **ids = state_list(&n, e);
	if (!ids)
		return -1;
	long running = 0, mine = 0;
	uint64_t committed = 0;
	uid_t me = getuid();
	for (size_t i = 0; i < n; i++) {
		struct sandbox_state s;
		struct err ignored;
		if (state_read(ids[i], &s, &ignored) || !strcmp(s.status, "exited") || !state_owner_alive(&s))
			continue;
		running++;
		committed += limits_guest_memory(s.isolation, s.memory);
		if (proc_uid(s.pid) == me)
			mine++;
	}
	state_free_list(ids, n);
	if (l->max_sandboxes && running + 1 > l->max_sandboxes)
		return err_set(e, "host limit: %ld sandboxes run already (max_sandboxes = %ld in %s): refused", running,
			       l->max_sandboxes, l->path);
	if (l->max_per_user && mine + 1 > l->max_per_user)
		return err_set(e, "host limit: uid %u runs %ld sandboxes already (max_per_user = %ld in %s): refused",
			       (unsigned)me, mine, l->max_per_user, l->path);
	if (l->max_memory && committed + mem > l->max_memory)
		return err_set(e, "host limit: %llu MiB of guest memory committed, %llu MiB more would pass max_memory "
			       "(%llu MiB in %s): refused", (unsigned long long)(committed >> 20),
			       (unsigned long long)(mem >> 20), (unsigned long long)(l->max_memory >> 20), l->path);
	return 0;
}

bool limits_outlier(const struct limits *l, long long age, long long median, int running)
{
	if (running < 3 || age < l->outlier_min_age)
		return false;
	return (double)age > l->outlier_factor * (double)(median > 1 ? median : 1);
}
