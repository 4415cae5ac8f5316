/* sandbox-runtime's pods, the pure part (oci/podref.c): which configs are
 * a pod's sandbox, a pod's container (by CRI's annotations or by
 * namespace paths naming another container's process) or neither, the
 * errors for the rest, and the guest spec a member runs from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod.h"

static struct oci_config C;
static struct oci_pod_ref R;
static struct err E;

/* A config with these namespaces (a JSON array's inside) and
 * annotations (an object's inside). */
static int role(const char *ns, const char *annot)
{
	char buf[4096];
	snprintf(buf, sizeof(buf),
		 "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"hostname\"],\"cwd\":\"/w\","
		 "\"env\":[\"A=1\"],\"user\":{\"uid\":5,\"gid\":6},\"terminal\":false},"
		 "\"root\":{\"path\":\"/r\",\"readonly\":true},"
		 "\"linux\":{\"namespaces\":[%s],\"resources\":{\"pids\":{\"limit\":50}}},\"annotations\":{%s}}",
		 ns, annot);
	memset(&E, 0, sizeof(E));
	oci_config_free(&C);
	memset(&C, 0, sizeof(C));
	assert_int_equal(oci_config_parse(buf, strlen(buf), "/b", &C, &E), 0);
	return oci_pod_role_of(&C, &R, &E);
}

static void test_ns_path_pid(void **state)
{
	(void)state;
	assert_int_equal(oci_ns_path_pid("/proc/42/ns/ipc", "ipc"), 42);
	assert_int_equal(oci_ns_path_pid("/proc/42/ns/ipc", "uts"), 0);
	assert_int_equal(oci_ns_path_pid("/proc/0/ns/ipc", "ipc"), 0);
	assert_int_equal(oci_ns_path_pid("/proc/-1/ns/ipc", "ipc"), 0);
	assert_int_equal(oci_ns_path_pid("/proc/42x/ns/ipc", "ipc"), 0);
	assert_int_equal(oci_ns_path_pid("/proc/42/ns/ipc/", "ipc"), 0);
	assert_int_equal(oci_ns_path_pid("/run/netns/x", "ipc"), 0);
	assert_int_equal(oci_ns_path_pid("/proc/99999999999/ns/ipc", "ipc"), 0);
	assert_int_equal(oci_ns_path_pid(NULL, "ipc"), 0);
}

static void test_roles(void **state)
{
	(void)state;
	/* plain: its own VM */
	assert_int_equal(role("{\"type\":\"ipc\"},{\"type\":\"uts\"}", ""), 0);
	assert_int_equal(R.role, OCI_POD_NONE);
	assert_false(R.share_pid);
	/* CRI's pause container */
	assert_int_equal(role("{\"type\":\"ipc\"}", "\"io.kubernetes.cri.container-type\":\"sandbox\","
						   "\"io.kubernetes.cri.sandbox-id\":\"p1\""), 0);
	assert_int_equal(R.role, OCI_POD_SANDBOX);
	/* CRI's app container: the sandbox's id and its namespaces */
	assert_int_equal(role("{\"type\":\"ipc\",\"path\":\"/proc/77/ns/ipc\"},{\"type\":\"uts\",\"path\":\"/proc/77/ns/uts\"},"
			      "{\"type\":\"pid\"}",
			      "\"io.kubernetes.cri.container-type\":\"container\",\"io.kubernetes.cri.sandbox-id\":\"p1\""),
			 0);
	assert_int_equal(R.role, OCI_POD_MEMBER);
	assert_string_equal(R.sandbox_id, "p1");
	assert_int_equal(R.ns_pid, 77);
	assert_false(R.share_pid);
	/* CRI-O's names (podman's too): a sandbox; a member by its paths */
	assert_int_equal(role("", "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\""), 0);
	assert_int_equal(R.role, OCI_POD_SANDBOX);
	assert_int_equal(role("", "\"io.kubernetes.cri-o.ContainerType\":\"container\","
				  "\"io.kubernetes.cri-o.SandboxID\":\"p2\""), 0);
	assert_int_equal(R.role, OCI_POD_NONE);
	assert_int_equal(role("{\"type\":\"uts\",\"path\":\"/proc/8/ns/uts\"}",
			      "\"io.kubernetes.cri-o.ContainerType\":\"container\",\"io.kubernetes.cri-o.SandboxID\":\"p2\""), 0);
	assert_int_equal(R.role, OCI_POD_MEMBER);
	assert_null(R.sandbox_id);
	assert_int_equal(R.ns_pid, 8);
	/* podman's pod: namespace paths only, the PID namespace too */
	assert_int_equal(role("{\"type\":\"ipc\",\"path\":\"/proc/9/ns/ipc\"},{\"type\":\"pid\",\"path\":\"/proc/9/ns/pid\"}", ""), 0);
	assert_int_equal(R.role, OCI_POD_MEMBER);
	assert_null(R.sandbox_id);
	assert_int_equal(R.ns_pid, 9);
	assert_true(R.share_pid);
}

