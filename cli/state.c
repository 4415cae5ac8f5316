/* The state directory (see state.h). Plain files, no daemon: every command
 * reads what the owners wrote and checks that the owners still live.
 *
 * The state decides which processes get signalled and which tap devices
 * get deleted, so it is trusted only as far as nobody else can have made
 * or changed it, and even then it is data to check, never instructions:
 * - the root must be a real directory (not a symlink) owned by this user
 *   and not writable by group or others: /tmp/sandbox-<uid> made first by
 *   another local user is refused, not used;
 * - everything in it is opened relative to a directory fd, never through a
 *   symlink (O_NOFOLLOW); a sandbox's directory is checked like the root;
 *   files are created fresh (atomic_file.h: O_EXCL; a stale state.tmp is
 *   unlinked first, so a symlink planted there is replaced, never written
 *   through);
 * - state_write refuses values with control characters (a value with a
 *   newline would add lines), and state_read parses strictly: a file that
 *   state_write could not have written is "damaged", reported with where
 *   it is, and none of it is used. */
#include "state.h"
#include "atomic_file.h"
#include "storage.h"
#include "procstat.h"
#include "proto.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAX 8192      /* bytes: a state file is well under 2 KiB */
#define PID_MAX 4194304     /* the kernel's upper bound of pid_max */

static char root[512];
static int root_fd = -1;

static bool valid_id(const char *n)
{
	if (strlen(n) != STATE_ID_LEN)
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int state_mkdir_p(const char *path, mode_t mode)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) && errno != EEXIST ? -1 : 0;
}

/* Open directory NAME (relative to AT; PATH to show) for use as state: a
 * real directory, this user's, not writable by group or others. WHAT names
 * it in errors, FIX says what to do. */
int state_trusted_dir(int at, const char *name, const char *path, const char *what, const char *fix,
		      struct err *e)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int errnum = errno;
		struct stat st;
		if ((errnum == ELOOP || errnum == ENOTDIR) && !fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW)) {
			err_set(e, "%s %s is %s: %s", what, path,
				S_ISLNK(st.st_mode) ? "a symbolic link, not a directory" : "not a directory", fix);
			e->errnum = errnum;
			return -1;
		}
		errno = errnum;
		return err_sys(e, "%s %s", what, path);
	}
	struct stat st;
	if (fstat(fd, &st)) {
		err_sys(e, "%s %s", what, path);
	} else if (st.st_uid != geteuid()) {
		err_set(e, "%s %s is owned by uid %u, not by this user (uid %u): %s", what, path, (unsigned)st.st_uid,
			(unsigned)geteuid(), fix);
		e->errnum = EPERM;
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		err_set(e, "%s %s is writable by %s (mode %04o): %s", what, path,
			st.st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st.st_mode & 07777), fix);
		e->errnum = EPERM;
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

