/* sandbox-runtime's config.json parser (oci/config.c): runc's own `runc
 * spec` and a podman-like config are taken field by field; each bad
 * bundle gets one error naming what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci.h"

/* runc spec (1.1.5), trimmed of nothing but its comments. */
static const char RUNC_SPEC[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"sh\",\"-c\",\"echo hi\"],\"env\":[\"PATH=/usr/local/sbin:/usr/bin:/bin\",\"TERM=xterm\"],"
	"\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\"],"
	"\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":512}],\"noNewPrivileges\":true},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"runc\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\"},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\"}],"
	"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],\"memory\":{\"limit\":268435456},"
	"\"pids\":{\"limit\":100},\"cpu\":{\"quota\":150000,\"period\":100000}},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
	"\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"]},"
	"\"annotations\":{\"io.example\":\"x\"}}";

static struct oci_config C;
static struct err E;

static int parse(const char *text)
{
	memset(&E, 0, sizeof(E));
	return oci_config_parse(text, strlen(text), "/b", &C, &E);
}

/* RUNC_SPEC with FROM replaced by TO (once). */
static int parse_edit(const char *from, const char *to)
{
	static char buf[sizeof(RUNC_SPEC) + 1024];
	const char *at = strstr(RUNC_SPEC, from);
	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - RUNC_SPEC), RUNC_SPEC, to, at + strlen(from));
	return parse(buf);
}

static void refused(const char *from, const char *to, const char *msg)
{
	assert_int_equal(parse_edit(from, to), -1);
	if (!strstr(E.msg, msg))
		fail_msg("error '%s' lacks '%s'", E.msg, msg);
	assert_null(strchr(E.msg, '\n'));
	assert_null(C.json);
}

static void test_runc_spec(void **state)
{
	(void)state;
	assert_int_equal(parse(RUNC_SPEC), 0);
	assert_string_equal(C.root, "/b/rootfs");
	assert_true(C.root_ro);
	assert_string_equal(C.hostname, "runc");
	assert_int_equal(C.nargs, 3);
	assert_string_equal(C.args[2], "echo hi");
	assert_int_equal(C.nenv, 2);
	assert_string_equal(C.cwd, "/");
	assert_int_equal(C.nrlimits, 1);
	assert_int_equal(C.rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(C.rlimits[0].soft, 512);
	assert_int_equal(C.memory, 268435456);
	assert_int_equal(C.pids, 100);
	assert_int_equal(C.cpu_quota, 150000);
	assert_int_equal(C.cpu_period, 100000);
	assert_int_equal(C.nmounts, 5);
	for (unsigned i = 0; i < C.nmounts; i++)
		assert_int_equal(C.mounts[i].kind, OCI_MOUNT_GUEST);
	assert_int_equal(C.nannot, 1);
	assert_string_equal(C.annot_val[0], "x");
	/* the walls: capabilities (CAP_KILL 5, CAP_AUDIT_WRITE 29), no
	 * seccomp given, the masked and read-only paths */
	assert_true(C.cap_bounding == ((1ULL << 5) | (1ULL << 29)));
	assert_true(C.cap_effective == 1ULL << 5);
	assert_false(C.seccomp);
	assert_int_equal(C.nmasked, 1);
	assert_string_equal(C.masked[0], "/proc/kcore");
	assert_int_equal(C.nro_paths, 1);
	assert_string_equal(C.ro_paths[0], "/proc/sys");
	/* ambient is noted, not applied */
	bool ambient = false;
	for (unsigned i = 0; i < C.nnotes; i++)
		ambient |= !strcmp(C.notes[i], "process.capabilities.ambient");
	assert_true(ambient);
	oci_config_free(&C);
}

/* A config with STR put in place of OLD in the runc spec. */
static int parse_with(const char *old, const char *str)
{
	static char buf[sizeof(RUNC_SPEC) + 512];
	const char *at = strstr(RUNC_SPEC, old);
	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - RUNC_SPEC), RUNC_SPEC, str, at + strlen(old));
	return parse(buf);
}

