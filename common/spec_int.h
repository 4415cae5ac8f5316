/* Private to the container spec's three parts (spec.c: the check both
 * sides make; spec_enc.c: the encoder, the owner's; spec_dec.c: the
 * decoder, guest-init's): the wire format's tags and flag bits (the
 * layout is in spec.h) and the error helper they share. */
#ifndef SANDBOX_SPEC_INT_H
#define SANDBOX_SPEC_INT_H

#include <stdarg.h>
#include <stdio.h>

#include "spec.h"

#define HDR_SIZE 12
#define REC_HDR 8

enum {
	T_HOSTNAME = 1,         /* string */
	T_CWD = 2,              /* string */
	T_USER = 3,             /* string */
	T_ENV = 4,              /* string, repeated */
	T_ARG = 5,              /* string, repeated */
	T_MEMORY = 6,           /* u64 */
	T_PIDS = 7,             /* u64 */
	T_CPU_QUOTA = 8,        /* u64 */
	T_RLIMIT = 9,           /* u32 resource, u64 soft, u64 hard; repeated */
	T_FLAGS = 10,           /* u32 F_* bits */
	T_NETWORK = 11,         /* u32 enum cspec_network */
	T_TTY = 12,             /* u16 rows, u16 cols */
	T_IMAGE = 13,           /* string device, string fstype */
	T_VOLUME = 14,          /* u32 V_* bits, string device, string path; repeated */
	T_ETH = 15,             /* 4 bytes addr, 4 gw, 4 dns (network order), u32 prefix */
	T_UPPER_SIZE = 16,      /* u64 */
	T_UPPER_DEV = 17,       /* string */
	T_ACTION = 18,          /* u32 enum cspec_action (not NONE), u32 cp flags */
	T_CAPS = 19,            /* u64 bounding, u64 effective */
	T_MASKED = 20,          /* string, repeated */
	T_RO_PATH = 21,         /* string, repeated */
	T_POD = 22,             /* u32 P_* bits, string member */
	T_BIND = 23,            /* u32 B_* bits, string path; repeated */
	T_LAST = T_BIND,
};

enum {
	F_READ_ONLY = 1, F_INIT = 2, F_STDIN = 4, F_AUDIT_PRIV = 8, F_SCRATCH = 16, F_IMAGE_DAX = 32,
	F_NO_SECCOMP = 64, F_PATHS = 128, F_ALL = 255
};
enum { V_RO = 1, V_FS = 2, V_ALL = 3 };
enum { P_SHARE_PID = 1, P_ALL = 1 };
enum { B_RO = 1, B_FILE = 2, B_ALL = 3 };

#define REPEATED ((1u << T_ENV) | (1u << T_ARG) | (1u << T_RLIMIT) | (1u << T_VOLUME) | (1u << T_MASKED) | \
		  (1u << T_RO_PATH) | (1u << T_BIND))

/* E's message from FMT; returns -1. */
static inline int fail(struct cspec_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int fail(struct cspec_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

#endif
