/* Run defaults from the image config (json-c), and image names. */
#include "image.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool image_name_valid(const char *n)
{
	size_t len = strlen(n);
	return len && len < 200 && n[0] != '.' &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:@") == len;
}

static bool string_ok(json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	       strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
}

/* config.KEY: absent or null gives NULL; present, it must be a string (or
 * an array of strings), without NUL bytes. *out holds a reference. */
static int get_field(json_object *cfg, const char *key, bool array, json_object **out, struct err *e)
{
	json_object *v = NULL;
	*out = NULL;
	if (!cfg || !json_object_object_get_ex(cfg, key, &v) || !v)
		return 0;
	if (array) {
		if (!json_object_is_type(v, json_type_array))
			return err_set(e, "image config: %s is not an array of strings", key);
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!string_ok(json_object_array_get_idx(v, i)))
				return err_set(e, "image config: %s[%zu] is not a string", key, i);
	} else if (!string_ok(v)) {
		return err_set(e, "image config: %s is not a string", key);
	}
	*out = json_object_get(v);
	return 0;
}

/* Linux signal names, without "SIG". */
static const char *const signal_names[] = {
	"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV",
	"USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
	"URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS",
};

/* A decimal number without sign or leading zeros, LO..HI; S all digits. */
static bool number_in(const char *s, long lo, long hi)
{
	if (!isdigit((unsigned char)*s) || (s[0] == '0' && s[1]) || strlen(s) > 2 ||
	    strspn(s, "0123456789") != strlen(s))
		return false;
	long v = strtol(s, NULL, 10);
	return v >= lo && v <= hi;
}

bool stop_signal_valid(const char *s)
{
	if (number_in(s, 1, 64))
		return true;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
		if (!strcasecmp(s, signal_names[i]))
			return true;
	/* Realtime signals as systemd images name them: RTMIN+3, RTMAX-1. */
	if (!strcasecmp(s, "RTMIN") || !strcasecmp(s, "RTMAX"))
		return true;
	if ((!strncasecmp(s, "RTMIN+", 6) || !strncasecmp(s, "RTMAX-", 6)) && number_in(s + 6, 1, 30))
		return true;
	return false;
}

/* StopSignal reaches the host's state file and the agent: only a signal
 * name or number, nothing else (a newline would add a line there). */
static int check_stop_signal(json_object *v, struct err *e)
{
	if (!v)
		return 0;
	const char *s = json_object_get_string(v);
	if (stop_signal_valid(s))
		return 0;
	char shown[64];
	size_t n = 0;
	for (; *s && n + 4 < sizeof(shown); s++) /* control bytes shown as '?' */
		shown[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	shown[n] = '\0';
	return err_set(e, "image config: StopSignal '%s%s' is not a signal (a name like SIGTERM or TERM, or 1-64)",
		       shown, *s ? "..." : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ExposedPorts: an object whose keys are "80/tcp"...; a sorted array. */
static int get_ports(json_object *cfg, json_object *ports, struct err *e)
{
	json_object *ep = NULL;
	if (!cfg || !json_object_object_get_ex(cfg, "ExposedPorts", &ep) || !ep)
		return 0;
	if (!json_object_is_type(ep, json_type_object))
		return err_set(e, "image config: ExposedPorts is not an object");
	size_t n = (size_t)json_object_object_length(ep), i = 0;
	char **keys = calloc(n ? n : 1, sizeof(char *));
	if (!keys)
		return err_oom(e, "image config: ExposedPorts");
	json_object_object_foreach(ep, k, v) {
		(void)v;
		keys[i++] = k;
	}
	qsort(keys, n, sizeof(char *), cmp_str);
	for (i = 0; i < n; i++)
		json_object_array_add(ports, json_object_new_string(keys[i]));
	free(keys);
	return 0;
}

int config_defaults(const char *config_json, json_object **out, struct err *e)
{
	json_object *root = NULL, *cfg = NULL;
	if (config_json) {
		if (!(root = json_tokener_parse(config_json)) || !json_object_is_type(root, json_type_object)) {
			json_object_put(root);
			return err_set(e, "image config: not a JSON object");
		}
		if (json_object_object_get_ex(root, "config", &cfg) && cfg &&
		    !json_object_is_type(cfg, json_type_object)) {
			json_object_put(root);
			return err_set(e, "image config: config is not an object");
		}
	}
	json_object *o = json_object_new_object();
	if (!o) {
		json_object_put(root);
		return err_oom(e, "image config");
	}
	static const struct { const char *key; bool array; } fields[] = {
		{ "Entrypoint", true }, { "Cmd", true }, { "Env", true },
		{ "WorkingDir", false }, { "User", false }, { "StopSignal", false },
	};
	int rc = 0;
	for (size_t i = 0; i < ARRAY_SIZE(fields) && !rc; i++) {
		json_object *v;
		if (!(rc = get_field(cfg, fields[i].key, fields[i].array, &v, e)) &&
		    !strcmp(fields[i].key, "StopSignal") && (rc = check_stop_signal(v, e)))
			json_object_put(v);
		else if (!rc)
			json_object_object_add(o, fields[i].key, v);
	}
	json_object *ports = json_object_new_array();
	if (!ports && !rc)
		rc = err_oom(e, "image config");
	json_object_object_add(o, "ExposedPorts", ports);
	if (!rc)
		rc = get_ports(cfg, ports, e);
	json_object_put(root);
	if (rc) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}
