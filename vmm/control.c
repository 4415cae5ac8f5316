/* The VMM's control socket (control.h). */
#include "control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "arch/x86/vcpu_state.h"
#include "jail/seccomp.h"
#include "snapshot/snapshot.h"
#include "vm.h"

#define REQ_MAX 128

/* A stream socket and PATH's address in A: the fd, or -1 with E. */
static int unix_socket(const char *path, struct sockaddr_un *a, struct err *e)
{
	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a->sun_path))
		return err_set(e, "control socket %s: path too long", path);
	memcpy(a->sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "control socket");
	return fd;
}

int control_listen(struct vm_control *c, const char *path, struct err *e)
{
	c->listen_fd = c->stop_fd = -1;
	struct sockaddr_un a;
	int fd = unix_socket(path, &a, e);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8)) {
		err_sys(e, "control socket %s", path);
		close(fd);
		return -1;
	}
	c->listen_fd = fd;
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0)
		return err_sys(e, "eventfd");
	return 0;
}

struct control_ctx {
	struct vm_control *c;
	struct vm *vm;
};

static void reply(int fd, const char *msg)
{
	char line[600];
	int n = snprintf(line, sizeof(line), "%s\n", msg);
	if (n > 0 && write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0) {
		/* the client went away */
	}
}

static void reply_err(int fd, const struct err *e)
{
	char line[600];
	snprintf(line, sizeof(line), "error: %s", e->msg);
	reply(fd, line);
}

/* Quiesce the agent channel, pause, save. On success the VM stays paused
 * and quiet: the caller copies the writable layer (as the saved memory
 * expects it), then resumes it or ends it. */
static int do_snapshot(struct vm_control *c, struct vm *vm, int state_fd, int mem_fd, struct err *e)
{
	if (vm->pause.want)
		return err_set(e, "the sandbox is paused: resume it first");
	if (c->quiesce && c->quiesce(c->arg))
		return err_set(e, "the guest's agent did not quiesce its channel in time (is the container "
				  "still starting, or has it ended?)");
	c->quiesced = true;
	struct vcpu_state *st = calloc(vm->ncpus, sizeof(*st));
	int rc = -1;
	if (!st) {
		err_oom(e, "snapshot");
	} else if (vm_pause(vm, st, e) == 0) {
		evloop_hold(&vm->loop);
		rc = snapshot_save(vm, st, state_fd, mem_fd, e);
		evloop_release(&vm->loop);
		if (rc)
			vm_resume(vm);
	}
	free(st);
	if (rc && c->unquiesce) {
		c->unquiesce(c->arg);
		c->quiesced = false;
	}
	return rc;
}

/* One request on FD. */
static void serve(struct vm_control *c, struct vm *vm, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 2000) <= 0)
		return;
	char buf[REQ_MAX + 1];
	int fds[2] = { -1, -1 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2)];
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = REQ_MAX };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return;
	int nfds = 0;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
			size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int f;
				memcpy(&f, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
				if (nfds < 2)
					fds[nfds++] = f;
				else
					close(f);
			}
		}
	buf[n] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	struct err e = { 0 };
	if (!strcmp(buf, "pause")) {
		if (vm_pause(vm, NULL, &e))
			reply_err(fd, &e);
		else
			reply(fd, "ok");
	} else if (!strcmp(buf, "resume")) {
		if (!vm->pause.want) {
			reply(fd, "error: the sandbox is not paused");
		} else {
			vm_resume(vm);
			if (c->quiesced && c->unquiesce)
				c->unquiesce(c->arg);
			c->quiesced = false;
			reply(fd, "ok");
		}
	} else if (!strncmp(buf, "workingset ", 11)) {
		char *end;
		unsigned long scope = strtoul(buf + 11, &end, 10);
		if (nfds != 1 || *end || (scope != WS_SCOPE_RESTORE && scope != WS_SCOPE_COMMAND))
			reply(fd, "error: workingset needs a scope (1 or 2) and the file to write");
		else if (!vm->cfg.restore)
			reply(fd, "error: only a restored VM records a working set");
		else if (ws_record(&vm->mem, vm->pagemap_fd, (uint32_t)scope, fds[0], &e))
			reply_err(fd, &e);
		else
			reply(fd, "ok");
	} else if (!strcmp(buf, "snapshot")) {
		if (nfds != 2)
			reply(fd, "error: snapshot needs the state and memory files");
		else if (do_snapshot(c, vm, fds[0], fds[1], &e))
			reply_err(fd, &e);
		else
			reply(fd, "ok");
	} else {
		reply(fd, "error: unknown request");
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

static void *control_main(void *arg)
{
	struct control_ctx *x = arg;
	struct vm_control *c = x->c;
	struct vm *vm = x->vm;
	free(x);
	if (vm_seccomp_enter(vm, SB_SECCOMP_CONTROL))
		return NULL;
	for (;;) {
		struct pollfd p[2] = { { .fd = c->listen_fd, .events = POLLIN }, { .fd = c->stop_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(c, vm, fd);
		close(fd);
	}
	return NULL;
}

int control_start(struct vm_control *c, struct vm *vm, struct err *e)
{
	if (c->listen_fd < 0)
		return 0;
	struct control_ctx *x = malloc(sizeof(*x));
	if (!x)
		return err_oom(e, "control thread");
	*x = (struct control_ctx){ c, vm };
	int r = pthread_create(&c->thread, NULL, control_main, x);
	if (r) {
		free(x);
		errno = r;
		return err_sys(e, "starting the control thread");
	}
	c->started = true;
	return 0;
}

void control_stop(struct vm_control *c)
{
	if (c->started) {
		uint64_t one = 1;
		if (write(c->stop_fd, &one, sizeof(one)) < 0) {
			/* cannot happen for an eventfd below its maximum */
		}
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	c->listen_fd = c->stop_fd = -1;
}

int control_request(const char *path, const char *req, const int *fds, int nfds, int timeout_s, struct err *e)
{
	struct sockaddr_un a;
	int fd = unix_socket(path, &a, e);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int er = errno;
		close(fd);
		return err_errno(e, er, "the sandbox's VMM does not answer (%s)", strerror(er));
	}
	char line[REQ_MAX];
	int n = snprintf(line, sizeof(line), "%s\n", req);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2)];
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = { .iov_base = line, .iov_len = (size_t)n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > 0 && nfds <= 2) {
		m.msg_control = u.b;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(h), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(fd, &m, MSG_NOSIGNAL) != n) {
		close(fd);
		return err_sys(e, "sending to the sandbox's VMM");
	}
	char ans[600];
	size_t got = 0;
	while (got < sizeof(ans) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int k = poll(&p, 1, timeout_s * 1000);
		if (k <= 0) {
			close(fd);
			return err_set(e, "the sandbox's VMM did not answer within %d s", timeout_s);
		}
		ssize_t r = read(fd, ans + got, sizeof(ans) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(ans, '\n', got))
			break;
	}
	close(fd);
	ans[got] = '\0';
	char *nl = strchr(ans, '\n');
	if (nl)
		*nl = '\0';
	if (!strcmp(ans, "ok"))
		return 0;
	if (!strncmp(ans, "error: ", 7))
		return err_set(e, "%s", ans + 7);
	return err_set(e, "the sandbox's VMM ended without an answer");
}
