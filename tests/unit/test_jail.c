/* Unit tests for vmm/jail/jail.c, without KVM: jail_enter() runs in a
 * forked child on a struct vm that only has its configuration, and the
 * child reports what it can still see and do. Needs root (the jail is only
 * entered by a root VMM); skipped otherwise. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "../../vmm/jail/jail.h"
#include "../../vmm/vm.h"

static struct vm vm; /* large: static */
static char dir[64];

static int listen_at(const char *path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 4), 0);
	return s;
}

static int connect_to(const char *path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (s < 0)
		return -errno;
	int r = connect(s, (struct sockaddr *)&a, sizeof(a)) ? -errno : 0;
	close(s);
	return r;
}

enum { OK = 0, E_ENTER = 10, E_UID, E_CAPS, E_NNP, E_MOUNTS, E_HOSTFS, E_CONNECT, E_UNLINK, E_PROC, E_LIMITS };

/* In the child: enter the jail, then check from the inside. */
static int child(void)
{
	struct err e;
	if (jail_enter(&vm, &e)) {
		fprintf(stderr, "jail_enter: %s\n", e.msg);
		return E_ENTER;
	}
	unsigned want = vm.cfg.jail_uid ? vm.cfg.jail_uid : JAIL_DEFAULT_UID;
	uid_t r, eu, s;
	gid_t gr, ge, gs;
	if (getresuid(&r, &eu, &s) || r != want || eu != want || s != want || getresgid(&gr, &ge, &gs) ||
	    gr != want || ge != want || gs != want || getgroups(0, NULL) != 0)
		return E_UID;
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d))
		return E_CAPS;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return E_CAPS;
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) > 0)
			return E_CAPS;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return E_NNP;
	/* Mounts: the root, /proc, the socket directory; nothing else. */
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return E_PROC;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	if (n != 3)
		return E_MOUNTS;
	struct stat st;
	if (stat("/etc/passwd", &st) == 0 || stat("/dev/kvm", &st) == 0 || stat("/usr", &st) == 0)
		return E_HOSTFS;
	if (mkdir("/x", 0755) == 0 || errno != EROFS)
		return E_HOSTFS;
	/* The socket directory works as before: connect to a root-owned
	 * listener (UDS_<port>), remove a root-owned socket (UDS at exit). */
	char p[96];
	snprintf(p, sizeof(p), "%s/v.sock_1001", dir);
	if (connect_to(p))
		return E_CONNECT;
	snprintf(p, sizeof(p), "%s/v.sock", dir);
	if (unlink(p))
		return E_UNLINK;
	struct rlimit rl;
	if (getrlimit(RLIMIT_CORE, &rl) || rl.rlim_cur != 0 || getrlimit(RLIMIT_NOFILE, &rl) ||
	    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536)
		return E_LIMITS;
	if (!fopen("/proc/self/status", "r"))
		return E_PROC;
	return OK;
}

static int run_child(void)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child());
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void setup_vm(const char *uds)
{
	memset(&vm, 0, sizeof(vm));
	vm.cfg.mem_bytes = 128 * MIB;
	vm.cfg.ncpus = 1;
	vm.ncpus = 1;
	if (uds) {
		vm.cfg.has_vsock = true;
		vm.cfg.vsock.cid = 3;
		snprintf(vm.cfg.vsock.uds, sizeof(vm.cfg.vsock.uds), "%s", uds);
	}
}

static void test_jail_inside(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(dir, sizeof(dir), "/tmp/sandbox-jail-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	char uds[96], port[96];
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	snprintf(port, sizeof(port), "%s/v.sock_1001", dir);
	int l1 = listen_at(uds), l2 = listen_at(port);

	setup_vm(uds);
	vm.cfg.jail = 1;
	int r = run_child();
	assert_int_equal(r, OK);
	/* The child removed the socket on the host, through the jail. */
	struct stat st;
	assert_int_not_equal(stat(uds, &st), 0);

	/* Another uid. */
	close(l1);
	l1 = listen_at(uds);
	vm.cfg.jail_uid = 4321;
	assert_int_equal(run_child(), OK);

	close(l1);
	close(l2);
	unlink(port);
	rmdir(dir);
}

static void test_jail_off(void **state)
{
	(void)state;
	setup_vm(NULL);
	vm.cfg.jail = -1;
	assert_false(jail_wanted(&vm));
	vm.cfg.jail = 0;
	assert_int_equal(jail_wanted(&vm), geteuid() == 0);
	vm.cfg.jail = 1;
	assert_true(jail_wanted(&vm));
	/* Off: jail_enter changes nothing. */
	vm.cfg.jail = -1;
	struct err e;
	uid_t before = geteuid();
	assert_int_equal(jail_enter(&vm, &e), 0);
	assert_int_equal(geteuid(), before);
}

static void test_socket_in_root_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	setup_vm("/v.sock");
	vm.cfg.jail = 1;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct err e;
		_exit(jail_enter(&vm, &e) && strstr(e.msg, "directory of its own") ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jail_inside),
		cmocka_unit_test(test_jail_off),
		cmocka_unit_test(test_socket_in_root_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