static void test_walls(void **state)
{
	(void)state;
	/* effective outside permitted or bounding is not held */
	assert_int_equal(parse_with("\"effective\":[\"CAP_KILL\"]", "\"effective\":[\"CAP_KILL\",\"CAP_SYS_ADMIN\"]"), 0);
	assert_true(C.cap_effective == 1ULL << 5);
	oci_config_free(&C);
	assert_int_equal(parse_with("\"effective\":[\"CAP_KILL\"]", "\"effective\":[\"CAP_NOPE\"]"), -1);
	assert_non_null(strstr(E.msg, "unknown capability 'CAP_NOPE'"));
	/* an unknown key beside them is refused */
	assert_int_equal(parse_with("\"capabilities\":{", "\"x-capabilities\":{"), -1);
	/* seccomp given: the guest's profile, noted */
	assert_int_equal(parse_with("\"maskedPaths\"", "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\"},\"maskedPaths\""), 0);
	assert_true(C.seccomp);
	oci_config_free(&C);
	assert_int_equal(parse_with("\"maskedPaths\"", "\"seccomp\":3,\"maskedPaths\""), -1);
	assert_non_null(strstr(E.msg, "linux.seccomp must be an object"));
	/* paths: absolute, no .. */
	assert_int_equal(parse_with("\"/proc/kcore\"", "\"proc/kcore\""), -1);
	assert_non_null(strstr(E.msg, "linux.maskedPaths"));
	assert_int_equal(parse_with("\"/proc/sys\"", "\"/proc/../etc\""), -1);
	assert_non_null(strstr(E.msg, "linux.readonlyPaths"));
}

static void test_resources(void **state)
{
	(void)state;
	const char *r = "{\"memory\":{\"limit\":104857600},\"pids\":{\"limit\":20},\"cpu\":{\"quota\":50000,\"period\":100000}}";
	assert_int_equal(oci_resources_parse(r, strlen(r), &C, &E), 0);
	assert_int_equal(C.memory, 104857600);
	assert_int_equal(C.pids, 20);
	assert_int_equal(C.cpu_quota, 50000);
	oci_config_free(&C);
	r = "{\"memory\":{\"limit\":1000}}";
	assert_int_equal(oci_resources_parse(r, strlen(r), &C, &E), -1);
	assert_non_null(strstr(E.msg, "at least 4 MiB"));
	r = "{\"bogus\":{}}";
	assert_int_equal(oci_resources_parse(r, strlen(r), &C, &E), -1);
	assert_non_null(strstr(E.msg, "unknown or unsupported field"));
	r = "{\"pids\":";
	assert_int_equal(oci_resources_parse(r, strlen(r), &C, &E), -1);
	assert_non_null(strstr(E.msg, "not valid JSON"));
}

static void test_bind_dir_and_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/oci-test.XXXXXX", file[64], json[1024];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/hosts", dir);
	FILE *f = fopen(file, "w");
	fclose(f);
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},\"root\":{\"path\":\"/r\"},"
		 "\"mounts\":[{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"ro\"]},"
		 "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"bind\"]}]}",
		 dir, file);
	assert_int_equal(parse(json), 0);
	assert_string_equal(C.root, "/r");
	assert_int_equal(C.nmounts, 2);
	assert_int_equal(C.mounts[0].kind, OCI_MOUNT_BIND_DIR);
	assert_true(C.mounts[0].ro);
	assert_int_equal(C.mounts[1].kind, OCI_MOUNT_BIND_FILE);
	assert_true(C.mounts[1].engine);
	oci_config_free(&C);
	/* a file elsewhere: a file bind too, not the engine's (a VM of its
	 * own refuses it, map.c; a pod's container binds it) */
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},\"root\":{\"path\":\"/r\"},"
		 "\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"%s\"}]}", file);
	assert_int_equal(parse(json), 0);
	assert_int_equal(C.mounts[0].kind, OCI_MOUNT_BIND_FILE);
	assert_false(C.mounts[0].engine);
	oci_config_free(&C);
	unlink(file);
	rmdir(dir);
}

