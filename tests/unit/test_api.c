/* The API server's pure parts (api/route.c, body.c, errmap.c): routes and
 * their methods, request bodies to the command line's arguments (never an
 * option smuggled in a value), forms, errors as HTTP. */
#include "unit.h"

#include <json-c/json.h>

#include "../../api/api.h"

static void test_routes(void **state)
{
	(void)state;
	struct route_match m;
	route_match("GET", "/v1/sandboxes", &m);
	assert_int_equal(m.r, R_LIST);
	route_match("POST", "/v1/sandboxes", &m);
	assert_int_equal(m.r, R_CREATE);
	route_match("DELETE", "/v1/sandboxes", &m);
	assert_int_equal(m.r, R_NONE);
	assert_true(m.bad_method);
	assert_string_equal(m.allow, "GET, POST");
	route_match("GET", "/v1/sandboxes/web-1", &m);
	assert_int_equal(m.r, R_INSPECT);
	assert_string_equal(m.id, "web-1");
	route_match("DELETE", "/v1/sandboxes/0123abcd", &m);
	assert_int_equal(m.r, R_REMOVE);
	route_match("POST", "/v1/sandboxes/x/exec", &m);
	assert_int_equal(m.r, R_EXEC);
	route_match("GET", "/v1/sandboxes/x/exec", &m);
	assert_int_equal(m.r, R_NONE);
	assert_true(m.bad_method);
	route_match("PUT", "/v1/sandboxes/x/archive", &m);
	assert_int_equal(m.r, R_ARCHIVE_PUT);
	route_match("GET", "/v1/sandboxes/x/archive", &m);
	assert_int_equal(m.r, R_ARCHIVE_GET);
	route_match("POST", "/ui/abc/stop", &m);
	assert_int_equal(m.r, R_ACTION);
	assert_string_equal(m.arg, "stop");
	route_match("GET", "/static/app.js", &m);
	assert_int_equal(m.r, R_STATIC);
	/* not ids, not files */
	static const char *const none[] = { "/v1/sandboxes/-rf", "/v1/sandboxes/a b", "/v1/sandboxes/..",
					    "/v1/sandboxes/x/../y", "/v1/nope", "/static/../etc/passwd", "/ui/x/exec",
					    "/v1/sandboxes/x/stop/more", "" };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		route_match("GET", none[i], &m);
		assert_int_equal(m.r, R_NONE);
		assert_false(m.bad_method);
	}
	char longid[100];
	memset(longid, 'a', sizeof(longid));
	memcpy(longid, "/v1/sandboxes/", 14);
	longid[99] = '\0';
	route_match("GET", longid, &m);
	assert_int_equal(m.r, R_NONE);
}

static struct argv_buf *fresh(void)
{
	static struct argv_buf a;
	memset(&a, 0, sizeof(a));
	return &a;
}

