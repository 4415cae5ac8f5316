/* libFuzzer target: sandbox-runtime's config.json parser (oci/config.c),
 * which reads what an engine (or whoever can write the bundle) hands it.
 * The input is the file. Nothing may read or write out of bounds (ASan);
 * what is accepted must hold the parser's promises: a process with
 * arguments and an absolute cwd, counts within their limits, an absolute
 * root that leaves no relative bundle, mounts classified; a refusal is one
 * line. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oci_config c;
	struct err e = { 0 };
	if (oci_config_parse((const char *)data, size, "/bundle", &c, &e)) {
		assert(e.msg[0] && memchr(e.msg, 0, sizeof(e.msg)) && !strchr(e.msg, '\n'));
		assert(c.json == NULL);
		return 0;
	}
	assert(c.nargs >= 1 && c.nargs <= CSPEC_MAX_ARGS && c.nenv <= CSPEC_MAX_ENV);
	assert(c.cwd && c.cwd[0] == '/');
	assert(c.root[0] == '/' && !strchr(c.root, ':'));
	assert(c.nrlimits <= CSPEC_MAX_RLIMITS && c.nmounts <= OCI_MAX_MOUNTS && c.nannot <= OCI_MAX_ANNOTATIONS);
	for (unsigned i = 0; i < c.nargs; i++)
		assert(strlen(c.args[i]) < size + 1);
	for (unsigned i = 0; i < c.nenv; i++)
		assert(strchr(c.env[i], '=') && c.env[i][0] != '=');
	for (unsigned i = 0; i < c.nmounts; i++) {
		assert(c.mounts[i].dest[0] == '/' && !strstr(c.mounts[i].dest, "/.."));
		if (c.mounts[i].kind == OCI_MOUNT_BIND_DIR || c.mounts[i].kind == OCI_MOUNT_BIND_FILE)
			assert(c.mounts[i].source[0] == '/' && !strchr(c.mounts[i].source, ':'));
		assert(!c.mounts[i].engine || c.mounts[i].kind == OCI_MOUNT_BIND_FILE);
	}
	assert(c.memory >= 0 && c.pids >= 0 && c.cpu_quota >= 0);
	/* its place in a pod (oci/podref.c), and a member's guest spec */
	struct oci_pod_ref r;
	if (oci_pod_role_of(&c, &r, &e)) {
		assert(e.msg[0] && !strchr(e.msg, '\n'));
	} else {
		assert(r.role != OCI_POD_MEMBER || r.sandbox_id || r.ns_pid > 0);
		assert(!r.sandbox_id || oci_id_valid(r.sandbox_id));
		static struct cspec x;
		char user[32];
		if (oci_member_spec(&c, "m", r.share_pid, &x, user, &e) == 0) {
			struct cspec_err ce;
			assert(cspec_check(&x, &ce) == 0 && x.action == CSPEC_ACT_CONTAINER);
			/* a member's binds: the config's, in order (the host binds
			 * the i-th's source at v<i>) */
			for (unsigned i = 0; i < x.nbinds; i++)
				assert(oci_member_bind(&c, i) && oci_member_bind(&c, i)->dest == x.binds[i].path);
			assert(!oci_member_bind(&c, x.nbinds));
		}
	}
	oci_config_free(&c);
	return 0;
}
