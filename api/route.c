/* Routing (api.h): METHOD and PATH to a route and its ID; pure. */
#include "api.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool id_ok(const char *s, size_t n)
{
	if (!n || n > 64 || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static void want(struct route_match *m, const char *method, const char *allow, const char *ok_method, enum route r)
{
	m->allow = allow;
	if (!strcmp(method, ok_method))
		m->r = r;
	else if (m->r == R_NONE)
		m->bad_method = true;
}

void route_match(const char *method, const char *path, struct route_match *m)
{
	memset(m, 0, sizeof(*m));
	if (!strcmp(path, "/")) {
		want(m, method, "GET", "GET", R_DASHBOARD);
		return;
	}
	if (!strncmp(path, "/static/", 8)) {
		const char *f = path + 8;
		if (!strcmp(f, "app.js") || !strcmp(f, "style.css")) {
			snprintf(m->arg, sizeof(m->arg), "%s", f);
			want(m, method, "GET", "GET", R_STATIC);
		}
		return;
	}
	if (!strcmp(path, "/login")) {
		want(m, method, "POST", "POST", R_LOGIN);
		return;
	}
	if (!strcmp(path, "/logout")) {
		want(m, method, "POST", "POST", R_LOGOUT);
		return;
	}
	if (!strcmp(path, "/metrics")) {
		want(m, method, "GET", "GET", R_METRICS);
		return;
	}
	if (!strncmp(path, "/ui/", 4)) {
		const char *id = path + 4, *slash = strchr(id, '/');
		if (!slash || !id_ok(id, (size_t)(slash - id)))
			return;
		const char *act = slash + 1;
		if (strcmp(act, "stop") && strcmp(act, "kill") && strcmp(act, "rm"))
			return;
		snprintf(m->id, sizeof(m->id), "%.*s", (int)(slash - id), id);
		snprintf(m->arg, sizeof(m->arg), "%s", act);
		want(m, method, "POST", "POST", R_ACTION);
		return;
	}
	if (strncmp(path, "/v1/", 4))
		return;
	const char *p = path + 4;
	if (!strcmp(p, "host")) {
		want(m, method, "GET", "GET", R_HOST);
	} else if (!strcmp(p, "stats")) {
		want(m, method, "GET", "GET", R_STATS);
	} else if (!strcmp(p, "events")) {
		want(m, method, "GET", "GET", R_EVENTS);
	} else if (!strcmp(p, "sandboxes")) {
		want(m, method, "GET, POST", "GET", R_LIST);
		want(m, method, "GET, POST", "POST", R_CREATE);
	} else if (!strncmp(p, "sandboxes/", 10)) {
		const char *id = p + 10, *slash = strchr(id, '/');
		size_t n = slash ? (size_t)(slash - id) : strlen(id);
		if (!id_ok(id, n))
			return;
		snprintf(m->id, sizeof(m->id), "%.*s", (int)n, id);
		if (!slash) {
			want(m, method, "GET, DELETE", "GET", R_INSPECT);
			want(m, method, "GET, DELETE", "DELETE", R_REMOVE);
			return;
		}
		const char *sub = slash + 1;
		if (!strcmp(sub, "stop"))
			want(m, method, "POST", "POST", R_STOP);
		else if (!strcmp(sub, "kill"))
			want(m, method, "POST", "POST", R_KILL);
		else if (!strcmp(sub, "exec"))
			want(m, method, "POST", "POST", R_EXEC);
		else if (!strcmp(sub, "logs"))
			want(m, method, "GET", "GET", R_LOGS);
		else if (!strcmp(sub, "stats"))
			want(m, method, "GET", "GET", R_STATS_ONE);
		else if (!strcmp(sub, "archive")) {
			want(m, method, "GET, PUT", "GET", R_ARCHIVE_GET);
			want(m, method, "GET, PUT", "PUT", R_ARCHIVE_PUT);
		}
	}
	if (m->r != R_NONE)
		m->bad_method = false;
	if (m->r == R_NONE && !m->bad_method)
		m->id[0] = '\0';
}
