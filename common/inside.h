/* Helpers of the small static programs that run inside a sandbox: the
 * audit's attacker (attacker/) and the tests' probe (tests/guest/probe.c).
 * Each does one thing and reports it; printing is the caller's. Linked
 * into both (static), never into the host's programs. */
#ifndef SANDBOX_INSIDE_H
#define SANDBOX_INSIDE_H

#include <sys/socket.h>
#include <sys/un.h>

/* /proc/kallsyms: the number of symbols, *NONZERO those with an address;
 * -1 with errno when it cannot be opened. */
long inside_kallsyms(long *nonzero);

/* FN for each block device of /sys/block (its name, major, minor) until
 * FN returns non-zero (that value is returned); 0 when all were seen,
 * -1 with errno without /sys/block. *N counts the devices seen. */
int inside_blkdevs(int (*fn)(const char *name, unsigned maj, unsigned min, void *arg), void *arg, int *n);

/* Write 1 MiB blocks to PATH until an error or MAX_MIB, fsync, remove
 * it: the errno that stopped it (0: the cap), *WROTE the MiB written;
 * -1 when PATH cannot be created (errno set). */
int inside_fill(const char *path, long max_mib, long *wrote);

/* Fork N children that pause (at most 4096), then kill and reap them:
 * the errno that stopped the forking (0: none), *FORKED how many. */
int inside_forkbomb(int n, int *forked);

/* Allocate and touch MIB MiB (never freed): how many were. */
long inside_alloc(long mib);

/* TCP connect to ADDR:PORT within MS milliseconds: 0 and the socket in
 * *FD (blocking again), or the errno (EINVAL for a bad address). */
int inside_tcp_connect(const char *addr, int port, int ms, int *fd);

/* The abstract unix address "@NAME" (cut to fit): its length. */
socklen_t inside_abstract_addr(const char *name, struct sockaddr_un *su);

#endif
