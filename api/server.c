/* The HTTP side (api.h): libmicrohttpd, one thread per connection (so a
 * `stop` that waits, an exec or logs -f that streams, blocks only its own
 * request), authentication (the bearer token, or the dashboard's session
 * cookie plus its CSRF token for anything that changes state), and a
 * handler per route, each running the command line (spawn.c). */
#include "api.h"
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define JSON_BODY_MAX (1u << 20)
#define ARCHIVE_MAX (256ull << 20)
#define SESSION_MAX 64
#define SESSION_SECONDS (12 * 3600)

static struct server_conf conf;
static struct session sessions[SESSION_MAX];
static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;

struct req {
	struct route_match m;
	char *body;
	size_t len, cap;
	int memfd;              /* PUT archive: the tar */
	uint64_t memfd_len;
	bool too_big, authed, by_cookie;
	char csrf[65];          /* the session's, when by cookie */
};

/* ------------------------------------------------------------------ */
/* responses */

static enum MHD_Result send_buf(struct MHD_Connection *c, int code, const char *type, char *buf, size_t len,
				 const char *hdr, const char *val)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (hdr)
		MHD_add_response_header(r, hdr, val);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)code, r);
	MHD_destroy_response(r);
	return ret;
}

/* 303 to / with a cookie. */
static enum MHD_Result send_redirect_cookie(struct MHD_Connection *c, const char *cookie)
{
	char *b = strdup("see /\n");
	if (!b)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(b), b, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(b);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain");
	MHD_add_response_header(r, "Location", "/");
	MHD_add_response_header(r, "Set-Cookie", cookie);
	enum MHD_Result ret = MHD_queue_response(c, 303, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, int code, char *json)
{
	if (!json)
		return MHD_NO;
	return send_buf(c, code, "application/json", json, strlen(json), NULL, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *c, int code, const char *msg, int status)
{
	return send_json(c, code, errmap_json(msg, status));
}

static enum MHD_Result send_error_hdr(struct MHD_Connection *c, int code, const char *msg, const char *hdr,
				      const char *val)
{
	char *j = errmap_json(msg, 125);
	return j ? send_buf(c, code, "application/json", j, strlen(j), hdr, val) : MHD_NO;
}

static enum MHD_Result send_errorf(struct MHD_Connection *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result send_errorf(struct MHD_Connection *c, int code, const char *fmt, ...)
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
static enum MHD_Result send_cli_error(struct MHD_Connection *c, const struct spawn_result *r)
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

static char *dupstr(const char *s)
{
	char *d = strdup(s);
	return d;
}

/* ------------------------------------------------------------------ */
/* authentication */

static bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

static void random_hex(char out[65])
{
	unsigned char b[32];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		abort();        /* no randomness: no sessions worth having */
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static bool session_find(const char *sid, char csrf[65])
{
	bool ok = false;
	long long now = (long long)time(NULL);
	pthread_mutex_lock(&session_lock);
	for (int i = 0; i < SESSION_MAX; i++)
		if (sessions[i].sid[0] && sessions[i].expires > now && equal_ct(sessions[i].sid, sid)) {
			memcpy(csrf, sessions[i].csrf, 65);
			ok = true;
		}
	pthread_mutex_unlock(&session_lock);
	return ok;
}

static void session_new(struct session *out)
{
	long long now = (long long)time(NULL);
	pthread_mutex_lock(&session_lock);
	int slot = 0;
	for (int i = 0; i < SESSION_MAX; i++) {
		if (!sessions[i].sid[0] || sessions[i].expires <= now) {
			slot = i;
			break;
		}
		if (sessions[i].expires < sessions[slot].expires)
			slot = i;
	}
	random_hex(sessions[slot].sid);
	random_hex(sessions[slot].csrf);
	sessions[slot].expires = now + SESSION_SECONDS;
	*out = sessions[slot];
	pthread_mutex_unlock(&session_lock);
}

static void session_end(const char *sid)
{
	pthread_mutex_lock(&session_lock);
	for (int i = 0; i < SESSION_MAX; i++)
		if (sessions[i].sid[0] && equal_ct(sessions[i].sid, sid))
			memset(&sessions[i], 0, sizeof(sessions[i]));
	pthread_mutex_unlock(&session_lock);
}

/* Bearer token, or a session cookie; no token configured: everyone that
 * reaches the socket (its mode keeps others out). */
static void authenticate(struct MHD_Connection *c, struct req *q)
{
	if (!conf.token) {
		q->authed = true;
		return;
	}
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (auth && !strncmp(auth, "Bearer ", 7) && equal_ct(auth + 7, conf.token)) {
		q->authed = true;
		return;
	}
	const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "sandbox_session");
	if (sid && session_find(sid, q->csrf)) {
		q->authed = true;
		q->by_cookie = true;
	}
}

/* A request that changes state, authenticated by the cookie alone, must
 * carry the session's CSRF token (header, or the form's csrf field): a
 * page of another site can make the browser send the cookie, not know
 * the token. SameSite=Strict on the cookie is the second wall. */
static bool csrf_ok(struct MHD_Connection *c, struct req *q, const char *method)
{
	if (!q->by_cookie || !strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return true;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	if (h)
		return equal_ct(h, q->csrf);
	char field[80];
	return q->body && !form_get(q->body, q->len, "csrf", field, sizeof(field)) && equal_ct(field, q->csrf);
}

/* ------------------------------------------------------------------ */
/* streamed answers: exec (NDJSON frames), logs -f and events -f (the
 * command line's JSON lines as they come), archives (tar bytes) */

enum stream_kind { S_EXEC, S_RAW };

struct stream {
	enum stream_kind kind;
	pid_t pid;
	int fd[2];              /* stdout, stderr (-1: closed) */
	char *pend;             /* encoded, not yet handed to MHD */
	size_t pend_len, pend_off;
	bool ended;
	char first[65536];      /* S_RAW: bytes read before the answer started */
	size_t first_len;
};

static void stream_pend(struct stream *s, char *buf, size_t len)
{
	free(s->pend);
	s->pend = buf;
	s->pend_len = len;
	s->pend_off = 0;
}

static void end_child(pid_t pid)
{
	if (pid <= 0)
		return;
	int st;
	if (waitpid(pid, &st, WNOHANG) == pid)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	for (int i = 0; i < 2; i++)
		if (s->fd[i] >= 0)
			close(s->fd[i]);
	end_child(s->pid);
	free(s->pend);
	free(s);
}

/* One frame of exec output: {"stream":"stdout","data":"..."} */
static void exec_frame(struct stream *s, int which, const char *data, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "stream", json_object_new_string(which ? "stderr" : "stdout"));
	json_object_object_add(o, "data", json_object_new_string_len(data, (int)n));
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), f);
	fputc('\n', f);
	json_object_put(o);
	fclose(f);
	stream_pend(s, buf, len);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct stream *s = cls;
	for (;;) {
		if (s->first_len) {
			size_t n = s->first_len < max ? s->first_len : max;
			memcpy(out, s->first, n);
			memmove(s->first, s->first + n, s->first_len - n);
			s->first_len -= n;
			return (ssize_t)n;
		}
		if (s->pend && s->pend_off < s->pend_len) {
			size_t n = s->pend_len - s->pend_off < max ? s->pend_len - s->pend_off : max;
			memcpy(out, s->pend + s->pend_off, n);
			s->pend_off += n;
			return (ssize_t)n;
		}
		if (s->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (s->fd[0] < 0 && s->fd[1] < 0) {
			int st = 0;
			while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
				;
			int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			s->pid = 0;
			s->ended = true;
			if (s->kind == S_EXEC) {
				char *b;
				int n = asprintf(&b, "{\"exit_code\":%d}\n", code);
				if (n > 0)
					stream_pend(s, b, (size_t)n);
			}
			continue;
		}
		struct pollfd pf[2] = { { .fd = s->fd[0], .events = POLLIN }, { .fd = s->fd[1], .events = POLLIN } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		for (int i = 0; i < 2; i++) {
			if (s->fd[i] < 0 || !pf[i].revents)
				continue;
			char buf[16384];
			size_t room = s->kind == S_RAW && max < sizeof(buf) ? max : sizeof(buf);
			ssize_t n = read(s->fd[i], s->kind == S_RAW ? out : buf, room);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(s->fd[i]);
				s->fd[i] = -1;
				continue;
			}
			if (s->kind == S_RAW)
				return n;
			exec_frame(s, i, buf, (size_t)n);
			break;
		}
	}
}

static enum MHD_Result send_stream(struct MHD_Connection *c, struct stream *s, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32768, stream_read, s, stream_free);
	if (!r) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ------------------------------------------------------------------ */
/* handlers */

static const char *qarg(struct MHD_Connection *c, const char *k)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
	return v && *v ? v : NULL;
}

static bool qtrue(struct MHD_Connection *c, const char *k)
{
	const char *v = qarg(c, k);
	return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

/* Run ARGV, answer its stdout (as TYPE, CODE) or its error. */
static enum MHD_Result run_simple(struct MHD_Connection *c, char **argv, int code, const char *type)
{
	struct spawn_result r;
	struct err e;
	if (spawn_run(argv, -1, &r, &e))
		return send_error(c, 500, e.msg, 125);
	enum MHD_Result ret;
	if (r.status) {
		ret = send_cli_error(c, &r);
	} else {
		ret = send_buf(c, code, type, r.out, r.out_len, NULL, NULL);
		r.out = NULL;
	}
	spawn_free(&r);
	return ret;
}

/* An action on ID whose answer is {"id": ID}. */
static enum MHD_Result run_action(struct MHD_Connection *c, char **argv, const char *id)
{
	struct spawn_result r;
	struct err e;
	if (spawn_run(argv, -1, &r, &e))
		return send_error(c, 500, e.msg, 125);
	enum MHD_Result ret;
	if (r.status) {
		ret = send_cli_error(c, &r);
	} else {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(id));
		char *s = dupstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		ret = send_json(c, 200, s);
	}
	spawn_free(&r);
	return ret;
}

static enum MHD_Result bad_query(struct MHD_Connection *c, const char *k)
{
	return send_errorf(c, 400, "query parameter '%s': not a value", k);
}

static enum MHD_Result h_inspect(struct MHD_Connection *c, const char *id, bool stats)
{
	char *argv[8] = { "inspect", (char *)id, NULL };
	char *sargv[8] = { "stats", "--no-stream", "--format=json", "-a", (char *)id, NULL };
	struct spawn_result r;
	struct err e;
	if (spawn_run(stats ? sargv : argv, -1, &r, &e))
		return send_error(c, 500, e.msg, 125);
	enum MHD_Result ret;
	if (r.status) {
		ret = send_cli_error(c, &r);
	} else {
		json_object *a = json_tokener_parse(r.out);
		json_object *o = a && json_object_is_type(a, json_type_array) ? json_object_array_get_idx(a, 0) : NULL;
		if (!o)
			ret = send_error(c, 500, "the command line's answer was not a JSON array", 125);
		else
			ret = send_json(c, 200, dupstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
		if (a)
			json_object_put(a);
	}
	spawn_free(&r);
	return ret;
}

static enum MHD_Result h_create(struct MHD_Connection *c, struct req *q)
{
	struct err e;
	struct argv_buf *a = calloc(1, sizeof(*a));
	if (!a)
		return MHD_NO;
	if (body_create(q->body ? q->body : "", q->len, a, &e)) {
		free(a);
		return send_error(c, 400, e.msg, 125);
	}
	struct spawn_result r;
	int sr = spawn_run(a->v, -1, &r, &e);
	free(a);
	if (sr)
		return send_error(c, 500, e.msg, 125);
	enum MHD_Result ret;
	if (r.status) {
		ret = send_cli_error(c, &r);
	} else {
		r.out[strcspn(r.out, "\n")] = '\0';
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(r.out));
		ret = send_json(c, 201, dupstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
		json_object_put(o);
	}
	spawn_free(&r);
	return ret;
}

static enum MHD_Result h_exec(struct MHD_Connection *c, struct req *q)
{
	struct err e;
	char *in = NULL;
	size_t in_len = 0;
	struct argv_buf *a = calloc(1, sizeof(*a));
	if (!a)
		return MHD_NO;
	if (body_exec(q->body ? q->body : "", q->len, q->m.id, a, &in, &in_len, &e)) {
		free(a);
		return send_error(c, 400, e.msg, 125);
	}
	int infd = -1;
	if (in) {
		infd = memfd_create("exec-stdin", MFD_CLOEXEC);
		if (infd < 0 || write(infd, in, in_len) != (ssize_t)in_len || lseek(infd, 0, SEEK_SET)) {
			free(in);
			free(a);
			if (infd >= 0)
				close(infd);
			return send_error(c, 500, "cannot hold the exec's stdin", 125);
		}
		free(in);
	}
	struct stream *s = calloc(1, sizeof(*s));
	if (!s) {
		if (infd >= 0)
			close(infd);
		free(a);
		return MHD_NO;
	}
	s->kind = S_EXEC;
	s->pid = spawn_stream(a->v, infd, &s->fd[0], &s->fd[1], &e);
	free(a);
	if (infd >= 0)
		close(infd);
	if (s->pid < 0) {
		free(s);
		return send_error(c, 500, e.msg, 125);
	}
	return send_stream(c, s, "application/x-ndjson");
}

/* Start ARGV; once its first bytes (or its end) are in, answer: its
 * failure as an error, else a stream of what it prints (TYPE). */
static enum MHD_Result stream_cmd(struct MHD_Connection *c, char **argv, int stdin_fd, const char *type)
{
	struct err e;
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->kind = S_RAW;
	s->fd[1] = -1;
	int errfd;
	s->pid = spawn_stream(argv, stdin_fd, &s->fd[0], &errfd, &e);
	if (s->pid < 0) {
		free(s);
		return send_error(c, 500, e.msg, 125);
	}
	/* Wait for output or the end: an error is an error answer. */
	struct spawn_result r = { 0 };
	char ebuf[2048];
	size_t elen = 0;
	for (;;) {
		struct pollfd pf[2] = { { .fd = s->fd[0], .events = POLLIN }, { .fd = errfd, .events = POLLIN } };
		if (poll(pf, errfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents) {
			ssize_t n = read(s->fd[0], s->first, sizeof(s->first));
			if (n > 0) {
				s->first_len = (size_t)n;
				break;
			}
			if (n == 0) {
				close(s->fd[0]);
				s->fd[0] = -1;
				break;
			}
		}
		if (errfd >= 0 && pf[1].revents) {
			ssize_t n = read(errfd, ebuf + elen, sizeof(ebuf) - 1 - elen);
			if (n <= 0) {
				close(errfd);
				errfd = -1;
			} else {
				elen += (size_t)n;
			}
		}
	}
	if (s->fd[0] < 0) {     /* it ended without output: its status decides */
		while (errfd >= 0) {
			ssize_t n = read(errfd, ebuf + elen, sizeof(ebuf) - 1 - elen);
			if (n <= 0)
				break;
			elen += (size_t)n;
		}
		int st = 0;
		while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
			;
		s->pid = 0;
		if (errfd >= 0)
			close(errfd);
		ebuf[elen] = '\0';
		r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		r.err = ebuf;
		free(s);
		if (r.status)
			return send_cli_error(c, &r);
		return send_buf(c, 200, type, dupstr(""), 0, NULL, NULL);
	}
	if (errfd >= 0)
		close(errfd);   /* later lines of stderr are dropped */
	return send_stream(c, s, type);
}

static enum MHD_Result h_logs(struct MHD_Connection *c, const char *id)
{
	char *argv[16];
	int n = 0;
	char tail[300], since[300], until[300];
	argv[n++] = "logs";
	argv[n++] = "--format=json";
	const char *v;
	if ((v = qarg(c, "tail"))) {
		if (!query_value_ok(v))
			return bad_query(c, "tail");
		snprintf(tail, sizeof(tail), "--tail=%s", v);
		argv[n++] = tail;
	}
	if ((v = qarg(c, "since"))) {
		if (!query_value_ok(v))
			return bad_query(c, "since");
		snprintf(since, sizeof(since), "--since=%s", v);
		argv[n++] = since;
	}
	if ((v = qarg(c, "until"))) {
		if (!query_value_ok(v))
			return bad_query(c, "until");
		snprintf(until, sizeof(until), "--until=%s", v);
		argv[n++] = until;
	}
	if (qtrue(c, "follow"))
		argv[n++] = "-f";
	argv[n++] = "--";
	argv[n++] = (char *)id;
	argv[n] = NULL;
	return stream_cmd(c, argv, -1, "application/x-ndjson");
}

static enum MHD_Result h_events(struct MHD_Connection *c)
{
	char *argv[8];
	int n = 0;
	char since[300];
	argv[n++] = "events";
	argv[n++] = "--format=json";
	const char *v;
	if ((v = qarg(c, "since"))) {
		if (!query_value_ok(v))
			return bad_query(c, "since");
		snprintf(since, sizeof(since), "--since=%s", v);
		argv[n++] = since;
	}
	if (qtrue(c, "follow"))
		argv[n++] = "-f";
	argv[n] = NULL;
	return stream_cmd(c, argv, -1, "application/x-ndjson");
}

static enum MHD_Result h_archive(struct MHD_Connection *c, struct req *q, bool put)
{
	const char *path = qarg(c, "path");
	if (!path || !query_value_ok(path) || path[0] != '/')
		return send_error(c, 400, "query parameter 'path': want an absolute path in the sandbox", 125);
	char ref[400];
	snprintf(ref, sizeof(ref), "%s:%s", q->m.id, path);
	if (!put) {
		char *argv[] = { "cp", "--", ref, "-", NULL };
		return stream_cmd(c, argv, -1, "application/x-tar");
	}
	if (q->too_big)
		return send_errorf(c, 413, "the archive is larger than %llu bytes", (unsigned long long)ARCHIVE_MAX);
	if (q->memfd < 0 || lseek(q->memfd, 0, SEEK_SET))
		return send_error(c, 400, "no archive in the request body", 125);
	char *argv[] = { "cp", "--", "-", ref, NULL };
	struct spawn_result r;
	struct err e;
	if (spawn_run(argv, q->memfd, &r, &e))
		return send_error(c, 500, e.msg, 125);
	enum MHD_Result ret = r.status ? send_cli_error(c, &r) : send_json(c, 200, dupstr("{}\n"));
	spawn_free(&r);
	return ret;
}

static enum MHD_Result h_host(struct MHD_Connection *c)
{
	char *argv[] = { "stats", "--no-stream", "--format=json", "--interval=0", "-a", NULL };
	struct spawn_result r;
	struct err e;
	if (spawn_run(argv, -1, &r, &e))
		return send_error(c, 500, e.msg, 125);
	if (r.status) {
		enum MHD_Result ret = send_cli_error(c, &r);
		spawn_free(&r);
		return ret;
	}
	long long running = 0, total = 0, pss = 0;
	json_object *a = json_tokener_parse(r.out);
	for (size_t i = 0; a && json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
		json_object *o = json_object_array_get_idx(a, i), *v;
		total++;
		if (json_object_object_get_ex(o, "running", &v) && json_object_get_boolean(v)) {
			running++;
			if (json_object_object_get_ex(o, "memory_pss", &v))
				pss += json_object_get_int64(v);
		}
	}
	if (a)
		json_object_put(a);
	spawn_free(&r);
	char meminfo[4096] = "";
	FILE *f = fopen("/proc/meminfo", "re");
	long long mt = 0, ma = 0;
	if (f) {
		while (fgets(meminfo, sizeof(meminfo), f)) {
			sscanf(meminfo, "MemTotal: %lld kB", &mt);
			sscanf(meminfo, "MemAvailable: %lld kB", &ma);
		}
		fclose(f);
	}
	double load = 0;
	f = fopen("/proc/loadavg", "re");
	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = 0;
		fclose(f);
	}
	char *s;
	if (asprintf(&s,
		     "{\"cpus\":%ld,\"load1\":%.2f,\"memory_total\":%lld,\"memory_available\":%lld,"
		     "\"sandboxes\":%lld,\"running\":%lld,\"sandboxes_memory_pss\":%lld}\n",
		     sysconf(_SC_NPROCESSORS_ONLN), load, mt * 1024, ma * 1024, total, running, pss) < 0)
		return MHD_NO;
	return send_json(c, 200, s);
}

/* The dashboard's forms: the action, then back to the page. */
static enum MHD_Result h_ui_action(struct MHD_Connection *c, struct req *q)
{
	char *argv[6];
	int n = 0;
	if (!strcmp(q->m.arg, "stop")) {
		argv[n++] = "stop";
		argv[n++] = "-t";
		argv[n++] = "5";
	} else if (!strcmp(q->m.arg, "kill")) {
		argv[n++] = "kill";
	} else {
		argv[n++] = "rm";
		argv[n++] = "-f";
	}
	argv[n++] = q->m.id;
	argv[n] = NULL;
	struct spawn_result r;
	struct err e;
	if (spawn_run(argv, -1, &r, &e))
		return send_error(c, 500, e.msg, 125);
	enum MHD_Result ret;
	if (r.status)
		ret = send_cli_error(c, &r);
	else
		ret = send_buf(c, 303, "text/plain", dupstr("see /\n"), 6, "Location", "/");
	spawn_free(&r);
	return ret;
}

static enum MHD_Result h_login(struct MHD_Connection *c, struct req *q)
{
	char token[512];
	if (!conf.token)
		return send_buf(c, 303, "text/plain", dupstr("see /\n"), 6, "Location", "/");
	if (!q->body || form_get(q->body, q->len, "token", token, sizeof(token)) || !equal_ct(token, conf.token)) {
		char *page = dashboard_login_page("That is not the token.");
		return page ? send_buf(c, 401, "text/html; charset=utf-8", page, strlen(page), NULL, NULL) : MHD_NO;
	}
	struct session s;
	session_new(&s);
	char cookie[200];
	snprintf(cookie, sizeof(cookie), "sandbox_session=%s; HttpOnly; SameSite=Strict; Path=/", s.sid);
	return send_redirect_cookie(c, cookie);
}

static enum MHD_Result h_dashboard(struct MHD_Connection *c, struct req *q)
{
	if (!q->authed) {
		char *page = dashboard_login_page(NULL);
		return page ? send_buf(c, 200, "text/html; charset=utf-8", page, strlen(page), NULL, NULL) : MHD_NO;
	}
	char *page = dashboard_page(q->by_cookie ? q->csrf : NULL);
	if (!page)
		return send_error(c, 500, "cannot render the dashboard", 125);
	return send_buf(c, 200, "text/html; charset=utf-8", page, strlen(page), "Content-Security-Policy",
			"default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'");
}

static enum MHD_Result h_static(struct MHD_Connection *c, const char *name)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", conf.static_dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return send_errorf(c, 404, "no such file: %s", name);
	off_t size = lseek(fd, 0, SEEK_END);
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
				strstr(name, ".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result dispatch(struct MHD_Connection *c, struct req *q, const char *method)
{
	struct route_match *m = &q->m;
	if (m->r == R_NONE) {
		if (m->bad_method)
			return send_error_hdr(c, 405, "method not allowed here", "Allow", m->allow);
		return send_error(c, 404, "no such resource", 125);
	}
	bool open_route = m->r == R_DASHBOARD || m->r == R_STATIC || m->r == R_LOGIN;
	if (!q->authed && !open_route)
		return send_error_hdr(c, 401, "authentication required: Authorization: Bearer TOKEN", "WWW-Authenticate",
				      "Bearer");
	if (!csrf_ok(c, q, method))
		return send_error(c, 403, "missing or wrong CSRF token", 125);
	if (q->too_big && m->r != R_ARCHIVE_PUT)
		return send_errorf(c, 413, "the request body is larger than %u bytes", JSON_BODY_MAX);
	const char *id = m->id;
	switch (m->r) {
	case R_DASHBOARD: return h_dashboard(c, q);
	case R_STATIC: return h_static(c, m->arg);
	case R_LOGIN: return h_login(c, q);
	case R_LOGOUT: {
		const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "sandbox_session");
		if (sid)
			session_end(sid);
		return send_redirect_cookie(c, "sandbox_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
	}
	case R_ACTION: return h_ui_action(c, q);
	case R_METRICS: {
		char *argv[] = { "stats", "--no-stream", "--format=prometheus", "--interval=0", "-a", NULL };
		return run_simple(c, argv, 200, "text/plain; version=0.0.4; charset=utf-8");
	}
	case R_HOST: return h_host(c);
	case R_LIST: {
		char *argv[] = { "ps", "--format=json", qtrue(c, "all") ? "-a" : NULL, NULL };
		return run_simple(c, argv, 200, "application/json");
	}
	case R_CREATE: return h_create(c, q);
	case R_INSPECT: return h_inspect(c, id, false);
	case R_STATS_ONE: return h_inspect(c, id, true);
	case R_STATS: {
		const char *iv = qarg(c, "interval");
		char ivarg[300];
		if (iv && !query_value_ok(iv))
			return bad_query(c, "interval");
		snprintf(ivarg, sizeof(ivarg), "--interval=%s", iv ? iv : "500");
		char *argv[] = { "stats", "--no-stream", "--format=json", ivarg, qtrue(c, "all") ? "-a" : NULL, NULL };
		return run_simple(c, argv, 200, "application/json");
	}
	case R_REMOVE: {
		char *argv[] = { "rm", qtrue(c, "force") ? "-f" : "--", (char *)id, NULL };
		return run_action(c, argv, id);
	}
	case R_STOP: {
		const char *t = qarg(c, "t");
		char targ[300];
		if (t && !query_value_ok(t))
			return bad_query(c, "t");
		snprintf(targ, sizeof(targ), "--time=%s", t ? t : "10");
		char *argv[] = { "stop", targ, "--", (char *)id, NULL };
		return run_action(c, argv, id);
	}
	case R_KILL: {
		const char *sig = qarg(c, "signal");
		char sarg[300];
		if (sig && !query_value_ok(sig))
			return bad_query(c, "signal");
		snprintf(sarg, sizeof(sarg), "--signal=%s", sig ? sig : "KILL");
		char *argv[] = { "kill", sarg, "--", (char *)id, NULL };
		return run_action(c, argv, id);
	}
	case R_EXEC: return h_exec(c, q);
	case R_LOGS: return h_logs(c, id);
	case R_EVENTS: return h_events(c);
	case R_ARCHIVE_GET: return h_archive(c, q, false);
	case R_ARCHIVE_PUT: return h_archive(c, q, true);
	case R_NONE: break;
	}
	return send_error(c, 404, "no such resource", 125);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct req *q = *con_cls;
	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		q->memfd = -1;
		route_match(method, url, &q->m);
		authenticate(c, q);
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (q->too_big)
			return MHD_YES;
		if (q->m.r == R_ARCHIVE_PUT && q->authed) {
			if (q->memfd < 0)
				q->memfd = memfd_create("archive", MFD_CLOEXEC);
			if (q->memfd < 0 || q->memfd_len + n > ARCHIVE_MAX || write(q->memfd, upload, n) != (ssize_t)n)
				q->too_big = true;
			else
				q->memfd_len += n;
			return MHD_YES;
		}
		if (q->len + n > JSON_BODY_MAX) {
			q->too_big = true;
			return MHD_YES;
		}
		if (q->len + n + 1 > q->cap) {
			size_t cap = q->cap ? q->cap * 2 : 4096;
			while (cap < q->len + n + 1)
				cap *= 2;
			char *nb = realloc(q->body, cap);
			if (!nb)
				return MHD_NO;
			q->body = nb;
			q->cap = cap;
		}
		memcpy(q->body + q->len, upload, n);
		q->len += n;
		q->body[q->len] = '\0';
		return MHD_YES;
	}
	return dispatch(c, q, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	(void)cls;
	(void)c;
	(void)t;
	struct req *q = *con_cls;
	if (!q)
		return;
	free(q->body);
	if (q->memfd >= 0)
		close(q->memfd);
	free(q);
	*con_cls = NULL;
}

struct MHD_Daemon *server_start(int listen_fd, const struct server_conf *cf, struct err *e)
{
	conf = *cf;
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		on_request, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_CONNECTION_TIMEOUT, 600u, MHD_OPTION_END);
	if (!d)
		err_set(e, "cannot start the HTTP server (libmicrohttpd)");
	return d;
}
