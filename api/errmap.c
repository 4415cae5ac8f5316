/* The command line's errors as HTTP (api.h): the same message and exit
 * status, with the HTTP status its meaning calls for. Pure. */
#include "api.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

int errmap_http(const char *msg, int status)
{
	static const struct {
		const char *part;
		int http;
	} map[] = {
		{ "no such sandbox", 404 },
		{ "matches several sandboxes", 409 },
		{ "is not running", 409 },
		{ "is running: stop it first", 409 },
		{ "is in use", 409 },
		{ "did not stop", 500 },
		{ "no such image", 404 },
		{ "not found", 404 },
		{ "host limit", 429 },
		{ "refused", 403 },
		{ "unknown or incomplete option", 400 },
		{ "unexpected argument", 400 },
		{ "usage:", 400 },
		{ "is not a", 400 },
		{ "want ", 400 },
		{ "must be", 400 },
		{ "cannot be combined", 400 },
		{ "needs ", 400 },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(msg, map[i].part))
			return map[i].http;
	(void)status;
	return 500;
}

char *errmap_json(const char *msg, int status)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "status", json_object_new_int(status));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *r = s ? malloc(strlen(s) + 2) : NULL;
	if (r) {
		strcpy(r, s);
		strcat(r, "\n");
	}
	json_object_put(o);
	return r;
}
