/* `sandbox stats [--no-stream] [--format table|json|prometheus]
 * [--interval MS] [-a] [ID...]`: gathers stats.h's figures from /proc and
 * sysfs (one scan of /proc per sample, shared by every sandbox) and prints
 * them with stats_fmt.c. */
#include "stats.h"
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "lifecycle.h"
#include "cgroup_oom.h"
#include "state.h"
#include "util.h"

void stats_usage(FILE *f)
{
	fprintf(f, "  stats [--no-stream] [--format table|json|prometheus] [-a] [ID|NAME...]\n"
		   "                                 CPU, memory, disk and network of sandboxes\n");
}

static void print_help(void)
{
	printf("usage: sandbox stats [OPTIONS] [ID|NAME...]   (default: every running sandbox)\n"
	       "  --no-stream          one sample, then exit (else refreshed every second)\n"
	       "  --format FORMAT      table (default), json (an array per sample, one per line)\n"
	       "                       or prometheus (the /metrics text)\n"
	       "  --interval MS        time between the two samples that give CPU %% (default\n"
	       "                       500 with --no-stream; 0: one sample, CPU %% unknown)\n"
	       "  -a, --all            ended sandboxes too\n"
	       "  --guest              VM sandboxes: also the guest's own view of its memory and\n"
	       "                       processes (an exec of sh reading /proc in the container)\n");
}

/* Read a small /proc file into BUF; its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	for (ssize_t r; n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) != 0;) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

struct proc_table {
	struct proc_sample *p;
	size_t n, cap;
};

static int proc_scan(struct proc_table *t, struct err *e)
{
	t->n = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return err_sys(e, "/proc");
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		char path[300], buf[1024];
		snprintf(path, sizeof(path), "/proc/%.20s/stat", de->d_name);
		struct proc_sample p;
		if (read_small(path, buf, sizeof(buf)) <= 0 || stats_parse_stat(buf, &p))
			continue;
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 512;
			struct proc_sample *np = realloc(t->p, cap * sizeof(*np));
			if (!np) {
				closedir(d);
				return err_oom(e, "stats");
			}
			t->p = np;
			t->cap = cap;
		}
		t->p[t->n++] = p;
	}
	closedir(d);
	return 0;
}

static const struct proc_sample *proc_get(const struct proc_table *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i].pid == pid)
			return &t->p[i];
	return NULL;
}

/* Mark ROOT (if its start time is START, 0: any) and its descendants in
 * IN (indexes into T); how many. Breadth first: each member's children
 * are found with one pass over T (a child starts no earlier than its
 * parent, so a reused pid is not taken for one). */
static size_t proc_tree(const struct proc_table *t, pid_t root, unsigned long long start, bool *in)
{
	memset(in, 0, t->n * sizeof(*in));
	const struct proc_sample *r = proc_get(t, root);
	if (!r || (start && r->start != start))
		return 0;
	size_t *queue = malloc((t->n + 1) * sizeof(*queue)), head = 0, tail = 0;
	if (!queue)
		return 0;
	queue[tail++] = (size_t)(r - t->p);
	in[r - t->p] = true;
	while (head < tail) {
		const struct proc_sample *parent = &t->p[queue[head++]];
		for (size_t i = 0; i < t->n; i++)
			if (!in[i] && t->p[i].ppid == parent->pid && t->p[i].start >= parent->start) {
				in[i] = true;
				queue[tail++] = i;
			}
	}
	free(queue);
	return tail;
}

static uint64_t tap_counter(const char *tap, const char *what)
{
	char path[128], buf[64];
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", tap, what);
	return read_small(path, buf, sizeof(buf)) > 0 ? strtoull(buf, NULL, 10) : 0;
}

/* Container isolation: OOM kills in the cgroup v2 group of the runtime
 * RUNTIME's child (the container's first process); -1 if it has no group
 * of its own (a cgroup v1 host applies no limit and makes none). */
static long long host_oom_kills(const struct proc_table *t, pid_t runtime)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i].ppid == runtime)
			return cgroup_oom_kills(t->p[i].pid);
	return -1;
}

