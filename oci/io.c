/* sandbox-runtime: what the engine hands over besides the bundle: the
 * file it polls for the container's pid, and the socket it takes a
 * terminal's master from (cmd.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd.h"

/* Write PID into FILE atomically (engines poll for it). */
int oci_pid_file_write(const char *file, pid_t pid, struct err *e)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%d", file, (int)getpid()) >= sizeof(tmp))
		return err_set(e, "--pid-file: too long");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(e, "--pid-file %s", tmp);
	int r = dprintf(fd, "%d", (int)pid);
	if (close(fd) || r < 0 || rename(tmp, file)) {
		unlink(tmp);
		return err_sys(e, "--pid-file %s", file);
	}
	return 0;
}

/* terminal: true: a pty whose master goes to the engine over SOCK;
 * the slave becomes our stdio (and so the owner's, and the relay's). */
int oci_console_setup(const char *sock, struct err *e)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m))
		return err_sys(e, "pty");
	int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return err_sys(e, "open %s", ptsname(m));
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(a.sun_path))
		return err_set(e, "--console-socket %s: path too long", sock);
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		return err_sys(e, "--console-socket %s", sock);
	char name[] = "/dev/ptmx";
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &m, sizeof(int));
	if (sendmsg(c, &msg, 0) < 0)
		return err_sys(e, "--console-socket %s: send", sock);
	close(c);
	close(m);
	if (dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0)
		return err_sys(e, "dup2 pty");
	close(s);
	return 0;
}
