/* The API's sandbox resources (http.h), each the command line's answer:
 *   GET /v1/sandboxes (ps), POST /v1/sandboxes (run -d), GET, DELETE
 *   /v1/sandboxes/ID (inspect, rm), POST .../stop, .../kill, .../exec,
 *   GET .../logs, .../stats; GET /v1/stats, /v1/events, /v1/host and
 *   /metrics (stats in JSON or Prometheus text). */
#include "http.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* {"id": ID} with status CODE (ARG: struct id_answer). */
struct id_answer {
	int code;
	const char *id;         /* NULL: the command's first line of output */
};

static enum MHD_Result id_ok(struct MHD_Connection *c, struct spawn_result *r, void *arg)
{
	const struct id_answer *a = arg;
	const char *id = a->id;
	if (!id) {
		r->out[strcspn(r->out, "\n")] = '\0';
		id = r->out;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	enum MHD_Result ret = send_json(c, a->code, dupstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
	json_object_put(o);
	return ret;
}

/* An action on the request's sandbox whose answer is {"id": ID}. */
static enum MHD_Result run_action(struct MHD_Connection *c, char **argv, const char *id)
{
	struct id_answer a = { 200, id };
	return run_cli(c, argv, -1, id_ok, &a);
}

enum MHD_Result h_list(struct MHD_Connection *c, struct req *q)
{
	(void)q;
	char *argv[] = { "ps", "--format=json", qtrue(c, "all") ? "-a" : NULL, NULL };
	return run_simple(c, argv, 200, "application/json");
}

enum MHD_Result h_create(struct MHD_Connection *c, struct req *q)
{
	struct err e;
	struct argv_buf *a = calloc(1, sizeof(*a));
	if (!a)
		return MHD_NO;
	if (body_create(q->body ? q->body : "", q->len, a, &e)) {
		free(a);
		return send_error(c, 400, e.msg, 125);
	}
	struct id_answer ans = { 201, NULL };
	enum MHD_Result ret = run_cli(c, a->v, -1, id_ok, &ans);
	free(a);
	return ret;
}

/* The first element of the command's JSON array. */
static enum MHD_Result first_ok(struct MHD_Connection *c, struct spawn_result *r, void *arg)
{
	(void)arg;
	json_object *a = json_tokener_parse(r->out);
	json_object *o = a && json_object_is_type(a, json_type_array) ? json_object_array_get_idx(a, 0) : NULL;
	enum MHD_Result ret;
	if (!o)
		ret = send_error(c, 500, "the command line's answer was not a JSON array", 125);
	else
		ret = send_json(c, 200, dupstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
	if (a)
		json_object_put(a);
	return ret;
}

enum MHD_Result h_inspect(struct MHD_Connection *c, struct req *q)
{
	char *argv[] = { "inspect", q->m.id, NULL };
	return run_cli(c, argv, -1, first_ok, NULL);
}

enum MHD_Result h_stats_one(struct MHD_Connection *c, struct req *q)
{
	char *argv[] = { "stats", "--no-stream", "--format=json", "-a", q->m.id, NULL };
	return run_cli(c, argv, -1, first_ok, NULL);
}

enum MHD_Result h_stats(struct MHD_Connection *c, struct req *q)
{
	(void)q;
	char ivbuf[300], *iv;
	if (!qopt(c, "interval", "--interval", "500", ivbuf, &iv))
		return bad_query(c, "interval");
	char *argv[] = { "stats", "--no-stream", "--format=json", iv, qtrue(c, "all") ? "-a" : NULL, NULL };
	return run_simple(c, argv, 200, "application/json");
}

enum MHD_Result h_metrics(struct MHD_Connection *c, struct req *q)
{
	(void)q;
	char *argv[] = { "stats", "--no-stream", "--format=prometheus", "--interval=0", "-a", NULL };
	return run_simple(c, argv, 200, "text/plain; version=0.0.4; charset=utf-8");
}

enum MHD_Result h_remove(struct MHD_Connection *c, struct req *q)
{
	char *argv[] = { "rm", qtrue(c, "force") ? "-f" : "--", q->m.id, NULL };
	return run_action(c, argv, q->m.id);
}

/* stop and kill: CMD with query parameter KEY as its option OPT (DFLT
 * when absent) on the request's sandbox. */
static enum MHD_Result option_action(struct MHD_Connection *c, struct req *q, char *cmd, const char *key,
				     const char *opt, const char *dflt)
{
	char buf[300], *arg;
	if (!qopt(c, key, opt, dflt, buf, &arg))
		return bad_query(c, key);
	char *argv[] = { cmd, arg, "--", q->m.id, NULL };
	return run_action(c, argv, q->m.id);
}

enum MHD_Result h_stop(struct MHD_Connection *c, struct req *q)
{
	return option_action(c, q, "stop", "t", "--time", "10");
}

enum MHD_Result h_kill(struct MHD_Connection *c, struct req *q)
{
	return option_action(c, q, "kill", "signal", "--signal", "KILL");
}

enum MHD_Result h_exec(struct MHD_Connection *c, struct req *q)
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
	enum MHD_Result ret = stream_exec(c, a->v, infd);
	free(a);
	if (infd >= 0)
		close(infd);
	return ret;
}

enum MHD_Result h_logs(struct MHD_Connection *c, struct req *q)
{
	static const struct { const char *key, *opt; } opts[] = {
		{ "tail", "--tail" }, { "since", "--since" }, { "until", "--until" },
	};
	char *argv[16], buf[3][300];
	int n = 0;
	argv[n++] = "logs";
	argv[n++] = "--format=json";
	for (size_t i = 0; i < 3; i++) {
		char *arg;
		if (!qopt(c, opts[i].key, opts[i].opt, NULL, buf[i], &arg))
			return bad_query(c, opts[i].key);
		if (arg)
			argv[n++] = arg;
	}
	if (qtrue(c, "follow"))
		argv[n++] = "-f";
	argv[n++] = "--";
	argv[n++] = q->m.id;
	argv[n] = NULL;
	return stream_cmd(c, argv, -1, "application/x-ndjson");
}

enum MHD_Result h_events(struct MHD_Connection *c, struct req *q)
{
	(void)q;
	char *argv[8], buf[300], *since;
	int n = 0;
	argv[n++] = "events";
	argv[n++] = "--format=json";
	if (!qopt(c, "since", "--since", NULL, buf, &since))
		return bad_query(c, "since");
	if (since)
		argv[n++] = since;
	if (qtrue(c, "follow"))
		argv[n++] = "-f";
	argv[n] = NULL;
	return stream_cmd(c, argv, -1, "application/x-ndjson");
}

/* The host's figures beside the totals of every sandbox's stats. */
static enum MHD_Result host_ok(struct MHD_Connection *c, struct spawn_result *r, void *arg)
{
	(void)arg;
	long long running = 0, total = 0, pss = 0;
	json_object *a = json_tokener_parse(r->out);
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

enum MHD_Result h_host(struct MHD_Connection *c, struct req *q)
{
	(void)q;
	char *argv[] = { "stats", "--no-stream", "--format=json", "--interval=0", "-a", NULL };
	return run_cli(c, argv, -1, host_ok, NULL);
}
