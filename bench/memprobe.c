/* bench/memprobe.c: where a running VMM's host memory is.
 *
 *   memprobe PID [GUEST_MIB [KERNEL_GPA]]
 *
 * Prints every mapping of PID holding at least 64 KiB (Rss, Pss,
 * Anonymous, the file), then, for the guest RAM (GUEST_MIB, default 128,
 * found by the kernel's first segment mapped from its vmlinux at guest
 * physical KERNEL_GPA, default 0x1000000), which guest-physical ranges are
 * resident in the host (/proc/PID/pagemap): per 4 MiB, the resident pages
 * and how many of them are still the vmlinux file's (never written). A
 * diagnostic for bench/ and docs/pmem.md: what a sandbox costs, and where
 * in its guest that memory is. A clone's VMM (no vmlinux mapping) is
 * probed the same way through its snapshot's memory file (a mapping named
 * .../memory at guest-physical 0): "of it still the file's" are then the
 * snapshot's shared pages, the rest the clone's own. Static: it runs
 * inside the test host. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct vma {
	unsigned long lo, hi;
	long rss, pss, anon;
	char name[160];
};

#define MAX_VMAS 4096
static struct vma v[MAX_VMAS];

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: memprobe PID [GUEST_MIB [KERNEL_GPA]]\n");
		return 2;
	}
	int pid = atoi(argv[1]);
	unsigned long guest = (argc > 2 ? strtoul(argv[2], NULL, 0) : 128) << 20;
	unsigned long kgpa = argc > 3 ? strtoul(argv[3], NULL, 0) : 0x1000000;
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		perror(path);
		return 1;
	}
	int n = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		long kib;
		int off = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &a, &b, &off) == 2 && off && n + 1 < MAX_VMAS &&
		    strchr(line, '-') < strchr(line, ' ')) {
			n++;
			memset(&v[n], 0, sizeof(v[n]));
			v[n].lo = a;
			v[n].hi = b;
			snprintf(v[n].name, sizeof(v[n].name), "%s", line + off);
			v[n].name[strcspn(v[n].name, "\n")] = 0;
		} else if (n >= 0 && sscanf(line, "Rss: %ld kB", &kib) == 1)
			v[n].rss = kib;
		else if (n >= 0 && sscanf(line, "Pss: %ld kB", &kib) == 1)
			v[n].pss = kib;
		else if (n >= 0 && sscanf(line, "Anonymous: %ld kB", &kib) == 1)
			v[n].anon = kib;
	}
	fclose(f);
	n++;
	long trss = 0, tpss = 0, tanon = 0;
	printf("memprobe %d: mappings with Rss >= 64 KiB (KiB)\n", pid);
	printf("  %-12s %-10s %-8s %-8s %-8s %s\n", "start", "size", "rss", "pss", "anon", "name");
	for (int i = 0; i < n; i++) {
		trss += v[i].rss;
		tpss += v[i].pss;
		tanon += v[i].anon;
		if (v[i].rss >= 64)
			printf("  %-12lx %-10lu %-8ld %-8ld %-8ld %s\n", v[i].lo, (v[i].hi - v[i].lo) >> 10, v[i].rss,
			       v[i].pss, v[i].anon, v[i].name);
	}
	printf("  total rss=%ld pss=%ld anon=%ld\n", trss, tpss, tanon);

	unsigned long base = 0;
	for (int i = 0; i < n; i++)
		if (strstr(v[i].name, "vmlinux")) {
			base = v[i].lo - kgpa;
			break;
		}
	for (int i = 0; !base && i < n; i++) {
		size_t l = strlen(v[i].name);
		if (l > 7 && !strcmp(v[i].name + l - 7, "/memory") && v[i].hi - v[i].lo == guest)
			base = v[i].lo; /* a clone: guest RAM is the snapshot's memory file, from 0 */
	}
	if (!base) {
		printf("memprobe: no vmlinux or snapshot memory mapping: guest RAM not found\n");
		return 0;
	}
	long grss = 0, gpss = 0, ganon = 0;
	for (int i = 0; i < n; i++)
		if (v[i].lo >= base && v[i].hi <= base + guest) {
			grss += v[i].rss;
			gpss += v[i].pss;
			ganon += v[i].anon;
		}
	printf("guest RAM at %lx (%lu MiB): rss=%ld pss=%ld anon=%ld KiB; the rest of the VMM: rss=%ld pss=%ld\n", base,
	       guest >> 20, grss, gpss, ganon, trss - grss, tpss - gpss);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	const unsigned long chunk = 4UL << 20, pages = chunk / 4096;
	uint64_t *pm = malloc(pages * sizeof(*pm));
	if (!pm)
		return 1;
	printf("guest-physical residency per 4 MiB (KiB resident / of it still the file's: vmlinux, or a clone's snapshot):\n");
	for (unsigned long g = 0; g < guest; g += chunk) {
		if (pread(fd, pm, pages * 8, (off_t)((base + g) / 4096 * 8)) != (ssize_t)(pages * 8)) {
			perror("pagemap");
			return 1;
		}
		unsigned long res = 0, file = 0;
		for (unsigned long p = 0; p < pages; p++) {
			if (pm[p] >> 63 & 1) {
				res++;
				if (pm[p] >> 61 & 1)
					file++;
			}
		}
		printf("  %4lu MiB: %5lu / %5lu%s", g >> 20, res * 4, file * 4, (g / chunk) % 4 == 3 ? "\n" : "  ");
	}
	printf("\n");
	return 0;
}
