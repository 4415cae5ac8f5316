/* ptyrun: run a command on a new pseudo-terminal, the way a user's
 * terminal would (for `sandbox run -t` tests where script(1) and tmux are
 * not at hand, e.g. in the nested test host).
 *   ptyrun [--rows R] [--cols C] [--input STRING] [--delay MS] -- CMD ARGS...
 * The command gets the pty's slave as its controlling terminal and stdio;
 * STRING (with \n and \x03 escapes) is typed after MS milliseconds; all
 * the terminal prints is copied to stdout; the exit status is CMD's. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t unescape(const char *s, char *out)
{
	size_t n = 0;
	for (; *s; s++) {
		if (*s == '\\' && s[1] == 'n') {
			out[n++] = '\n';
			s++;
		} else if (*s == '\\' && s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = { s[2], s[3], 0 };
			out[n++] = (char)strtol(hex, NULL, 16);
			s += 3;
		} else {
			out[n++] = *s;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	const char *input = NULL;
	int delay = 0, i = 1;
	for (; i < argc && strcmp(argv[i], "--"); i += 2) {
		if (i + 1 >= argc)
			goto usage;
		if (!strcmp(argv[i], "--rows"))
			ws.ws_row = (unsigned short)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--cols"))
			ws.ws_col = (unsigned short)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--input"))
			input = argv[i + 1];
		else if (!strcmp(argv[i], "--delay"))
			delay = atoi(argv[i + 1]);
		else
			goto usage;
	}
	if (i + 1 >= argc)
		goto usage;
	int m;
	pid_t pid = forkpty(&m, NULL, NULL, &ws);
	if (pid < 0) {
		perror("ptyrun: forkpty");
		return 125;
	}
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		perror("ptyrun: exec");
		_exit(127);
	}
	char in[4096];
	size_t inlen = input ? unescape(input, in) : 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char buf[4096];
	for (;;) {
		struct pollfd p = { .fd = m, .events = POLLIN };
		int r = poll(&p, 1, 50);
		if (inlen) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
			if (ms >= delay) {
				if (write(m, in, inlen) < 0)
					perror("ptyrun: write");
				inlen = 0;
			}
		}
		if (r > 0) {
			ssize_t n = read(m, buf, sizeof(buf));
			if (n <= 0)
				break;  /* EIO: the last process on the slave is gone */
			fwrite(buf, 1, (size_t)n, stdout);
			fflush(stdout);
		}
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
usage:
	fprintf(stderr, "usage: ptyrun [--rows R] [--cols C] [--input STR] [--delay MS] -- CMD ARGS...\n");
	return 125;
}
