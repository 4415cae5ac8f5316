/* The HTTP side's own contract, shared by its files (api.h is the
 * server's pure parts):
 *   server.c     transport: libmicrohttpd, reading a request, routing it
 *                to its handler
 *   auth.c       the bearer token, dashboard sessions, CSRF
 *   respond.c    answers (JSON, errors as the command line's), query
 *                parameters, running the command line for one answer
 *   stream.c     streamed answers: exec frames, logs -f, events -f, tar
 *   sandboxes.c  /v1/sandboxes..., /v1/stats, /v1/events, /v1/host,
 *                /metrics
 *   files.c      /v1/sandboxes/ID/archive (sandbox cp)
 *   ui.c         the dashboard's page, files, login and forms
 * Every handler has one signature (struct handler_fn): the routing table
 * in server.c calls it once the request is whole, authenticated and
 * CSRF-checked. */
#ifndef SANDBOX_API_HTTP_H
#define SANDBOX_API_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"

#define JSON_BODY_MAX (1u << 20)
#define ARCHIVE_MAX (256ull << 20)

/* One request while it is read and answered. */
struct req {
	struct route_match m;
	char *body;             /* NUL-terminated, LEN bytes */
	size_t len, cap;
	int memfd;              /* PUT archive: the tar */
	uint64_t memfd_len;
	bool too_big, authed, by_cookie;
	char csrf[65];          /* the session's, when by cookie */
};

typedef enum MHD_Result handler_fn(struct MHD_Connection *c, struct req *q);

/* The server's configuration (server.c sets it once, before serving). */
extern struct server_conf api_conf;

/* ---- auth.c ---- */
/* Constant-time string comparison. */
bool equal_ct(const char *a, const char *b);
/* Bearer token, or a session cookie, into Q->authed (no token
 * configured: everyone that reaches the socket). */
void authenticate(struct MHD_Connection *c, struct req *q);
/* A state-changing request authenticated by the cookie alone carries the
 * session's CSRF token (header or form field). */
bool csrf_ok(struct MHD_Connection *c, struct req *q, const char *method);
void session_new(struct session *out);
void session_end(const char *sid);

/* ---- respond.c ---- */
/* BUF (malloc'd, LEN bytes; freed here) as TYPE with status CODE, plus
 * header HDR: VAL if HDR. */
enum MHD_Result send_buf(struct MHD_Connection *c, int code, const char *type, char *buf, size_t len,
			 const char *hdr, const char *val);
/* 303 to / (with COOKIE set, if not NULL). */
enum MHD_Result send_redirect(struct MHD_Connection *c, const char *cookie);
enum MHD_Result send_json(struct MHD_Connection *c, int code, char *json);
/* {"message","status"} errors (errmap.c). */
enum MHD_Result send_error(struct MHD_Connection *c, int code, const char *msg, int status);
enum MHD_Result send_error_hdr(struct MHD_Connection *c, int code, const char *msg, const char *hdr,
			       const char *val);
enum MHD_Result send_errorf(struct MHD_Connection *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The command line's failure R: its line, status and HTTP status. */
enum MHD_Result send_cli_error(struct MHD_Connection *c, const struct spawn_result *r);
/* Run `sandbox ARGV...` (STDIN_FD -1: none) and answer: an error if it
 * could not run (500) or failed (send_cli_error), else OK(c, its result,
 * ARG), which may take R->out (set it NULL). The prologue every handler
 * that runs the command line shares. */
typedef enum MHD_Result cli_ok_fn(struct MHD_Connection *c, struct spawn_result *r, void *arg);
enum MHD_Result run_cli(struct MHD_Connection *c, char **argv, int stdin_fd, cli_ok_fn *ok, void *arg);
/* Its stdout as the answer (status CODE, content type TYPE). */
enum MHD_Result run_simple(struct MHD_Connection *c, char **argv, int code, const char *type);
/* A query parameter: NULL if absent or empty. */
const char *qarg(struct MHD_Connection *c, const char *k);
bool qtrue(struct MHD_Connection *c, const char *k);
/* Query parameter K as the option "OPT=VALUE" in BUF (300 bytes), DFLT
 * when absent (*ARG NULL when absent without one): false (answered with
 * 400 by bad_query) if the value is not one an option may take. */
bool qopt(struct MHD_Connection *c, const char *k, const char *opt, const char *dflt, char buf[300], char **arg);
enum MHD_Result bad_query(struct MHD_Connection *c, const char *k);
char *dupstr(const char *s);

/* ---- stream.c ---- */
/* Start ARGV; once its first bytes (or its end) are in, answer: its
 * failure as an error, else a stream of what it prints (TYPE). An NDJSON
 * stream carries what it says on stderr meanwhile too, as exec's stderr
 * frames on lines of their own; a tar stream drops it. */
enum MHD_Result stream_cmd(struct MHD_Connection *c, char **argv, int stdin_fd, const char *type);
/* Start ARGV (`exec ...`) with STDIN_FD and answer its output as NDJSON
 * frames, {"stream":..., "data":...}, then {"exit_code":N}. */
enum MHD_Result stream_exec(struct MHD_Connection *c, char **argv, int stdin_fd);

/* ---- the handlers ---- */
/* sandboxes.c */
handler_fn h_list, h_create, h_inspect, h_stats_one, h_stats, h_remove, h_stop, h_kill, h_exec, h_logs, h_events,
	h_host, h_metrics;
/* files.c */
handler_fn h_archive_get, h_archive_put;
/* ui.c */
handler_fn h_dashboard, h_static, h_login, h_logout, h_ui_action;

#endif
