/* The log collector (logs.h): a child of the owner (`sandbox run`) that
 * reads the sandbox's stdout and stderr from two pipes (the owner's fds 1
 * and 2, which the VMM or host runtime inherits) and writes each line as
 * a record: to ROOT/<id>/log.json (rotated at max_size, max_files kept),
 * or to journald's native socket, or nowhere. It ends when both pipes
 * have no writer left, so it outlives the owner by the last bytes only;
 * it never holds up the sandbox (the pipes are its only link). */
#include "logs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static pid_t collector_pid;

int log_parse_driver(const char *s, enum log_driver *d, struct err *e)
{
	if (!strcmp(s, "json-file"))
		*d = LOG_JSON_FILE;
	else if (!strcmp(s, "none"))
		*d = LOG_NONE;
	else if (!strcmp(s, "journald"))
		*d = LOG_JOURNALD;
	else
		return err_set(e, "--log-driver: '%s' is not json-file, journald or none", s);
	if (*d == LOG_JOURNALD && access(JOURNAL_SOCKET, W_OK))
		return err_set(e, "--log-driver journald: no journald on this host (%s: %s)", JOURNAL_SOCKET,
			       strerror(errno));
	return 0;
}

const char *log_driver_name(enum log_driver d)
{
	return d == LOG_JSON_FILE ? "json-file" : d == LOG_JOURNALD ? "journald" : "none";
}

int log_parse_opt(const char *kv, struct log_conf *c, struct err *e)
{
	if (!strncmp(kv, "max-size=", 9)) {
		uint64_t v;
		const char *s = kv + 9;
		char num[32];
		/* plain digits are bytes here (Docker's max-size), not MiB */
		size_t n = strspn(s, "0123456789");
		if (n && !s[n] && n < sizeof(num)) {
			v = strtoull(s, NULL, 10);
		} else if (parse_size(s, &v)) {
			return err_set(e, "--log-opt %s: not a size (try 10m)", kv);
		}
		snprintf(num, sizeof(num), "%s", s);
		if (v < 4096 || v > (1ULL << 40))
			return err_set(e, "--log-opt %s: want 4k to 1t", kv);
		c->max_size = v;
		return 0;
	}
	if (!strncmp(kv, "max-file=", 9)) {
		char *end;
		long v = strtol(kv + 9, &end, 10);
		if (end == kv + 9 || *end || v < 1 || v > LOG_FILES_MAX)
			return err_set(e, "--log-opt %s: want a number of files from 1 to 100", kv);
		c->max_files = (int)v;
		return 0;
	}
	return err_set(e, "--log-opt '%s': want max-size=SIZE or max-file=N", kv);
}

/* ------------------------------------------------------------------ */
/* the child */

struct sink {
	const struct log_conf *c;
	const char *id, *name;
	int fd;                 /* log.json, -1: none */
	uint64_t size;
	uint64_t head;          /* of size, the {"file":N} line */
	long seq;               /* log.json's place in the rotation */
	int journal;            /* journald's socket, -1: none */
	char *buf;              /* one record's encoding */
	size_t buflen;
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

long log_file_seq(int fd)
{
	char head[64];
	ssize_t n = pread(fd, head, sizeof(head), 0);
	char *nl = n > 0 ? memchr(head, '\n', (size_t)n) : NULL;
	return nl ? log_head_parse(head, (size_t)(nl - head)) : -1;
}

/* By path: the state root's fd is not kept here (every fd but the pipes
 * is closed), and the owner checked the root and made the directory.
 * A new (empty) file gets its {"file":SEQ} line first. */
static void file_open(struct sink *k)
{
	char path[700];
	state_path(path, sizeof(path), k->id, LOG_FILE);
	k->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;
	if (k->fd >= 0 && (fstat(k->fd, &st) || !S_ISREG(st.st_mode))) {
		close(k->fd);
		k->fd = -1;
	}
	k->size = k->fd >= 0 ? (uint64_t)st.st_size : 0;
	k->head = 0;
	char head[64];
	int n = log_head_text(k->seq, head, sizeof(head));
	if (k->fd >= 0 && !k->size && n > 0) {
		write_all(k->fd, head, (size_t)n);
		k->size = k->head = (uint64_t)n;
	}
}

/* Where the rotation stands when the collector starts: log.json's place
 * if it has one, else the place after log.json.1's (a sandbox started
 * again appends to its log), else 0. */
static void seq_start(struct sink *k)
{
	char path[700];
	long s = -1;
	state_path(path, sizeof(path), k->id, LOG_FILE);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && !fstat(fd, &st) && st.st_size > 0) {
		s = log_file_seq(fd);
		k->seq = s >= 0 ? s : 0;
		close(fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	state_path(path, sizeof(path), k->id, LOG_FILE ".1");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		s = log_file_seq(fd);
		close(fd);
	}
	k->seq = s >= 0 ? s + 1 : 0;
}

/* log.json -> .1 -> .2 ...; the oldest beyond max_files goes. The file
 * is closed before it is renamed: a reader that sees log.json is another
 * file knows the old one is complete (follow.h). */
static void rotate(struct sink *k)
{
	char from[700], to[700];
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	if (k->c->max_files <= 1) {
		state_path(from, sizeof(from), k->id, LOG_FILE);
		unlink(from);
	} else {
		for (int i = k->c->max_files - 1; i >= 1; i--) {
			char f[32], t[32];
			snprintf(f, sizeof(f), i == 1 ? LOG_FILE : LOG_FILE ".%d", i - 1);
			snprintf(t, sizeof(t), LOG_FILE ".%d", i);
			state_path(from, sizeof(from), k->id, f);
			state_path(to, sizeof(to), k->id, t);
			rename(from, to);
		}
	}
	k->seq++;
	file_open(k);
}

static void emit(struct sink *k, enum log_stream stream, char *data, size_t len, bool partial)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct log_rec r = { .time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, .stream = stream,
			     .partial = partial, .id = k->id, .name = k->name, .data = data, .len = len };
	if (k->c->driver == LOG_JSON_FILE) {
		FILE *f = open_memstream(&k->buf, &k->buflen);
		if (!f)
			return;
		log_encode(f, &r);
		fclose(f);
		if (k->size > k->head && k->size + k->buflen > k->c->max_size)
			rotate(k);
		if (k->fd >= 0) {
			write_all(k->fd, k->buf, k->buflen);
			k->size += k->buflen;
		}
		free(k->buf);
		k->buf = NULL;
	} else if (k->c->driver == LOG_JOURNALD && k->journal >= 0) {
		/* The native protocol: KEY=VALUE lines; the line holds no '\n'. */
		char *msg = NULL;
		size_t mlen = 0;
		FILE *f = open_memstream(&msg, &mlen);
		if (!f)
			return;
		fputs("MESSAGE=", f);
		fwrite(data, 1, len, f);
		fprintf(f, "\nPRIORITY=%d\nCONTAINER_ID=%.12s\nCONTAINER_ID_FULL=%s\nCONTAINER_NAME=%s\n"
			   "SYSLOG_IDENTIFIER=sandbox\n",
			stream == LOG_STDERR ? 3 : 6, k->id, k->id, k->name);
		fclose(f);
		struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
		sendto(k->journal, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof(a));
		free(msg);
	}
}

