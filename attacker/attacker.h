/* sandbox-attacker (attacker/attacker.c): the evidence printers every
 * attack uses, and the attacks that live in files of their own. */
#ifndef SANDBOX_ATTACKER_H
#define SANDBOX_ATTACKER_H

#include <stdbool.h>

/* errno's name ("EPERM"), "EUNKNOWN" for none. */
const char *ename(int e);
/* "KEY=OK" or "KEY=ERRNO" from a syscall's result R; closes a returned fd
 * when FD is set. */
void res(const char *key, long r, int fd);
/* "KEY=V" with V made safe for one line (spaces, tabs and '=' as '_',
 * cut at a newline). */
void kv_clean(const char *key, const char *v);

/* neighbour.c: the neighbour sandbox and the attacks on it. */
int a_hold(const char *rev, char **argv);
int a_held(const char *rev);
int a_nbr_files(const char *rev, int nbr_pid, const char *nbr_dir);
int a_nbr_mem(const char *rev, int nbr_pid);
int a_nbr_net(const char *rev);

#endif
