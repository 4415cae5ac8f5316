/* libFuzzer target: what a client of `sandbox serve` sends, parsed by the
 * server's pure code: the request body as create's and exec's JSON
 * (api/body.c, json-c underneath), as a form (the dashboard's login and
 * CSRF fields), and the path through the router (api/route.c). Nothing
 * may read or write out of bounds; every argument made is a string in
 * the buffer; no value becomes an option (the image and the id never
 * start with '-', every option is "--name=value"); a routed id is one. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

static struct argv_buf a;

static void check_argv(void)
{
	assert(a.n <= API_MAX_ARGS && !a.v[a.n]);
	for (int i = 0; i < a.n; i++)
		assert(a.v[i] >= a.store && a.v[i] < a.store + sizeof(a.store));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct err e;
	memset(&a, 0, offsetof(struct argv_buf, store));
	if (!body_create(s, size, &a, &e)) {
		check_argv();
		assert(!strcmp(a.v[0], "run") && !strcmp(a.v[1], "-d"));
		int i = 2;
		while (i < a.n && a.v[i][0] == '-') {
			assert(!strcmp(a.v[i], "--rm") || !strcmp(a.v[i], "--init") || !strcmp(a.v[i], "--read-only") ||
			       (a.v[i][1] == '-' && strchr(a.v[i], '=')));
			i++;
		}
		assert(i < a.n);        /* the image, not an option */
	}
	memset(&a, 0, offsetof(struct argv_buf, store));
	char *in = NULL;
	size_t in_len;
	if (!body_exec(s, size, "web", &a, &in, &in_len, &e)) {
		check_argv();
		free(in);
	}
	char out[256];
	form_get(s, size, "token", out, sizeof(out));
	char *path = malloc(size + 1);
	if (path) {
		memcpy(path, data, size);
		path[size] = '\0';
		struct route_match m;
		route_match("GET", path, &m);
		if (m.id[0])
			assert(m.id[0] != '-' && !strchr(m.id, '/') && strlen(m.id) <= 64);
		free(path);
	}
	return 0;
}
