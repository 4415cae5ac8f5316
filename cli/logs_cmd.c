/* `sandbox logs [-f] [--since T] [--until T] [--tail N] [--timestamps]
 * ID|NAME`: the collected log (logs.h) read back: stdout records to
 * stdout, stderr records to stderr, oldest first across the rotated
 * files; -f then follows log.json (and its rotation) while the owner
 * lives. */
#include "logs.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "follow.h"
#include "state.h"
#include "util.h"

struct logs_opts {
	bool follow, timestamps, json;
	const char *id, *name;  /* for --format json */
	int64_t since, until;   /* 0: none */
	long tail;              /* -1: all */
};

static void print_rec(const struct logs_opts *o, const struct log_rec *r)
{
	if (o->json) {          /* the records as kept, one per line, on stdout */
		struct log_rec x = *r;
		x.id = o->id;
		x.name = o->name;
		log_encode(stdout, &x);
		return;
	}
	FILE *f = r->stream == LOG_STDERR ? stderr : stdout;
	if (o->timestamps) {
		char t[40];
		log_time_text(r->time_ns, t, sizeof(t));
		fprintf(f, "%s ", t);
	}
	fwrite(r->data, 1, r->len, f);
	if (!r->partial)
		fputc('\n', f);
}

static bool wanted(const struct logs_opts *o, const struct log_rec *r)
{
	return (!o->since || r->time_ns >= o->since) && (!o->until || r->time_ns <= o->until);
}

/* What a pass over the log does with each record: counted (PRINT
 * false) or printed, skipping the first SKIP wanted ones. */
struct pass {
	const struct logs_opts *o;
	bool print;
	long skip, count;
};

static void take(const char *line, size_t len, void *ctx)
{
	static char data[LOG_LINE_MAX * 6 + 1];
	struct pass *p = ctx;
	struct log_rec rec;
	if (log_decode(line, len, data, sizeof(data), &rec) || !wanted(p->o, &rec))
		return;
	if (p->print && p->count >= p->skip)
		print_rec(p->o, &rec);
	p->count++;
}

static char line_buf[LOG_LINE_MAX * 6 + 256];

/* Every complete line of FD from *POS (NULL: its start) on, as PASS says;
 * the count of wanted records. A line not yet ended is left for -f
 * (*POS says where). */
static long scan(int fd, const struct logs_opts *o, bool print, long skip, off_t *pos)
{
	struct pass p = { .o = o, .print = print, .skip = skip };
	off_t at = 0;
	lines_read(fd, pos ? pos : &at, line_buf, sizeof(line_buf), take, &p);
	return p.count;
}

