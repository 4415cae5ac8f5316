/* Request bodies (api.h): JSON from the client, checked once here and
 * turned into the command line's arguments, every value in the
 * "--option=VALUE" form (so no value is ever taken for an option), the
 * image and the ID checked not to start with '-'. Unknown keys, wrong
 * types, NUL bytes inside strings and oversized lists are refused with
 * one line saying which. Pure: fuzzed (tests/fuzz/fuzz_api.c). */
#include "api.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX_STR 65536

int argv_add(struct argv_buf *a, const char *s, struct err *e)
{
	size_t n = strlen(s) + 1;
	if (a->n >= API_MAX_ARGS)
		return err_set(e, "too many arguments (at most %d)", API_MAX_ARGS);
	if (n > sizeof(a->store) - a->used)
		return err_set(e, "the request's strings are too long together (at most %zu bytes)", sizeof(a->store));
	memcpy(a->store + a->used, s, n);
	a->v[a->n++] = a->store + a->used;
	a->v[a->n] = NULL;
	a->used += n;
	return 0;
}

int argv_addf(struct argv_buf *a, struct err *e, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return err_oom(e, "request");
	r = argv_add(a, s, e);
	free(s);
	return r;
}

bool query_value_ok(const char *v)
{
	size_t n = strlen(v);
	if (!n || n > 256)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	return true;
}

/* A string member: no NUL inside, at most BODY_MAX_STR bytes. */
static int get_str(json_object *v, const char *key, const char **out, struct err *e)
{
	if (!json_object_is_type(v, json_type_string))
		return err_set(e, "'%s' must be a string", key);
	const char *s = json_object_get_string(v);
	int len = json_object_get_string_len(v);
	if (len < 0 || (size_t)len != strlen(s))
		return err_set(e, "'%s' holds a NUL character", key);
	if (len > BODY_MAX_STR)
		return err_set(e, "'%s' is longer than %d bytes", key, BODY_MAX_STR);
	*out = s;
	return 0;
}

/* A list of strings, each added to A after PREFIX ("--env=" ...; NULL:
 * as they are). */
static int add_list(json_object *v, const char *key, const char *prefix, struct argv_buf *a, struct err *e)
{
	if (!json_object_is_type(v, json_type_array))
		return err_set(e, "'%s' must be an array of strings", key);
	size_t n = json_object_array_length(v);
	if (n > 256)
		return err_set(e, "'%s' has more than 256 entries", key);
	for (size_t i = 0; i < n; i++) {
		const char *s;
		if (get_str(json_object_array_get_idx(v, i), key, &s, e))
			return -1;
		if (prefix ? argv_addf(a, e, "%s%s", prefix, s) : argv_add(a, s, e))
			return -1;
	}
	return 0;
}

static json_object *parse_object(const char *json, size_t len, struct err *e)
{
	if (len > (1u << 20)) {
		err_set(e, "the request body is larger than 1 MiB");
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(32);
	if (!tok) {
		err_oom(e, "request");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t used = (size_t)json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || je != json_tokener_success) {
		if (o)
			json_object_put(o);
		err_set(e, "the request body is not JSON (%s)", je == json_tokener_continue ? "it ends too soon" : json_tokener_error_desc(je));
		return NULL;
	}
	for (; used < len; used++)
		if (!isspace((unsigned char)json[used])) {
			json_object_put(o);
			err_set(e, "the request body has more after its JSON value");
			return NULL;
		}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		err_set(e, "the request body must be a JSON object");
		return NULL;
	}
	return o;
}

/* The keys of create that are one "--opt=VALUE" each. */
static const struct {
	const char *key, *opt;
} create_opts[] = {
	{ "name", "--name" }, { "workdir", "--workdir" }, { "user", "--user" }, { "hostname", "--hostname" },
	{ "cpus", "--cpus" }, { "memory", "--memory" }, { "pids_limit", "--pids-limit" },
	{ "network", "--network" }, { "storage", "--storage" }, { "timeout", "--timeout" }, { "ttl", "--ttl" },
	{ "isolation", "--isolation" }, { "log_driver", "--log-driver" },
};

