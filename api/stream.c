/* Streamed answers (http.h): exec (NDJSON frames), logs -f and events -f
 * (the command line's JSON lines as they come, and what it says on stderr
 * meanwhile as exec's stderr frames between them), archives (tar bytes).
 * libmicrohttpd pulls them through stream_read on the connection's own
 * thread, so a long stream blocks nothing else. */
#include "http.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* S_EXEC: both streams framed. S_LINES: stdout's lines as they are, a
 * chunk of stderr framed as exec's are, put in where a line of stdout
 * ends. S_RAW: stdout's bytes; stderr is read (the command is never
 * stopped by a closed pipe) and dropped: a tar has no place for it. */
enum stream_kind { S_EXEC, S_LINES, S_RAW };

#define ERR_HELD 16384          /* S_LINES: stderr waiting for a line's end; more is dropped */

struct stream {
	enum stream_kind kind;
	pid_t pid;
	int fd[2];              /* stdout, stderr (-1: closed) */
	char *pend;             /* encoded, not yet handed to MHD */
	size_t pend_len, pend_off;
	bool ended;
	char first[65536];      /* S_LINES, S_RAW: stdout read, not yet handed to MHD */
	size_t first_len;
	bool mid_line;          /* S_LINES: the last stdout byte handed on did not end a line */
	char err[ERR_HELD];     /* S_LINES: stderr read, not yet framed */
	size_t err_len;
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

/* One frame of exec output: {"stream":"stdout","data":"..."} (after a
 * newline if NL: a line of its own after an unended one). */
static void frame(struct stream *s, int which, const char *data, size_t n, bool nl)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return;
	if (nl)
		fputc('\n', f);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "stream", json_object_new_string(which ? "stderr" : "stdout"));
	json_object_object_add(o, "data", json_object_new_string_len(data, (int)n));
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), f);
	fputc('\n', f);
	json_object_put(o);
	fclose(f);
	stream_pend(s, buf, len);
}

static void err_hold(struct stream *s, const char *data, size_t n)
{
	if (n > sizeof(s->err) - s->err_len)
		n = sizeof(s->err) - s->err_len;
	memcpy(s->err + s->err_len, data, n);
	s->err_len += n;
}

/* S_LINES: the stderr held, as one frame on a line of its own (after a
 * newline if stdout ended inside a line). */
static void err_frame(struct stream *s)
{
	frame(s, 1, s->err, s->err_len, s->mid_line);
	s->err_len = 0;
	s->mid_line = false;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct stream *s = cls;
	for (;;) {
		bool pending = s->pend && s->pend_off < s->pend_len;
		if (s->kind == S_LINES && s->err_len && !pending &&
		    (!s->mid_line || (s->fd[0] < 0 && !s->first_len))) {
			err_frame(s);
			continue;
		}
		if (!pending && s->first_len) {
			size_t n = s->first_len < max ? s->first_len : max;
			const char *nl;
			/* stderr waits: hand on stdout to the end of a line */
			if (s->kind == S_LINES && s->err_len && (nl = memchr(s->first, '\n', n)))
				n = (size_t)(nl - s->first) + 1;
			memcpy(out, s->first, n);
			memmove(s->first, s->first + n, s->first_len - n);
			s->first_len -= n;
			s->mid_line = out[n - 1] != '\n';
			return (ssize_t)n;
		}
		if (pending) {
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
			/* Bytes have no place for a late failure: a tar cut short
			 * would end like a whole one. Ending with an error drops
			 * the connection before the last chunk, which every HTTP
			 * client reports as a transfer cut short. */
			if (s->kind == S_RAW && code != 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
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
			/* stdout: S_RAW's straight out, S_LINES' into first
			 * (empty here: it is handed on before a poll) */
			char buf[16384], *to = buf;
			size_t room = sizeof(buf);
			if (i == 0 && s->kind == S_RAW) {
				to = out;
				room = max < room ? max : room;
			} else if (i == 0 && s->kind == S_LINES) {
				to = s->first;
				room = sizeof(s->first);
			}
			ssize_t n = read(s->fd[i], to, room);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(s->fd[i]);
				s->fd[i] = -1;
				continue;
			}
			if (s->kind == S_EXEC) {
				frame(s, i, buf, (size_t)n, false);
				break;
			}
			if (i == 1) {
				if (s->kind == S_LINES)
					err_hold(s, buf, (size_t)n);
				continue;
			}
			if (s->kind == S_RAW)
				return n;
			s->first_len = (size_t)n;
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

/* Start ARGV; once its first bytes (or its end) are in, answer: its
 * failure as an error, else a stream of what it prints (TYPE): NDJSON as
 * S_LINES, anything else as S_RAW. */
enum MHD_Result stream_cmd(struct MHD_Connection *c, char **argv, int stdin_fd, const char *type)
{
	struct err e;
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->kind = strcmp(type, "application/x-ndjson") ? S_RAW : S_LINES;
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
			char more[512];         /* past ebuf: read, dropped */
			bool full = elen == sizeof(ebuf) - 1;
			ssize_t n = full ? read(errfd, more, sizeof(more)) : read(errfd, ebuf + elen, sizeof(ebuf) - 1 - elen);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(errfd);
				errfd = -1;
			} else if (!full) {
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
	/* stderr so far and from now on: framed in S_LINES, dropped in S_RAW */
	s->fd[1] = errfd;
	if (s->kind == S_LINES)
		err_hold(s, ebuf, elen);
	return send_stream(c, s, type);
}

enum MHD_Result stream_exec(struct MHD_Connection *c, char **argv, int stdin_fd)
{
	struct err e;
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->kind = S_EXEC;
	s->pid = spawn_stream(argv, stdin_fd, &s->fd[0], &s->fd[1], &e);
	if (s->pid < 0) {
		free(s);
		return send_error(c, 500, e.msg, 125);
	}
	return send_stream(c, s, "application/x-ndjson");
}
