/* The pure part of `sandbox stats` (stats.h): /proc's text in, tables,
 * JSON and Prometheus text out. No system calls here: unit-tested with
 * plain strings (tests/unit/test_stats.c). */
#include "stats.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "table.h"

int stats_parse_stat(const char *buf, struct proc_sample *p)
{
	/* "PID (COMM) S PPID ..." where COMM may hold spaces and ')'. */
	char *end;
	long pid = strtol(buf, &end, 10);
	const char *close = strrchr(buf, ')');
	if (end == buf || pid <= 0 || !close || close < end)
		return -1;
	const char *q = close + 1;
	/* fields after ")": 3 state, 4 ppid, ... 14 utime, 15 stime, ... 22 starttime */
	unsigned long long v[23] = { 0 };
	char state = 0;
	for (int field = 3; field <= 22; field++) {
		while (*q == ' ')
			q++;
		if (!*q)
			return -1;
		if (field == 3) {
			state = *q++;
			if (*q && *q != ' ')
				return -1;
			continue;
		}
		char *e2;
		if (*q == '-') {        /* some fields are signed (priority, nice) */
			strtoll(q, &e2, 10);
		} else {
			v[field] = strtoull(q, &e2, 10);
		}
		if (e2 == q || (*e2 && *e2 != ' ' && *e2 != '\n'))
			return -1;
		q = e2;
	}
	p->pid = (pid_t)pid;
	p->state = state;
	p->ppid = (pid_t)v[4];
	p->ticks = v[14] + v[15];
	p->start = v[22];
	return 0;
}

/* The number after "NAME:" at the start of a line of BUF (kB lines keep
 * their unit apart: the caller scales). */
static int field_u64(const char *buf, const char *name, uint64_t *out)
{
	size_t len = strlen(name);
	for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, name, len) || l[len] != ':')
			continue;
		const char *q = l + len + 1;
		while (*q == ' ' || *q == '\t')
			q++;
		char *end;
		unsigned long long v = strtoull(q, &end, 10);
		if (end == q)
			return -1;
		*out = v;
		return 0;
	}
	return -1;
}

int stats_parse_rollup(const char *buf, uint64_t *rss, uint64_t *pss)
{
	uint64_t r = 0, p = 0;
	int hr = field_u64(buf, "Rss", &r), hp = field_u64(buf, "Pss", &p);
	if (hr && hp)
		return -1;
	*rss = r * 1024;
	*pss = p * 1024;
	return 0;
}

int stats_parse_io(const char *buf, uint64_t *rd, uint64_t *wr)
{
	uint64_t r = 0, w = 0;
	if (field_u64(buf, "read_bytes", &r) || field_u64(buf, "write_bytes", &w))
		return -1;
	*rd = r;
	*wr = w;
	return 0;
}

int stats_parse_meminfo(const char *buf, uint64_t *total, uint64_t *avail)
{
	uint64_t t, a;
	if (field_u64(buf, "MemTotal", &t) || field_u64(buf, "MemAvailable", &a))
		return -1;
	*total = t * 1024;
	*avail = a * 1024;
	return 0;
}

int stats_parse_guest(const char *buf, uint64_t *total, uint64_t *used, int *pids)
{
	uint64_t t, a, p;
	if (stats_parse_meminfo(buf, &t, &a) || !t || t > (1ULL << 50) || a > t)
		return -1;
	if (field_u64(buf, "pids", &p) || p > 4194304)
		return -1;
	*total = t;
	*used = t - a;
	*pids = (int)p;
	return 0;
}

double stats_cpu_percent(uint64_t dcpu_ns, uint64_t dwall_ns)
{
	if (!dwall_ns)
		return -1;
	return (double)dcpu_ns * 100.0 / (double)dwall_ns;
}