int body_create(const char *json, size_t len, struct argv_buf *a, struct err *e)
{
	json_object *o = parse_object(json, len, e);
	if (!o)
		return -1;
	int r = -1;
	const char *image = NULL;
	json_object *cmd = NULL;
	if (argv_add(a, "run", e) || argv_add(a, "-d", e))
		goto out;
	json_object_object_foreach(o, key, v) {
		size_t k;
		for (k = 0; k < sizeof(create_opts) / sizeof(create_opts[0]); k++)
			if (!strcmp(key, create_opts[k].key))
				break;
		if (k < sizeof(create_opts) / sizeof(create_opts[0])) {
			const char *s;
			char num[32];
			if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
				/* numbers are welcome where the option takes one */
				snprintf(num, sizeof(num), "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
				s = num;
			} else if (get_str(v, key, &s, e)) {
				goto out;
			}
			if (argv_addf(a, e, "%s=%s", create_opts[k].opt, s))
				goto out;
		} else if (!strcmp(key, "image")) {
			if (get_str(v, key, &image, e))
				goto out;
		} else if (!strcmp(key, "cmd")) {
			cmd = v;
			if (!json_object_is_type(v, json_type_array)) {
				err_set(e, "'cmd' must be an array of strings");
				goto out;
			}
		} else if (!strcmp(key, "env")) {
			if (add_list(v, key, "--env=", a, e))
				goto out;
		} else if (!strcmp(key, "volumes")) {
			if (add_list(v, key, "--volume=", a, e))
				goto out;
		} else if (!strcmp(key, "log_opts")) {
			if (add_list(v, key, "--log-opt=", a, e))
				goto out;
		} else if (!strcmp(key, "rm") || !strcmp(key, "read_only") || !strcmp(key, "init")) {
			if (!json_object_is_type(v, json_type_boolean)) {
				err_set(e, "'%s' must be true or false", key);
				goto out;
			}
			if (json_object_get_boolean(v) &&
			    argv_add(a, !strcmp(key, "rm") ? "--rm" : !strcmp(key, "init") ? "--init" : "--read-only", e))
				goto out;
		} else {
			err_set(e, "unknown key '%.64s' in the request body", key);
			goto out;
		}
	}
	if (!image || !*image) {
		err_set(e, "'image' is missing");
		goto out;
	}
	if (image[0] == '-') {
		err_set(e, "'image' must not start with '-'");
		goto out;
	}
	if (argv_add(a, image, e) || (cmd && add_list(cmd, "cmd", NULL, a, e)))
		goto out;
	r = 0;
out:
	json_object_put(o);
	return r;
}

int body_exec(const char *json, size_t len, const char *id, struct argv_buf *a, char **stdin_data,
	      size_t *stdin_len, struct err *e)
{
	*stdin_data = NULL;
	*stdin_len = 0;
	json_object *o = parse_object(json, len, e);
	if (!o)
		return -1;
	int r = -1;
	json_object *cmd = NULL;
	if (argv_add(a, "exec", e))
		goto out;
	json_object_object_foreach(o, key, v) {
		const char *s;
		if (!strcmp(key, "cmd")) {
			cmd = v;
			if (!json_object_is_type(v, json_type_array) || !json_object_array_length(v)) {
				err_set(e, "'cmd' must be a non-empty array of strings");
				goto out;
			}
		} else if (!strcmp(key, "env")) {
			if (add_list(v, key, "--env=", a, e))
				goto out;
		} else if (!strcmp(key, "workdir") || !strcmp(key, "user")) {
			if (get_str(v, key, &s, e) || argv_addf(a, e, "--%s=%s", key, s))
				goto out;
		} else if (!strcmp(key, "stdin")) {
			if (!json_object_is_type(v, json_type_string)) {
				err_set(e, "'stdin' must be a string");
				goto out;
			}
			int n = json_object_get_string_len(v);
			*stdin_data = malloc((size_t)n + 1);
			if (!*stdin_data) {
				err_oom(e, "stdin");
				goto out;
			}
			memcpy(*stdin_data, json_object_get_string(v), (size_t)n);
			*stdin_len = (size_t)n;
			if (argv_add(a, "-i", e))
				goto out;
		} else {
			err_set(e, "unknown key '%.64s' in the request body", key);
			goto out;
		}
	}
	if (!cmd) {
		err_set(e, "'cmd' is missing");
		goto out;
	}
	if (id[0] == '-') {
		err_set(e, "bad sandbox id");
		goto out;
	}
	if (argv_add(a, id, e) || add_list(cmd, "cmd", NULL, a, e))
		goto out;
	r = 0;
out:
	json_object_put(o);
	if (r) {
		free(*stdin_data);
		*stdin_data = NULL;
	}
	return r;
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int form_get(const char *body, size_t len, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		if ((size_t)(pe - p) > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;
			for (const char *q = p + klen + 1; q < pe; q++) {
				char c = *q;
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					if (pe - q < 3 || unhex(q[1]) < 0 || unhex(q[2]) < 0)
						return -1;
					c = (char)(unhex(q[1]) * 16 + unhex(q[2]));
					q += 2;
				}
				if (!c || n + 1 >= outlen)
					return -1;
				out[n++] = c;
			}
			out[n] = '\0';
			return 0;
		}
		p = pe + 1;
	}
	return -1;
}
