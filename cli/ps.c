/* `sandbox ps` and `sandbox inspect`: the recorded sandboxes listed (a
 * table or JSON) and shown one by one as JSON. ps cleans up the dead
 * sandboxes it sees (lifecycle_status.c), lists them once as "dead" (with
 * -a) and says so on stderr; running sandboxes far older than their peers
 * get "(old)" (hostlimits.h). */
#include "lifecycle_impl.h"
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostlimits.h"
#include "json.h"
#include "table.h"

static void age_text(long long created, char *buf, size_t len)
{
	long long d = (long long)time(NULL) - created;
	if (d < 0)
		d = 0;
	if (d < 60)
		snprintf(buf, len, "%llds", d);
	else if (d < 3600)
		snprintf(buf, len, "%lldm", d / 60);
	else if (d < 86400)
		snprintf(buf, len, "%lldh", d / 3600);
	else
		snprintf(buf, len, "%lldd", d / 86400);
}

static void mem_text(long long b, char *buf, size_t len)
{
	if (b <= 0)
		snprintf(buf, len, "-");
	else if (b % (1LL << 30) == 0)
		snprintf(buf, len, "%lldg", b >> 30);
	else if (b % (1LL << 20) == 0)
		snprintf(buf, len, "%lldm", b >> 20);
	else if (b % 1024 == 0)
		snprintf(buf, len, "%lldk", b >> 10);
	else
		snprintf(buf, len, "%lld", b);
}

/* ------------------------------------------------------------------ */
/* JSON */

static void json_state(FILE *f, const struct sandbox_state *s, enum view v, const char *indent)
{
	char st[32], age[32], dir[700];
	lc_status_text(s, v, st, sizeof(st));
	age_text(s->created, age, sizeof(age));
	state_path(dir, sizeof(dir), s->id, NULL);
	fprintf(f, "%s{\"id\": ", indent);
	json_str(f, s->id);
	fputs(", \"name\": ", f);
	json_str(f, s->name);
	fputs(", \"image\": ", f);
	json_str(f, s->image);
	fputs(", \"command\": ", f);
	json_str(f, s->command);
	fputs(", \"status\": ", f);
	json_str(f, st);
	fprintf(f, ", \"running\": %s", v == V_RUNNING || v == V_CREATED ? "true" : "false");
	if (v == V_EXITED)
		fprintf(f, ", \"exit_code\": %d", s->exit_code);
	else
		fputs(", \"exit_code\": null", f);
	fprintf(f, ", \"created\": %lld, \"age\": ", s->created);
	json_str(f, age);
	fputs(", \"isolation\": ", f);
	json_str(f, s->isolation);
	fputs(", \"cpus\": ", f);
	json_str(f, s->cpus);
	fprintf(f, ", \"memory\": %lld, \"pid\": %d, \"vmm_pid\": %d", s->memory, (int)s->pid,
		v == V_EXITED ? 0 : (int)s->vmm_pid);
	/* OOM kills as the owner last heard of them (docs/stats.md) */
	fprintf(f, ", \"oom_kills\": %lld", s->oom_kills);
	fprintf(f, ", \"net\": %d, \"tap\": ", s->net);
	json_str(f, s->tap);
	fputs(", \"stop_signal\": ", f);
	json_str(f, s->stop_signal);
	fprintf(f, ", \"rm\": %s, \"detached\": %s, \"state_dir\": ", s->rm ? "true" : "false",
		s->detached ? "true" : "false");
	json_str(f, dir);
	fputc('}', f);
}

/* ------------------------------------------------------------------ */
/* ps */

struct row {
	char id[13], name[64], image[256], status[32], age[32], cpus[16], mem[24], command[1024];
};

enum { R_ID, R_NAME, R_IMAGE, R_STATUS, R_AGE, R_CPUS, R_MEM, R_COMMAND, R_N };

static const struct table_col ps_cols[R_N] = {
	{ "ID", 0, false }, { "NAME", 0, false }, { "IMAGE", 0, false }, { "STATUS", 0, false },
	{ "AGE", 0, false }, { "CPUS", 0, false }, { "MEMORY", 0, false }, { "COMMAND", 0, false },
};

/* A table_cell_fn over an array of struct row. */
static const char *ps_cell(const void *ctx, size_t i, int col, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	const struct row *r = (const struct row *)ctx + i;
	const char *cols[R_N] = { r->id, r->name, r->image, r->status, r->age, r->cpus, r->mem, r->command };
	return col >= 0 && col < R_N ? cols[col] : "";
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* Running sandboxes far past their peers' age (hostlimits.h's
 * outlier_factor and outlier_min_age) get "(old)" after their status. */