void stats_human(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	if (b < 1024) {
		snprintf(buf, len, "%" PRIu64 "B", b);
		return;
	}
	double v = (double)b;
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (v >= 100 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f%s", v, unit[u]);
	else
		snprintf(buf, len, "%.1f%s", v, unit[u]);
}

/* ------------------------------------------------------------------ */
/* table */

enum { C_ID, C_NAME, C_CPU, C_MEM, C_RSS, C_NET, C_BLK, C_PIDS, C_OOM, C_GUEST, C_N };

static const struct table_col stats_cols[C_N] = {
	{ "ID", 12, false }, { "NAME", 20, false }, { "CPU %", 7, true }, { "MEM (PSS) / LIMIT", 20, false },
	{ "VMM RSS", 9, true }, { "NET I/O", 19, false }, { "BLOCK I/O", 19, false }, { "PIDS", 5, false },
	{ "OOM", 4, false }, { "GUEST MEM", 0, false },
};

/* "A / B", both as stats_human shows bytes. */
static const char *pair(uint64_t a, uint64_t b, char *buf, size_t len)
{
	char x[16], y[16];
	stats_human(a, x, sizeof(x));
	stats_human(b, y, sizeof(y));
	snprintf(buf, len, "%s / %s", x, y);
	return buf;
}

/* A table_cell_fn over an array of struct sandbox_stats. */
static const char *stats_cell(const void *ctx, size_t row, int col, char *buf, size_t len)
{
	const struct sandbox_stats *x = (const struct sandbox_stats *)ctx + row;
	char lim[16];
	switch (col) {
	case C_ID: snprintf(buf, len, "%.12s", x->id); break;
	case C_NAME: return x->name;
	case C_CPU:
		if (x->cpu_percent < 0)
			return "--";
		snprintf(buf, len, "%.2f%%", x->cpu_percent);
		break;
	case C_MEM:
		stats_human(x->pss, buf, len);
		if (x->mem_limit)
			stats_human(x->mem_limit, lim, sizeof(lim));
		else
			snprintf(lim, sizeof(lim), "-");
		snprintf(buf + strlen(buf), len - strlen(buf), " / %s", lim);
		break;
	case C_RSS: stats_human(x->vmm_rss, buf, len); break;
	case C_NET: return pair(x->net_rx, x->net_tx, buf, len);
	case C_BLK: return pair(x->blk_read, x->blk_write, buf, len);
	case C_PIDS:
		if (x->pids < 0)
			return "-";
		snprintf(buf, len, "%d", x->pids);
		break;
	case C_OOM:
		if (x->oom_kills < 0)
			return "-";
		snprintf(buf, len, "%lld", x->oom_kills);
		break;
	case C_GUEST:           /* the guest's own view (--guest) */
		if (!x->guest_mem_total)
			return "-";
		return pair(x->guest_mem_used, x->guest_mem_total, buf, len);
	default: return "";
	}
	return buf;
}

void stats_print_table(FILE *f, const struct sandbox_stats *s, size_t n)
{
	table_print(f, stats_cols, C_N, n, stats_cell, s);
}

/* ------------------------------------------------------------------ */
/* JSON */

void stats_print_json(FILE *f, const struct sandbox_stats *s, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		const struct sandbox_stats *x = &s[i];
		fputs(i ? ",{\"id\":" : "{\"id\":", f);
		json_str(f, x->id);
		fputs(",\"name\":", f);
		json_str(f, x->name);
		fputs(",\"image\":", f);
		json_str(f, x->image);
		fputs(",\"isolation\":", f);
		json_str(f, x->isolation);
		fputs(",\"status\":", f);
		json_str(f, x->status);
		fprintf(f, ",\"running\":%s,\"created\":%lld,\"ttl\":%lld", x->running ? "true" : "false", x->created,
			x->ttl);
		fprintf(f, ",\"cpu_seconds\":%.3f", (double)x->cpu_ns / 1e9);
		if (x->cpu_percent < 0)
			fputs(",\"cpu_percent\":null", f);
		else
			fprintf(f, ",\"cpu_percent\":%.2f", x->cpu_percent);
		fprintf(f,
			",\"memory_pss\":%" PRIu64 ",\"vmm_rss\":%" PRIu64 ",\"memory_limit\":%" PRIu64
			",\"block_read\":%" PRIu64 ",\"block_write\":%" PRIu64 ",\"net_rx\":%" PRIu64
			",\"net_tx\":%" PRIu64,
			x->pss, x->vmm_rss, x->mem_limit, x->blk_read, x->blk_write, x->net_rx, x->net_tx);
		if (x->pids < 0)
			fputs(",\"pids\":null", f);
		else
			fprintf(f, ",\"pids\":%d", x->pids);
		fprintf(f, ",\"host_processes\":%d", x->nprocs);
		if (x->oom_kills < 0)
			fputs(",\"oom_kills\":null", f);
		else
			fprintf(f, ",\"oom_kills\":%lld", x->oom_kills);
		if (x->guest_mem_total)
			fprintf(f, ",\"guest_memory_total\":%" PRIu64 ",\"guest_memory_used\":%" PRIu64 "}",
				x->guest_mem_total, x->guest_mem_used);
		else
			fputs(",\"guest_memory_total\":null,\"guest_memory_used\":null}", f);
	}
	fputs("]\n", f);
}

/* ------------------------------------------------------------------ */
/* Prometheus */

