/* The HTTP side's transport (http.h): libmicrohttpd, one thread per
 * connection (so a `stop` that waits, an exec or logs -f that streams,
 * blocks only its own request); a request's body read as it comes (JSON
 * up to JSON_BODY_MAX, a PUT archive into a memfd up to ARCHIVE_MAX);
 * then the checks every route shares (it exists, the method is allowed,
 * authenticated, CSRF, size) and its handler from the table. */
#include "http.h"
#include "server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct server_conf api_conf;

/* Each route's handler; OPEN: served without authentication. */
static const struct {
	handler_fn *fn;
	bool open;
} routes[] = {
	[R_DASHBOARD] = { h_dashboard, true },  [R_STATIC] = { h_static, true },
	[R_LOGIN] = { h_login, true },          [R_LOGOUT] = { h_logout, false },
	[R_ACTION] = { h_ui_action, false },    [R_METRICS] = { h_metrics, false },
	[R_HOST] = { h_host, false },           [R_LIST] = { h_list, false },
	[R_CREATE] = { h_create, false },       [R_INSPECT] = { h_inspect, false },
	[R_REMOVE] = { h_remove, false },       [R_STOP] = { h_stop, false },
	[R_KILL] = { h_kill, false },           [R_EXEC] = { h_exec, false },
	[R_LOGS] = { h_logs, false },           [R_STATS_ONE] = { h_stats_one, false },
	[R_STATS] = { h_stats, false },         [R_EVENTS] = { h_events, false },
	[R_ARCHIVE_GET] = { h_archive_get, false }, [R_ARCHIVE_PUT] = { h_archive_put, false },
};

static enum MHD_Result dispatch(struct MHD_Connection *c, struct req *q, const char *method)
{
	struct route_match *m = &q->m;
	if (m->r == R_NONE || (size_t)m->r >= sizeof(routes) / sizeof(routes[0]) || !routes[m->r].fn) {
		if (m->bad_method)
			return send_error_hdr(c, 405, "method not allowed here", "Allow", m->allow);
		return send_error(c, 404, "no such resource", 125);
	}
	if (!q->authed && !routes[m->r].open)
		return send_error_hdr(c, 401, "authentication required: Authorization: Bearer TOKEN", "WWW-Authenticate",
				      "Bearer");
	if (!csrf_ok(c, q, method))
		return send_error(c, 403, "missing or wrong CSRF token", 125);
	if (q->too_big && m->r != R_ARCHIVE_PUT)
		return send_errorf(c, 413, "the request body is larger than %u bytes", JSON_BODY_MAX);
	return routes[m->r].fn(c, q);
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
	api_conf = *cf;
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		on_request, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_CONNECTION_TIMEOUT, 600u, MHD_OPTION_END);
	if (!d)
		err_set(e, "cannot start the HTTP server (libmicrohttpd)");
	return d;
}
