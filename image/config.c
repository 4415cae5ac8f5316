/* Run defaults from the image config (json-c). */
#include "image.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static json_object *copy_or_null(json_object *cfg, const char *key, json_type type)
{
	json_object *v;
	if (!cfg || !json_object_object_get_ex(cfg, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return json_tokener_parse(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int config_defaults(const char *config_json, json_object **out, struct err *e)
{
	json_object *root = NULL, *cfg = NULL;
	if (config_json) {
		if (!(root = json_tokener_parse(config_json)) || !json_object_is_type(root, json_type_object)) {
			json_object_put(root);
			return err_set(e, "image config: not a JSON object");
		}
		json_object_object_get_ex(root, "config", &cfg);
	}
	json_object *o = json_object_new_object();
	static const struct { const char *key; json_type type; } fields[] = {
		{ "Entrypoint", json_type_array }, { "Cmd", json_type_array },
		{ "Env", json_type_array }, { "WorkingDir", json_type_string },
		{ "User", json_type_string }, { "StopSignal", json_type_string },
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		json_object_object_add(o, fields[i].key, copy_or_null(cfg, fields[i].key, fields[i].type));
	json_object *ports = json_object_new_array(), *ep;
	if (cfg && json_object_object_get_ex(cfg, "ExposedPorts", &ep) &&
	    json_object_is_type(ep, json_type_object)) {
		size_t n = 0, i = 0;
		json_object_object_foreach(ep, k0, v0) {
			(void)k0, (void)v0;
			n++;
		}
		char **keys = calloc(n ? n : 1, sizeof(char *));
		if (!keys)
			abort();
		json_object_object_foreach(ep, k, v) {
			(void)v;
			keys[i++] = k;
		}
		qsort(keys, n, sizeof(char *), cmp_str);
		for (i = 0; i < n; i++)
			json_object_array_add(ports, json_object_new_string(keys[i]));
		free(keys);
	}
	json_object_object_add(o, "ExposedPorts", ports);
	json_object_put(root);
	*out = o;
	return 0;
}
