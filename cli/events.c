/* Sandbox events (events.h): appended under a lock on the file, read
 * back by `sandbox events` and by the metrics (stats.c). */
#include "events.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "follow.h"
#include "json.h"
#include "logs.h"

void events_usage(FILE *f)
{
	fprintf(f, "  events [-f] [--since T] [--until T] [--format json]\n"
		   "                                 what happened to sandboxes, with times\n");
}

static void events_path(char *buf, size_t len, const char *suffix)
{
	struct err e;
	const char *root = state_root(&e);
	snprintf(buf, len, "%s/%s%s", root ? root : ".", EVENTS_FILE, suffix);
}

void events_emit(const char *type, const struct sandbox_state *s, const char *extra)
{
	struct err e;
	if (!state_root(&e))
		return;
	char path[700], old[710];
	events_path(path, sizeof(path), "");
	/* Locked, and still the events log: another writer may have
	 * rotated it while we waited for the lock (rotating it again would
	 * rename the new file over the old one). */
	int fd = -1;
	for (int tries = 0; tries < 8 && fd < 0; tries++) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return;
		flock(fd, LOCK_EX);
		struct stat a, b;
		if (fstat(fd, &a) || lstat(path, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return;
	struct stat st;
	if (!fstat(fd, &st) && st.st_size > EVENTS_MAX_SIZE) {
		events_path(old, sizeof(old), ".1");
		rename(path, old);
		close(fd);
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return;
		flock(fd, LOCK_EX);
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		char t[40];
		log_time_text((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, t, sizeof(t));
		fprintf(f, "{\"time\":\"%s\",\"type\":", t);
		json_str(f, type);
		fputs(",\"id\":", f);
		json_str(f, s->id);
		fputs(",\"name\":", f);
		json_str(f, s->name);
		fputs(",\"image\":", f);
		json_str(f, s->image);
		if (extra)
			fputs(extra, f);
		fputs("}\n", f);
		fclose(f);
		if (write(fd, buf, len) < 0) {
			/* not kept: events are for watching */
		}
		free(buf);
	}
	close(fd);
}

/* ------------------------------------------------------------------ */
/* reading (pure) */

/* The string value of "KEY": in LINE, copied into OUT (plain characters
 * only: ids, names and types never need escapes). */
static int member(const char *line, size_t len, const char *key, char *out, size_t outlen)
{
	char pat[40];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = memmem(line, len, pat, strlen(pat));
	if (!p)
		return -1;
	p += strlen(pat);
	const char *end = line + len;
	size_t n = 0;
	while (p < end && *p != '"') {
		if (*p == '\\' || n + 1 >= outlen)
			return -1;
		out[n++] = *p++;
	}
	if (p >= end)
		return -1;
	out[n] = '\0';
	return 0;
}

int events_parse(const char *line, size_t len, struct event *ev)
{
	char t[48];
	memset(ev, 0, sizeof(*ev));
	ev->setup_ms = -1;
	if (len < 2 || line[0] != '{' || line[len - 1] != '}')
		return -1;
	if (member(line, len, "time", t, sizeof(t)) || log_parse_time(t, 0, &ev->time_ns) ||
	    member(line, len, "type", ev->type, sizeof(ev->type)) || member(line, len, "id", ev->id, sizeof(ev->id)) ||
	    member(line, len, "name", ev->name, sizeof(ev->name)))
		return -1;
	const char *p = memmem(line, len, "\"setup_ms\":", 11);
	if (p) {
		char num[32];
		size_t k = 0;
		for (p += 11; p < line + len && k < sizeof(num) - 1 && strchr("0123456789.", *p); p++)
			num[k++] = *p;
		num[k] = '\0';
		if (k)
			ev->setup_ms = strtod(num, NULL);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* sandbox events */

struct ev_opts {
	bool follow, json;
	int64_t since, until;
};

/* One line of the events log, shown if it is wanted (a line_fn). */
static void show(const char *line, size_t len, void *ctx)
{
	const struct ev_opts *o = ctx;
	struct event ev;
	if (events_parse(line, len, &ev))
		return;
	if ((o->since && ev.time_ns < o->since) || (o->until && ev.time_ns > o->until))
		return;
	if (o->json) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
		return;
	}
	char t[40];
	log_time_text(ev.time_ns, t, sizeof(t));
	printf("%s %-7s %s (%.12s)\n", t, ev.type, ev.name, ev.id);
}

/* The file being read was rotated past .events.json.1 (two rotations
 * or more between two reads): the events log keeps no count of its
 * files (follow.h), so whether one between is gone too cannot be told. */
static void report_lost(long n)
{
	if (n && follow_may_say())
		fprintf(stderr, "sandbox: events: the events log rotated twice or more between two reads: "
				"events may be missing\n");
}

int cmd_events(int argc, char **argv)
{
	enum { O_SINCE = 256, O_UNTIL, O_FORMAT };
	static const struct option opts[] = {
		{ "follow", no_argument, 0, 'f' }, { "since", required_argument, 0, O_SINCE },
		{ "until", required_argument, 0, O_UNTIL }, { "format", required_argument, 0, O_FORMAT },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	struct ev_opts o = { 0 };
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o.follow = true; break;
		case O_SINCE:
		case O_UNTIL:
			if (log_parse_time(optarg, now_ns, c == O_SINCE ? &o.since : &o.until))
				return cli_fail("events --%s: '%s' is not a time (10s, 5m, 2h, unix seconds or RFC 3339)",
						c == O_SINCE ? "since" : "until", optarg);
			break;
		case O_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_fail("events --format: '%s' is not text or json", optarg);
			o.json = !strcmp(optarg, "json");
			break;
		case 'h':
			printf("usage: sandbox events [-f] [--since T] [--until T] [--format text|json]\n");
			return 0;
		default: return cli_fail("events: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_fail("events: unexpected argument '%s'", argv[optind]);
	struct err e;
	if (!state_root(&e))
		return cli_report(&e);
	char path[700];
	events_path(path, sizeof(path), "");
	static char line[8192];
	/* from .events.json.1 on, by the chain of rotations (follow.h) */
	struct follow fl = { .path = path, .max = 1, .fd = -1, .line = line, .cap = sizeof(line), .fn = show, .ctx = &o };
	report_lost(follow_step(&fl));
	fflush(stdout);
	while (o.follow) {
		struct timespec ts = { 0, 200000000 };
		nanosleep(&ts, NULL);
		long lost = follow_step(&fl);
		if (fflush(stdout) || ferror(stdout))
			break;
		report_lost(lost);
	}
	follow_end(&fl);
	return 0;
}
