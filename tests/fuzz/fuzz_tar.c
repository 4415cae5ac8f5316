/* libFuzzer target: sandbox cp's tar extractor (common/tar_read.c), which the
 * host runs on what a sandbox's guest sends (`sandbox cp ID:PATH DEST`).
 * Each input is extracted into BASE/root (capped at 1 MiB and 200
 * entries, owners not applied: the fuzzer may run as root); BASE also
 * holds a victim directory with one file. After every input the target
 * checks that BASE holds exactly root and victim, that the victim is
 * untouched, and that nothing exists at the absolute escape path the
 * seeds aim at (abort() otherwise), then empties root. The process's
 * cwd is BASE, so a relative escape lands where it is seen. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/tar.h"

static char base[64];
static int mem = -1;

static void rm_under(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d)
		abort();
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISDIR(st.st_mode)) {
			fchmodat(dfd, de->d_name, 0700, 0);
			int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (sub >= 0) {
				rm_under(sub);
				close(sub);
			}
			unlinkat(dfd, de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dfd, de->d_name, 0);
		}
	}
	closedir(d);
}

static void check_base(void)
{
	DIR *d = opendir(base);
	if (!d)
		abort();
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strcmp(de->d_name, "root") && strcmp(de->d_name, "victim"))
			abort();
		n++;
	}
	closedir(d);
	char buf[16] = { 0 }, path[128];
	snprintf(path, sizeof(path), "%s/victim/file", base);
	int fd = open(path, O_RDONLY);
	if (n != 2 || fd < 0 || read(fd, buf, sizeof(buf)) != 4 || memcmp(buf, "keep", 4))
		abort();
	close(fd);
	struct stat st;
	snprintf(path, sizeof(path), "%s/victim/x", base);
	if (!lstat("/tmp/fuzz_tar_escape", &st) || !lstat(path, &st))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base[0]) {
		snprintf(base, sizeof(base), "/tmp/fuzz_tar.XXXXXX");
		char path[128];
		if (!mkdtemp(base))
			abort();
		snprintf(path, sizeof(path), "%s/root", base);
		if (mkdir(path, 0755))
			abort();
		snprintf(path, sizeof(path), "%s/victim", base);
		if (mkdir(path, 0755))
			abort();
		snprintf(path, sizeof(path), "%s/victim/file", base);
		int fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0 || write(fd, "keep", 4) != 4)
			abort();
		close(fd);
		mem = memfd_create("fuzz_tar", 0);
		if (mem < 0)
			abort();
	}
	if (ftruncate(mem, 0) || pwrite(mem, data, size, 0) != (ssize_t)size || lseek(mem, 0, SEEK_SET))
		abort();
	char rpath[128];
	snprintf(rpath, sizeof(rpath), "%s/root", base);
	int root = open(rpath, O_RDONLY | O_DIRECTORY);
	if (root < 0)
		abort();
	struct tar_xopts o = { .max_bytes = 1 << 20, .max_entries = 200, .no_suid = true };
	struct tar_result res;
	struct err e = { 0 };
	int rc = tar_extract(mem, root, &o, &res, &e);
	if (rc && !e.msg[0])
		abort();        /* every failure says why */
	if (res.bytes > o.max_bytes || res.entries > o.max_entries)
		abort();
	fchmod(root, 0755);
	rm_under(root);
	close(root);
	check_base();
	return 0;
}
