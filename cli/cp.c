/* `sandbox cp [-a] [-L] [--max-bytes N] [--max-entries N] SRC DEST`:
 * files between this host and a running sandbox's container, as `docker
 * cp` (docs/cp.md). One of SRC and DEST is ID:PATH; the other a host
 * path, or `-` for a tar stream on stdin (copied in, extracted into the
 * directory PATH) or stdout (copied out).
 *
 * The copy is an exec (exec.c's stream: the VM's vsock connection, or
 * `guest-init --exec` with --isolation container) whose spec carries a
 * cp action: in the container, as root with its root as "/", guest-init
 * streams PATH as tar on stdout or extracts stdin at PATH (common/cp.c).
 * Here the same code extracts what comes out beside DEST, capped
 * (--max-bytes, --max-entries: the guest is not trusted), and moves it
 * into place only once all of it is there; or archives SRC for the guest.
 * Exit status: 0, or 125 with one line on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cp.h"
#include "exec.h"
#include "lifecycle.h"
#include "util.h"

#define DEFAULT_MAX_BYTES (10 * GIB)
#define DEFAULT_MAX_ENTRIES 1000000ULL
/* The pipe between the tar end and the relay thread (64 KiB by default):
 * the writer splices a file's pages in, the relay reads 32 KiB frames. */
#define CP_PIPE_SZ (1024 * 1024)

struct cp_opts {
	bool archive, follow;
	uint64_t max_bytes, max_entries;
	const char *src, *dest;
};

void cp_usage(FILE *f)
{
	fprintf(f, "  cp [-a] [-L] SRC ID:PATH | ID:PATH DEST\n"
		   "                                 copy files into or out of a running sandbox\n");
}

static void print_help(void)
{
	printf("usage: sandbox cp [OPTIONS] SRC ID:PATH   (SRC - : a tar stream on stdin)\n"
	       "       sandbox cp [OPTIONS] ID:PATH DEST  (DEST - : a tar stream on stdout)\n"
	       "copy files, directories and symlinks as docker cp does: a directory into an\n"
	       "existing directory goes inside it, SRC/. copies its contents; modes kept\n"
	       "  -a, --archive          keep uid/gid (else the copy is owned by the\n"
	       "                         receiving side's user: root in the container, you here)\n"
	       "  -L, --follow-link      SRC is a symlink: copy what it points to\n"
	       "  --max-bytes N          copying out: fail past N bytes of tar (default 10g;\n"
	       "                         k, m, g suffixes)\n"
	       "  --max-entries N        copying out: fail past N entries (default 1000000)\n");
}

