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

#include "../../cli/state.h"
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

enum { OK = 0, E_ENTER = 10, E_UID, E_CAPS, E_NNP, E_MOUNTS, E_HOSTFS, E_CONNECT, E_UNLINK, E_PROC, E_LIMITS,
       E_DUMPABLE, E_STATE_SEEN, E_PLANT };

/* Is WANT the uid the jail should have given? --jail-uid, else one of the
 * per-VMM range. */
static bool jail_uid_ok(unsigned got)
{
	if (vm.cfg.jail_uid)
		return got == vm.cfg.jail_uid;
	return got >= JAIL_UID_BASE && got - JAIL_UID_BASE < JAIL_UID_SLOTS;
}

/* In the child: enter the jail, then check from the inside. */
static int child(void)
{
	struct err e;
	if (jail_enter(&vm, &e)) {
		fprintf(stderr, "jail_enter: %s\n", e.msg);
		return E_ENTER;
	}
	uid_t r, eu, s;
	gid_t gr, ge, gs;
	if (getresuid(&r, &eu, &s) || !jail_uid_ok(r) || eu != r || s != r || getresgid(&gr, &ge, &gs) ||
	    gr != r || ge != r || gs != r || getgroups(0, NULL) != 0)
		return E_UID;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return E_DUMPABLE;
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

/* ------------------------------------------------------------------ */
/* Finding 2 of the 2026-12 review: the jail got the whole sandbox
 * directory (the socket was ROOT/<id>/vsock), so the VMM could rewrite the
 * state its owner trusts. Now it gets ROOT/<id>/sock only, made for it, as
 * sandbox run (cli/run_vm.c) builds it. */

static char sroot[128], victim[160];
static const char sid[] = "00112233aabbccdd";
static const char *const owner_files[] = { "state", "state.tmp", "log" };

static int state_child(void)
{
	struct err e;
	if (jail_enter(&vm, &e)) {
		fprintf(stderr, "jail_enter: %s\n", e.msg);
		return E_ENTER;
	}
	char p[300];
	for (unsigned i = 0; i <= ARRAY_SIZE(owner_files); i++) {
		if (i < ARRAY_SIZE(owner_files))
			snprintf(p, sizeof(p), "%s/%s/%s", sroot, sid, owner_files[i]);
		else
			snprintf(p, sizeof(p), "%s/.lock", sroot);
		int fd = open(p, O_RDONLY);
		if (fd < 0)
			fd = open(p, O_WRONLY | O_CREAT | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			fprintf(stderr, "from the jail: %s opens\n", p);
			return E_STATE_SEEN;
		}
	}
	/* Whatever the VMM plants in its own directory (it may: the socket
	 * lives there) redirects nothing of the owner's. */
	for (unsigned i = 0; i < ARRAY_SIZE(owner_files); i++) {
		snprintf(p, sizeof(p), "%s/%s/sock/%s", sroot, sid, owner_files[i]);
		if (symlink(victim, p))
			return E_PLANT;
	}
	return OK;
}

static void read_victim(char *buf, size_t len)
{
	memset(buf, 0, len);
	int fd = open(victim, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, len - 1) >= 0);
	close(fd);
}

