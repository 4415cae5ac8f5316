/* sandbox-runtime's config.json parser (config_int.h): each object's table
 * of keys and the typed getters. Every key is looked up in its object's
 * table: honoured (parsed into the struct), taken with a note (the guest's
 * own default applies: the note goes to the log), or refused. A key in no
 * table is an error naming it: an engine asking for something we do not
 * do must hear so. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config_int.h"

int cfg_note(struct oci_config *c, const char *path)
{
	for (unsigned i = 0; i < c->nnotes; i++)
		if (!strcmp(c->notes[i], path))
			return 0;
	if (c->nnotes < OCI_MAX_NOTES)
		snprintf(c->notes[c->nnotes++], sizeof(c->notes[0]), "%s", path);
	return 0;
}

static bool set(json_object *v)
{
	if (!v)
		return false;
	switch (json_object_get_type(v)) {
	case json_type_null: return false;
	case json_type_array: return json_object_array_length(v) > 0;
	case json_type_object: return json_object_object_length(v) > 0;
	case json_type_string: return json_object_get_string_len(v) > 0;
	default: return true;
	}
}

/* Check OBJ's keys against KEYS (PATH names OBJ in errors). */
int cfg_keys(struct oci_config *c, json_object *obj, const char *path, const struct key *keys, size_t n,
	     struct err *e)
{
	if (!json_object_is_type(obj, json_type_object))
		return err_set(e, "config.json: %s must be an object", path);
	json_object_object_foreach(obj, k, v) {
		size_t i = 0;
		while (i < n && strcmp(keys[i].name, k))
			i++;
		if (i == n)
			return err_set(e, "config.json: %s.%.80s: unknown or unsupported field", path, k);
		char full[96];
		snprintf(full, sizeof(full), "%s.%s", path, k);
		if (keys[i].what == NOTE || (keys[i].what == NOTE_IF_SET && set(v)))
			cfg_note(c, full);
		if (keys[i].what == REFUSE_IF_SET && set(v))
			return err_set(e, "config.json: %s: not supported by sandbox-runtime", full);
	}
	return 0;
}

int cfg_str(json_object *v, const char *path, const char **out, struct err *e)
{
	if (!json_object_is_type(v, json_type_string))
		return err_set(e, "config.json: %s must be a string", path);
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return err_set(e, "config.json: %s holds a NUL byte", path);
	*out = json_object_get_string(v);
	return 0;
}

int cfg_int(json_object *v, const char *path, int64_t min, int64_t max, int64_t *out, struct err *e)
{
	if (!json_object_is_type(v, json_type_int))
		return err_set(e, "config.json: %s must be an integer", path);
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno || x < min || x > max) {
		/* a uint64 above INT64_MAX (json-c keeps those apart) */
		if (max == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
			return err_set(e, "config.json: %s is out of range", path);
		return err_set(e, "config.json: %s is out of range (%lld to %lld)", path, (long long)min, (long long)max);
	}
	*out = x;
	return 0;
}

int cfg_bool(json_object *v, const char *path, bool *out, struct err *e)
{
	if (!json_object_is_type(v, json_type_boolean))
		return err_set(e, "config.json: %s must be true or false", path);
	*out = json_object_get_boolean(v);
	return 0;
}

/* An array of strings into OUT (at most MAX). */
int cfg_strs(json_object *v, const char *path, const char **out, unsigned *n, unsigned max, struct err *e)
{
	if (!json_object_is_type(v, json_type_array))
		return err_set(e, "config.json: %s must be an array of strings", path);
	size_t len = json_object_array_length(v);
	if (len > max)
		return err_set(e, "config.json: %s: more than %u entries", path, max);
	for (size_t i = 0; i < len; i++) {
		char p[64];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (cfg_str(json_object_array_get_idx(v, i), p, &out[i], e))
			return -1;
	}
	*n = (unsigned)len;
	return 0;
}
