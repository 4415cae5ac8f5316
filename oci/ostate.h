/* sandbox-runtime: its record of a container (state.c). */
#ifndef SANDBOX_OCI_STATE_H
#define SANDBOX_OCI_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "oci.h"
#include "state.h"

/* --root (default /run/sandbox-runtime). */
extern const char *oci_root;

struct oci_state {
	char id[OCI_ID_MAX + 1];
	char sid[STATE_ID_LEN + 1];     /* the sandbox's id under ROOT/.sandbox */
	char bundle[PATH_MAX], rootfs[PATH_MAX];
	long long created_ns;           /* CLOCK_REALTIME */
	bool started;
	pid_t pid;                      /* the owner: the process that stands for the container */
	unsigned long long pid_start;
	/* Pods (pod.h): a member's pod sandbox ("": none; sid is then the
	 * pod's sandbox and pid the member's stand-in), or a sandbox serving
	 * its pod's share. */
	char pod[OCI_ID_MAX + 1];
	bool pod_share;
};

/* ROOT/ID[/FILE]. */
void oci_path(char *buf, size_t len, const char *id, const char *file);
int oci_state_write(const struct oci_state *s, struct err *e);
/* e->errnum ENOENT: no such container. */
int oci_state_read(const char *id, struct oci_state *s, struct err *e);
/* Is the owner still running (the same process, not a zombie)? */
bool oci_owner_alive(const struct oci_state *s);

#endif
