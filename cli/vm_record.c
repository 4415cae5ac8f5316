/* struct vm_record (snapshot.h): what a VM sandbox is made of, as
 * key=value lines, every key once, each value checked on reading. The
 * owner writes it as ROOT/<id>/vm; a snapshot keeps it as its meta. */
#include "snapshot.h"
#include "atomic_file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vm_record_write(const char *path, const struct vm_record *r, struct err *e)
{
	for (const char *p = r->command; *p; p++)
		if ((unsigned char)*p < 0x20)
			return err_set(e, "a control character in the command");
	/* kept on disk (a snapshot's meta): synced before it replaces the old */
	return atomic_printf(AT_FDCWD, path, path, ATOMIC_SYNC, e,
		"image=%s\ncommand=%s\ndisk=%s\ndisk_dev=%llu\ndisk_ino=%llu\ndisk_size=%llu\ndisk_mtime=%lld\n"
		"stop_signal=%s\ncpus=%s\nmemory=%lld\nmem_bytes=%llu\nncpus=%u\nnet=%d\nlayer=%d\nvolumes=%d\n"
		"created=%lld\nuid=%u\nimage_transport=%s\nballoon=%d\n",
		r->image, r->command, r->disk, r->disk_dev, r->disk_ino, r->disk_size, r->disk_mtime, r->stop_signal,
		r->cpus, r->memory, r->mem_bytes, r->ncpus, r->net, r->layer, r->volumes, r->created, r->uid,
		r->pmem ? "pmem" : "blk", r->balloon);
}

static int set_str(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int set_num(const char *v, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (!*v || *end || errno || x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

static int set_unum(const char *v, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)*v))
		return -1;
	unsigned long long x = strtoull(v, &end, 10);
	if (*end || errno)
		return -1;
	*out = x;
	return 0;
}

int vm_record_read(const char *path, struct vm_record *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "%s", path);
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return err_sys(e, "%s", path);
	if (n == (ssize_t)sizeof(buf) - 1)
		return err_set(e, "%s: too long", path);
	buf[n] = '\0';
	enum { K_IMAGE, K_COMMAND, K_DISK, K_DEV, K_INO, K_SIZE, K_MTIME, K_STOP, K_CPUS, K_MEMORY, K_MEMB, K_NCPUS,
	       K_NET, K_LAYER, K_VOLS, K_CREATED, K_UID, K_TRANSPORT, K_BALLOON,
	       K_N };
	static const char *const keys[K_N] = { "image", "command", "disk", "disk_dev", "disk_ino", "disk_size",
					       "disk_mtime", "stop_signal", "cpus", "memory", "mem_bytes", "ncpus",
					       "net", "layer", "volumes", "created", "uid",
					       "image_transport", "balloon" };
	bool seen[K_N] = { false };
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			goto bad;
		*eq = '\0';
		const char *v = eq + 1;
		int k = 0;
		while (k < K_N && strcmp(line, keys[k]))
			k++;
		if (k == K_N || seen[k])
			goto bad;
		seen[k] = true;
		long long x = 0;
		unsigned long long u = 0;
		int bad = 0;
		switch (k) {
		case K_IMAGE: bad = set_str(r->image, sizeof(r->image), v); break;
		case K_COMMAND: bad = set_str(r->command, sizeof(r->command), v); break;
		case K_DISK: bad = set_str(r->disk, sizeof(r->disk), v) || v[0] != '/'; break;
		case K_DEV: bad = set_unum(v, &r->disk_dev); break;
		case K_INO: bad = set_unum(v, &r->disk_ino); break;
		case K_SIZE: bad = set_unum(v, &r->disk_size); break;
		case K_MTIME: bad = set_num(v, 0, (1LL << 62), &r->disk_mtime); break;
		case K_STOP: bad = set_str(r->stop_signal, sizeof(r->stop_signal), v); break;
		case K_CPUS: bad = set_str(r->cpus, sizeof(r->cpus), v); break;
		case K_MEMORY: bad = set_num(v, 0, 1LL << 50, &r->memory); break;
		case K_MEMB: bad = set_unum(v, &u) || u < 2 * MIB || u % (2 * MIB) || u > (1ULL << 40); r->mem_bytes = u; break;
		case K_NCPUS: bad = set_num(v, 1, 32, &x); r->ncpus = (unsigned)x; break;
		case K_NET: bad = set_num(v, 0, 1, &x); r->net = (int)x; break;
		case K_LAYER: bad = set_num(v, 0, 1, &x); r->layer = (int)x; break;
		case K_VOLS: bad = set_num(v, 0, 64, &x); r->volumes = (int)x; break;
		case K_CREATED: bad = set_num(v, 0, 1LL << 40, &r->created); break;
		case K_UID: bad = set_num(v, 0, 0xffffffffLL, &x); r->uid = (unsigned)x; break;
		case K_TRANSPORT: r->pmem = !strcmp(v, "pmem"); bad = !r->pmem && strcmp(v, "blk"); break;
		case K_BALLOON: bad = set_num(v, 0, 1, &x); r->balloon = (int)x; break;
		}
		if (bad)
			goto bad;
	}
	/* keys written since: their absence is what came before them */
	if (!seen[K_BALLOON])
		r->balloon = 1;
	for (int k = 0; k < K_N; k++)
		if (!seen[k] && k != K_TRANSPORT && k != K_BALLOON)
			goto bad;
	return 0;
bad:
	memset(r, 0, sizeof(*r));
	return err_set(e, "%s is damaged (remove it)", path);
}

int vm_record_disk(struct vm_record *r, const char *disk, struct err *e)
{
	struct stat st;
	if (stat(disk, &st))
		return err_sys(e, "image disk %s", disk);
	if (set_str(r->disk, sizeof(r->disk), disk))
		return err_set(e, "image disk %s: path too long", disk);
	r->disk_dev = (unsigned long long)st.st_dev;
	r->disk_ino = (unsigned long long)st.st_ino;
	r->disk_size = (unsigned long long)st.st_size;
	r->disk_mtime = (long long)st.st_mtime;
	return 0;
}

