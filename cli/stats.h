/* `sandbox stats`: what each sandbox costs the host, as `docker stats`
 * (docs/stats.md). Figures are taken on the host, from /proc and sysfs,
 * without asking the guest:
 *   cpu       user+system time of the sandbox's process tree (the owner,
 *             the VMM and its vCPU threads or the host-mode runtime and
 *             the container, virtiofsd, the log collector); CPU % is its
 *             growth between two samples over the wall time between them
 *   pss       the tree's proportional set size (smaps_rollup), the
 *             sandbox's fair share of host memory
 *   vmm_rss   the VMM process's (or host runtime's) resident set: guest
 *             memory touched plus the VMM's own
 *   block     bytes the tree made the block layer read and write
 *             (/proc/PID/io read_bytes, write_bytes): the VM's disks
 *   net       the tap device's counters, from the guest's side (rx is
 *             what the host's tap sent); 0 without a network
 *   pids      container isolation: processes under the runtime; VM: not
 *             known on the host (-1)
 * stats_fmt.c holds the pure part (parsing /proc text, formatting the
 * table, JSON and Prometheus text), unit-tested; stats.c gathers. */
#ifndef SANDBOX_STATS_H
#define SANDBOX_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"

/* One process from /proc/PID/stat. */
struct proc_sample {
	pid_t pid, ppid;
	char state;
	uint64_t ticks;         /* utime + stime, clock ticks */
	uint64_t start;         /* start time, clock ticks since boot */
};

/* One sandbox's figures at one moment. */
struct sandbox_stats {
	char id[17], name[64], image[256], isolation[16], status[32];
	long long created;      /* unix seconds */
	long long ttl;          /* seconds, 0 none */
	bool running;
	uint64_t cpu_ns;        /* the tree's CPU time so far */
	double cpu_percent;     /* < 0: not known (one sample only) */
	uint64_t pss, vmm_rss, mem_limit;       /* bytes; mem_limit 0: none */
	uint64_t blk_read, blk_write, net_rx, net_tx;
	int pids;               /* -1: not known */
	int nprocs;             /* host processes in the tree */
	/* processes of the container the OOM killer killed: a VM's as its
	 * guest reported them (bounded, kept in its state); container
	 * isolation's from its cgroup v2 group's memory.events; -1: not
	 * known (no cgroup v2 group on the host) */
	long long oom_kills;
	/* --guest, VM sandboxes: the guest's own word (an exec reading its
	 * /proc), bounded; 0 / -1: not asked or not known */
	uint64_t guest_mem_total, guest_mem_used;
};

/* Host-wide figures for the totals, and what the events log says
 * (events.h): the start latency (the owner's start to its VMM or runtime
 * forked) and the restore latency of clones (to their guest resumed) as
 * histograms, and how many events of each type. */
#define STATS_BUCKETS 10
extern const double stats_start_buckets[STATS_BUCKETS];        /* seconds */
#define STATS_EVENT_TYPES 10
extern const char *const stats_event_types[STATS_EVENT_TYPES];
struct host_stats {
	uint64_t mem_total, mem_available;      /* bytes, /proc/meminfo */
	double load1;
	int ncpu;
	uint64_t start_le[STATS_BUCKETS];       /* starts at most that long */
	uint64_t start_count;
	double start_sum;                       /* seconds */
	/* clones (run --from): the owner's start until the guest resumed with
	 * its new identity, the same buckets */
	uint64_t restore_le[STATS_BUCKETS];
	uint64_t restore_count;
	double restore_sum;
	uint64_t events[STATS_EVENT_TYPES];
};
/* Count an event of TYPE (with its setup time SETUP_MS, < 0 none). */
void stats_count_event(struct host_stats *h, const char *type, double setup_ms);

/* ---- parsing (pure) ---- */
/* /proc/PID/stat's text: 0, or -1 if it is not one. */
int stats_parse_stat(const char *buf, struct proc_sample *p);
/* /proc/PID/smaps_rollup: Rss and Pss in bytes (0, or -1 if neither is
 * there). */
int stats_parse_rollup(const char *buf, uint64_t *rss, uint64_t *pss);
/* /proc/PID/io: read_bytes and write_bytes (0, or -1). */
int stats_parse_io(const char *buf, uint64_t *rd, uint64_t *wr);
/* /proc/meminfo: MemTotal and MemAvailable in bytes (0, or -1). */
int stats_parse_meminfo(const char *buf, uint64_t *total, uint64_t *avail);
/* The guest's answer to stats --guest's reader (/proc/meminfo, then a
 * line "pids N"): its memory and process count. 0, or -1 if it is not
 * that (the guest is not trusted: every number is bounded). */
int stats_parse_guest(const char *buf, uint64_t *total, uint64_t *used, int *pids);
/* CPU % from CPU time DCPU_NS over wall time DWALL_NS (100 = one CPU);
 * -1 if DWALL_NS is 0. */
double stats_cpu_percent(uint64_t dcpu_ns, uint64_t dwall_ns);
/* Bytes as docker shows them: "0B", "512B", "1.5KiB", "12.3MiB", "2GiB". */
void stats_human(uint64_t bytes, char *buf, size_t len);

/* ---- formatting (pure) ---- */
void stats_print_table(FILE *f, const struct sandbox_stats *s, size_t n);
/* A JSON array (one object per sandbox) on one line. */
void stats_print_json(FILE *f, const struct sandbox_stats *s, size_t n);
/* Prometheus text exposition format 0.0.4 (docs/stats.md names every
 * metric). NOW: unix seconds, for ages. */
void stats_print_prometheus(FILE *f, const struct sandbox_stats *s, size_t n, const struct host_stats *h,
			    long long now);

/* ---- gathering (stats.c) ---- */
/* Every sandbox's figures (IDS: those only, by id/prefix/name; NULL: all
 * running ones; ALL: the ended ones too). Two samples INTERVAL_MS apart
 * give CPU %; 0 takes one (cpu_percent -1). *OUT is malloc'd. */
int stats_collect(char **ids, int nids, bool all, unsigned interval_ms, struct sandbox_stats **out, size_t *n,
		  struct err *e);
/* --guest: ask each running VM sandbox of X for its own view (an exec
 * of `sh -c` reading /proc in the container, all at once, 3 s at most). */
void stats_guest(struct sandbox_stats *x, size_t n);
int stats_host(struct host_stats *h);
int cmd_stats(int argc, char **argv);
void stats_usage(FILE *f);

#endif
