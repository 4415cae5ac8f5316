/* The disk: mkfs.erofs (erofs-utils), else mke2fs -t ext4 -d.
 *
 * Deterministic output for a given tree: a fixed UUID; per-file mtimes are kept (--preserve-mtime), and the superblock's
 * build time — the only field that depends on the clock, because
 * erofs-utils 1.5's -T would also overwrite every file's mtime — is set to 0
 * afterwards and the superblock checksum recomputed. Files whose mtime
 * equals the build time would be stored as compact inodes; with nanosecond
 * precision that does not happen in practice.
 *
 * -Enoinline_data: no file's tail is packed into its inode, so every
 * regular file is FLAT_PLAIN, which erofs serves with DAX when the image is
 * virtio-pmem (docs/pmem.md: an inlined file would be read through the
 * guest's page cache, a copy per sandbox). It costs up to a block per file.
 *
 * As non-root the tree's files belong to the importing user, so the image
 * is made with --all-root (per-file ownership from the layers is lost;
 * import as root to keep it). SANDBOX_IMAGE_MKFS=ext4 forces the fallback. */
#include "image.h"
#include "mke2fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EROFS_SUPER_OFFSET 1024
#define EROFS_BLKSIZ 4096
#define EROFS_MAGIC 0xE0F5E1E2u
#define EROFS_FEATURE_COMPAT_SB_CHKSUM 0x1

