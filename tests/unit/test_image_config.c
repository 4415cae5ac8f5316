/* Unit tests for rootfs/config.c: run defaults from an image config (good
 * configs, absent fields, fields of the wrong JSON type) and image names. */
#include "unit.h"

#include <json-c/json.h>

#include "../../rootfs/image.h"

/* The run defaults of CONFIG as compact JSON; fails the test on error. */
static char *defaults(const char *config)
{
	struct err e = { 0 };
	json_object *o = NULL;
	if (config_defaults(config, &o, &e))
		fail_msg("config_defaults: %s", e.msg);
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

/* CONFIG must be refused with an error holding WANT. */
static void refused(const char *config, const char *want)
{
	struct err e = { 0 };
	json_object *o = NULL;
	if (!config_defaults(config, &o, &e)) {
		json_object_put(o);
		fail_msg("accepted: %s", config);
	}
	if (!strstr(e.msg, want))
		fail_msg("config %s: error '%s' lacks '%s'", config, e.msg, want);
	assert_null(o);
}

static void test_config_full(void **state)
{
	(void)state;
	char *s = defaults("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
			   "\"Entrypoint\":[\"/bin/tool\",\"-x\"],\"Cmd\":[\"-v\"],"
			   "\"Env\":[\"PATH=/bin\",\"A=b c\"],\"WorkingDir\":\"/home/u\","
			   "\"User\":\"1000:1000\",\"StopSignal\":\"SIGINT\","
			   "\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{},\"443/tcp\":{}},"
			   "\"Labels\":{\"x\":\"y\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
	assert_string_equal(s, "{\"Entrypoint\":[\"/bin/tool\",\"-x\"],\"Cmd\":[\"-v\"],"
			       "\"Env\":[\"PATH=/bin\",\"A=b c\"],\"WorkingDir\":\"/home/u\","
			       "\"User\":\"1000:1000\",\"StopSignal\":\"SIGINT\","
			       "\"ExposedPorts\":[\"443/tcp\",\"53/udp\",\"8080/tcp\"]}");
	free(s);
}

static const char empty[] = "{\"Entrypoint\":null,\"Cmd\":null,\"Env\":null,\"WorkingDir\":null,"
			    "\"User\":null,\"StopSignal\":null,\"ExposedPorts\":[]}";

static void test_config_missing_fields(void **state)
{
	(void)state;
	const char *cases[] = {
		NULL,                                   /* rootfs inputs: no config at all */
		"{}",                                   /* no "config" */
		"{\"config\":null}",
		"{\"config\":{}}",
		"{\"config\":{\"Cmd\":null,\"Entrypoint\":null,\"ExposedPorts\":null,\"User\":null}}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *s = defaults(cases[i]);
		if (strcmp(s, empty))
			fail_msg("config %s gave %s", cases[i] ? cases[i] : "(none)", s);
		free(s);
	}
	char *s = defaults("{\"config\":{\"Cmd\":[],\"ExposedPorts\":{}}}");
	assert_non_null(strstr(s, "\"Cmd\":[]"));
	free(s);
}

static void test_config_wrong_types(void **state)
{
	(void)state;
	refused("", "not a JSON object");
	refused("not json", "not a JSON object");
	refused("[1,2]", "not a JSON object");
	refused("\"config\"", "not a JSON object");
	refused("{\"config\":[]}", "config is not an object");
	refused("{\"config\":\"x\"}", "config is not an object");
	refused("{\"config\":{\"Cmd\":\"sh\"}}", "Cmd is not an array of strings");
	refused("{\"config\":{\"Cmd\":[\"sh\",1]}}", "Cmd[1] is not a string");
	refused("{\"config\":{\"Entrypoint\":[null]}}", "Entrypoint[0] is not a string");
	refused("{\"config\":{\"Env\":{\"A\":\"b\"}}}", "Env is not an array of strings");
	refused("{\"config\":{\"Env\":[[\"A=b\"]]}}", "Env[0] is not a string");
	refused("{\"config\":{\"WorkingDir\":5}}", "WorkingDir is not a string");
	refused("{\"config\":{\"WorkingDir\":[\"/\"]}}", "WorkingDir is not a string");
	refused("{\"config\":{\"User\":1000}}", "User is not a string");
	refused("{\"config\":{\"StopSignal\":15}}", "StopSignal is not a string");
	refused("{\"config\":{\"ExposedPorts\":[\"80/tcp\"]}}", "ExposedPorts is not an object");
	/* A NUL byte would end a runconf record early. */
	refused("{\"config\":{\"Cmd\":[\"a\\u0000b\"]}}", "Cmd[0] is not a string");
	refused("{\"config\":{\"User\":\"root\\u0000x\"}}", "User is not a string");
}

/* StopSignal reaches the host's state file ("stop_signal=%s\n") and the
 * agent: a newline in it once injected state lines (issue 13, finding 3). */
static void test_config_stop_signal(void **state)
{
	(void)state;
	const char *good[] = { "SIGTERM", "TERM", "sigterm", "term", "SigInt", "KILL", "SIGRTMIN+3",
			       "RTMAX-1", "SIGRTMIN", "1", "15", "64" };
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		char cfg[128];
		snprintf(cfg, sizeof(cfg), "{\"config\":{\"StopSignal\":\"%s\"}}", good[i]);
		char *s = defaults(cfg);
		if (!strstr(s, good[i]))
			fail_msg("StopSignal %s gave %s", good[i], s);
		free(s);
	}
	const char *bad[] = {
		"\\ntap=victimtap", "SIGTERM\\ntap=victimtap", "TERM\\n", "\\tTERM", "TERM\\r",
		"SIGTERM\\u0001", "", "SIG", "SIGFOO", "0", "65", "100", "-15", "+15", "015", "15x",
		"1e1", " TERM", "TERM ", "SIGRTMIN+31", "RTMIN+0", "RTMIN+", "RTMIN-1", "SIGSIGTERM",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char cfg[128];
		snprintf(cfg, sizeof(cfg), "{\"config\":{\"StopSignal\":\"%s\"}}", bad[i]);
		refused(cfg, "StopSignal");
	}
	/* The message is one line: control bytes are not echoed. */
	struct err e = { 0 };
	json_object *o = NULL;
	assert_int_equal(config_defaults("{\"config\":{\"StopSignal\":\"\\ntap=victimtap\"}}", &o, &e), -1);
	assert_null(strchr(e.msg, '\n'));
	assert_non_null(strstr(e.msg, "is not a signal"));
	assert_false(stop_signal_valid("TERM\n"));
	assert_true(stop_signal_valid("SIGHUP"));
}

static void test_image_names(void **state)
{
	(void)state;
	const char *good[] = { "busybox", "debian", "a", "my-image_1.0", "img:v1", "x@sha256",
			       "UPPER", "a..b" };
	const char *bad[] = { "", ".", "..", ".hidden", "a/b", "../evil", "/abs", "a b", "a\nb",
			      "tab\t", "semi;colon", "ünïcode", "star*" };
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!image_name_valid(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (image_name_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	char longname[256];
	memset(longname, 'a', sizeof(longname));
	longname[199] = '\0';
	assert_true(image_name_valid(longname));
	longname[199] = 'a';
	longname[200] = '\0';
	assert_false(image_name_valid(longname));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_full),
		cmocka_unit_test(test_config_missing_fields),
		cmocka_unit_test(test_config_wrong_types),
		cmocka_unit_test(test_config_stop_signal),
		cmocka_unit_test(test_image_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
