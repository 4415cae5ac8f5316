/* Answers (http.h): JSON, errors with the command line's message and
 * status, redirects; query parameters; and run_cli, the one way a
 * handler runs the command line for a whole answer. */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dupstr(const char *s)
{
	return strdup(s);
}

static void common_headers(struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
}

enum MHD_Result send_buf(struct MHD_Connection *c, int code, const char *type, char *buf, size_t len,
			 const char *hdr, const char *val)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	common_headers(r, type);
	if (hdr)
		MHD_add_response_header(r, hdr, val);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)code, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result send_redirect(struct MHD_Connection *c, const char *cookie)
{
	char *b = dupstr("see /\n");
	if (!b)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(b), b, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(b);
		return MHD_NO;
	}
	/* a form's answer as any other; a login's or logout's as it always was */
	if (cookie)
		MHD_add_response_header(r, "Content-Type", "text/plain");
	else
		common_headers(r, "text/plain");
	MHD_add_response_header(r, "Location", "/");
	if (cookie)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	enum MHD_Result ret = MHD_queue_response(c, 303, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result send_json(struct MHD_Connection *c, int code, char *json)
{
	if (!json)
		return MHD_NO;
	return send_buf(c, code, "application/json", json, strlen(json), NULL, NULL);
}

enum MHD_Result send_error(struct MHD_Connection *c, int code, const char *msg, int status)
{
	return send_json(c, code, errmap_json(msg, status));
}

enum MHD_Result send_error_hdr(struct MHD_Connection *c, int code, const char *msg, const char *hdr,
			       const char *val)
{
	char *j = errmap_json(msg, 125);
	return j ? send_buf(c, code, "application/json", j, strlen(j), hdr, val) : MHD_NO;
}

enum MHD_Result send_errorf(struct MHD_Connection *c, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_error(c, code, msg, 125);
}

/* The command line's failure: its one line (without "sandbox: "), its
 * status, the HTTP status its message calls for. */
enum MHD_Result send_cli_error(struct MHD_Connection *c, const struct spawn_result *r)
{
	char msg[512];
	const char *m = r->err;
	if (!strncmp(m, "sandbox: ", 9))
		m += 9;
	size_t n = strcspn(m, "\n");
	if (!n)
		m = "the command failed without a message", n = strlen(m);
	snprintf(msg, sizeof(msg), "%.*s", (int)n, m);
	return send_error(c, errmap_http(msg, r->status), msg, r->status);
}

enum MHD_Result run_cli(struct MHD_Connection *c, char **argv, int stdin_fd, cli_ok_fn *ok, void *arg)
{
	struct spawn_result r;
	struct err e;
	if (spawn_run(argv, stdin_fd, &r, &e))
		return send_error(c, 500, e.msg, 125);
	enum MHD_Result ret = r.status ? send_cli_error(c, &r) : ok(c, &r, arg);
	spawn_free(&r);
	return ret;
}

struct simple {
	int code;
	const char *type;
};

static enum MHD_Result simple_ok(struct MHD_Connection *c, struct spawn_result *r, void *arg)
{
	const struct simple *s = arg;
	char *out = r->out;
	r->out = NULL;
	return send_buf(c, s->code, s->type, out, r->out_len, NULL, NULL);
}

enum MHD_Result run_simple(struct MHD_Connection *c, char **argv, int code, const char *type)
{
	struct simple s = { code, type };
	return run_cli(c, argv, -1, simple_ok, &s);
}

const char *qarg(struct MHD_Connection *c, const char *k)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
	return v && *v ? v : NULL;
}

bool qtrue(struct MHD_Connection *c, const char *k)
{
	const char *v = qarg(c, k);
	return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

bool qopt(struct MHD_Connection *c, const char *k, const char *opt, const char *dflt, char buf[300], char **arg)
{
	const char *v = qarg(c, k);
	*arg = NULL;
	if (v && !query_value_ok(v))
		return false;
	if (!v && !dflt)
		return true;
	snprintf(buf, 300, "%s=%s", opt, v ? v : dflt);
	*arg = buf;
	return true;
}

enum MHD_Result bad_query(struct MHD_Connection *c, const char *k)
{
	return send_errorf(c, 400, "query parameter '%s': not a value", k);
}
