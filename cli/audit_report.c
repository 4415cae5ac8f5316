/* `sandbox audit`'s report: text (a table, then the evidence), JSON (one
 * object) and HTML (one self-contained page: inline style, no script, no
 * outside resource). Pure: tests/unit/test_audit.c checks each. */
#include <stdio.h>
#include <string.h>

#include "audit.h"

int audit_format_parse(const char *s, enum audit_format *f)
{
	if (!strcmp(s, "text"))
		*f = AUDIT_TEXT;
	else if (!strcmp(s, "json"))
		*f = AUDIT_JSON;
	else if (!strcmp(s, "html"))
		*f = AUDIT_HTML;
	else
		return -1;
	return 0;
}

/* Counts of each verdict in a column. */
static void counts(const struct audit_column *c, int k[4])
{
	memset(k, 0, 4 * sizeof(int));
	for (size_t i = 0; !c->skipped && c->cells && i < audit_catalogue_len; i++)
		k[c->cells[i].v]++;
}

static const char *short_name(enum audit_verdict v)
{
	static const char *const s[] = { "contained", "EXPOSED", "n/a", "not run" };
	return s[v];
}

/* ---- text ------------------------------------------------------------------------- */
static void w_text(FILE *f, const struct audit_report *r)
{
	fprintf(f, "sandbox audit: image %s; %s; %s\n\n", r->image, r->host, r->started);
	for (size_t i = 0; i < r->ncol; i++) {
		const struct audit_column *c = &r->col[i];
		if (c->skipped) {
			fprintf(f, "%-10s skipped: %s\n", c->name, c->reason);
		} else {
			int k[4];
			counts(c, k);
			fprintf(f, "%-10s %d contained, %d exposed, %d not applicable, %d could not run%s%s\n", c->name,
				k[0], k[1], k[2], k[3], c->detail[0] ? "; " : "", c->detail);
		}
	}
	fprintf(f, "\n%-58s", "attack");
	for (size_t i = 0; i < r->ncol; i++)
		if (!r->col[i].skipped)
			fprintf(f, " %-10s", r->col[i].name);
	fprintf(f, "\n");
	for (size_t a = 0; a < audit_catalogue_len; a++) {
		fprintf(f, "%-58.58s", audit_catalogue[a].title);
		for (size_t i = 0; i < r->ncol; i++)
			if (!r->col[i].skipped)
				fprintf(f, " %-10s", short_name(r->col[i].cells[a].v));
		fprintf(f, "\n");
	}
	fprintf(f, "\nevidence:\n");
	for (size_t a = 0; a < audit_catalogue_len; a++) {
		fprintf(f, "%s (%s)\n", audit_catalogue[a].title, audit_catalogue[a].name);
		for (size_t i = 0; i < r->ncol; i++) {
			const struct audit_column *c = &r->col[i];
			if (c->skipped)
				continue;
			fprintf(f, "  %-10s %s: %s [%s]\n", c->name, audit_verdict_name(c->cells[a].v), c->cells[a].why,
				c->cells[a].evidence);
		}
	}
}

/* ---- JSON ------------------------------------------------------------------------- */
static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void w_json(FILE *f, const struct audit_report *r)
{
	fprintf(f, "{\n  \"image\": ");
	jstr(f, r->image);
	fprintf(f, ",\n  \"host\": ");
	jstr(f, r->host);
	fprintf(f, ",\n  \"started\": ");
	jstr(f, r->started);
	fprintf(f, ",\n  \"isolations\": [");
	for (size_t i = 0; i < r->ncol; i++) {
		const struct audit_column *c = &r->col[i];
		int k[4];
		counts(c, k);
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		jstr(f, c->name);
		fprintf(f, ", \"skipped\": %s, \"reason\": ", c->skipped ? "true" : "false");
		jstr(f, c->reason);
		fprintf(f, ", \"detail\": ");
		jstr(f, c->detail);
		fprintf(f, ", \"counts\": {\"contained\": %d, \"exposed\": %d, \"not applicable\": %d, \"could not run\": %d}}",
			k[0], k[1], k[2], k[3]);
	}
	fprintf(f, "\n  ],\n  \"attacks\": [");
	for (size_t a = 0; a < audit_catalogue_len; a++) {
		const struct audit_attack *at = &audit_catalogue[a];
		fprintf(f, "%s\n    {\"name\": ", a ? "," : "");
		jstr(f, at->name);
		fprintf(f, ", \"title\": ");
		jstr(f, at->title);
		fprintf(f, ", \"category\": ");
		jstr(f, at->category);
		fprintf(f, ",\n     \"description\": ");
		jstr(f, at->description);
		fprintf(f, ",\n     \"rationale\": ");
		jstr(f, at->rationale);
		fprintf(f, ",\n     \"results\": {");
		int first = 1;
		for (size_t i = 0; i < r->ncol; i++) {
			const struct audit_column *c = &r->col[i];
			if (c->skipped)
				continue;
			fprintf(f, "%s\n       ", first ? "" : ",");
			first = 0;
			jstr(f, c->name);
			fprintf(f, ": {\"verdict\": ");
			jstr(f, audit_verdict_name(c->cells[a].v));
			fprintf(f, ", \"why\": ");
			jstr(f, c->cells[a].why);
			fprintf(f, ", \"evidence\": ");
			jstr(f, c->cells[a].evidence);
			fprintf(f, "}");
		}
		fprintf(f, "}}");
	}
	fprintf(f, "\n  ],\n  \"vm_contains_all\": %s\n}\n", audit_exit_status(r) == 0 ? "true" : "false");
}

