/* Files in and out of a sandbox (http.h): GET and PUT
 * /v1/sandboxes/ID/archive?path=P, a tar stream as `sandbox cp` reads and
 * writes it (docs/cp.md). A PUT's body was kept in a memfd as it came
 * (server.c), at most ARCHIVE_MAX bytes. */
#include "http.h"

#include <stdio.h>
#include <unistd.h>

/* "ID:PATH" for cp, from the request's id and its path parameter: false
 * (answered) if the path is not an absolute one. */
static bool cp_ref(struct MHD_Connection *c, struct req *q, char ref[400], enum MHD_Result *answer)
{
	const char *path = qarg(c, "path");
	if (!path || !query_value_ok(path) || path[0] != '/') {
		*answer = send_error(c, 400, "query parameter 'path': want an absolute path in the sandbox", 125);
		return false;
	}
	snprintf(ref, 400, "%s:%s", q->m.id, path);
	return true;
}

enum MHD_Result h_archive_get(struct MHD_Connection *c, struct req *q)
{
	char ref[400];
	enum MHD_Result answer;
	if (!cp_ref(c, q, ref, &answer))
		return answer;
	char *argv[] = { "cp", "--", ref, "-", NULL };
	return stream_cmd(c, argv, -1, "application/x-tar");
}

static enum MHD_Result put_ok(struct MHD_Connection *c, struct spawn_result *r, void *arg)
{
	(void)r;
	(void)arg;
	return send_json(c, 200, dupstr("{}\n"));
}

enum MHD_Result h_archive_put(struct MHD_Connection *c, struct req *q)
{
	char ref[400];
	enum MHD_Result answer;
	if (!cp_ref(c, q, ref, &answer))
		return answer;
	if (q->too_big)
		return send_errorf(c, 413, "the archive is larger than %llu bytes", (unsigned long long)ARCHIVE_MAX);
	if (q->memfd < 0 || lseek(q->memfd, 0, SEEK_SET))
		return send_error(c, 400, "no archive in the request body", 125);
	char *argv[] = { "cp", "--", "-", ref, NULL };
	return run_cli(c, argv, q->memfd, put_ok, NULL);
}