/* Digits are bytes; k, m, g (KiB, MiB, GiB) may follow. */
static int parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || s[0] == '-')
		return -1;
	uint64_t mul = 1;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': mul = KIB; end++; break;
	case 'm': case 'M': mul = MIB; end++; break;
	case 'g': case 'G': mul = GIB; end++; break;
	default: return -1;
	}
	if (*end || !v || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int parse(int argc, char **argv, struct cp_opts *o, struct err *e)
{
	static const struct option lopts[] = {
		{ "archive", no_argument, 0, 'a' },      { "follow-link", no_argument, 0, 'L' },
		{ "max-bytes", required_argument, 0, 'B' }, { "max-entries", required_argument, 0, 'N' },
		{ "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 },
	};
	o->max_bytes = DEFAULT_MAX_BYTES;
	o->max_entries = DEFAULT_MAX_ENTRIES;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+aLh", lopts, NULL)) != -1) {
		switch (c) {
		case 'a': o->archive = true; break;
		case 'L': o->follow = true; break;
		case 'B':
			if (parse_bytes(optarg, &o->max_bytes))
				return err_set(e, "cp --max-bytes: '%s' is not a size", optarg);
			break;
		case 'N':
			if (parse_bytes(optarg, &o->max_entries) || strpbrk(optarg, "kKmMgG"))
				return err_set(e, "cp --max-entries: '%s' is not a count", optarg);
			break;
		case 'h': print_help(); return 1;
		default:
			return err_set(e, "cp: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return err_set(e, "usage: sandbox cp [OPTIONS] SRC ID:PATH | ID:PATH DEST");
	o->src = argv[optind];
	o->dest = argv[optind + 1];
	return 0;
}

/* "ID:PATH": a colon before any slash (so ./a:b is a host path). */
static bool is_remote(const char *arg)
{
	const char *colon = strchr(arg, ':');
	return colon && colon != arg && !memchr(arg, '/', (size_t)(colon - arg));
}

/* ID:PATH split; PATH made absolute (relative to the container's /). */
static int split_remote(const char *arg, char *ref, size_t rcap, char *path, size_t pcap, struct err *e)
{
	const char *colon = strchr(arg, ':');
	size_t rl = (size_t)(colon - arg);
	if (rl >= rcap)
		return err_set(e, "cp: '%.60s': no such sandbox", arg);
	memcpy(ref, arg, rl);
	ref[rl] = '\0';
	const char *p = colon + 1;
	if (!*p)
		return err_set(e, "cp: '%s': no path in the sandbox", arg);
	if ((size_t)snprintf(path, pcap, "%s%s", p[0] == '/' ? "" : "/", p) >= pcap)
		return err_set(e, "cp: '%.60s...': path too long", arg);
	return 0;
}

/* The last line the guest's side wrote on stderr (captured in FD),
 * without "sandbox: " and its own "cp: " or "exec: ": "" if none. */
static void guest_message(int fd, char *msg, size_t cap)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	msg[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (!strncmp(line, "sandbox: ", 9))
		line += 9;
	if (!strncmp(line, "cp: ", 4))
		line += 4;
	else if (!strncmp(line, "exec: ", 6))
		line += 6;
	snprintf(msg, cap, "%.400s", line);
}

/* The stream's end: STATUS from the guest's side, LOCAL_RC (our side's
 * result, LOCAL its error). Which error is the cause: ours if a cap
 * stopped us (the guest was cut off) or the guest's side is fine, else
 * the guest's (ours is then its echo: a stream that ended early). */
static int finish(int status, int local_rc, bool over, struct err *local, int errfd, const char *what,
		  struct err *e)
{
	char msg[600];
	if (status < 0) {
		*e = *local;
		return err_wrap(e, "cp %s", what);
	}
	if (local_rc && (over || status == 0)) {
		*e = *local;
		return err_wrap(e, "cp %s", what);
	}
	if (status != 0) {
		guest_message(errfd, msg, sizeof(msg));
		if (status == 137 && !msg[0])
			return err_set(e, "cp %s: the sandbox ended during the copy", what);
		if (!msg[0] && local_rc) {
			*e = *local;
			return err_wrap(e, "cp %s", what);
		}
		return err_set(e, "cp %s: %s", what, msg[0] ? msg : "failed in the sandbox");
	}
	return 0;
}

/* Copy into the sandbox: SRC (a host path, or - for a tar on stdin) to
 * PATH in it. */
static int cp_in(const struct cp_opts *o, const struct sandbox_state *s, const char *path, int errfd,
		 struct err *e)
{
	static struct cspec x;
	static char local_path[4200];
	unsigned contents = 0;
	bool from_stdin = !strcmp(o->src, "-");
	struct err local = { 0 };
	if (!from_stdin) {
		if (cp_src_path(o->src, local_path, sizeof(local_path), &contents, e))
			return err_wrap(e, "cp");
		struct stat st;
		if ((o->follow || contents ? stat(local_path, &st) : lstat(local_path, &st)))
			return err_sys(e, "cp: %s", o->src);
		if (contents && !S_ISDIR(st.st_mode))
			return err_set(e, "cp: %s: not a directory", o->src);
	}
	x.argv[0] = (char *)path;
	x.nargv = 1;
	x.action = CSPEC_ACT_TAR_IN;
	x.stdin_open = true;
	x.cp_flags = (from_stdin ? CP_INTO : contents) | (o->archive ? CP_OWNER : 0);
	int p[2] = { 0, -1 };
	if (!from_stdin && pipe2(p, O_CLOEXEC))
		return err_sys(e, "cp: pipe");
	if (!from_stdin)
		fcntl(p[1], F_SETPIPE_SZ, CP_PIPE_SZ);
	static struct exec_stream xs;
	if (exec_stream_start(&xs, s, &x, p[0], from_stdin ? 1 : 1, errfd, e)) {
		if (p[1] >= 0)
			close(p[1]);
		return err_wrap(e, "cp");
	}
	int rc = 0;
	if (!from_stdin) {
		rc = cp_send(p[1], local_path, contents | (o->follow ? CP_FOLLOW : 0), &local);
		close(p[1]);
	}
	int status = exec_stream_wait(&xs, false, &local);
	if (rc && local.errnum != EPIPE) {      /* ours, not an echo of the guest's end */
		*e = local;
		return err_wrap(e, "cp into the sandbox");
	}
	return finish(status, rc, false, &local, errfd, "into the sandbox", e);
}

/* A tar stream from the guest to our stdout, capped. */
static int to_stdout(int in, uint64_t max, bool *over, struct err *e)
{
	static char buf[64 * 1024];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, "read");
		if (n == 0)
			return 0;
		total += (uint64_t)n;
		if (total > max) {
			*over = true;
			return err_set(e, "the archive is over the limit of %llu bytes", (unsigned long long)max);
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(1, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return err_sys(e, "write to stdout");
			off += w;
		}
	}
}

/* Copy out of the sandbox: PATH in it to DEST (a host path, or - for a
 * tar on stdout). */
static int cp_out(const struct cp_opts *o, const struct sandbox_state *s, const char *rpath, int errfd,
		  struct err *e)
{
	static struct cspec x;
	static char path[4200];
	unsigned contents;
	struct err local = { 0 };
	bool to_out = !strcmp(o->dest, "-");
	if (cp_src_path(rpath, path, sizeof(path), &contents, e))
		return err_wrap(e, "cp");
	if (!to_out) {
		/* The parent must exist (the common mistake, said before any copying). */
		char parent[4200];
		snprintf(parent, sizeof(parent), "%s", o->dest);
		size_t n = strlen(parent);
		while (n > 1 && parent[n - 1] == '/')
			parent[--n] = '\0';
		char *slash = strrchr(parent, '/');
		const char *dir = !slash ? "." : slash == parent ? "/" : (*slash = '\0', parent);
		struct stat st;
		if (stat(dir, &st) || !S_ISDIR(st.st_mode))
			return err_set(e, "cp: %s: its parent directory does not exist", o->dest);
	}
	x.argv[0] = path;
	x.nargv = 1;
	x.action = CSPEC_ACT_TAR_OUT;
	x.cp_flags = contents | (o->follow ? CP_FOLLOW : 0);
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return err_sys(e, "cp: pipe");
	fcntl(p[1], F_SETPIPE_SZ, CP_PIPE_SZ);
	static struct exec_stream xs;
	if (exec_stream_start(&xs, s, &x, -1, p[1], errfd, e)) {
		close(p[0]);
		return err_wrap(e, "cp");
	}
	bool over = false;
	int rc;
	if (to_out)
		rc = to_stdout(p[0], o->max_bytes, &over, &local);
	else
		rc = cp_receive(p[0], o->dest, contents | (o->archive ? CP_OWNER : 0), o->max_bytes, o->max_entries,
				true, &over, &local);
	close(p[0]);
	/* A cap: cut the guest off now. Any other error of ours: let the
	 * guest end (what it still sends is dropped), so that its own error,
	 * if it is the cause, is the one reported. */
	int status = exec_stream_wait(&xs, over, &local);
	if (rc && over) {
		*e = local;
		return err_wrap(e, "cp out of the sandbox: %s", local.msg[0] && strstr(local.msg, "entries")
								   ? "more entries than --max-entries"
								   : "more bytes than --max-bytes");
	}
	return finish(status, rc, over, &local, errfd, "out of the sandbox", e);
}

int cmd_cp(int argc, char **argv)
{
	static struct cp_opts o;
	struct err e = { 0 };
	signal(SIGPIPE, SIG_IGN);
	int k = parse(argc, argv, &o, &e);
	if (k > 0)
		return 0;
	if (k < 0)
		return cli_report(&e);
	bool in = is_remote(o.dest) && strcmp(o.dest, "-"), out = is_remote(o.src) && strcmp(o.src, "-");
	if (in == out)
		return cli_fail("cp: one of SRC and DEST must be ID:PATH (a sandbox and a path in it)%s",
				in ? ", not both" : "");
	char ref[256], path[4200];
	if (split_remote(in ? o.dest : o.src, ref, sizeof(ref), path, sizeof(path), &e))
		return cli_report(&e);
	struct sandbox_state s;
	if (lifecycle_find_running(ref, &s, &e))
		return cli_report(&e);
	/* The guest's side's stderr, for its one line. */
	int errfd = memfd_create("sandbox-cp-stderr", MFD_CLOEXEC);
	if (errfd < 0) {
		err_sys(&e, "cp: memfd");
		return cli_report(&e);
	}
	int rc = in ? cp_in(&o, &s, path, errfd, &e) : cp_out(&o, &s, path, errfd, &e);
	close(errfd);
	return rc ? cli_report(&e) : 0;
}
