/* Collected logs (docs/logs.md): a sandbox's stdout and stderr kept as
 * JSON lines, one record per line of output,
 *   {"time":"2026-12-07T01:02:03.123456789Z","id":"…","name":"…",
 *    "stream":"stdout","line":"…"}            (,"partial":true before the
 * closing brace when the output did not end the line: a line longer than
 * LOG_LINE_MAX, or the last bytes before the end),
 * in ROOT/<id>/log.json, rotated to log.json.1 ... at a size cap, so a
 * sandbox printing forever holds at most max_size * max_files bytes.
 * Each file starts with a line that is not a record, {"file":N}: its
 * place in the rotation (0 the first file, +1 each rotation), so that a
 * follower can tell how many files were removed before it read them.
 * log_fmt.c: the pure encoding and decoding (unit-tested, fuzzed);
 * log_collect.c: the collector process; logs_cmd.c: `sandbox logs`. */
#ifndef SANDBOX_LOGS_H
#define SANDBOX_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define LOG_LINE_MAX 16384              /* bytes of output per record */
#define LOG_MAX_SIZE_DEFAULT (10ULL << 20)
#define LOG_MAX_FILES_DEFAULT 2
#define LOG_FILE "log.json"
#define LOG_FILES_MAX 100               /* max-file's cap */

enum log_stream { LOG_STDOUT, LOG_STDERR };

struct log_rec {
	int64_t time_ns;        /* unix time */
	enum log_stream stream;
	bool partial;
	const char *id, *name;  /* encoding only */
	char *data;             /* the line, without its newline */
	size_t len;
};

/* ---- pure (log_fmt.c) ---- */
/* One record as one JSON line (with its '\n'). */
void log_encode(FILE *f, const struct log_rec *r);
/* Parse one line (LEN bytes, no '\n') as log_encode writes it: 0 with
 * R's time, stream, partial and data (unescaped into BUF of BUFLEN bytes;
 * a longer line fails), or -1 if it is not such a record. */
int log_decode(const char *line, size_t len, char *buf, size_t buflen, struct log_rec *r);
/* The first line of a log file, {"file":SEQ} with its '\n', into BUF:
 * its length, or -1 if LEN is too small. */
int log_head_text(long seq, char *buf, size_t len);
/* SEQ from such a line (LEN bytes, no '\n'), or -1 if it is not one. */
long log_head_parse(const char *line, size_t len);
/* RFC 3339 UTC with nanoseconds: "2026-12-07T01:02:03.000000042Z"
 * (31 bytes with the NUL). */
void log_time_text(int64_t ns, char *buf, size_t len);
/* --since/--until: a duration back from NOW_NS ("10s", "5m", "2h", "1d",
 * "1.5h"), unix seconds ("1796600000", "1796600000.5") or RFC 3339
 * ("2026-12-07T01:02:03Z", fraction and a +hh:mm offset allowed). */
int log_parse_time(const char *s, int64_t now_ns, int64_t *out);

/* ---- the collector (log_collect.c) ---- */
enum log_driver { LOG_NONE, LOG_JSON_FILE, LOG_JOURNALD };
struct log_conf {
	enum log_driver driver;
	uint64_t max_size;      /* bytes per file */
	int max_files;          /* log.json and up to max_files-1 rotated ones */
};
/* "json-file", "none", "journald": 0, or -1 with E filled. */
int log_parse_driver(const char *s, enum log_driver *d, struct err *e);
const char *log_driver_name(enum log_driver d);
/* --log-opt KEY=VALUE: max-size=SIZE (default 10m, at least 4k),
 * max-file=N (1-100, default 2). */
int log_parse_opt(const char *kv, struct log_conf *c, struct err *e);
/* Start the collector for sandbox ID/NAME: from now on this process's
 * stdout and stderr (and so its children's) are pipes to it. TEE: also
 * copy to the stdout and stderr they were (an attached run). */
int log_collector_start(const struct log_conf *c, const char *id, const char *name, bool tee, struct err *e);
/* The file FD's place in the rotation, from its first line, or -1 (none:
 * a file of an older version, or an empty one). */
long log_file_seq(int fd);
/* Close our ends and wait (bounded) until the collector has written all. */
void log_collector_finish(void);

/* ---- sandbox logs (logs_cmd.c) ---- */
int cmd_logs(int argc, char **argv);

#endif