const double stats_start_buckets[STATS_BUCKETS] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
const char *const stats_event_types[STATS_EVENT_TYPES] = { "create", "start", "exec", "kill", "stop", "exit", "ttl", "remove",
							    "restore", "oom" };

void stats_count_event(struct host_stats *h, const char *type, double setup_ms)
{
	for (int i = 0; i < STATS_EVENT_TYPES; i++)
		if (!strcmp(type, stats_event_types[i]))
			h->events[i]++;
	bool restore = !strcmp(type, "restore");
	if ((strcmp(type, "start") && !restore) || setup_ms < 0)
		return;
	double s = setup_ms / 1000;
	for (int i = 0; i < STATS_BUCKETS; i++)
		if (s <= stats_start_buckets[i])
			(restore ? h->restore_le : h->start_le)[i]++;
	*(restore ? &h->restore_count : &h->start_count) += 1;
	*(restore ? &h->restore_sum : &h->start_sum) += s;
}

static void prom_histogram(FILE *f, const char *name, const char *help, const uint64_t *le, uint64_t count,
			   double sum)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (int i = 0; i < STATS_BUCKETS; i++)
		fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, stats_start_buckets[i], le[i]);
	fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.6f\n%s_count %" PRIu64 "\n", name, count, name, sum,
		name, count);
}

