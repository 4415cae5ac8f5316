/* sandbox-serve: the HTTP API and dashboard (docs/api.md, docs/api.yaml).
 *
 * The server holds no sandbox: every action runs the `sandbox` command
 * line beside it (spawn.c), which reads and writes the same state
 * directory as any other caller, so the API and the command line see the
 * same sandboxes, answer with the same messages and statuses, and the
 * server can stop and restart while sandboxes run on (each is its own
 * owner process, never the server's child once `run -d` returned).
 *
 * Pure parts, unit-tested (tests/unit/test_api.c) and fuzzed
 * (tests/fuzz/fuzz_api.c): routing (route.c), request bodies to the
 * command line's argv (body.c), errors to HTTP (errmap.c). */
#ifndef SANDBOX_API_H
#define SANDBOX_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"

/* ---- routing (route.c) ---- */
enum route {
	R_NONE,                 /* no such path: 404 */
	R_DASHBOARD,            /* GET / */
	R_STATIC,               /* GET /static/NAME */
	R_LOGIN,                /* POST /login */
	R_LOGOUT,               /* POST /logout */
	R_ACTION,               /* POST /ui/ID/(stop|kill|rm): the dashboard's forms */
	R_METRICS,              /* GET /metrics */
	R_HOST,                 /* GET /v1/host */
	R_LIST,                 /* GET /v1/sandboxes */
	R_CREATE,               /* POST /v1/sandboxes */
	R_INSPECT,              /* GET /v1/sandboxes/ID */
	R_REMOVE,               /* DELETE /v1/sandboxes/ID */
	R_STOP,                 /* POST /v1/sandboxes/ID/stop */
	R_KILL,                 /* POST /v1/sandboxes/ID/kill */
	R_EXEC,                 /* POST /v1/sandboxes/ID/exec */
	R_LOGS,                 /* GET /v1/sandboxes/ID/logs */
	R_STATS_ONE,            /* GET /v1/sandboxes/ID/stats */
	R_STATS,                /* GET /v1/stats */
	R_EVENTS,               /* GET /v1/events */
	R_ARCHIVE_GET,          /* GET /v1/sandboxes/ID/archive?path= */
	R_ARCHIVE_PUT,          /* PUT /v1/sandboxes/ID/archive?path= */
};

struct route_match {
	enum route r;
	bool bad_method;        /* the path exists, the method does not: 405 */
	const char *allow;      /* for 405's Allow header */
	char id[65];            /* ID (a sandbox id, prefix or name) */
	char arg[16];           /* R_ACTION: stop, kill or rm; R_STATIC: the file */
};

/* Match METHOD and PATH (no query string). An ID must look like one (a
 * name or hex: letters, digits, '_', '.', '-', not first '-', at most 64):
 * otherwise R_NONE. */
void route_match(const char *method, const char *path, struct route_match *m);

/* ---- bodies (body.c) ---- */
#define API_MAX_ARGS 512
struct argv_buf {
	char *v[API_MAX_ARGS + 1];
	int n;
	char store[1 << 17];
	size_t used;
};
/* Append S (copied) to A: 0, or -1 with E filled (too many, too long). */
int argv_add(struct argv_buf *a, const char *s, struct err *e);
int argv_addf(struct argv_buf *a, struct err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* POST /v1/sandboxes' JSON (LEN bytes) as `run -d ...`'s arguments
 * (after "run"): 0, or -1 with E saying what is wrong (HTTP 400). */
int body_create(const char *json, size_t len, struct argv_buf *a, struct err *e);
/* POST .../exec's JSON as `exec ...`'s arguments for sandbox ID; *STDIN
 * (malloc'd, *STDIN_LEN bytes) the "stdin" string, NULL if none. */
int body_exec(const char *json, size_t len, const char *id, struct argv_buf *a, char **stdin_data,
	      size_t *stdin_len, struct err *e);
/* A query parameter's value is what a command-line option may take: no
 * control characters, not empty, at most 256 bytes. */
bool query_value_ok(const char *v);

/* ---- errors (errmap.c) ---- */
/* The HTTP status for the command line's error MSG (its exit STATUS). */
int errmap_http(const char *msg, int status);
/* {"message": MSG, "status": STATUS} (malloc'd). */
char *errmap_json(const char *msg, int status);

/* ---- running the command line (spawn.c) ---- */
struct spawn_result {
	int status;             /* exit status (128+N: signal N) */
	char *out, *err;        /* captured, NUL-terminated (bounded) */
	size_t out_len, err_len;
};
/* Run `sandbox ARGV...` with STDIN_FD (-1: /dev/null) and wait. */
int spawn_run(char *const argv[], int stdin_fd, struct spawn_result *r, struct err *e);
void spawn_free(struct spawn_result *r);
/* Start `sandbox ARGV...` with its stdout and stderr as pipes (*OUT,
 * *ERR; ERR may be NULL: stderr to OUT) for a streamed answer. */
pid_t spawn_stream(char *const argv[], int stdin_fd, int *out, int *err, struct err *e);
/* The sandbox binary (beside this one). */
void spawn_set_binary(const char *path);


/* ---- forms (body.c) ---- */
/* KEY's value in an application/x-www-form-urlencoded BODY (LEN bytes),
 * percent- and '+'-decoded into OUT (OUTLEN bytes room): 0, or -1 if it
 * is not there, malformed, too long or holds a NUL. */
int form_get(const char *body, size_t len, const char *key, char *out, size_t outlen);

/* ---- the server (server.c) and the dashboard (dashboard.c) ---- */
struct server_conf {
	const char *token;      /* NULL: none (the Unix socket alone) */
	const char *static_dir; /* the dashboard's files */
};
struct MHD_Connection;
/* A session of the dashboard (login by the token): NULL if none. */
struct session {
	char sid[65], csrf[65];
	long long expires;
};
/* The dashboard page: the sandboxes rendered on the server (so the page
 * lists them without JavaScript), their stop/kill/remove forms carrying
 * CSRF (the session's token; NULL: none needed), app.js for live
 * updates. Returns a malloc'd HTML document. */
char *dashboard_page(const char *csrf);
char *dashboard_login_page(const char *message);
/* HTML-escape S into F. */
void html_esc(FILE *f, const char *s);

#endif
