/* `sandbox audit`: one attack catalogue run against every isolation
 * available, as a table (docs/audit.md).
 *
 *   audit.c            the command: options, the loop over isolations
 *   audit_host.c       the host's side: listeners, facts, hashes, the VMM's state
 *   audit_catalogue.c  the attacks: what each runs, why it matters, and
 *                      the verdict function that reads its evidence (pure)
 *   audit_iso.c        the isolations' interface and ours (sandbox run -d /
 *                      cp / exec), each with its neighbour
 *   audit_oci.c        OCI runtimes (runc, crun, runsc) on a bundle of the
 *                      same image
 *   audit_report.c     text, JSON and HTML (pure)
 *   audit_sha256.c     the hashes of "host file unchanged"
 * The program that runs inside is attacker/attacker.c (build/sandbox-attacker). */
#ifndef SANDBOX_AUDIT_H
#define SANDBOX_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum audit_verdict {
	AUDIT_CONTAINED,
	AUDIT_EXPOSED,
	AUDIT_NOT_APPLICABLE,
	AUDIT_NOT_RUN,          /* could not run: the evidence says why */
};
const char *audit_verdict_name(enum audit_verdict v);   /* "contained", ... */

/* What the attacker printed: key=value lines, its status, its stderr. */
#define AUDIT_OUT_MAX 4096
struct audit_evidence {
	char out[AUDIT_OUT_MAX];   /* stdout, NUL-terminated, cut at the cap */
	char err[512];             /* the first line of stderr */
	int status;                /* exit status; 128+N killed by N; -1 did not run */
	bool timed_out;
};
/* The value of KEY (first "KEY=" line; NTH-th one with audit_ev_nth),
 * copied into BUF; false when absent. */
bool audit_ev_get(const struct audit_evidence *ev, const char *key, char *buf, size_t n);
bool audit_ev_nth(const struct audit_evidence *ev, const char *key, int nth, char *buf, size_t n);
long audit_ev_long(const struct audit_evidence *ev, const char *key, long dflt);
/* Does any "KEY=VALUE" line have this exact value? */
bool audit_ev_has(const struct audit_evidence *ev, const char *key, const char *value);

/* What a verdict may use besides the evidence: the isolation's nature and
 * facts about the host taken before the run. */
struct audit_context {
	const char *iso;            /* "vm", "container", "runc", ... */
	bool own_kernel;            /* the attacker's kernel is not the host's (vm, runsc) */
	bool privileged;            /* --privileged-attacker */
	char host_version[512];     /* the host's /proc/version, spaces as '_' */
	long host_inotify_instances;/* fs.inotify.max_user_instances */
	bool listener_up;           /* the host's loopback and abstract listeners were up */
	int port;                   /* the loopback listener's port */
	char abstract_name[64];     /* the abstract unix socket's name */
	/* the neighbour: a second sandbox of the same isolation holding
	 * NBR_SECRET (in a file, its environment, its memory, its traffic) */
	char nbr_secret[64];
	bool nbr_up;
	char nbr_error[200];        /* why it is not up */
};

/* The sandbox's limits every isolation gets (the resource attacks run
 * against them). */
#define AUDIT_PIDS_LIMIT 64
#define AUDIT_MEMORY_MIB 128
#define AUDIT_STORAGE_MIB 256

/* One attack. ARGV is the attacker's arguments after its own name; "@PORT",
 * "@ABSTRACT", "@HOSTPID", "@MODE", "@INOTIFY" and the neighbour's
 * "@NBRSECRET" (reversed), "@NBRPID", "@NBRDIR" are replaced from the context. HOST_CHECK attacks run
 * nothing inside: their verdict reads the evidence the runner makes on the
 * host (the hashes before and after every other attack). */
#define AUDIT_MAX_ARGS 4
struct audit_attack {
	const char *name;           /* short id: "kvm", "sys-bpf", ... */
	const char *title;          /* one line for the table */
	const char *category;
	const char *description;    /* what it does */
	const char *rationale;      /* why it matters */
	const char *argv[AUDIT_MAX_ARGS];
	bool host_check;
	bool privileged;            /* only with --privileged-attacker; "@MODE" is "hit"
				     * where the kernel is the sandbox's own, else "probe" */
	int timeout_s;              /* 0: the default */
	enum audit_verdict (*judge)(const struct audit_evidence *ev, const struct audit_context *c, char *why,
				    size_t n);
};
extern const struct audit_attack audit_catalogue[];
extern const size_t audit_catalogue_len;
const struct audit_attack *audit_find(const char *name);

/* One attack's outcome in one isolation. */
struct audit_cell {
	enum audit_verdict v;
	char why[256];              /* the verdict's reason */
	char evidence[768];         /* the evidence, one line */
};
/* One isolation's column: skipped (with the reason) or its cells. */
#define AUDIT_MAX_ISO 5
struct audit_column {
	char name[16];
	bool skipped;
	char reason[256];
	char detail[256];           /* e.g. the runtime's version, the kernel */
	char figures[256];          /* attack surface: the syscall probe's counts */
	struct audit_cell *cells;   /* audit_catalogue_len of them */
};
struct audit_report {
	char image[128];
	char host[256];             /* host kernel, date */
	char started[64];
	char figures[512];          /* attack surface of ours: the VMM's allowlists, devices */
	size_t ncol;
	struct audit_column col[AUDIT_MAX_ISO];
};
/* The reason of a privileged-only attack's cell outside that mode; a row
 * with it in every column is left out of the report. */
#define AUDIT_ONLY_PRIVILEGED "only with --privileged-attacker"
bool audit_row_shown(const struct audit_report *r, size_t attack);
/* Judge one attack's evidence into CELL (the evidence flattened too). */
void audit_judge(const struct audit_attack *a, const struct audit_evidence *ev, const struct audit_context *c,
		 struct audit_cell *cell);
/* Exit status of the command: 0 when a "vm" column exists and every
 * attack is contained there (not applicable rows aside), 1 otherwise. */
int audit_exit_status(const struct audit_report *r);

enum audit_format { AUDIT_TEXT, AUDIT_JSON, AUDIT_HTML, AUDIT_MARKDOWN };
int audit_format_parse(const char *s, enum audit_format *f);
/* Write R to F in the format: 0, or -1 with E filled (a write error). */
int audit_write(FILE *f, const struct audit_report *r, enum audit_format fmt, struct err *e);

/* SHA-256 of a file, as 64 hex digits: 0, or -1 with E filled. */
int audit_sha256_file(const char *path, char hex[65], struct err *e);
void audit_sha256(const void *data, size_t n, unsigned char out[32]);

/* Set only inside `sandbox audit --privileged-attacker`'s own child that
 * starts the sandbox (in process, never from a command line or the
 * environment): the sandbox's spec asks for every capability and no
 * seccomp (common/spec.h, audit_privileged). */
extern bool audit_privileged_attacker;

int cmd_audit(int argc, char **argv);
void audit_usage(FILE *f);

#endif