/* Fill the figures of X (state S) from table T. */
static void sample_one(const struct proc_table *t, const struct sandbox_state *s, struct sandbox_stats *x,
		       bool *in, long tck)
{
	x->cpu_ns = 0;
	x->pss = x->vmm_rss = x->blk_read = x->blk_write = 0;
	x->pids = -1;
	x->nprocs = 0;
	if (!x->running)
		return;
	x->nprocs = (int)proc_tree(t, s->pid, s->pid_start, in);
	char path[64], buf[4096];
	for (size_t i = 0; i < t->n; i++) {
		if (!in[i])
			continue;
		const struct proc_sample *p = &t->p[i];
		x->cpu_ns += p->ticks * (1000000000ULL / (uint64_t)tck);
		uint64_t rss, pss, rd, wr;
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)p->pid);
		if (read_small(path, buf, sizeof(buf)) > 0 && !stats_parse_rollup(buf, &rss, &pss)) {
			x->pss += pss;
			if (p->pid == s->vmm_pid)
				x->vmm_rss = rss;
		}
		snprintf(path, sizeof(path), "/proc/%d/io", (int)p->pid);
		if (read_small(path, buf, sizeof(buf)) > 0 && !stats_parse_io(buf, &rd, &wr)) {
			x->blk_read += rd;
			x->blk_write += wr;
		}
	}
	if (!strcmp(s->isolation, "container") && s->vmm_pid > 0) {
		size_t n = proc_tree(t, s->vmm_pid, s->vmm_start, in);
		x->pids = n ? (int)n - 1 : 0;
		x->oom_kills = host_oom_kills(t, s->vmm_pid);
		proc_tree(t, s->pid, s->pid_start, in);
	}
	if (s->tap[0]) {
		/* The tap's rx is what the guest sent. */
		x->net_rx = tap_counter(s->tap, "tx_bytes");
		x->net_tx = tap_counter(s->tap, "rx_bytes");
	}
}

int stats_host(struct host_stats *h)
{
	char buf[8192];
	memset(h, 0, sizeof(*h));
	if (read_small("/proc/meminfo", buf, sizeof(buf)) > 0)
		stats_parse_meminfo(buf, &h->mem_total, &h->mem_available);
	if (read_small("/proc/loadavg", buf, sizeof(buf)) > 0)
		h->load1 = strtod(buf, NULL);
	h->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	/* the events log, both files (at most 2 MiB) */
	struct err e;
	const char *root = state_root(&e);
	for (int k = 1; root && k >= 0; k--) {
		char path[700];
		snprintf(path, sizeof(path), "%s/%s%s", root, EVENTS_FILE, k ? ".1" : "");
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		char line[8192];
		while (fgets(line, sizeof(line), f)) {
			size_t n = strcspn(line, "\n");
			struct event ev;
			if (!events_parse(line, n, &ev))
				stats_count_event(h, ev.type, ev.setup_ms);
		}
		fclose(f);
	}
	return 0;
}

/* The sandboxes to show, their states read once. */
static int pick(char **ids, int nids, bool all, struct sandbox_state **st, size_t *n, struct err *e)
{
	*n = 0;
	size_t nl = 0;
	char **list = NULL;
	if (!nids) {
		list = state_list(&nl, e);
		if (!list)
			return -1;
	}
	size_t want = nids ? (size_t)nids : nl;
	*st = calloc(want + 1, sizeof(**st));
	if (!*st) {
		state_free_list(list, nl);
		return err_oom(e, "stats");
	}
	for (size_t i = 0; i < want; i++) {
		struct sandbox_state *s = &(*st)[*n];
		if (nids) {
			if (state_find(ids[i], s, e)) {
				free(*st);
				return -1;
			}
		} else if (state_read(list[i], s, e)) {
			continue;       /* removed meanwhile, or damaged: ps says which */
		}
		bool running = !strcmp(s->status, "running") && state_owner_alive(s);
		if (!nids && !all && !running)
			continue;
		(*n)++;
	}
	state_free_list(list, nl);
	return 0;
}