/* A label value: backslash, double quote and newline escaped. */
static void prom_label(FILE *f, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\\' || *p == '"')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

static void prom_labels(FILE *f, const struct sandbox_stats *x)
{
	fputs("{id=\"", f);
	prom_label(f, x->id);
	fputs("\",name=\"", f);
	prom_label(f, x->name);
	fputs("\",image=\"", f);
	prom_label(f, x->image);
	fputs("\",isolation=\"", f);
	prom_label(f, x->isolation);
	fputs("\"}", f);
}

enum prom_val { P_CPU, P_PSS, P_RSS, P_LIMIT, P_BR, P_BW, P_RX, P_TX, P_PIDS, P_CREATED, P_TTL, P_GUSED, P_GTOTAL, P_OOM };

static const struct {
	const char *name, *type, *help;
	enum prom_val v;
} prom_metrics[] = {
	{ "sandbox_cpu_seconds_total", "counter", "CPU time of the sandbox's host processes (user+system).", P_CPU },
	{ "sandbox_memory_pss_bytes", "gauge", "Proportional set size of the sandbox's host processes.", P_PSS },
	{ "sandbox_vmm_rss_bytes", "gauge", "Resident set of the VMM (or host-mode runtime) process.", P_RSS },
	{ "sandbox_memory_limit_bytes", "gauge", "The container's memory limit (0: none).", P_LIMIT },
	{ "sandbox_block_read_bytes_total", "counter", "Bytes the sandbox's processes read from block devices.", P_BR },
	{ "sandbox_block_write_bytes_total", "counter", "Bytes the sandbox's processes wrote to block devices.", P_BW },
	{ "sandbox_network_receive_bytes_total", "counter", "Bytes the sandbox received on its network.", P_RX },
	{ "sandbox_network_transmit_bytes_total", "counter", "Bytes the sandbox sent on its network.", P_TX },
	{ "sandbox_pids", "gauge", "Processes in the container (container isolation only).", P_PIDS },
	{ "sandbox_oom_kills_total", "counter", "Processes of the container the OOM killer killed (a VM: as its guest reports).", P_OOM },
	{ "sandbox_created_timestamp_seconds", "gauge", "When the sandbox was created (unix time).", P_CREATED },
	{ "sandbox_ttl_seconds", "gauge", "The sandbox's --ttl (0: none).", P_TTL },
	{ "sandbox_guest_memory_used_bytes", "gauge", "The guest's own view of its used memory (stats --guest).", P_GUSED },
	{ "sandbox_guest_memory_total_bytes", "gauge", "The guest's own view of its memory (stats --guest).", P_GTOTAL },
};

static void prom_value(FILE *f, const struct sandbox_stats *x, enum prom_val v)
{
	switch (v) {
	case P_CPU: fprintf(f, "%.3f", (double)x->cpu_ns / 1e9); break;
	case P_PSS: fprintf(f, "%" PRIu64, x->pss); break;
	case P_RSS: fprintf(f, "%" PRIu64, x->vmm_rss); break;
	case P_LIMIT: fprintf(f, "%" PRIu64, x->mem_limit); break;
	case P_BR: fprintf(f, "%" PRIu64, x->blk_read); break;
	case P_BW: fprintf(f, "%" PRIu64, x->blk_write); break;
	case P_RX: fprintf(f, "%" PRIu64, x->net_rx); break;
	case P_TX: fprintf(f, "%" PRIu64, x->net_tx); break;
	case P_PIDS: fprintf(f, "%d", x->pids); break;
	case P_CREATED: fprintf(f, "%lld", x->created); break;
	case P_TTL: fprintf(f, "%lld", x->ttl); break;
	case P_GUSED: fprintf(f, "%" PRIu64, x->guest_mem_used); break;
	case P_GTOTAL: fprintf(f, "%" PRIu64, x->guest_mem_total); break;
	case P_OOM: fprintf(f, "%lld", x->oom_kills); break;
	}
}

void stats_print_prometheus(FILE *f, const struct sandbox_stats *s, size_t n, const struct host_stats *h,
			    long long now)
{
	(void)now;
	size_t running = 0, ended = 0;
	uint64_t pss = 0;
	double cpu = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i].running) {
			running++;
			pss += s[i].pss;
			cpu += (double)s[i].cpu_ns / 1e9;
		} else {
			ended++;
		}
	}
	for (size_t m = 0; m < sizeof(prom_metrics) / sizeof(prom_metrics[0]); m++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", prom_metrics[m].name, prom_metrics[m].help,
			prom_metrics[m].name, prom_metrics[m].type);
		for (size_t i = 0; i < n; i++) {
			if (!s[i].running || (prom_metrics[m].v == P_PIDS && s[i].pids < 0) ||
			    (prom_metrics[m].v == P_OOM && s[i].oom_kills < 0) ||
			    ((prom_metrics[m].v == P_GUSED || prom_metrics[m].v == P_GTOTAL) && !s[i].guest_mem_total))
				continue;
			fputs(prom_metrics[m].name, f);
			prom_labels(f, &s[i]);
			fputc(' ', f);
			prom_value(f, &s[i], prom_metrics[m].v);
			fputc('\n', f);
		}
	}
	fprintf(f, "# HELP sandbox_sandboxes Sandboxes in the state directory by state.\n"
		   "# TYPE sandbox_sandboxes gauge\n"
		   "sandbox_sandboxes{state=\"running\"} %zu\nsandbox_sandboxes{state=\"ended\"} %zu\n",
		running, ended);
	fprintf(f, "# HELP sandbox_host_sandboxes_memory_pss_bytes PSS of every running sandbox together.\n"
		   "# TYPE sandbox_host_sandboxes_memory_pss_bytes gauge\n"
		   "sandbox_host_sandboxes_memory_pss_bytes %" PRIu64 "\n", pss);
	fprintf(f, "# HELP sandbox_host_sandboxes_cpu_seconds_total CPU time of every running sandbox together.\n"
		   "# TYPE sandbox_host_sandboxes_cpu_seconds_total counter\n"
		   "sandbox_host_sandboxes_cpu_seconds_total %.3f\n", cpu);
	if (h) {
		fprintf(f, "# HELP sandbox_host_memory_total_bytes The host's memory (MemTotal).\n"
			   "# TYPE sandbox_host_memory_total_bytes gauge\n"
			   "sandbox_host_memory_total_bytes %" PRIu64 "\n"
			   "# HELP sandbox_host_memory_available_bytes The host's available memory (MemAvailable).\n"
			   "# TYPE sandbox_host_memory_available_bytes gauge\n"
			   "sandbox_host_memory_available_bytes %" PRIu64 "\n"
			   "# HELP sandbox_host_load1 The host's 1-minute load average.\n"
			   "# TYPE sandbox_host_load1 gauge\n"
			   "sandbox_host_load1 %.2f\n"
			   "# HELP sandbox_host_cpus The host's online CPUs.\n"
			   "# TYPE sandbox_host_cpus gauge\n"
			   "sandbox_host_cpus %d\n",
			h->mem_total, h->mem_available, h->load1, h->ncpu);
		prom_histogram(f, "sandbox_start_seconds",
			       "Time from sandbox run's start to its VMM (or runtime) forked.", h->start_le,
			       h->start_count, h->start_sum);
		prom_histogram(f, "sandbox_restore_seconds",
			       "Time from a clone's sandbox run start (--from, sandbox clone) to its guest resumed with "
			       "its own identity.", h->restore_le, h->restore_count, h->restore_sum);
		fputs("# HELP sandbox_events_total Sandbox events in the events log (sandbox events), by type.\n"
		      "# TYPE sandbox_events_total counter\n", f);
		for (int i = 0; i < STATS_EVENT_TYPES; i++)
			fprintf(f, "sandbox_events_total{type=\"%s\"} %" PRIu64 "\n", stats_event_types[i], h->events[i]);
	}
}