/* Run argv; its stdout (and with QUIET its stderr) to /dev/null. */
static int run_x(char *const argv[], char *const env_add, bool quiet, struct err *e)
{
	pid_t pid = fork();
	if (pid < 0)
		return err_sys(e, "fork");
	if (pid == 0) {
		if (env_add)
			putenv(env_add);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		if (null >= 0 && quiet)
			dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	mkfs_child = pid;
	int st;
	if (mkfs_wait(pid, &st))
		return err_sys(e, "wait %s", argv[0]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return err_set(e, "%s: not found", argv[0]);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return err_set(e, "%s failed (status %d)", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static int run(char *const argv[], char *const env_add, struct err *e)
{
	return run_x(argv, env_add, false, e);
}

static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return crc;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Zero the build time (le64 at +24, nsec le32 at +32) and re-checksum. */
static int erofs_fix_build_time(const char *out, struct err *e)
{
	int fd = open(out, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "%s", out);
	uint8_t blk[EROFS_BLKSIZ];
	int rc = -1;
	if (pread(fd, blk, sizeof(blk), 0) != (ssize_t)sizeof(blk)) {
		err_set(e, "%s: short image", out);
		goto out;
	}
	uint8_t *sb = blk + EROFS_SUPER_OFFSET;
	if (le32(sb) != EROFS_MAGIC) {
		err_set(e, "%s: not erofs", out);
		goto out;
	}
	bool chk = le32(sb + 8) & EROFS_FEATURE_COMPAT_SB_CHKSUM;
	if (chk) { /* check we compute it as mkfs did before changing it */
		uint32_t old = le32(sb + 4);
		put_le32(sb + 4, 0);
		if (crc32c(~0u, sb, EROFS_BLKSIZ - EROFS_SUPER_OFFSET) != old) {
			err_set(e, "%s: unexpected superblock checksum", out);
			goto out;
		}
	}
	memset(sb + 24, 0, 12);
	if (chk)
		put_le32(sb + 4, crc32c(~0u, sb, EROFS_BLKSIZ - EROFS_SUPER_OFFSET));
	if (pwrite(fd, sb, EROFS_BLKSIZ - EROFS_SUPER_OFFSET, EROFS_SUPER_OFFSET) !=
	    EROFS_BLKSIZ - EROFS_SUPER_OFFSET) {
		err_sys(e, "%s", out);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* One fixed UUID: the same tree gives the same disk, whatever the input
 * format (whose keys differ). Guests find disks by position, not UUID. */
static const char fixed_uuid[] = "5a9db0c5-0000-4000-8000-000000000001";

/* Bytes used by the tree, to size the ext4 image. */
static uint64_t du(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "du -sxk --apparent-size '%s' 2>/dev/null", dir);
	FILE *p = popen(cmd, "r");
	unsigned long long k = 0;
	if (p) {
		if (fscanf(p, "%llu", &k) != 1)
			k = 0;
		pclose(p);
	}
	return k * 1024;
}

static unsigned long nentries;
static int count_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)p, (void)st, (void)flag, (void)f;
	nentries++;
	return 0;
}

/* mke2fs -d copies each file's ctime, which is when we made it, and
 * atime, which reading the tree may have changed (erofs keeps no atime
 * either): set every inode's ctime and atime to 1 with debugfs (inodes 2, 11 and the next one per entry
 * at most; hard links use fewer, setting an unused inode's ctime is
 * harmless). */
static int ext4_fix_ctime(const char *dir, const char *out, struct err *e)
{
	nentries = 0;
	if (nftw(dir, count_entry, 64, FTW_PHYS))
		return err_sys(e, "%s", dir);
	char cmds[4200];
	snprintf(cmds, sizeof(cmds), "%s.debugfs", out);
	FILE *f = fopen(cmds, "w");
	if (!f)
		return err_sys(e, "%s", cmds);
	fprintf(f, "sif <2> ctime 1\nsif <2> atime 1\n");
	for (unsigned long i = 11; i <= 12 + nentries; i++)
		fprintf(f, "sif <%lu> ctime 1\nsif <%lu> atime 1\n", i, i);
	if (fclose(f))
		return err_sys(e, "%s", cmds);
	char *argv[] = { "debugfs", "-w", "-f", cmds, (char *)out, NULL };
	int rc = run_x(argv, NULL, true, e);
	unlink(cmds);
	return rc;
}

/* The fallback needs e2fsprogs' mke2fs (-d: a filesystem from a
 * directory): its path into PATH, or an error that names the fix. */
static int find_mke2fs(bool forced, char *path, size_t len, struct err *e)
{
	const char *want = forced ? "install e2fsprogs (SANDBOX_IMAGE_MKFS=ext4 asks for it)"
				  : "install erofs-utils (apt-get install erofs-utils)";
	if (!mke2fs_find(path, len, e))
		return 0;
	char why[sizeof(e->msg)];
	snprintf(why, sizeof(why), "%s", e->msg);
	return err_set(e, "cannot make the image disk: %s%s; %s", forced ? "" : "no mkfs.erofs, and ", why, want);
}

static int build_ext4(const char *tool, const char *dir, const char *out, const char *uuid, struct err *e)
{
	uint64_t size = du(dir);
	size = size + size / 2 + 16 * MIB;
	char sz[32], hash[64];
	snprintf(sz, sizeof(sz), "%lluk", (unsigned long long)(size / 1024));
	snprintf(hash, sizeof(hash), "hash_seed=%s,root_owner=0:0", uuid);
	char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-U", (char *)uuid,
			 "-E", hash, "-d", (char *)dir, (char *)out, sz, NULL };
	static char fake[] = "E2FSPROGS_FAKE_TIME=1";
	if (mke2fs_run(tool, argv, fake, e))
		return -1;
	return ext4_fix_ctime(dir, out, e);
}

int mkfs_build(const char *dir, const char *out, const char *key, const char **fstype, struct err *e)
{
	(void)key;
	const char *uuid = fixed_uuid;
	const char *force = getenv("SANDBOX_IMAGE_MKFS");
	if (!force || strcmp(force, "ext4")) {
		char *argv[] = { "mkfs.erofs", "--quiet", "--preserve-mtime", "-Enoinline_data", "-U", (char *)uuid,
				 geteuid() ? "--all-root" : NULL, NULL, NULL, NULL };
		int i = geteuid() ? 7 : 6;
		argv[i] = (char *)out;
		argv[i + 1] = (char *)dir;
		struct err e1;
		if (!run(argv, NULL, &e1)) {
			*fstype = "erofs";
			return erofs_fix_build_time(out, e);
		}
		if (!strstr(e1.msg, "not found")) {
			*e = e1;
			return -1;
		}
	}
	unlink(out);
	char tool[4200];
	if (find_mke2fs(force && !strcmp(force, "ext4"), tool, sizeof(tool), e))
		return -1;
	*fstype = "ext4";
	return build_ext4(tool, dir, out, uuid, e);
}