static void test_state_out_of_reach(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char top[64], sock[300], uds[sizeof(vm.cfg.vsock.uds)], buf[64];
	snprintf(top, sizeof(top), "/tmp/sandbox-jail-unit.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(sroot, sizeof(sroot), "%s/root", top);
	snprintf(victim, sizeof(victim), "%s/victim", top);
	int fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "precious\n", 9), 9);
	close(fd);
	setenv("SANDBOX_STATE_DIR", sroot, 1);
	struct err e = { 0 };
	assert_non_null(state_root(&e));
	struct sandbox_state st;
	memset(&st, 0, sizeof(st));
	snprintf(st.id, sizeof(st.id), "%s", sid);
	snprintf(st.name, sizeof(st.name), "jailtest");
	snprintf(st.image, sizeof(st.image), "busybox");
	snprintf(st.command, sizeof(st.command), "sleep 60");
	st.created = 1796000000;
	snprintf(st.isolation, sizeof(st.isolation), "vm");
	snprintf(st.cpus, sizeof(st.cpus), "1");
	st.pid = getpid();
	st.pid_start = state_proc_start(st.pid);
	snprintf(st.status, sizeof(st.status), "running");
	st.exit_code = -1;
	snprintf(st.stop_signal, sizeof(st.stop_signal), "SIGTERM");
	assert_int_equal(state_write(&st, &e), 0);

	/* As cli/run_vm.c does it. */
	state_path(sock, sizeof(sock), sid, "sock");
	assert_int_equal(jail_socket_dir(sock, &e), 0);
	assert_int_equal(jail_socket_dir(sock, &e), -1); /* made, never reused */
	state_path(uds, sizeof(uds), sid, "sock/vsock");
	int l = listen_at(uds);
	setup_vm(uds);
	vm.cfg.jail = 1;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(state_child());
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), OK);

	/* The owner's next write and its clean-up: the state is its own,
	 * the planted links are not followed. */
	st.exit_code = 7;
	snprintf(st.status, sizeof(st.status), "exited");
	assert_int_equal(state_write(&st, &e), 0);
	struct sandbox_state rd;
	if (state_read(sid, &rd, &e))
		fail_msg("state_read after the jail: %s", e.msg);
	assert_int_equal(rd.exit_code, 7);
	state_remove(sid);
	read_victim(buf, sizeof(buf));
	assert_string_equal(buf, "precious\n");

	close(l);
	char p[400];
	for (unsigned i = 0; i < ARRAY_SIZE(owner_files); i++) {
		snprintf(p, sizeof(p), "%s/%s", sock, owner_files[i]);
		unlink(p);
	}
	unlink(uds);
	rmdir(sock);
	state_remove(sid);
	snprintf(p, sizeof(p), "%s/.lock", sroot);
	unlink(p);
	rmdir(sroot);
	unlink(victim);
	rmdir(top);
}

/* ------------------------------------------------------------------ */
/* A jail uid per VMM: two jailed VMMs differ, and one cannot signal the
 * other — even after the first closed every fd it had (its uid lock). */

static void test_uid_per_vmm(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	setup_vm(NULL);
	vm.cfg.jail = 1;
	int up[2], go[2];
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(go), 0);
	fflush(NULL);
	pid_t a = fork();
	assert_true(a >= 0);
	if (a == 0) {
		struct err e;
		unsigned u = 0;
		if (jail_enter(&vm, &e) == 0)
			u = (unsigned)getuid();
		for (int fd = 3; fd < 1024; fd++)
			if (fd != up[1] && fd != go[0])
				close(fd);
		char c;
		if (write(up[1], &u, sizeof(u)) != sizeof(u) || read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	unsigned ua = 0;
	assert_int_equal(read(up[0], &ua, sizeof(ua)), sizeof(ua));
	pid_t b = fork();
	assert_true(b >= 0);
	if (b == 0) {
		struct err e;
		unsigned r[3] = { 0, 0, 0 };
		close(go[1]);
		if (jail_enter(&vm, &e) == 0) {
			r[0] = (unsigned)getuid();
			r[1] = kill(a, 0) ? (unsigned)errno : 0;
			r[2] = kill(a, SIGKILL) ? (unsigned)errno : 0;
		}
		_exit(write(up[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	unsigned rb[3] = { 0, 0, 0 };
	assert_int_equal(read(up[0], rb, sizeof(rb)), sizeof(rb));
	close(go[1]);
	int sa, sb;
	assert_int_equal(waitpid(b, &sb, 0), b);
	assert_int_equal(waitpid(a, &sa, 0), a);
	print_message("jail uids: %u and %u; kill from the second: %s\n", ua, rb[0], strerror((int)rb[1]));
	assert_true(ua >= JAIL_UID_BASE && ua - JAIL_UID_BASE < JAIL_UID_SLOTS);
	assert_true(rb[0] >= JAIL_UID_BASE && rb[0] - JAIL_UID_BASE < JAIL_UID_SLOTS);
	assert_int_not_equal(ua, rb[0]);
	assert_int_equal(rb[1], EPERM);
	assert_int_equal(rb[2], EPERM);
	assert_true(WIFEXITED(sa)); /* not killed by the other */
	assert_int_equal(WEXITSTATUS(sa), 0);
	close(up[0]);
	close(up[1]);
	close(go[0]);
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
		cmocka_unit_test(test_state_out_of_reach),
		cmocka_unit_test(test_uid_per_vmm),
		cmocka_unit_test(test_jail_off),
		cmocka_unit_test(test_socket_in_root_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