static void refused(const char *ns, const char *annot, const char *msg)
{
	assert_int_equal(role(ns, annot), -1);
	if (!strstr(E.msg, msg))
		fail_msg("error '%s' does not say '%s'", E.msg, msg);
	assert_null(strchr(E.msg, '\n'));
}

static void test_bad(void **state)
{
	(void)state;
	refused("{\"type\":\"ipc\",\"path\":\"/run/ipcns\"}", "", "only another container's");
	refused("{\"type\":\"uts\",\"path\":\"/proc/5/ns/ipc\"}", "", "only another container's");
	refused("{\"type\":\"ipc\",\"path\":\"/proc/5/ns/ipc\"},{\"type\":\"uts\",\"path\":\"/proc/6/ns/uts\"}", "",
		"two processes");
	refused("", "\"io.kubernetes.cri.container-type\":\"container\"", "sandbox-id");
	refused("", "\"io.kubernetes.cri.container-type\":\"container\",\"io.kubernetes.cri.sandbox-id\":\"../x\"",
		"sandbox-id");
	refused("", "\"io.kubernetes.cri.container-type\":\"bogus\"", "want sandbox or container");
	refused("{\"type\":\"ipc\",\"path\":\"/proc/5/ns/ipc\"}", "\"io.kubernetes.cri.container-type\":\"sandbox\"",
		"sandbox container joining");
}

static void test_member_spec(void **state)
{
	(void)state;
	static struct cspec x, d;
	char user[32];
	assert_int_equal(role("{\"type\":\"pid\",\"path\":\"/proc/9/ns/pid\"}", ""), 0);
	assert_int_equal(oci_member_spec(&C, "app1", R.share_pid, &x, user, &E), 0);
	assert_int_equal(x.action, CSPEC_ACT_CONTAINER);
	assert_string_equal(x.pod_member, "app1");
	assert_true(x.pod_share_pid);
	assert_string_equal(x.user, "5:6");
	assert_string_equal(x.cwd, "/w");
	assert_true(x.read_only);
	assert_int_equal(x.pids, 50);
	assert_true(x.caps_given);
	assert_int_equal(x.cap_bounding, 0);     /* no capabilities object: none, as runc */
	/* it crosses to the guest and back unchanged */
	static uint8_t buf[CSPEC_MAX_SIZE];
	size_t len;
	struct cspec_err ce;
	assert_int_equal(cspec_encode(&x, buf, sizeof(buf), &len, &ce), 0);
	assert_int_equal(cspec_decode(buf, len, &d, &ce), 0);
	assert_string_equal(d.pod_member, "app1");
	assert_true(d.pod_share_pid);
	assert_int_equal(d.action, CSPEC_ACT_CONTAINER);
	assert_string_equal(d.argv[2], "hostname");
	/* a name the guest would not take */
	assert_int_equal(oci_member_spec(&C, ".hidden", false, &x, user, &E), -1);
	assert_non_null(strstr(E.msg, "pod member"));
	oci_config_free(&C);
	memset(&C, 0, sizeof(C));
}