static void test_create(void **state)
{
	(void)state;
	struct argv_buf *a = fresh();
	struct err e;
	const char *ok = "{\"image\":\"busybox\",\"name\":\"w\",\"cmd\":[\"sh\",\"-c\",\"echo --rm\"],\"env\":[\"A=1\"],"
			 "\"memory\":\"256m\",\"cpus\":2,\"rm\":true,\"isolation\":\"container\",\"ttl\":\"10m\"}";
	assert_int_equal(body_create(ok, strlen(ok), a, &e), 0);
	const char *want[] = { "run", "-d", "--name=w", "--env=A=1", "--memory=256m", "--cpus=2", "--rm",
			       "--isolation=container", "--ttl=10m", "busybox", "sh", "-c", "echo --rm", NULL };
	for (int i = 0; want[i]; i++)
		assert_string_equal(a->v[i], want[i]);
	assert_null(a->v[13]);
	/* refused */
	static const struct {
		const char *body, *msg;
	} bad[] = {
		{ "", "not JSON" },
		{ "[]", "must be a JSON object" },
		{ "{\"image\":\"b\"} x", "not JSON" },
		{ "{\"cmd\":[\"x\"]}", "'image' is missing" },
		{ "{\"image\":\"--privileged\"}", "must not start with '-'" },
		{ "{\"image\":\"b\",\"privileged\":true}", "unknown key 'privileged'" },
		{ "{\"image\":\"b\",\"name\":[1]}", "'name' must be a string" },
		{ "{\"image\":\"b\",\"cmd\":\"ls\"}", "'cmd' must be an array" },
		{ "{\"image\":\"b\",\"cmd\":[1]}", "'cmd' must be a string" },
		{ "{\"image\":\"b\\u0000x\"}", "NUL" },
		{ "{\"image\":\"b\",\"rm\":1}", "true or false" },
		{ "{\"image\":\"b\",", "ends too soon" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = fresh();
		assert_int_equal(body_create(bad[i].body, strlen(bad[i].body), a, &e), -1);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("%s: '%s' does not say '%s'", bad[i].body, e.msg, bad[i].msg);
	}
	/* too many arguments */
	char big[20000];
	size_t n = (size_t)snprintf(big, sizeof(big), "{\"image\":\"b\",\"cmd\":[");
	for (int i = 0; i < 600; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"x\"", i ? "," : "");
	snprintf(big + n, sizeof(big) - n, "]}");
	a = fresh();
	assert_int_equal(body_create(big, strlen(big), a, &e), -1);
}

static void test_exec(void **state)
{
	(void)state;
	struct argv_buf *a = fresh();
	struct err e;
	char *in;
	size_t in_len;
	const char *ok = "{\"cmd\":[\"cat\"],\"stdin\":\"a\\u0000b\",\"workdir\":\"/tmp\",\"env\":[\"K=V\"]}";
	assert_int_equal(body_exec(ok, strlen(ok), "web", a, &in, &in_len, &e), 0);
	const char *want[] = { "exec", "-i", "--workdir=/tmp", "--env=K=V", "web", "cat", NULL };
	for (int i = 0; want[i]; i++)
		assert_string_equal(a->v[i], want[i]);
	assert_int_equal(in_len, 3);
	assert_memory_equal(in, "a\0b", 3);
	free(in);
	a = fresh();
	assert_int_equal(body_exec("{\"cmd\":[]}", 10, "web", a, &in, &in_len, &e), -1);
	assert_null(in);
	a = fresh();
	assert_int_equal(body_exec("{\"stdin\":\"x\"}", 13, "web", a, &in, &in_len, &e), -1);
	assert_null(in);
}

static void test_form_query(void **state)
{
	(void)state;
	char out[32];
	const char *body = "csrf=ab%2Bc&token=a+b%21&empty=";
	assert_int_equal(form_get(body, strlen(body), "csrf", out, sizeof(out)), 0);
	assert_string_equal(out, "ab+c");
	assert_int_equal(form_get(body, strlen(body), "token", out, sizeof(out)), 0);
	assert_string_equal(out, "a b!");
	assert_int_equal(form_get(body, strlen(body), "empty", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(form_get(body, strlen(body), "tok", out, sizeof(out)), -1);
	assert_int_equal(form_get("k=%0", 4, "k", out, sizeof(out)), -1);
	assert_int_equal(form_get("k=%00", 5, "k", out, sizeof(out)), -1);
	assert_int_equal(form_get("k=0123456789", 12, "k", out, 5), -1);
	assert_true(query_value_ok("10s"));
	assert_false(query_value_ok(""));
	assert_false(query_value_ok("a\nb"));
}

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(errmap_http("no such sandbox: x", 125), 404);
	assert_int_equal(errmap_http("x is not running", 125), 409);
	assert_int_equal(errmap_http("x is running: stop it first, or rm -f", 125), 409);
	assert_int_equal(errmap_http("the name 'x' is in use (sandbox rm x)", 125), 409);
	assert_int_equal(errmap_http("--memory: 'x' is not a size of at least 4m", 125), 400);
	assert_int_equal(errmap_http("something broke", 125), 500);
	char *j = errmap_json("a \"quoted\"\nmessage", 125);
	json_object *o = json_tokener_parse(j);
	assert_non_null(o);
	json_object *v;
	assert_true(json_object_object_get_ex(o, "message", &v));
	assert_string_equal(json_object_get_string(v), "a \"quoted\"\nmessage");
	assert_true(json_object_object_get_ex(o, "status", &v));
	assert_int_equal(json_object_get_int(v), 125);
	json_object_put(o);
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes), cmocka_unit_test(test_create), cmocka_unit_test(test_exec),
		cmocka_unit_test(test_form_query), cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
