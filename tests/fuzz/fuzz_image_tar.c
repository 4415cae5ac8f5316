/* libFuzzer target: tar layer application (rootfs/apply.c) into a temp
 * directory, which must never write outside it. The input is one or two
 * layers (any compression libarchive detects) applied in order into
 * BASE/root, then apply_finish(). Beside the root lie a victim directory
 * with one file and the input tars; after every input the target checks
 * that BASE holds exactly those entries, the victim is untouched, and
 * nothing under BASE outside root changed (abort() otherwise, so the
 * fuzzer reports it). The process is BASE's cwd, so a relative escape
 * lands where it is seen.
 *
 * Run as root, each input runs with effective uid/gid nobody (65534; the
 * saved uid stays 0 so libFuzzer reads and writes its corpus as root
 * between inputs): as root apply.c creates device nodes and chowns, and a
 * fuzzed tar must neither make a node for a host disk nor, through a bug,
 * write outside the root with root's rights. Ownership paths are
 * therefore not covered here.
 *
 * Input: [flags u8][len of layer 1, u16 LE][layer 1][layer 2]
 *   flags & 1: layers (whiteouts on); flags & 2: a second layer */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

static int base = -1;
static bool exiting; /* wipe() failures are fatal, except at exit */
static char basepath[64];
static struct stat victim_st, keep_st;

/* Remove NAME under DIRFD even where a layer left directories without
 * permissions (we own everything here, so chmod first). */
static void wipe(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return;
	if (S_ISDIR(st.st_mode)) {
		fchmodat(dirfd, name, 0700, 0);
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			DIR *d = fdopendir(fd);
			struct dirent *de;
			while (d && (de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					wipe(fd, de->d_name);
			if (d)
				closedir(d);
			else
				close(fd);
		}
		if (unlinkat(dirfd, name, AT_REMOVEDIR) && !exiting)
			abort();
	} else if (unlinkat(dirfd, name, 0) && !exiting) {
		abort();
	}
}

static bool was_root;
static int cwd_fd = -1;

/* While an input runs: effective ids nobody, cwd BASE; after it, root
 * and libFuzzer's cwd again (it reads the corpus by relative paths). */
static void unprivileged(bool on)
{
	if (on && base >= 0 && fchdir(base))
		abort();
	if (!on && fchdir(cwd_fd))
		abort();
	if (!was_root)
		return;
	if (on ? setegid(65534) || seteuid(65534) : seteuid(0) || setegid(0))
		abort();
}

static void cleanup(void)
{
	exiting = true;
	char *slash = strrchr(basepath, '/');
	int parent = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent >= 0 && slash && !strncmp(basepath, "/tmp/", 5))
		wipe(parent, slash + 1);
	if (parent >= 0)
		close(parent);
}

static void init(void)
{
	was_root = geteuid() == 0;
	cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd_fd < 0)
		abort();
	if (was_root && (setgroups(0, NULL) || setresgid(0, 0, 0)))
		abort();
	unprivileged(true);
	snprintf(basepath, sizeof(basepath), "/tmp/sb-fuzz-tar.XXXXXX");
	if (!mkdtemp(basepath))
		abort();
	atexit(cleanup);
	base = open(basepath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (base < 0 || fchdir(base) || mkdirat(base, "victim", 0755))
		abort();
	int fd = openat(base, "victim/keep", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "keep\n", 5) != 5)
		abort();
	close(fd);
	if (fstatat(base, "victim", &victim_st, AT_SYMLINK_NOFOLLOW) ||
	    fstatat(base, "victim/keep", &keep_st, AT_SYMLINK_NOFOLLOW))
		abort();
}

static void put(const char *name, const uint8_t *p, size_t n)
{
	int fd = openat(base, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
		abort();
	close(fd);
}

static bool same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mode == b->st_mode && a->st_size == b->st_size &&
	       a->st_nlink == b->st_nlink && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_uid == b->st_uid;
}

/* BASE must hold exactly root, victim, l1.tar, l2.tar; victim exactly
 * keep, unchanged. */
static void check_outside(void)
{
	DIR *d = opendir(basepath);
	struct dirent *de;
	if (!d)
		abort();
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (strcmp(n, ".") && strcmp(n, "..") && strcmp(n, "root") && strcmp(n, "victim") &&
		    strcmp(n, "l1.tar") && strcmp(n, "l2.tar")) {
			fprintf(stderr, "fuzz_image_tar: %s/%s appeared outside the root\n", basepath, n);
			abort();
		}
	}
	closedir(d);
	struct stat st;
	if (fstatat(base, "root", &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "fuzz_image_tar: the root itself was replaced\n");
		abort();
	}
	if (fstatat(base, "victim", &st, AT_SYMLINK_NOFOLLOW) || !same(&st, &victim_st) ||
	    fstatat(base, "victim/keep", &st, AT_SYMLINK_NOFOLLOW) || !same(&st, &keep_st)) {
		fprintf(stderr, "fuzz_image_tar: the victim directory outside the root changed\n");
		abort();
	}
	char buf[8];
	int fd = openat(base, "victim/keep", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 5 || memcmp(buf, "keep\n", 5))
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (base < 0)
		init();
	else
		unprivileged(true);
	if (size < 3 || size > (1u << 20)) {
		unprivileged(false);
		return 0;
	}
	unsigned flags = data[0];
	size_t l1 = (size_t)data[1] | (size_t)data[2] << 8;
	data += 3;
	size -= 3;
	if (!(flags & 2) || l1 > size)
		l1 = size;
	put("l1.tar", data, l1);
	put("l2.tar", data + l1, size - l1);

	wipe(base, "root");
	if (mkdirat(base, "root", 0755))
		abort();
	int rootfd = openat(base, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		abort();
	struct err e;
	struct apply *a = apply_new(rootfd, flags & 1, &e);
	if (!a)
		abort();
	int r = apply_tar_at(a, base, "l1.tar", &e);
	if (!r && (flags & 2))
		r = apply_tar_at(a, base, "l2.tar", &e);
	if (!r)
		apply_finish(a, &e);
	apply_free(a);
	if (getenv("SB_FUZZ_DEBUG"))
		fprintf(stderr, "apply: %d %s\n", r, r ? e.msg : "ok");
	close(rootfd);
	check_outside();
	unprivileged(false);
	return 0;
}