const char *state_root(struct err *e)
{
	if (root_fd >= 0)
		return root;
	char path[sizeof(root)];
	const char *env = getenv("SANDBOX_STATE_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else if (geteuid() == 0)
		snprintf(path, sizeof(path), "/run/sandbox");
	else if (xdg && *xdg)
		snprintf(path, sizeof(path), "%s/sandbox", xdg);
	else
		snprintf(path, sizeof(path), "/tmp/sandbox-%u", (unsigned)geteuid());
	if (state_mkdir_p(path, 0700)) {
		err_sys(e, "state directory %s", path);
		return NULL;
	}
	int fd = state_trusted_dir(AT_FDCWD, path, path, "state directory",
				  "remove it (or set SANDBOX_STATE_DIR to a directory of your own)", e);
	if (fd < 0)
		return NULL;
	snprintf(root, sizeof(root), "%s", path);
	root_fd = fd;
	return root;
}

int state_lock(struct err *e)
{
	if (!state_root(e))
		return -1;
	int fd = openat(root_fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		return err_set(e, "lock %s/.lock: not a regular file (remove it)", root);
	}
	if (fd < 0 || flock(fd, LOCK_EX)) {
		err_sys(e, "lock %s/.lock", root);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

void state_path(char *buf, size_t len, const char *id, const char *file)
{
	snprintf(buf, len, "%s/%s%s%s", root, id, file ? "/" : "", file ? file : "");
}

/* Sandbox ID's directory as an fd (CREATE: made 0700 if missing). */
static int sandbox_dir(const char *id, bool create, struct err *e)
{
	if (!valid_id(id))
		return err_set(e, "'%s' is not a sandbox id", id);
	if (!state_root(e))
		return -1;
	if (create && mkdirat(root_fd, id, 0700) && errno != EEXIST)
		return err_sys(e, "mkdir %s/%s", root, id);
	char path[600], fix[700];
	state_path(path, sizeof(path), id, NULL);
	snprintf(fix, sizeof(fix), "remove %s by hand", path);
	return state_trusted_dir(root_fd, id, path, "sandbox directory", fix, e);
}

int state_open(const char *id, const char *file, int flags, mode_t mode, struct err *e)
{
	int dfd = sandbox_dir(id, false, e);
	if (dfd < 0)
		return -1;
	/* O_NONBLOCK until it is known to be a file: opening a FIFO would wait. */
	int fd = openat(dfd, file, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
	int errnum = errno;
	close(dfd);
	if (fd < 0 && errnum == ELOOP) {
		err_set(e, "%s/%s/%s is a symbolic link: remove %s/%s by hand", root, id, file, root, id);
		e->errnum = EBADMSG;
		return -1;
	}
	if (fd < 0) {
		errno = errnum;
		return err_sys(e, "%s/%s/%s", root, id, file);
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		err_set(e, "%s/%s/%s is not a regular file: remove %s/%s by hand", root, id, file, root, id);
		e->errnum = EBADMSG;
		return -1;
	}
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* ------------------------------------------------------------------ */
/* the file's keys */

enum kind { K_STR, K_NUM, K_UNUM };

static const struct key {
	const char *name;
	enum kind kind;
	size_t off, size;
	long long min, max;   /* K_NUM */
	bool optional;        /* may be missing (added later) */
} keys[] = {
#define STR(f) { #f, K_STR, offsetof(struct sandbox_state, f), sizeof(((struct sandbox_state *)0)->f), 0, 0, false }
#define NUM(f, lo, hi) { #f, K_NUM, offsetof(struct sandbox_state, f), sizeof(((struct sandbox_state *)0)->f), lo, hi, false }
#define UNUM(f) { #f, K_UNUM, offsetof(struct sandbox_state, f), sizeof(unsigned long long), 0, 0, false }
	STR(id), STR(name), STR(image), STR(command), NUM(created, 0, LLONG_MAX), STR(isolation), STR(cpus),
	NUM(memory, 0, LLONG_MAX), NUM(pid, 2, PID_MAX), UNUM(pid_start), NUM(vmm_pid, 0, PID_MAX), STR(status),
	NUM(exit_code, -1, 255), NUM(net, 0, 250), STR(tap), STR(stop_signal), NUM(rm, 0, 1),
	NUM(detached, 0, 1), UNUM(vmm_start),
	{ "log_driver", K_STR, offsetof(struct sandbox_state, log_driver), sizeof(((struct sandbox_state *)0)->log_driver), 0, 0, true },
	{ "ttl", K_NUM, offsetof(struct sandbox_state, ttl), sizeof(long long), 0, 86400LL * 3650, true },
	{ "oom_kills", K_NUM, offsetof(struct sandbox_state, oom_kills), sizeof(long long), 0, SB_OOM_MAX, true },
#undef STR
#undef NUM
#undef UNUM
};

static bool has_control(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

int state_write(const struct sandbox_state *s, struct err *e)
{
	/* A newline in a value would add a line: the file stays data. */
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		if (keys[k].kind == K_STR && has_control((const char *)s + keys[k].off))
			return err_set(e, "sandbox %s: its %s holds a control character: refused", s->id, keys[k].name);
	unsigned long long vmm_start = s->vmm_pid <= 0 ? 0 : s->vmm_start ? s->vmm_start : state_proc_start(s->vmm_pid);
	int dfd = sandbox_dir(s->id, true, e);
	if (dfd < 0)
		return -1;
	/* state.tmp made fresh (one left by a write that died, or planted, is
	 * replaced), then renamed over state. */
	char show[700];
	snprintf(show, sizeof(show), "%s/%s/state", root, s->id);
	int r = atomic_printf(dfd, "state", show, 0, e,
		"id=%s\nname=%s\nimage=%s\ncommand=%s\ncreated=%lld\nisolation=%s\ncpus=%s\nmemory=%lld\n"
		"pid=%d\npid_start=%llu\nvmm_pid=%d\nstatus=%s\nexit_code=%d\nnet=%d\ntap=%s\nstop_signal=%s\n"
		"rm=%d\ndetached=%d\nvmm_start=%llu\nlog_driver=%s\nttl=%lld\noom_kills=%lld\n",
		s->id, s->name, s->image, s->command, s->created, s->isolation, s->cpus, s->memory, (int)s->pid,
		s->pid_start, (int)s->vmm_pid, s->status, s->exit_code, s->net, s->tap, s->stop_signal, s->rm,
		s->detached, vmm_start, s->log_driver, s->ttl, s->oom_kills);
	close(dfd);
	return r;
}

/* A damaged state file: reported with what is wrong and where it is. */
static int damaged(struct err *e, const char *id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int damaged(struct err *e, const char *id, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	err_set(e, "sandbox %s: damaged state file (%s); remove %s/%s by hand", id, why, root, id);
	e->errnum = EBADMSG;
	return -1;
}

/* Decimal as state_write writes it: digits (a '-' if MIN < 0), no sign,
 * space or leading zero. */
static bool parse_num(const char *v, long long min, long long max, long long *out)
{
	const char *d = v + (*v == '-' && min < 0);
	size_t n = strlen(d);
	if (!n || n > 19 || strspn(d, "0123456789") != n || (d[0] == '0' && (n > 1 || d != v)))
		return false;
	errno = 0;
	long long x = strtoll(v, NULL, 10);
	if (errno || x < min || x > max)
		return false;
	*out = x;
	return true;
}

static bool parse_unum(const char *v, unsigned long long *out)
{
	size_t n = strlen(v);
	if (!n || n > 20 || strspn(v, "0123456789") != n || (v[0] == '0' && n > 1))
		return false;
	errno = 0;
	*out = strtoull(v, NULL, 10);
	return !errno;
}

static void store(void *p, size_t size, long long v)
{
	if (size == sizeof(long long))
		*(long long *)p = v;
	else if (size == sizeof(int))
		*(int *)p = (int)v;
	else
		*(bool *)p = v != 0;
}

static bool valid_name(const char *n)
{
	if (!isalnum((unsigned char)n[0]))
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

/* What the values must be, as the owner (cli/run.c) makes them. */
static int check_values(const struct sandbox_state *t, const char *id, struct err *e)
{
	char tap[sizeof(t->tap)];
	if (strcmp(t->id, id))
		return damaged(e, id, "its id is '%s'", t->id);
	if (!valid_name(t->name))
		return damaged(e, id, "the name '%s' is not a sandbox name", t->name);
	if (!t->image[0])
		return damaged(e, id, "no image");
	if (strcmp(t->isolation, "vm") && strcmp(t->isolation, "container"))
		return damaged(e, id, "isolation '%s' is not vm or container", t->isolation);
	if (!t->cpus[0] || strspn(t->cpus, "0123456789.") != strlen(t->cpus))
		return damaged(e, id, "cpus '%s' is not a number", t->cpus);
	if (strcmp(t->status, "created") && strcmp(t->status, "running") && strcmp(t->status, "paused") &&
	    strcmp(t->status, "exited"))
		return damaged(e, id, "status '%s' is not created, running or exited", t->status);
	if (!t->pid_start)
		return damaged(e, id, "pid_start is 0");
	if (t->vmm_pid == 1)
		return damaged(e, id, "vmm_pid is 1");
	/* The only tap a sandbox has is the one its owner made for it. */
	snprintf(tap, sizeof(tap), "sb%.12s", id);
	if (t->net ? strcmp(t->tap, tap) : t->tap[0] != '\0')
		return damaged(e, id, "tap '%s' is not %s", t->tap, t->net ? tap : "empty (no network)");
	if (t->log_driver[0] && strcmp(t->log_driver, "json-file") && strcmp(t->log_driver, "journald") &&
	    strcmp(t->log_driver, "none"))
		return damaged(e, id, "log_driver '%s' is not json-file, journald or none", t->log_driver);
	if (t->stop_signal[0] && state_signal(t->stop_signal) < 0)
		return damaged(e, id, "stop_signal '%s' is not a signal", t->stop_signal);
	return 0;
}

static int parse_state(char *buf, size_t n, const char *id, struct sandbox_state *t, struct err *e)
{
	unsigned seen = 0;
	if (n == 0 || buf[n - 1] != '\n')
		return damaged(e, id, "%s", n ? "the last line is cut short" : "empty");
	if (memchr(buf, '\0', n))
		return damaged(e, id, "a NUL byte");
	buf[n - 1] = '\0';
	int lineno = 0;
	for (char *line = buf, *next; line; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (has_control(line))
			return damaged(e, id, "line %d holds a control character", lineno);
		char *v = strchr(line, '=');
		if (!v)
			return damaged(e, id, "line %d is not key=value", lineno);
		*v++ = '\0';
		size_t k = 0;
		while (k < ARRAY_SIZE(keys) && strcmp(keys[k].name, line))
			k++;
		if (k == ARRAY_SIZE(keys))
			return damaged(e, id, "unknown key '%.32s' on line %d", line, lineno);
		const struct key *key = &keys[k];
		if (seen & (1u << k))
			return damaged(e, id, "%s given twice (line %d)", key->name, lineno);
		seen |= 1u << k;
		void *p = (char *)t + key->off;
		long long x;
		if (key->kind == K_STR) {
			if (strlen(v) >= key->size)
				return damaged(e, id, "%s is longer than %zu bytes", key->name, key->size - 1);
			memcpy(p, v, strlen(v) + 1);
		} else if (key->kind == K_UNUM) {
			if (!parse_unum(v, p))
				return damaged(e, id, "%s '%.24s' is not a number", key->name, v);
		} else if (!parse_num(v, key->min, key->max, &x)) {
			return damaged(e, id, "%s '%.24s' is not a number from %lld to %lld", key->name, v, key->min,
				       key->max);
		} else {
			store(p, key->size, x);
		}
	}
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		if (!(seen & (1u << k)) && !keys[k].optional)
			return damaged(e, id, "no %s", keys[k].name);
	return check_values(t, id, e);
}

int state_read(const char *id, struct sandbox_state *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	int fd = state_open(id, "state", O_RDONLY, 0, e);
	if (fd < 0)
		return -1;
	char *buf = malloc(STATE_MAX + 1);
	if (!buf) {
		close(fd);
		return err_oom(e, "read state");
	}
	size_t n = 0;
	for (ssize_t r; n <= STATE_MAX && (r = read(fd, buf + n, STATE_MAX + 1 - n)) != 0;) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_sys(e, "read %s/%s/state", root, id);
			close(fd);
			free(buf);
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	struct sandbox_state t = { 0 };
	int r = n > STATE_MAX ? damaged(e, id, "larger than %d bytes", STATE_MAX) : parse_state(buf, n, id, &t, e);
	free(buf);
	if (!r)
		*s = t;
	return r;
}

struct ent {
	char *id;
	long long created;
};

static int by_created(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	return x->created < y->created ? -1 : x->created > y->created ? 1 : strcmp(x->id, y->id);
}

/* Free the first N entries of ENTS and ENTS. */
static void free_ents(struct ent *ents, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ents[i].id);
	free(ents);
}

/* Append ID (created CREATED) to *ENTS (*CAP entries room, *N used). */
static int add_ent(struct ent **ents, size_t *cap, size_t *n, const char *id, long long created)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct ent *ne = realloc(*ents, ncap * sizeof(**ents));
		if (!ne)
			return -1;
		*ents = ne;
		*cap = ncap;
	}
	char *copy = strdup(id);
	if (!copy)
		return -1;
	(*ents)[*n] = (struct ent){ .id = copy, .created = created };
	(*n)++;
	return 0;
}

char **state_list(size_t *n, struct err *e)
{
	*n = 0;
	if (!state_root(e))
		return NULL;
	int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		err_sys(e, "read %s", root);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct ent *ents = NULL;
	size_t cap = 0, count = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (!valid_id(de->d_name))
			continue;
		struct sandbox_state s;
		struct err ignored;     /* a damaged state is listed; reading it says why */
		if (state_read(de->d_name, &s, &ignored))
			s.created = 0;
		if (add_ent(&ents, &cap, &count, de->d_name, s.created)) {
			closedir(d);
			free_ents(ents, count);
			err_oom(e, "list the sandboxes");
			return NULL;
		}
	}
	closedir(d);
	if (count)
		qsort(ents, count, sizeof(*ents), by_created);
	char **ids = calloc(count + 1, sizeof(char *));
	if (!ids) {
		free_ents(ents, count);
		err_oom(e, "list the sandboxes");
		return NULL;
	}
	for (size_t i = 0; i < count; i++)
		ids[i] = ents[i].id;
	free(ents);
	*n = count;
	return ids;
}

void state_free_list(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

int state_find(const char *ref, struct sandbox_state *s, struct err *e)
{
	size_t n, hits = 0;
	char **ids = state_list(&n, e);
	if (!ids)
		return -1;
	char found[STATE_ID_LEN + 1] = "";
	/* The id, else a name, else a unique id prefix. Ids and prefixes match
	 * by the directory's name, so that a damaged state is found (and
	 * reported) too; a name needs a state that reads. */
	for (size_t i = 0; i < n && !hits; i++)
		if (!strcmp(ids[i], ref)) {
			snprintf(found, sizeof(found), "%s", ids[i]);
			hits = 1;
		}
	for (size_t i = 0; i < n && !hits; i++) {
		struct sandbox_state t;
		struct err e2;
		if (!state_read(ids[i], &t, &e2) && !strcmp(t.name, ref)) {
			snprintf(found, sizeof(found), "%s", ids[i]);
			hits = 1;
		}
	}
	if (!hits && strlen(ref) >= 4)
		for (size_t i = 0; i < n; i++)
			if (!strncmp(ids[i], ref, strlen(ref))) {
				if (!hits)
					snprintf(found, sizeof(found), "%s", ids[i]);
				hits++;
			}
	state_free_list(ids, n);
	if (hits == 0)
		return err_set(e, "no such sandbox: %s", ref);
	if (hits > 1)
		return err_set(e, "'%s' matches several sandboxes: give more of the id", ref);
	return state_read(found, s, e);
}

/* ------------------------------------------------------------------ */
/* signals */

static const struct {
	const char *name;
	int sig;
} signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },
	{ "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "POLL", SIGPOLL }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

int state_signal(const char *s)
{
	if (strlen(s) >= sizeof(((struct sandbox_state *)0)->stop_signal))
		return -1;
	if (isdigit((unsigned char)s[0])) {
		char *end;
		long v = strtol(s, &end, 10);
		return *end || v < 1 || v > 64 ? -1 : (int)v;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signames); i++)
		if (!strcasecmp(s, signames[i].name))
			return signames[i].sig;
	/* RTMIN, RTMIN+N, RTMAX-N, RTMAX (Docker's names) */
	bool min = !strncasecmp(s, "RTMIN", 5), max = !strncasecmp(s, "RTMAX", 5);
	if (!min && !max)
		return -1;
	int base = min ? SIGRTMIN : SIGRTMAX, off = 0;
	if (s[5]) {
		char *end;
		if (s[5] != (min ? '+' : '-') || !isdigit((unsigned char)s[6]))
			return -1;
		long v = strtol(s + 6, &end, 10);
		if (*end || v > SIGRTMAX - SIGRTMIN)
			return -1;
		off = min ? (int)v : -(int)v;
	}
	return base + off;
}

/* ------------------------------------------------------------------ */
/* processes */

unsigned long long state_proc_start(pid_t pid)
{
	struct proc_stat st;
	return proc_stat_read(pid, &st) ? 0 : st.start;
}

bool state_owner_alive(const struct sandbox_state *s)
{
	return s->pid > 1 && s->pid_start && state_proc_start(s->pid) == s->pid_start;
}

bool state_vmm_alive(const struct sandbox_state *s)
{
	return s->vmm_pid > 1 && s->vmm_start && state_proc_start(s->vmm_pid) == s->vmm_start;
}

/* Empty directory DFD (closed here), DEPTH levels of subdirectories down,
 * never through a symlink (unlinkat removes the link itself). */
static void remove_tree(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!unlinkat(dfd, de->d_name, 0) || (errno != EISDIR && errno != EPERM))
			continue;
		int sub = depth > 0 ? openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
		if (sub >= 0)
			remove_tree(sub, depth - 1);
		unlinkat(dfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

int state_remove(const char *id)
{
	struct err e;
	if (!valid_id(id) || !state_root(&e)) {
		errno = EINVAL;
		return -1;
	}
	int dfd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	remove_tree(dfd, 3);
	storage_remove(id);     /* its writable layer, kept elsewhere */
	return unlinkat(root_fd, id, AT_REMOVEDIR);
}

void state_new_id(char id[STATE_ID_LEN + 1])
{
	unsigned char b[STATE_ID_LEN / 2];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		unsigned long long x = (unsigned long long)getpid() * 2654435761u ^ (unsigned long long)time(NULL);
		memcpy(b, &x, sizeof(b) < sizeof(x) ? sizeof(b) : sizeof(x));
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
}
