/* The dashboard's side of the server (http.h): its page (rendered by
 * dashboard.c), its files (app.js, style.css from the static
 * directory), login by the token into a session cookie, logout, and the
 * page's stop / kill / remove forms. */
#include "http.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HTML "text/html; charset=utf-8"

/* The dashboard's forms: the action, then back to the page. */
static enum MHD_Result back_ok(struct MHD_Connection *c, struct spawn_result *r, void *arg)
{
	(void)r;
	(void)arg;
	return send_redirect(c, NULL);
}

enum MHD_Result h_ui_action(struct MHD_Connection *c, struct req *q)
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
	return run_cli(c, argv, -1, back_ok, NULL);
}

enum MHD_Result h_login(struct MHD_Connection *c, struct req *q)
{
	char token[512];
	if (!api_conf.token)
		return send_redirect(c, NULL);
	if (!q->body || form_get(q->body, q->len, "token", token, sizeof(token)) || !equal_ct(token, api_conf.token)) {
		char *page = dashboard_login_page("That is not the token.");
		return page ? send_buf(c, 401, HTML, page, strlen(page), NULL, NULL) : MHD_NO;
	}
	struct session s;
	session_new(&s);
	char cookie[200];
	snprintf(cookie, sizeof(cookie), "sandbox_session=%s; HttpOnly; SameSite=Strict; Path=/", s.sid);
	return send_redirect(c, cookie);
}

enum MHD_Result h_logout(struct MHD_Connection *c, struct req *q)
{
	(void)q;
	const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "sandbox_session");
	if (sid)
		session_end(sid);
	return send_redirect(c, "sandbox_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
}

enum MHD_Result h_dashboard(struct MHD_Connection *c, struct req *q)
{
	if (!q->authed) {
		char *page = dashboard_login_page(NULL);
		return page ? send_buf(c, 200, HTML, page, strlen(page), NULL, NULL) : MHD_NO;
	}
	char *page = dashboard_page(q->by_cookie ? q->csrf : NULL);
	if (!page)
		return send_error(c, 500, "cannot render the dashboard", 125);
	return send_buf(c, 200, HTML, page, strlen(page), "Content-Security-Policy",
			"default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'");
}

enum MHD_Result h_static(struct MHD_Connection *c, struct req *q)
{
	const char *name = q->m.arg;
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", api_conf.static_dir, name);
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
