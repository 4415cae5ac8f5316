/* sandbox-attacker: the program `sandbox audit` runs inside a sandbox (or a
 * runc/crun bundle of the same image). One attack per run:
 *   sandbox-attacker ATTACK [ARG...]
 * It prints its evidence as "key=value" lines (values without spaces or
 * newlines: errno names, counts, comma lists) and exits 0; the verdict is
 * made on the host (cli/audit_catalogue.c). It never writes to anything
 * the host shares: kernel interfaces are opened for writing and closed
 * unwritten, the clock is set to the time it already has. Errors of the
 * attacker itself (bad arguments) exit 2. Static: the image needs nothing.
 * This file: the evidence printers and main, which picks the attack; the
 * attacks are in one file per kind (attacker.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attacker.h"

const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "EUNKNOWN";
}

void res(const char *key, long r, int fd)
{
	if (r < 0) {
		printf("%s=%s\n", key, ename(errno));
		return;
	}
	printf("%s=OK\n", key);
	if (fd)
		close((int)r);
}

void kv_clean(const char *key, const char *v)
{
	printf("%s=", key);
	for (; *v && *v != '\n'; v++)
		putchar(*v == ' ' || *v == '\t' || *v == '=' ? '_' : *v);
	putchar('\n');
}

int main(int argc, char **argv)
{
	const char *a = argc > 1 ? argv[1] : "";
	const char *x = argc > 2 ? argv[2] : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("attack=%s\n", a);
	static const struct { const char *name; int (*fn)(void); } plain[] = {
		{ "kvm", a_kvm }, { "dev", a_dev }, { "mknod", a_mknod }, { "vda", a_vda },
		{ "module", a_module }, { "mount", a_mount }, { "ptrace", a_ptrace },
		{ "syslog", a_syslog }, { "kallsyms", a_kallsyms }, { "kernel-id", a_kernel_id },
		{ "release-agent", a_release_agent }, { "userns", a_userns }, { "procsys", a_procsys },
		{ "sysfs", a_sysfs }, { "clock", a_clock }, { "sniff", a_sniff }, { "vsock", a_vsock },
		{ "exe", a_exe }, { "fds", a_fds }, { "fdbomb", a_fdbomb }, { "syscalls", a_syscalls },
	};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (!strcmp(a, plain[i].name))
			return plain[i].fn();
	if (!strcmp(a, "sys") && x)
		return a_sys(x);
	if (!strcmp(a, "hostlo") && x)
		return a_hostlo(atoi(x));
	if (!strcmp(a, "abstract") && x)
		return a_abstract(x);
	if (!strcmp(a, "ports") && x)
		return a_ports(x);
	if (!strcmp(a, "vsock-flood") && x)
		return a_vsock_flood(x);
	if (!strcmp(a, "rawdisk") && x)
		return a_rawdisk(x);
	if (!strcmp(a, "neighbour") && x)
		return a_neighbour(atoi(x));
	if (!strcmp(a, "hold") && x)
		return a_hold(x, argv);
	if (!strcmp(a, "held") && x)
		return a_held(x);
	if (!strcmp(a, "nbr-files") && argc > 4)
		return a_nbr_files(x, atoi(argv[3]), argv[4]);
	if (!strcmp(a, "nbr-mem") && argc > 3)
		return a_nbr_mem(x, atoi(argv[3]));
	if (!strcmp(a, "nbr-net") && x)
		return a_nbr_net(x);
	if (!strcmp(a, "forkbomb") && x)
		return a_forkbomb(atoi(x));
	if (!strcmp(a, "membomb") && x)
		return a_membomb(atol(x));
	if (!strcmp(a, "fill") && x)
		return a_fill(atol(x));
	if (!strcmp(a, "inotify") && x)
		return a_inotify(atoi(x));
	fprintf(stderr, "usage: sandbox-attacker ATTACK [ARG] (see cli/audit_catalogue.c)\n");
	return 2;
}
