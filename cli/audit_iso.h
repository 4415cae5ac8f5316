/* The isolations `sandbox audit` runs its attacks in, behind one
 * interface (audit_iso.c): ours (vm, container: sandbox run -d, cp,
 * exec) and OCI runtimes (runc, crun, runsc) on a bundle of the same
 * image. */
#ifndef SANDBOX_AUDIT_ISO_H
#define SANDBOX_AUDIT_ISO_H

#include <limits.h>
#include <sys/types.h>

#include "audit.h"

struct audit_run {
	const struct audit_iso *iso;
	const char *image;
	char disk[PATH_MAX];        /* the image's erofs disk on this host */
	char self[PATH_MAX];        /* the directory of the sandbox binary */
	char attacker[PATH_MAX];    /* sandbox-attacker on this host */
	char runtime[PATH_MAX];     /* OCI: the runtime's binary */
	char bundle[PATH_MAX];      /* OCI: the bundle directory */
	char name[64];              /* the sandbox's name or the container's id prefix */
	int seq;
	bool started;
	bool privileged;            /* --privileged-attacker */
	int close_fds[2];           /* the host's listeners: closed in an in-process child */
	/* the neighbour (a second sandbox of the same isolation) */
	char nbr_name[80];          /* its sandbox name or container id */
	char nbr_bundle[PATH_MAX];  /* OCI: its bundle */
	char nbr_dir[PATH_MAX];     /* its directory on the host (state or bundle) */
	char nbr_detail[96];        /* how it runs (its network) */
	pid_t nbr_pid;              /* its holder's host pid, else its VMM's, 0: unknown */
	bool nbr_started;
};

#define AUDIT_MAX_HOST_FILES 6
struct audit_iso {
	const char *name;
	bool own_kernel;
	/* 0 when it can run here; -1 with the reason (a skip) in E. */
	int (*available)(struct audit_run *r, struct err *e);
	int (*start)(struct audit_run *r, struct err *e);
	/* Run the attacker with ARGV (NULL-terminated) within TIMEOUT_S. */
	void (*attack)(struct audit_run *r, char *const *argv, int timeout_s, struct audit_evidence *ev);
	void (*stop)(struct audit_run *r);
	/* The runtime's binaries on this host, for "unchanged" (N filled). */
	void (*host_files)(const struct audit_run *r, char files[][PATH_MAX], size_t *n);
	void (*detail)(const struct audit_run *r, char *buf, size_t n);
	/* Start the neighbour holding SECRET (`sandbox-attacker hold`, the
	 * secret reversed): 0 once it holds it, or -1 with E filled. */
	int (*nbr_start)(struct audit_run *r, const char *secret, struct err *e);
	void (*nbr_stop)(struct audit_run *r);
};
const struct audit_iso *audit_iso_find(const char *name);
/* audit_oci.c: runc, crun, runsc. */
extern const struct audit_iso audit_oci_isos[];
extern const size_t audit_oci_nisos;
/* Every isolation's name, in the default order. */
extern const char *const audit_iso_names[];

/* Run ARGV with stdin /dev/null, stdout and stderr captured into EV, in a
 * process group of its own killed at TIMEOUT_S. */
void audit_spawn(char *const *argv, int timeout_s, struct audit_evidence *ev);
/* The same, but the child calls FN(ARGC, ARGV) (this program's own code,
 * with what the parent set up: --privileged-attacker's run) instead of
 * executing ARGV[0]. */
void audit_spawn_fn(int (*fn)(int, char **), char *const *argv, int timeout_s, struct audit_evidence *ev);
/* audit_spawn, then 0 when ARGV exited 0, else -1 with E filled. */
int audit_run_quiet(char *const *argv, int timeout_s, struct audit_evidence *ev, struct err *e);
/* How a runtime runs a command (ARGV) for R: audit_spawn, or through the
 * runtime's own view (crun's mount namespace). */
typedef void (*audit_runner)(const struct audit_run *r, char *const *argv, int timeout_s, struct audit_evidence *ev);
/* The neighbour holds its secret: EXEC[0..K-1] runs a command in it, to
 * which "held REV" is appended (EXEC has room for 3 more); polled for up
 * to 15 s. 0, or -1 with E filled. */
int audit_nbr_held(const struct audit_run *r, audit_runner run, char **exec, size_t k, const char *rev, struct err *e);

/* audit_host.c: the host's side. */
struct host_side {
	int tcp, unx;           /* the loopback and abstract listeners, -1: none */
};
void audit_listeners_up(struct audit_context *c, struct host_side *h);
void audit_host_facts(struct audit_context *c, struct audit_report *r);
/* The image's disk on this host (`sandbox-image runconf IMAGE`). */
int audit_image_disk(const char *self, const char *image, char *disk, size_t n, struct err *e);
void audit_hash_files(char files[][PATH_MAX], size_t n, char hashes[][65]);
/* "changed=N checked=M NAME=HASH..." against BEFORE. */
void audit_unchanged_evidence(char files[][PATH_MAX], size_t n, char before[][65], struct audit_evidence *ev);
void audit_vmm_evidence(struct audit_run *r, struct audit_evidence *ev);
void audit_our_figures(struct audit_report *rep);
/* The neighbour's secret: "SBXNBR" and 24 random hex digits; and the
 * same reversed (what the attacker and the holder are given). */
void audit_nbr_secret(char *secret, size_t n);
void audit_reverse(const char *s, char *out, size_t n);
/* The host pid of a process whose environment holds the neighbour's
 * secret (the holder, where it is a host process), 0 when none. */
pid_t audit_secret_pid(const char *secret);

#endif