/* A member's config with MOUNTS (a JSON array's inside). */
static int member_with(const char *mounts)
{
	static char buf[1 << 16];
	snprintf(buf, sizeof(buf),
		 "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
		 "\"root\":{\"path\":\"/r\"},\"mounts\":[%s],"
		 "\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.sandbox-id\":\"pod1\"}}",
		 mounts);
	memset(&E, 0, sizeof(E));
	oci_config_free(&C);
	memset(&C, 0, sizeof(C));
	if (oci_config_parse(buf, strlen(buf), "/b", &C, &E))
		return -1;
	return oci_pod_role_of(&C, &R, &E);
}

/* A member's binds of host paths: directories and files (CRI's volumes,
 * /etc/hosts...) in config order, read-only as asked; the rest of the
 * mounts (the guest's own) not among them; the limit. */
static void test_member_binds(void **state)
{
	(void)state;
	static struct cspec x, d;
	char user[32], dir[] = "/tmp/test_oci_pod.XXXXXX", file[64];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/hosts", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	char mounts[4096];
	snprintf(mounts, sizeof(mounts),
		 "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		 "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\"]},"
		 "{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\"]},"
		 "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"ro\"]},"
		 "{\"destination\":\"/var/run/secrets/x\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"ro\"]}",
		 dir, dir, file, dir);
	assert_int_equal(member_with(mounts), 0);
	assert_int_equal(R.role, OCI_POD_MEMBER);
	assert_int_equal(oci_member_spec(&C, "app1", false, &x, user, &E), 0);
	assert_int_equal(x.nbinds, 3);
	assert_string_equal(x.binds[0].path, "/data");
	assert_false(x.binds[0].ro);
	assert_false(x.binds[0].file);
	assert_string_equal(x.binds[1].path, "/etc/hosts");
	assert_true(x.binds[1].ro);
	assert_true(x.binds[1].file);
	assert_string_equal(x.binds[2].path, "/var/run/secrets/x");
	assert_true(x.binds[2].ro);
	/* the i-th bind's source, as the host binds it at v<i> */
	assert_string_equal(oci_member_bind(&C, 1)->source, file);
	assert_null(oci_member_bind(&C, 3));
	/* they cross to the guest and back */
	static uint8_t buf[CSPEC_MAX_SIZE];
	size_t len;
	struct cspec_err ce;
	assert_int_equal(cspec_encode(&x, buf, sizeof(buf), &len, &ce), 0);
	assert_int_equal(cspec_decode(buf, len, &d, &ce), 0);
	assert_int_equal(d.nbinds, 3);
	assert_string_equal(d.binds[1].path, "/etc/hosts");
	assert_true(d.binds[1].ro && d.binds[1].file);
	/* binds only in a pod's container, and no path the guest would not take */
	x.action = CSPEC_ACT_NONE;
	assert_int_equal(cspec_check(&x, &ce), -1);
	assert_non_null(strstr(ce.msg, "outside a pod's container"));
	x.action = CSPEC_ACT_CONTAINER;
	x.binds[0].path = "//";
	assert_int_equal(cspec_check(&x, &ce), -1);
	x.binds[0].path = "/a/../b";
	assert_int_equal(cspec_check(&x, &ce), -1);
	/* the limit: one clear error at create */
	static char many[CSPEC_MAX_BINDS * 2 * 160];
	size_t n = 0;
	for (int i = 0; i <= CSPEC_MAX_BINDS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n,
				      "%s{\"destination\":\"/d%d\",\"type\":\"bind\",\"source\":\"%s\"}",
				      i ? "," : "", i, dir);
	assert_int_equal(member_with(many), 0);
	assert_int_equal(oci_member_spec(&C, "app1", false, &x, user, &E), -1);
	assert_non_null(strstr(E.msg, "at most"));
	/* a bind of neither a directory nor a file: refused at parse */
	assert_int_equal(member_with("{\"destination\":\"/n\",\"type\":\"bind\",\"source\":\"/dev/null\"}"), -1);
	assert_non_null(strstr(E.msg, "neither a directory nor a regular file"));
	unlink(file);
	rmdir(dir);
	oci_config_free(&C);
	memset(&C, 0, sizeof(C));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_path_pid),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_member_spec),
		cmocka_unit_test(test_member_binds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