struct in {
	int fd, tee;
	enum log_stream stream;
	char line[LOG_LINE_MAX];
	size_t n;
};

/* Records for the complete lines in I; a line at LOG_LINE_MAX goes out
 * as a partial record. */
static void split(struct sink *k, struct in *i)
{
	size_t start = 0;
	for (size_t p = 0; p < i->n; p++)
		if (i->line[p] == '\n') {
			emit(k, i->stream, i->line + start, p - start, false);
			start = p + 1;
		}
	if (start == 0 && i->n == sizeof(i->line)) {
		emit(k, i->stream, i->line, i->n, true);
		start = i->n;
	}
	memmove(i->line, i->line + start, i->n - start);
	i->n -= start;
}

static void collector_main(const struct log_conf *c, const char *id, const char *name, int out, int err, int tee_out,
			   int tee_err)
{
	signal(SIGPIPE, SIG_IGN);
	/* Signals for the sandbox (a terminal's ^C, sandbox stop) are not for
	 * us: we end at EOF. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	struct sink k = { .c = c, .id = id, .name = name, .fd = -1, .journal = -1 };
	if (c->driver == LOG_JSON_FILE) {
		seq_start(&k);
		file_open(&k);
	}
	if (c->driver == LOG_JOURNALD)
		k.journal = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	static struct in ins[2];
	ins[0] = (struct in){ .fd = out, .tee = tee_out, .stream = LOG_STDOUT };
	ins[1] = (struct in){ .fd = err, .tee = tee_err, .stream = LOG_STDERR };
	int open_count = 2;
	while (open_count) {
		struct pollfd pf[2] = { { .fd = ins[0].fd, .events = POLLIN }, { .fd = ins[1].fd, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int j = 0; j < 2; j++) {
			struct in *i = &ins[j];
			if (i->fd < 0 || !pf[j].revents)
				continue;
			ssize_t r = read(i->fd, i->line + i->n, sizeof(i->line) - i->n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (i->n)
					emit(&k, i->stream, i->line, i->n, true);
				i->n = 0;
				close(i->fd);
				i->fd = -1;
				open_count--;
				continue;
			}
			if (i->tee >= 0)
				write_all(i->tee, i->line + i->n, (size_t)r);
			i->n += (size_t)r;
			split(&k, i);
		}
	}
	if (k.fd >= 0)
		fsync(k.fd);
}

int log_collector_start(const struct log_conf *c, const char *id, const char *name, bool tee, struct err *e)
{
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC))
		return err_sys(e, "log pipe");
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]);
		close(po[1]);
		return err_sys(e, "log pipe");
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return err_sys(e, "fork the log collector");
	}
	if (pid == 0) {
		close(po[1]);
		close(pe[1]);
		int tee_out = tee ? 1 : -1, tee_err = tee ? 2 : -1;
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (!tee && nul >= 0) {
			dup2(nul, 1);
			dup2(nul, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		/* Nothing else of the owner's stays open here (the state lock,
		 * the VMM's pipes, sockets). */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != po[0] && fd != pe[0])
				close(fd);
		collector_main(c, id, name, po[0], pe[0], tee_out, tee_err);
		_exit(0);
	}
	close(po[0]);
	close(pe[0]);
	if (dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
		return err_sys(e, "log pipe");
	close(po[1]);
	close(pe[1]);
	collector_pid = pid;
	return 0;
}

void log_collector_finish(void)
{
	if (!collector_pid)
		return;
	fflush(NULL);
	int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, 1);
		dup2(nul, 2);
		close(nul);
	}
	/* The VMM may hold the pipes a little longer (it closes its stdio
	 * once the status is out): bounded. */
	for (int t = 0; t < 200; t++) {
		int st;
		if (waitpid(collector_pid, &st, WNOHANG) != 0)
			break;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	collector_pid = 0;
}