/* Files rotated past max-file before we read them: said, not hidden. */
static void report_lost(long n)
{
	if (!n || !follow_may_say())
		return;
	fflush(stdout);
	if (n == FOLLOW_LOST_UNKNOWN)
		fprintf(stderr, "sandbox: logs: rotated files were removed before they could be read (lines are missing)\n");
	else
		fprintf(stderr, "sandbox: logs: %ld rotated file%s removed before %s could be read\n", n,
			n == 1 ? " was" : "s were", n == 1 ? "it" : "they");
	fflush(stderr);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int logs_run(const char *ref, struct logs_opts *o, struct err *e)
{
	static struct sandbox_state s;
	if (state_find(ref, &s, e))
		return -1;
	o->id = s.id;
	o->name = s.name;
	/* The files as they are, oldest first, by the chain of rotations
	 * (follow.h): a rotation while they are opened loses nothing. */
	char path[700];
	state_path(path, sizeof(path), s.id, LOG_FILE);
	struct pass follow_pass = { .o = o, .print = true };
	struct follow fl = { .path = path, .max = LOG_FILES_MAX, .seq = log_file_seq, .fd = -1, .line = line_buf,
			     .cap = sizeof(line_buf), .fn = take, .ctx = &follow_pass };
	int fds[LOG_FILES_MAX + 8], nf = 0;
	long lost = 0;
	for (int fd = follow_oldest(&fl); fd >= 0; fd = follow_next(&fl, fds[nf - 1], &lost)) {
		fds[nf++] = fd;
		if (nf == (int)(sizeof(fds) / sizeof(fds[0])))
			break;          /* the rest is for -f */
	}
	if (!nf) {              /* why: none yet, or an error to say */
		int fd = state_open(s.id, LOG_FILE, O_RDONLY, 0, e);
		if (fd >= 0)
			fds[nf++] = fd;
		else if (e->errnum != ENOENT)
			return -1;
	}
	if (!nf && !s.detached && !o->follow)
		return err_set(e, "%s was not run with -d (or --log-driver json-file): no log is kept", ref);
	report_lost(lost);
	long total = 0, skip = 0;
	if (o->tail >= 0) {
		for (int i = 0; i < nf; i++)
			total += scan(fds[i], o, false, 0, NULL);
		skip = total > o->tail ? total - o->tail : 0;
	}
	off_t pos = 0;
	for (int i = 0; i < nf; i++) {
		off_t p = 0;
		long c = scan(fds[i], o, true, skip, &p);
		skip = skip > c ? skip - c : 0;
		if (i == nf - 1)
			pos = p;
	}
	fflush(stdout);
	fflush(stderr);
	fl.fd = nf ? fds[nf - 1] : -1;
	fl.pos = pos;
	for (int i = 0; i < nf - 1; i++)
		close(fds[i]);
	while (o->follow) {
		struct sandbox_state now;
		struct err ignored;
		bool alive = !state_read(s.id, &now, &ignored) && state_owner_alive(&now);
		/* what was written since, across any rotations */
		lost = follow_step(&fl);
		fflush(stdout);
		report_lost(lost);
		fflush(stderr);
		if (!alive)
			break;
		sleep_ms(100);
	}
	follow_end(&fl);
	return 0;
}

int cmd_logs(int argc, char **argv)
{
	enum { O_SINCE = 256, O_UNTIL, O_TAIL, O_FORMAT };
	static const struct option opts[] = {
		{ "follow", no_argument, 0, 'f' }, { "timestamps", no_argument, 0, 't' },
		{ "since", required_argument, 0, O_SINCE }, { "until", required_argument, 0, O_UNTIL },
		{ "tail", required_argument, 0, 'n' }, { "format", required_argument, 0, O_FORMAT }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	struct logs_opts o = { .tail = -1 };
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	opterr = 0;
	optind = 1;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "+ftn:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o.follow = true; break;
		case 't': o.timestamps = true; break;
		case O_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_fail("logs --format: '%s' is not text or json", optarg);
			o.json = !strcmp(optarg, "json");
			break;
		case O_SINCE:
		case O_UNTIL:
			if (log_parse_time(optarg, now_ns, c == O_SINCE ? &o.since : &o.until))
				return cli_fail("logs --%s: '%s' is not a time (10s, 5m, 2h, unix seconds or RFC 3339)",
						c == O_SINCE ? "since" : "until", optarg);
			break;
		case 'n':
			if (!strcmp(optarg, "all")) {
				o.tail = -1;
				break;
			}
			o.tail = strtol(optarg, &end, 10);
			if (end == optarg || *end || o.tail < 0)
				return cli_fail("logs --tail: '%s' is not a number of lines (or all)", optarg);
			break;
		case 'h':
			printf("usage: sandbox logs [-f] [--since T] [--until T] [-n|--tail N] [-t|--timestamps]\n"
			       "                    [--format text|json] ID|NAME\n"
			       "  T: 10s, 5m, 2h, 1d back from now, unix seconds or RFC 3339\n"
			       "  --format json: the records as kept (time, id, name, stream, line), one per line\n");
			return 0;
		default:
			return cli_fail("logs: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_fail("usage: sandbox logs [-f] [--since T] [--until T] [--tail N] [--timestamps] ID|NAME");
	struct err e;
	if (logs_run(argv[optind], &o, &e))
		return cli_report(&e);
	return 0;
}