static void mark_outliers(struct row *rows, const struct sandbox_state *st, const enum view *views, size_t n)
{
	struct limits l;
	struct err e;
	if (limits_load(&l, &e))
		return;         /* run reports a broken config; ps still lists */
	long long *ages = calloc(n + 1, sizeof(*ages)), now = (long long)time(NULL);
	int running = 0;
	if (!ages)
		return;
	for (size_t i = 0; i < n; i++)
		if (views[i] == V_RUNNING)
			ages[running++] = now - st[i].created;
	qsort(ages, (size_t)running, sizeof(*ages), cmp_ll);
	long long median = running ? ages[running / 2] : 0;
	for (size_t i = 0; i < n; i++)
		if (views[i] == V_RUNNING && limits_outlier(&l, now - st[i].created, median, running))
			snprintf(rows[i].status, sizeof(rows[i].status), "running (old)");
	free(ages);
}

int cmd_ps(int argc, char **argv)
{
	enum { O_FORMAT = 256 };
	static const struct option opts[] = {
		{ "all", no_argument, 0, 'a' }, { "quiet", no_argument, 0, 'q' },
		{ "format", required_argument, 0, O_FORMAT }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	bool all = false, quiet = false, json = false;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+aqh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'q': quiet = true; break;
		case O_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "table"))
				return cli_fail("ps --format: '%s' is not json or table", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'h':
			printf("usage: sandbox ps [-a] [-q] [--format json|table]\n");
			return 0;
		default:
			return cli_fail("ps: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_fail("ps: unexpected argument '%s'", argv[optind]);
	struct err e;
	if (!state_root(&e))
		return cli_report(&e);
	size_t n;
	char **ids = state_list(&n, &e);
	if (!ids)
		return cli_report(&e);
	struct row *rows = calloc(n + 1, sizeof(*rows));
	struct sandbox_state *states = calloc(n + 1, sizeof(*states));
	enum view *views = calloc(n + 1, sizeof(*views));
	if (!rows || !states || !views) {
		err_oom(&e, "ps");
		return cli_report(&e);
	}
	size_t nr = 0;
	for (size_t i = 0; i < n; i++) {
		struct sandbox_state *s = &states[nr];
		if (state_read(ids[i], s, &e)) {
			/* ENOENT: removed meanwhile, or not written yet */
			if (e.errnum != ENOENT)
				cli_report(&e);
			continue;
		}
		enum view v = lc_view_of(s);
		if (v == V_DEAD) {
			if (!lc_clean_dead(s->id))
				continue;
			fprintf(stderr, "sandbox: %s (%.12s) was dead (its owner process died): cleaned up\n",
				s->name, s->id);
		}
		if (!all && v != V_RUNNING && v != V_CREATED)
			continue;
		views[nr] = v;
		struct row *r = &rows[nr++];
		snprintf(r->id, sizeof(r->id), "%.12s", s->id);
		snprintf(r->name, sizeof(r->name), "%s", s->name);
		snprintf(r->image, sizeof(r->image), "%s", s->image);
		lc_status_text(s, v, r->status, sizeof(r->status));
		age_text(s->created, r->age, sizeof(r->age));
		snprintf(r->cpus, sizeof(r->cpus), "%s", s->cpus);
		mem_text(s->memory, r->mem, sizeof(r->mem));
		snprintf(r->command, sizeof(r->command), "%s", s->command);
	}
	state_free_list(ids, n);
	mark_outliers(rows, states, views, nr);
	if (json) {
		printf("[");
		for (size_t i = 0; i < nr; i++) {
			printf("%s\n", i ? "," : "");
			json_state(stdout, &states[i], views[i], "  ");
		}
		printf("%s]\n", nr ? "\n" : "");
	} else if (quiet) {
		for (size_t i = 0; i < nr; i++)
			printf("%s\n", rows[i].id);
	} else {
		table_print(stdout, ps_cols, R_N, nr, ps_cell, rows);
	}
	free(rows);
	free(states);
	free(views);
	return 0;
}

/* ------------------------------------------------------------------ */
/* inspect */

int cmd_inspect(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: sandbox inspect ID|NAME...   (a JSON array, one object each)\n");
		return 0;
	}
	if (argc < 2)
		return cli_fail("usage: sandbox inspect ID|NAME...");
	struct err e;
	struct sandbox_state *st = calloc((size_t)argc, sizeof(*st));
	if (!st) {
		err_oom(&e, "inspect");
		return cli_report(&e);
	}
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (state_find(argv[i], &st[n], &e)) {
			free(st);
			return cli_report(&e);
		}
		n++;
	}
	printf("[\n");
	for (int i = 0; i < n; i++) {
		json_state(stdout, &st[i], lc_view_of(&st[i]), "  ");
		printf("%s\n", i + 1 < n ? "," : "");
	}
	printf("]\n");
	free(st);
	return 0;
}
