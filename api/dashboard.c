/* The dashboard's pages (api.h): rendered here from the command line's
 * JSON, so that the page lists every sandbox with JavaScript off; app.js
 * (api/static/) then refreshes it live from the API. Every value shown is
 * HTML-escaped; the forms carry the session's CSRF token. */
#include "api.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void head(FILE *f, const char *csrf)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", f);
	if (csrf) {
		fputs("<meta name=\"csrf-token\" content=\"", f);
		html_esc(f, csrf);
		fputs("\">\n", f);
	}
	fputs("<title>sandboxes</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n</head>\n", f);
}

char *dashboard_login_page(const char *message)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	head(f, NULL);
	fputs("<body><main class=\"login\"><h1>sandbox</h1>\n", f);
	if (message) {
		fputs("<p class=\"error\" id=\"login-error\">", f);
		html_esc(f, message);
		fputs("</p>\n", f);
	}
	fputs("<form method=\"post\" action=\"/login\" id=\"login\">\n"
	      "<label>API token <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" autofocus></label>\n"
	      "<button type=\"submit\" id=\"login-button\">Log in</button>\n</form></main></body></html>\n", f);
	fclose(f);
	return buf;
}

static json_object *run_json(char **argv)
{
	struct spawn_result r;
	struct err e;
	if (spawn_run(argv, -1, &r, &e))
		return NULL;
	json_object *o = r.status ? NULL : json_tokener_parse(r.out);
	spawn_free(&r);
	return o;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static long long jnum(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static void human(FILE *f, long long b)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	fprintf(f, i ? "%.1f%s" : "%.0f%s", v, u[i]);
}

static void duration(FILE *f, long long d)
{
	if (d < 60)
		fprintf(f, "%llds", d);
	else if (d < 3600)
		fprintf(f, "%lldm", d / 60);
	else if (d < 86400)
		fprintf(f, "%lldh", d / 3600);
	else
		fprintf(f, "%lldd", d / 86400);
}

static void action_form(FILE *f, const char *id, const char *act, const char *label, const char *csrf)
{
	fputs("<form method=\"post\" action=\"/ui/", f);
	html_esc(f, id);
	fprintf(f, "/%s\" class=\"act\">", act);
	if (csrf) {
		fputs("<input type=\"hidden\" name=\"csrf\" value=\"", f);
		html_esc(f, csrf);
		fputs("\">", f);
	}
	fprintf(f, "<button type=\"submit\" class=\"%s\" data-act=\"%s\">%s</button></form>", act, act, label);
}

char *dashboard_page(const char *csrf)
{
	char *ps_argv[] = { "ps", "--format=json", "-a", NULL };
	char *st_argv[] = { "stats", "--no-stream", "--format=json", "--interval=0", "-a", NULL };
	json_object *list = run_json(ps_argv), *stats = run_json(st_argv);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	head(f, csrf);
	fputs("<body>\n<header><h1>sandboxes</h1><div id=\"host\" class=\"host\">", f);
	size_t n = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	size_t running = 0;
	long long pss = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *v;
		if (json_object_object_get_ex(json_object_array_get_idx(list, i), "running", &v) && json_object_get_boolean(v))
			running++;
	}
	size_t ns = stats && json_object_is_type(stats, json_type_array) ? json_object_array_length(stats) : 0;
	for (size_t i = 0; i < ns; i++)
		pss += jnum(json_object_array_get_idx(stats, i), "memory_pss");
	fprintf(f, "<span id=\"total-running\">%zu running</span> of <span id=\"total\">%zu</span> &middot; memory ", running, n);
	human(f, pss);
	fputs("</div>", f);
	if (csrf) {
		fputs("<form method=\"post\" action=\"/logout\" class=\"logout\"><input type=\"hidden\" name=\"csrf\" value=\"", f);
		html_esc(f, csrf);
		fputs("\"><button type=\"submit\">Log out</button></form>", f);
	}
	fputs("</header>\n<main>\n<table id=\"sandboxes\"><thead><tr><th>ID</th><th>NAME</th><th>IMAGE</th>"
	      "<th>STATE</th><th>AGE</th><th>TTL</th><th>CPU</th><th>MEMORY</th><th>I/O</th><th></th></tr></thead>\n<tbody>\n",
	      f);
	long long now = (long long)time(NULL);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(list, i), *st = NULL, *v;
		const char *id = jstr(s, "id");
		for (size_t k = 0; k < ns; k++)
			if (!strcmp(jstr(json_object_array_get_idx(stats, k), "id"), id))
				st = json_object_array_get_idx(stats, k);
		bool run = json_object_object_get_ex(s, "running", &v) && json_object_get_boolean(v);
		fputs("<tr data-id=\"", f);
		html_esc(f, id);
		fputs("\"><td class=\"id\">", f);
		fprintf(f, "%.12s", id);
		fputs("</td><td class=\"name\">", f);
		html_esc(f, jstr(s, "name"));
		fputs("</td><td>", f);
		html_esc(f, jstr(s, "image"));
		fprintf(f, "</td><td class=\"state %s\">", run ? "running" : "ended");
		html_esc(f, jstr(s, "status"));
		fputs("</td><td>", f);
		duration(f, now - jnum(s, "created"));
		fputs("</td><td>", f);
		long long ttl = st ? jnum(st, "ttl") : 0;
		if (ttl)
			duration(f, ttl);
		else
			fputs("-", f);
		fputs("</td><td class=\"cpu\">", f);
		if (st)
			fprintf(f, "%.1fs", (double)jnum(st, "cpu_seconds"));
		fputs("</td><td class=\"mem\">", f);
		if (st)
			human(f, jnum(st, "memory_pss"));
		fputs("</td><td class=\"io\">", f);
		if (st) {
			human(f, jnum(st, "block_read") + jnum(st, "net_rx"));
			fputs(" / ", f);
			human(f, jnum(st, "block_write") + jnum(st, "net_tx"));
		}
		fputs("</td><td class=\"actions\">", f);
		if (run) {
			action_form(f, id, "stop", "Stop", csrf);
			action_form(f, id, "kill", "Kill", csrf);
		}
		action_form(f, id, "rm", "Remove", csrf);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (!n)
		fputs("<p id=\"empty\">No sandboxes.</p>\n", f);
	fputs("<section id=\"log\" hidden><h2>log <span id=\"log-name\"></span></h2><pre id=\"log-text\"></pre></section>\n"
	      "</main>\n<script src=\"/static/app.js\"></script>\n</body></html>\n", f);
	fclose(f);
	if (list)
		json_object_put(list);
	if (stats)
		json_object_put(stats);
	return buf;
}
