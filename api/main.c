/* sandbox-serve (`sandbox serve`): the HTTP API and the dashboard
 * (docs/api.md). Options, the listening socket, the daemon, then wait
 * for TERM/INT. */
#include "api.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

#define EXIT_ERR 125

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sandbox serve [OPTIONS]\n"
		"the HTTP API (JSON) and the dashboard, for the sandboxes of this state directory\n"
		"  --socket PATH        the Unix socket (default /run/sandbox/api.sock as root,\n"
		"                       else $XDG_RUNTIME_DIR/sandbox/api.sock); mode 0600\n"
		"  --tcp ADDR:PORT      listen on TCP instead (the dashboard needs it); needs a\n"
		"                       token; a loopback address unless --allow-remote\n"
		"  --token-file FILE    the bearer token (or $SANDBOX_API_TOKEN); at least 16\n"
		"                       characters\n"
		"  --allow-remote       allow a TCP address other than loopback\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sandbox: serve: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_ERR;
}

static int listen_unix(const char *path, struct err *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return err_set(e, "--socket %s: too long for a Unix socket", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "socket");
	/* A socket left by a server that died: replaced (only a socket). */
	struct stat st;
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			close(fd);
			return err_set(e, "--socket %s exists and is not a socket", path);
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && !connect(probe, (struct sockaddr *)&a, sizeof(a))) {
			close(probe);
			close(fd);
			return err_set(e, "--socket %s: another server answers there", path);
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r || listen(fd, 128)) {
		err_sys(e, "listen on %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *spec, bool remote, struct err *e)
{
	char host[128];
	const char *colon = strrchr(spec, ':');
	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host))
		return err_set(e, "--tcp '%s': want ADDR:PORT (e.g. 127.0.0.1:8080)", spec);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || end == colon + 1)
		return err_set(e, "--tcp '%s': the port must be 0-65535", spec);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return err_set(e, "--tcp '%s': '%s' is not an IPv4 address", spec, host);
	if ((ntohl(a.sin_addr.s_addr) >> 24) != 127 && !remote)
		return err_set(e, "--tcp %s is not a loopback address: add --allow-remote to listen there", host);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return err_sys(e, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 128)) {
		err_sys(e, "listen on %s", spec);
		close(fd);
		return -1;
	}
	return fd;
}

static int read_token(const char *file, char *out, size_t len, struct err *e)
{
	const char *env = getenv("SANDBOX_API_TOKEN");
	if (file) {
		FILE *f = fopen(file, "re");
		if (!f)
			return err_sys(e, "--token-file %s", file);
		if (!fgets(out, (int)len, f))
			out[0] = '\0';
		fclose(f);
		out[strcspn(out, "\r\n")] = '\0';
	} else if (env) {
		snprintf(out, len, "%s", env);
	} else {
		out[0] = '\0';
		return 0;
	}
	if (strlen(out) < 16)
		return err_set(e, "the token must have at least 16 characters");
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return err_set(e, "the token must be printable, without spaces");
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_SOCKET = 256, O_TCP, O_TOKEN_FILE, O_REMOTE };
	static const struct option opts[] = {
		{ "socket", required_argument, 0, O_SOCKET }, { "tcp", required_argument, 0, O_TCP },
		{ "token-file", required_argument, 0, O_TOKEN_FILE }, { "allow-remote", no_argument, 0, O_REMOTE },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *sock = NULL, *tcp = NULL, *token_file = NULL;
	bool remote = false;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SOCKET: sock = optarg; break;
		case O_TCP: tcp = optarg; break;
		case O_TOKEN_FILE: token_file = optarg; break;
		case O_REMOTE: remote = true; break;
		case 'h': usage(stdout); return 0;
		default: return fail("unknown or incomplete option '%s' (sandbox serve --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail("unexpected argument '%s'", argv[optind]);
	if (sock && tcp)
		return fail("--socket and --tcp: one or the other");
	struct err e;
	static char token[512];
	if (read_token(token_file, token, sizeof(token), &e))
		return fail("%s", e.msg);
	if (tcp && !token[0])
		return fail("--tcp needs a token (--token-file FILE or $SANDBOX_API_TOKEN): refused without one");
	char path[4200];
	if (!tcp && !sock) {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		if (geteuid() == 0 || !xdg || !*xdg)
			snprintf(path, sizeof(path), "/run/sandbox/api.sock");
		else
			snprintf(path, sizeof(path), "%s/sandbox/api.sock", xdg);
		char dir[4200];
		snprintf(dir, sizeof(dir), "%s", path);
		*strrchr(dir, '/') = '\0';
		mkdir(dir, 0700);
		sock = path;
	}
	char bin[4200];
	snprintf(bin, sizeof(bin), "%s/sandbox", self_dir());
	spawn_set_binary(bin);
	char static_dir[4200];
	snprintf(static_dir, sizeof(static_dir), "%s/dashboard", self_dir());
	int fd = tcp ? listen_tcp(tcp, remote, &e) : listen_unix(sock, &e);
	if (fd < 0)
		return fail("%s", e.msg);
	signal(SIGPIPE, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct server_conf cf = { .token = token[0] ? token : NULL, .static_dir = static_dir };
	struct MHD_Daemon *d = server_start(fd, &cf, &e);
	if (!d)
		return fail("%s", e.msg);
	fprintf(stderr, "sandbox: serve: listening on %s%s\n", tcp ? "tcp " : "", tcp ? tcp : sock);
	int sig;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	if (!tcp)
		unlink(sock);
	return 0;
}
