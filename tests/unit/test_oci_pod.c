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
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_path_pid),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_member_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
