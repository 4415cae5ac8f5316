/* sandbox-attacker: the evidence printers every attack uses (attacker.c,
 * with main, which picks the attack), and the attacks, one file per kind
 * (devices.c, kernel.c, network.c, runtime.c, privileged.c, syscalls.c,
 * exhaust.c, neighbour.c). */
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

/* devices.c */
int a_kvm(void);
int a_dev(void);
int a_mknod(void);
int a_vda(void);

/* kernel.c */
int a_module(void);
int a_mount(void);
int a_ptrace(void);
int a_syslog(void);
int a_kallsyms(void);
int a_kernel_id(void);
int a_release_agent(void);
int a_userns(void);
int a_sys(const char *op);
int a_procsys(void);
int a_sysfs(void);
int a_clock(void);

/* network.c */
int a_sniff(void);
int a_vsock(void);
int a_hostlo(int port);
int a_abstract(const char *name);

/* runtime.c */
int a_exe(void);
int a_fds(void);
int a_neighbour(int pid);

/* privileged.c */
int a_ports(const char *mode);
int a_vsock_flood(const char *mode);
int a_rawdisk(const char *mode);

/* syscalls.c */
int a_syscalls(void);

/* exhaust.c */
int a_forkbomb(int n);
int a_membomb(long mib);
int a_fill(long max);
int a_fdbomb(void);
int a_inotify(int max);

/* neighbour.c: the neighbour sandbox and the attacks on it. */
int a_hold(const char *rev, char **argv);
int a_held(const char *rev);
int a_nbr_files(const char *rev, int nbr_pid, const char *nbr_dir);
int a_nbr_mem(const char *rev, int nbr_pid);
int a_nbr_net(const char *rev);

#endif