int stats_collect(char **ids, int nids, bool all, unsigned interval_ms, struct sandbox_stats **out, size_t *nout,
		  struct err *e)
{
	struct sandbox_state *st = NULL;
	size_t n;
	*out = NULL;
	*nout = 0;
	if (pick(ids, nids, all, &st, &n, e))
		return -1;
	struct sandbox_stats *x = calloc(n + 1, sizeof(*x));
	uint64_t *cpu0 = calloc(n + 1, sizeof(*cpu0));
	struct proc_table t = { 0 };
	bool *in = NULL;
	int r = -1;
	long tck = sysconf(_SC_CLK_TCK);
	if (tck <= 0)
		tck = 100;
	if (!x || !cpu0) {
		err_oom(e, "stats");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sandbox_state *s = &st[i];
		snprintf(x[i].id, sizeof(x[i].id), "%s", s->id);
		snprintf(x[i].name, sizeof(x[i].name), "%s", s->name);
		snprintf(x[i].image, sizeof(x[i].image), "%s", s->image);
		snprintf(x[i].isolation, sizeof(x[i].isolation), "%s", s->isolation);
		x[i].running = !strcmp(s->status, "running") && state_owner_alive(s);
		if (x[i].running)
			snprintf(x[i].status, sizeof(x[i].status), "running");
		else if (!strcmp(s->status, "exited"))
			snprintf(x[i].status, sizeof(x[i].status), "exited (%d)", s->exit_code);
		else
			snprintf(x[i].status, sizeof(x[i].status), "%s", state_owner_alive(s) ? s->status : "dead");
		x[i].created = s->created;
		x[i].ttl = s->ttl;
		x[i].mem_limit = s->memory > 0 ? (uint64_t)s->memory : 0;
		x[i].cpu_percent = -1;
		/* a VM's: what its owner took from the guest's OOM frames */
		x[i].oom_kills = strcmp(s->isolation, "container") ? s->oom_kills : -1;
	}
	uint64_t t0 = now_ns();
	for (int pass = 0; pass < (interval_ms ? 2 : 1); pass++) {
		if (pass) {
			struct timespec ts = { .tv_sec = interval_ms / 1000, .tv_nsec = (long)(interval_ms % 1000) * 1000000L };
			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
		if (proc_scan(&t, e))
			goto out;
		uint64_t t1 = now_ns();
		bool *ni = realloc(in, (t.n + 1) * sizeof(*in));
		if (!ni) {
			err_oom(e, "stats");
			goto out;
		}
		in = ni;
		for (size_t i = 0; i < n; i++) {
			if (pass)
				cpu0[i] = x[i].cpu_ns;
			sample_one(&t, &st[i], &x[i], in, tck);
			if (pass && x[i].running)
				x[i].cpu_percent = stats_cpu_percent(x[i].cpu_ns > cpu0[i] ? x[i].cpu_ns - cpu0[i] : 0, t1 - t0);
		}
		t0 = t1;
	}
	*out = x;
	*nout = n;
	x = NULL;
	r = 0;
out:
	free(x);
	free(cpu0);
	free(in);
	free(t.p);
	free(st);
	return r;
}

int cmd_stats(int argc, char **argv)
{
	enum { O_NOSTREAM = 256, O_FORMAT, O_INTERVAL, O_GUEST };
	static const struct option opts[] = {
		{ "no-stream", no_argument, 0, O_NOSTREAM }, { "format", required_argument, 0, O_FORMAT },
		{ "interval", required_argument, 0, O_INTERVAL }, { "all", no_argument, 0, 'a' },
		{ "guest", no_argument, 0, O_GUEST },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	bool stream = true, all = false, guest = false;
	const char *format = "table";
	long interval = -1;
	opterr = 0;
	optind = 1;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
		switch (c) {
		case O_NOSTREAM: stream = false; break;
		case 'a': all = true; break;
		case O_GUEST: guest = true; break;
		case O_FORMAT:
			if (strcmp(optarg, "table") && strcmp(optarg, "json") && strcmp(optarg, "prometheus"))
				return cli_fail("stats --format: '%s' is not table, json or prometheus", optarg);
			format = optarg;
			break;
		case O_INTERVAL:
			interval = strtol(optarg, &end, 10);
			if (end == optarg || *end || interval < 0 || interval > 60000)
				return cli_fail("stats --interval: '%s' is not a number of milliseconds (0-60000)", optarg);
			break;
		case 'h': print_help(); return 0;
		default: return cli_fail("stats: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	struct err e;
	if (!state_root(&e))
		return cli_report(&e);
	int nids = argc - optind;
	char **ids = argv + optind;
	unsigned ms = interval >= 0 ? (unsigned)interval : stream ? 1000 : 500;
	bool tty = isatty(1);
	for (;;) {
		struct sandbox_stats *x;
		size_t n;
		if (stats_collect(ids, nids, all, ms, &x, &n, &e))
			return cli_report(&e);
		if (guest)
			stats_guest(x, n);
		if (stream && tty && !strcmp(format, "table"))
			fputs("\033[2J\033[H", stdout);
		if (!strcmp(format, "json")) {
			stats_print_json(stdout, x, n);
		} else if (!strcmp(format, "prometheus")) {
			struct host_stats h;
			stats_host(&h);
			stats_print_prometheus(stdout, x, n, &h, (long long)time(NULL));
		} else {
			stats_print_table(stdout, x, n);
		}
		free(x);
		if (fflush(stdout) || !stream)
			break;
		if (!ms)
			sleep(1);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* --guest: the guest's own view */

#define GUEST_WAIT_MS 3000
#define GUEST_OUT_MAX 16384
/* /proc/meminfo, then the container's processes: the glob is expanded by
 * the shell itself, which is one of them. */
static const char guest_reader[] = "cat /proc/meminfo; set -- /proc/[0-9]*; echo \"pids: $(($# - 1))\"";

void stats_guest(struct sandbox_stats *x, size_t n)
{
	pid_t *pid = calloc(n + 1, sizeof(*pid));
	int *fd = calloc(n + 1, sizeof(*fd));
	char **out = calloc(n + 1, sizeof(*out));
	size_t *len = calloc(n + 1, sizeof(*len));
	char self[4096];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (!pid || !fd || !out || !len || sl <= 0)
		goto out;
	self[sl] = '\0';
	for (size_t i = 0; i < n; i++) {
		fd[i] = -1;
		if (!x[i].running || strcmp(x[i].isolation, "vm"))
			continue;
		int p[2];
		if (pipe2(p, O_CLOEXEC))
			continue;
		fflush(NULL);
		pid[i] = fork();
		if (pid[i] == 0) {
			int nul = open("/dev/null", O_RDWR);
			dup2(nul, 0);
			dup2(p[1], 1);
			dup2(nul, 2);
			execl(self, "sandbox", "exec", x[i].id, "sh", "-c", guest_reader, (char *)NULL);
			_exit(127);
		}
		close(p[1]);
		if (pid[i] < 0) {
			close(p[0]);
			continue;
		}
		fd[i] = p[0];
		out[i] = calloc(1, GUEST_OUT_MAX + 1);
	}
	uint64_t deadline = now_ns() + GUEST_WAIT_MS * 1000000ULL;
	for (;;) {
		size_t open_n = 0;
		struct pollfd *pf = calloc(n + 1, sizeof(*pf));
		if (!pf)
			break;
		for (size_t i = 0; i < n; i++)
			if (fd[i] >= 0)
				pf[open_n++] = (struct pollfd){ .fd = fd[i], .events = POLLIN };
		uint64_t now = now_ns();
		if (!open_n || now >= deadline) {
			free(pf);
			break;
		}
		int r = poll(pf, open_n, (int)((deadline - now) / 1000000) + 1);
		free(pf);
		if (r < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < n; i++) {
			if (fd[i] < 0)
				continue;
			struct pollfd one = { .fd = fd[i], .events = POLLIN };
			if (poll(&one, 1, 0) <= 0)
				continue;
			char tmp[4096];
			ssize_t k = read(fd[i], tmp, sizeof(tmp));
			if (k <= 0 || !out[i]) {
				close(fd[i]);
				fd[i] = -1;
				continue;
			}
			size_t room = GUEST_OUT_MAX - len[i];      /* more than that is dropped */
			size_t take = (size_t)k < room ? (size_t)k : room;
			memcpy(out[i] + len[i], tmp, take);
			len[i] += take;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (pid[i] <= 0)
			continue;
		if (fd[i] >= 0) {       /* too slow: not waited for any longer */
			close(fd[i]);
			kill(pid[i], SIGTERM);
		}
		int st;
		waitpid(pid[i], &st, 0);
		if (out[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			out[i][len[i]] = '\0';
			int p;
			if (!stats_parse_guest(out[i], &x[i].guest_mem_total, &x[i].guest_mem_used, &p))
				x[i].pids = p;
		}
	}
out:
	for (size_t i = 0; out && i < n; i++)
		free(out[i]);
	free(pid);
	free(fd);
	free(out);
	free(len);
}