static void test_bad_bundles(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"ociVersion\": "), -1);
	assert_non_null(strstr(E.msg, "not valid JSON"));
	assert_int_equal(parse("[]"), -1);
	assert_int_equal(parse("{} x"), -1);
	assert_non_null(strstr(E.msg, "not valid JSON"));
	refused("\"hostname\":\"runc\"", "\"hostname\":\"runc\",\"bogus\":1", "config.bogus: unknown");
	refused("\"terminal\":false", "\"terminal\":false,\"foo\":true", "process.foo: unknown");
	refused("\"terminal\":false", "\"terminal\":\"no\"", "process.terminal must be true or false");
	refused("\"path\":\"rootfs\"", "\"path\":\"../rootfs\"", "leaves the bundle");
	refused("\"path\":\"rootfs\"", "\"path\":\"a/../../x\"", "leaves the bundle");
	refused("\"path\":\"rootfs\"", "\"path\":\"\"", "root.path is empty");
	refused("\"args\":[\"sh\",\"-c\",\"echo hi\"]", "\"args\":[]", "process.args is empty");
	refused("\"args\":[\"sh\",\"-c\",\"echo hi\"]", "\"args\":[1]", "process.args[0] must be a string");
	refused("\"cwd\":\"/\"", "\"cwd\":\"rel\"", "absolute");
	refused("\"ociVersion\":\"1.0.2-dev\"", "\"ociVersion\":\"2.0\"", "ociVersion");
	refused("{\"type\":\"mount\"}", "{\"type\":\"mount\",\"path\":\"/proc/1/ns/mnt\"}", "not supported yet");
	/* ipc, uts, pid by path: a pod's (oci/podref.c, test_oci_pod.c) */
	assert_int_equal(parse_edit("{\"type\":\"pid\"}", "{\"type\":\"pid\",\"path\":\"/proc/1/ns/pid\"}"), 0);
	assert_string_equal(C.ns_pid, "/proc/1/ns/pid");
	oci_config_free(&C);
	refused("{\"type\":\"ipc\"}", "{\"type\":\"ipc\",\"path\":\"rel\"}", "absolute");
	refused("{\"type\":\"pid\"}", "{\"type\":\"user\"}", "user namespace");
	/* a network namespace by path: the VM's NIC goes there */
	assert_int_equal(parse_edit("{\"type\":\"network\"}", "{\"type\":\"network\",\"path\":\"/run/netns/x\"}"), 0);
	assert_string_equal(C.netns, "/run/netns/x");
	oci_config_free(&C);
	refused("{\"type\":\"network\"}", "{\"type\":\"network\",\"path\":\"rel\"}", "absolute");
	refused("{\"type\":\"pid\"}", "{\"type\":\"bogus\"}", "unknown type");
	refused("\"type\":\"RLIMIT_NOFILE\"", "\"type\":\"RLIMIT_BOGUS\"", "unknown type");
	refused("\"hard\":1024,\"soft\":512", "\"hard\":1,\"soft\":512", "soft above hard");
	refused("\"limit\":268435456", "\"limit\":1024", "at least 4 MiB");
	refused("\"limit\":100", "\"limit\":\"many\"", "must be an integer");
	refused("\"uid\":0", "\"uid\":-1", "out of range");
	refused("\"hostname\":\"runc\"", "\"hostname\":\"runc\",\"hooks\":{\"prestart\":[{\"path\":\"/x\"}]}",
		"hooks: not supported");
	refused("{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}",
		"{\"destination\":\"/x\",\"type\":\"nfs\",\"source\":\"h:/\"}", "type 'nfs'");
	refused("{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}",
		"{\"destination\":\"/x/../y\",\"type\":\"bind\",\"source\":\"/tmp\"}", "'..'");
	refused("{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}",
		"{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/no/such/dir\"}", "No such file");
	/* a NUL inside */
	static const char nul[] = "{\"ociVersion\":\"1.0.0\"\0}";
	memset(&E, 0, sizeof(E));
	assert_int_equal(oci_config_parse(nul, sizeof(nul) - 1, "/b", &C, &E), -1);
	assert_non_null(strstr(E.msg, "NUL"));
}

static void test_load_missing(void **state)
{
	(void)state;
	memset(&E, 0, sizeof(E));
	assert_int_equal(oci_config_load("/nonexistent-bundle", &C, &E), -1);
	assert_non_null(strstr(E.msg, "config.json"));
	assert_non_null(strstr(E.msg, "No such file"));
}

static void test_process_and_ids(void **state)
{
	(void)state;
	static const char p[] = "{\"args\":[\"echo\",\"x\"],\"cwd\":\"/tmp\",\"env\":[\"A=1\"],\"user\":{\"uid\":5,\"gid\":6}}";
	memset(&E, 0, sizeof(E));
	assert_int_equal(oci_process_parse(p, strlen(p), &C, &E), 0);
	assert_int_equal(C.nargs, 2);
	assert_int_equal(C.uid, 5);
	assert_int_equal(C.gid, 6);
	oci_config_free(&C);
	static const char bad[] = "{\"args\":[\"echo\"],\"cwd\":\"/\",\"env\":[\"noequals\"]}";
	assert_int_equal(oci_process_parse(bad, strlen(bad), &C, &E), -1);
	assert_non_null(strstr(E.msg, "KEY=VALUE"));
	assert_true(oci_id_valid("abc-1_2+3.x"));
	assert_false(oci_id_valid(""));
	assert_false(oci_id_valid(".hidden"));
	assert_false(oci_id_valid("a/b"));
	assert_false(oci_id_valid("a b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runc_spec),
		cmocka_unit_test(test_walls),
		cmocka_unit_test(test_resources),    cmocka_unit_test(test_bind_dir_and_files),
		cmocka_unit_test(test_bad_bundles),  cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_process_and_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
