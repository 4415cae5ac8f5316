/* `sandbox run`: the image's run defaults (the image tool's runconf). */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/loop.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <limits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "relay.h"
#include "run_impl.h"
#include "state.h"


/* ------------------------------------------------------------------ */
/* the image */

static int runconf_parse(const char *image, struct runconf *rc, size_t len, struct err *e);

/* Read all of FD into RC->buf (NUL-terminated); its length in *LEN. */
static int read_all(int fd, struct runconf *rc, size_t *len, struct err *e)
{
	size_t cap = 65536, n = 0;
	rc->buf = malloc(cap + 1);
	if (!rc->buf)
		return err_oom(e, "the image's run defaults");
	for (;;) {
		if (n == cap) {
			char *nb = realloc(rc->buf, 2 * cap + 1);
			if (!nb)
				return err_oom(e, "the image's run defaults");
			rc->buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, rc->buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	rc->buf[n] = '\0';
	*len = n;
	return 0;
}

/* Ask the image tool (it imports a built-in image on first use). */
int runconf_load(const char *image, struct runconf *rc, struct err *e)
{
	char tool[4200];
	snprintf(tool, sizeof(tool), "%s/sandbox-image", run_bindir);
	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC))
		return err_sys(e, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		return err_sys(e, "fork");
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(errp[1], 2);
		execl(tool, tool, "runconf", image, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", tool, strerror(errno));
		_exit(EXIT_ERR);
	}
	close(out[1]);
	close(errp[1]);
	size_t len = 0;
	/* If reading fails, the tool is still waited for; that failure is
	 * the one reported (the tool then dies of EPIPE). */
	struct err read_err = { 0 };
	int r = read_all(out[0], rc, &len, &read_err);
	close(out[0]);  /* read to its end, or a tool still writing gets EPIPE */
	char msg[1024] = "";
	size_t mlen = 0;
	for (ssize_t n; mlen < sizeof(msg) - 1 && (n = read(errp[0], msg + mlen, sizeof(msg) - 1 - mlen)) > 0;)
		mlen += (size_t)n;
	msg[mlen] = '\0';
	close(errp[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r) {
		*e = read_err;
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		char *nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		const char *m = msg;
		if (!strncmp(m, "sandbox-image: ", 15))
			m += 15;
		return err_set(e, "%s", *m ? m : "the image tool failed");
	}
	return runconf_parse(image, rc, len, e);
}

/* Split RC->buf (LEN bytes of NUL-terminated key=value records). An image
 * with more Entrypoint, Cmd or Env entries than a spec holds is refused
 * rather than run with some of them dropped. */
static int runconf_parse(const char *image, struct runconf *rc, size_t len, struct err *e)
{
	for (size_t off = 0; off < len;) {
		char *rec = rc->buf + off;
		size_t rl = strnlen(rec, len - off);
		off += rl + 1;
		char *v = strchr(rec, '=');
		if (!v)
			continue;
		*v++ = '\0';
		char **list = NULL;
		int *n = NULL;
		if (!strcmp(rec, "disk")) rc->disk = v;
		else if (!strcmp(rec, "fstype")) rc->fstype = v;
		else if (!strcmp(rec, "workdir")) rc->workdir = v;
		else if (!strcmp(rec, "user")) rc->user = v;
		else if (!strcmp(rec, "stopsignal")) rc->stopsignal = v;
		else if (!strcmp(rec, "entrypoint")) list = rc->entrypoint, n = &rc->nentry;
		else if (!strcmp(rec, "cmd")) list = rc->cmd, n = &rc->ncmd;
		else if (!strcmp(rec, "env")) list = rc->env, n = &rc->nenv;
		if (!list)
			continue;
		if (*n == SB_RUN_MAX_ARGS)
			return err_set(e, "image %s: more than %d %s entries", image, SB_RUN_MAX_ARGS, rec);
		list[(*n)++] = v;
	}
	if (!rc->disk)
		return err_set(e, "image %s: the image tool gave no disk", image);
	if (!rc->fstype)
		rc->fstype = "erofs";
	return 0;
}

/* The fast path: the image tool keeps each image's runconf output as
 * CACHE/v<N>/<key>.runconf beside its entry (content-addressed, so never
 * stale); names/NAME points at the entry. Reading it saves starting the
 * tool (5 ms natively, ~65 ms in the nested test host). Anything unusual
 * — no such file, a built-in image rebuilt since it was imported, a disk
 * gone — returns -1 and the tool decides. The cache location follows
 * rootfs/main.c's cache_open(). */
int runconf_cached(const char *image, struct runconf *rc)
{
	char dir[4096], path[8400], link[256];
	const char *d = getenv("SANDBOX_IMAGE_DIR");
	if (!*image || *image == '.' || strchr(image, '/'))
		return -1;
	if (d && *d)
		snprintf(dir, sizeof(dir), "%s", d);
	else if (!geteuid())
		snprintf(dir, sizeof(dir), "/var/lib/sandbox/images");
	else if ((d = getenv("XDG_DATA_HOME")) && *d)
		snprintf(dir, sizeof(dir), "%s/sandbox/images", d);
	else if ((d = getenv("HOME")) && *d)
		snprintf(dir, sizeof(dir), "%s/.local/share/sandbox/images", d);
	else
		return -1;
	snprintf(path, sizeof(path), "%s/names/%s", dir, image);
	struct stat name_st, layout_st;
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n <= 5 || lstat(path, &name_st))
		return -1;
	link[n] = '\0';
	if (strncmp(link, "../", 3) || strcmp(link + n - 5, ".json") || strstr(link + 3, ".."))
		return -1;
	snprintf(path, sizeof(path), "%s/images/%s/index.json", run_bindir, image);
	if (!stat(path, &layout_st) && (layout_st.st_mtim.tv_sec > name_st.st_mtim.tv_sec ||
					(layout_st.st_mtim.tv_sec == name_st.st_mtim.tv_sec &&
					 layout_st.st_mtim.tv_nsec > name_st.st_mtim.tv_nsec)))
		return -1;      /* a built-in image rebuilt since: the tool re-imports it */
	snprintf(path, sizeof(path), "%s/%.*s.runconf", dir, (int)(n - 3 - 5), link + 3);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char *buf = malloc(65536 + 1);
	ssize_t len = buf ? read(fd, buf, 65536) : -1;
	close(fd);
	if (len <= 0 || len == 65536) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	struct runconf t = { .buf = buf };
	struct err e;   /* anything amiss: the tool decides, and says why */
	if (runconf_parse(image, &t, (size_t)len, &e) || access(t.disk, R_OK)) {
		free(buf);
		return -1;
	}
	*rc = t;
	return 0;
}
