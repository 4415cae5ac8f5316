/* sandbox-runtime: the OCI runtime command line (docs/oci-runtime.md).
 *
 * config.c: a bundle's config.json into struct oci_config, typed and
 * checked once (its sections in config_*.c, config_int.h); map.c: that
 * into sandbox run's options; state.c: the runtime's own record of a
 * container; main.c and cmd.h: the command line, one file per job
 * beside it (cmd.h). */
#ifndef SANDBOX_OCI_H
#define SANDBOX_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "spec.h"

#define OCI_MAX_MOUNTS 64
#define OCI_MAX_NOTES 24
#define OCI_MAX_ANNOTATIONS 64
#define OCI_CONFIG_MAX (4 * 1024 * 1024)        /* bytes of config.json */
#define OCI_ID_MAX 128

enum oci_mount_kind {
	OCI_MOUNT_GUEST,        /* proc, sysfs, /dev ...: guest-init mounts its own */
	OCI_MOUNT_BIND_DIR,     /* a host directory: virtio-fs (a pod's container: its share) */
	OCI_MOUNT_BIND_FILE,    /* a host file (a regular one): a pod's container binds it through
				 * the pod's share; a VM of its own skips the engine's (engine) */
	OCI_MOUNT_SKIPPED,      /* tmpfs elsewhere than /dev...: skipped, noted */
};

struct oci_mount {
	const char *dest, *type, *source;
	bool ro;
	bool engine;            /* BIND_FILE: /etc/hosts, /etc/hostname, /etc/resolv.conf, ... */
	enum oci_mount_kind kind;
};

struct oci_config {
	const char *version;
	char root[4096];                /* root.path, absolute */
	bool root_ro;
	const char *hostname;           /* NULL: none given */
	const char *netns;              /* a network namespace to put the VM's NIC in; NULL: none */
	/* linux.namespaces' ipc, uts and pid paths (NULL: none): a pod's
	 * container joining another's (oci/pod.c) */
	const char *ns_ipc, *ns_uts, *ns_pid;
	bool terminal;
	const char *args[CSPEC_MAX_ARGS];
	unsigned nargs;
	const char *env[CSPEC_MAX_ENV];
	unsigned nenv;
	const char *cwd;
	uint32_t uid, gid;
	struct cspec_rlimit rlimits[CSPEC_MAX_RLIMITS];
	unsigned nrlimits;
	int64_t memory;                 /* bytes, 0: none */
	int64_t pids;                   /* 0: none */
	int64_t cpu_quota;              /* us per cpu_period, 0: none */
	uint64_t cpu_period;
	/* The walls, as runc applies them: process.capabilities' bounding
	 * set and its effective (within permitted and bounding) one, none
	 * if absent; linux.seccomp given or not (given: the guest's default
	 * profile; absent: no filter); linux.maskedPaths and readonlyPaths
	 * (absent: none). */
	uint64_t cap_bounding, cap_effective;
	bool seccomp;
	const char *masked[CSPEC_MAX_PATHS], *ro_paths[CSPEC_MAX_PATHS];
	unsigned nmasked, nro_paths;
	struct oci_mount mounts[OCI_MAX_MOUNTS];
	unsigned nmounts;
	const char *annot_key[OCI_MAX_ANNOTATIONS], *annot_val[OCI_MAX_ANNOTATIONS];
	unsigned nannot;
	/* Fields taken but not honoured (guest-init's defaults apply), for
	 * the log: "process.capabilities", ... */
	char notes[OCI_MAX_NOTES][96];
	unsigned nnotes;
	void *json;                     /* the parsed tree the strings point into */
};

/* Parse LEN bytes of config.json for the bundle directory BUNDLE
 * (absolute) into C (its strings point into C->json: free with
 * oci_config_free). 0, or -1 with E filled: one line naming the field. */
int oci_config_parse(const char *text, size_t len, const char *bundle, struct oci_config *c, struct err *e);
/* Read BUNDLE/config.json and parse it. */
int oci_config_load(const char *bundle, struct oci_config *c, struct err *e);
void oci_config_free(struct oci_config *c);
/* An exec's process (config.json's process object alone: --process FILE)
 * into C's process fields. */
int oci_process_parse(const char *text, size_t len, struct oci_config *c, struct err *e);
int oci_process_load(const char *path, struct oci_config *c, struct err *e);
/* update --resources: LEN bytes of runc's linux resources JSON (what
 * config.json's linux.resources holds) into C's memory, pids and cpu
 * fields (0: unchanged), with the same checks. */
int oci_resources_parse(const char *text, size_t len, struct oci_config *c, struct err *e);

/* Is ID a container id the runtime takes ([A-Za-z0-9_+.-], not starting
 * with '.', 1..OCI_ID_MAX bytes)? */
bool oci_id_valid(const char *id);

#endif