/* ---- HTML ------------------------------------------------------------------------- */
static void hstr(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
				fputc(*s, f);
			else
				fputc('?', f);
		}
	}
}

static const char *css_class(enum audit_verdict v)
{
	static const char *const c[] = { "ok", "bad", "na", "nr" };
	return c[v];
}

static void w_html(FILE *f, const struct audit_report *r)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>sandbox audit: ");
	hstr(f, r->image);
	fprintf(f, "</title>\n<style>\n"
		   "body{font-family:sans-serif;margin:1.5em;color:#222}\n"
		   "table{border-collapse:collapse;width:100%%}\n"
		   "th,td{border:1px solid #bbb;padding:.35em .5em;vertical-align:top;text-align:left}\n"
		   "th{background:#eee}\n"
		   "td.ok{background:#d9f2d9}td.bad{background:#f7c6c6;font-weight:bold}\n"
		   "td.na{background:#eee}td.nr{background:#fbeec1}\n"
		   "small,.ev{color:#555}.ev{font-family:monospace;font-size:.8em;word-break:break-all}\n"
		   "tr.cat th{background:#dde6f3}\n"
		   "</style></head><body>\n<h1>Isolation audit</h1>\n<p>");
	fprintf(f, "The same attacks, run as root from inside a sandbox of image <b>");
	hstr(f, r->image);
	fprintf(f, "</b>, in each isolation available on this host. <i>contained</i>: the host was not reached "
		   "(the reason says which wall held); <i>exposed</i>: the attack reached the host; <i>could not run</i>: "
		   "no verdict.</p>\n<p><small>Host: ");
	hstr(f, r->host);
	fprintf(f, "; run at ");
	hstr(f, r->started);
	fprintf(f, ".</small></p>\n<h2>Isolations</h2>\n<table id=\"isolations\"><tr><th>isolation</th><th>contained</th>"
		   "<th>exposed</th><th>not applicable</th><th>could not run</th><th>notes</th></tr>\n");
	for (size_t i = 0; i < r->ncol; i++) {
		const struct audit_column *c = &r->col[i];
		int k[4];
		counts(c, k);
		fprintf(f, "<tr><th>");
		hstr(f, c->name);
		if (c->skipped) {
			fprintf(f, "</th><td colspan=\"4\" class=\"na\">skipped</td><td>");
			hstr(f, c->reason);
		} else {
			fprintf(f, "</th><td>%d</td><td%s>%d</td><td>%d</td><td>%d</td><td>", k[0], k[1] ? " class=\"bad sum\"" : "",
				k[1], k[2], k[3]);
			hstr(f, c->detail);
		}
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</table>\n<h2>Attacks</h2>\n<table id=\"attacks\"><tr><th>attack</th>");
	for (size_t i = 0; i < r->ncol; i++)
		if (!r->col[i].skipped) {
			fprintf(f, "<th>");
			hstr(f, r->col[i].name);
			fprintf(f, "</th>");
		}
	fprintf(f, "</tr>\n");
	const char *cat = "";
	for (size_t a = 0; a < audit_catalogue_len; a++) {
		const struct audit_attack *at = &audit_catalogue[a];
		if (strcmp(cat, at->category)) {
			cat = at->category;
			fprintf(f, "<tr class=\"cat\"><th colspan=\"%zu\">", 1 + r->ncol);
			hstr(f, cat);
			fprintf(f, "</th></tr>\n");
		}
		fprintf(f, "<tr id=\"a-%s\"><td><b>", at->name);
		hstr(f, at->title);
		fprintf(f, "</b><br><small>");
		hstr(f, at->description);
		fprintf(f, " <i>Why it matters:</i> ");
		hstr(f, at->rationale);
		fprintf(f, "</small></td>");
		for (size_t i = 0; i < r->ncol; i++) {
			const struct audit_column *c = &r->col[i];
			if (c->skipped)
				continue;
			fprintf(f, "<td class=\"%s\">", css_class(c->cells[a].v));
			hstr(f, audit_verdict_name(c->cells[a].v));
			fprintf(f, "<br><small>");
			hstr(f, c->cells[a].why);
			fprintf(f, "</small><div class=\"ev\">");
			hstr(f, c->cells[a].evidence);
			fprintf(f, "</div></td>");
		}
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table>\n<p><small>Made by <code>sandbox audit</code>; attacks: <code>attacker/attacker.c</code>, "
		   "verdicts: <code>cli/audit_catalogue.c</code> (docs/audit.md).</small></p>\n</body></html>\n");
}

int audit_write(FILE *f, const struct audit_report *r, enum audit_format fmt, struct err *e)
{
	if (fmt == AUDIT_JSON)
		w_json(f, r);
	else if (fmt == AUDIT_HTML)
		w_html(f, r);
	else
		w_text(f, r);
	if (fflush(f) || ferror(f))
		return err_sys(e, "writing the report");
	return 0;
}
