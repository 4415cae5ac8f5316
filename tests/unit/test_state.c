/* The state directory (cli/state.c) as an attack surface (issue #13,
 * findings 1-3): a state root or sandbox directory someone else made, or
 * that others can write, is refused; nothing is opened through a symlink;
 * values with control characters are not written; a state file that does
 * not parse strictly is "damaged" and none of it is used. The state root
 * is resolved once per process, so every case runs in a child of its own
 * (CHECK: exit with the failing line) over a fresh temporary directory. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../cli/state.h"

#define CHECK(c)                                                                         \
	do {                                                                             \
		if (!(c)) {                                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
			_exit(1);                                                        \
		}                                                                        \
	} while (0)

#define ID "0123456789abcdef"

static void in_child(void (*fn)(const char *tmp))
{
	char tmp[] = "/tmp/sandbox-unit-state-XXXXXX";
	assert_non_null(mkdtemp(tmp));
	fflush(NULL);
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		fn(tmp);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* SANDBOX_STATE_DIR=TMP/NAME, into PATH. */
static void use_root(const char *tmp, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", tmp, name);
	setenv("SANDBOX_STATE_DIR", path, 1);
}

static void sample(struct sandbox_state *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), ID);
	snprintf(s->name, sizeof(s->name), "web-1");
	snprintf(s->image, sizeof(s->image), "busybox");
	snprintf(s->command, sizeof(s->command), "sh -c echo hi");
	s->created = 1796000000;
	snprintf(s->isolation, sizeof(s->isolation), "container");
	snprintf(s->cpus, sizeof(s->cpus), "1.5");
	s->memory = 256LL << 20;
	s->pid = getpid();
	s->pid_start = state_proc_start(s->pid);
	snprintf(s->status, sizeof(s->status), "running");
	s->exit_code = -1;
	s->net = 7;
	snprintf(s->tap, sizeof(s->tap), "sb%.12s", ID);
	snprintf(s->stop_signal, sizeof(s->stop_signal), "SIGTERM");
	s->detached = true;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static size_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	ssize_t n = read(fd, buf, len - 1);
	CHECK(n >= 0);
	buf[n] = '\0';
	close(fd);
	return (size_t)n;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	CHECK(!lstat(path, &st));
	return st.st_mode;
}

/* ------------------------------------------------------------------ */

static void c_roundtrip(const char *tmp)
{
	char root[256], path[512];
	use_root(tmp, "a/b/state", root, sizeof(root));
	struct sandbox_state s, t;
	struct err e = { 0 };
	sample(&s);
	CHECK(state_write(&s, &e) == 0);
	CHECK((mode_of(root) & 07777) == 0700);       /* created missing, 0700 */
	snprintf(path, sizeof(path), "%s/" ID, root);
	CHECK((mode_of(path) & 07777) == 0700);
	snprintf(path, sizeof(path), "%s/" ID "/state", root);
	CHECK(S_ISREG(mode_of(path)) && (mode_of(path) & 07777) == 0600);
	CHECK(state_read(ID, &t, &e) == 0);
	CHECK(!strcmp(t.name, "web-1") && !strcmp(t.image, "busybox") && !strcmp(t.command, "sh -c echo hi"));
	CHECK(t.created == s.created && t.memory == s.memory && t.pid == s.pid && t.pid_start == s.pid_start);
	CHECK(!strcmp(t.isolation, "container") && !strcmp(t.cpus, "1.5") && !strcmp(t.status, "running"));
	CHECK(t.exit_code == -1 && t.net == 7 && !strcmp(t.tap, "sb0123456789ab") && t.detached && !t.rm);
	CHECK(!strcmp(t.stop_signal, "SIGTERM"));
	CHECK(state_find("web-1", &t, &e) == 0 && !strcmp(t.id, ID));
	CHECK(state_find("0123", &t, &e) == 0 && !strcmp(t.id, ID));
	CHECK(state_remove(ID) == 0);
	CHECK(state_read(ID, &t, &e) == -1 && e.errnum == ENOENT);
}

static void test_roundtrip(void **st)
{
	(void)st;
	in_child(c_roundtrip);
}

/* A root of another user (made first in /tmp by someone else): refused. */
static void c_root_other_owner(const char *tmp)
{
	char root[256];
	use_root(tmp, "squat", root, sizeof(root));
	CHECK(!mkdir(root, 0700) && !chown(root, 65534, 65534));
	struct err e = { 0 };
	CHECK(state_root(&e) == NULL);
	CHECK(strstr(e.msg, root) && strstr(e.msg, "owned by uid 65534") && strstr(e.msg, "SANDBOX_STATE_DIR"));
	struct sandbox_state s;
	sample(&s);
	CHECK(state_write(&s, &e) == -1);
	CHECK(state_lock(&e) == -1);
	size_t n = 7;
	char **ids = state_list(&n, &e);
	CHECK(ids == NULL && n == 0 && strstr(e.msg, "owned by uid 65534"));
	state_free_list(ids, n);
}

static void test_root_other_owner(void **st)
{
	(void)st;
	if (geteuid() != 0)
		skip();     /* chown to another uid needs root */
	in_child(c_root_other_owner);
}

static void c_root_writable(const char *tmp)
{
	char root[256];
	use_root(tmp, "open", root, sizeof(root));
	CHECK(!mkdir(root, 0700) && !chmod(root, 0777));
	struct err e = { 0 };
	CHECK(state_root(&e) == NULL);
	CHECK(strstr(e.msg, root) && strstr(e.msg, "writable by others (mode 0777)") && strstr(e.msg, "remove it"));
	CHECK(!chmod(root, 0770));
	CHECK(state_root(&e) == NULL && strstr(e.msg, "writable by its group"));
	CHECK(!chmod(root, 0755));      /* readable by others is fine */
	CHECK(state_root(&e) != NULL);
}

static void test_root_writable(void **st)
{
	(void)st;
	in_child(c_root_writable);
}

static void c_root_symlink(const char *tmp)
{
	char root[256], real[256];
	snprintf(real, sizeof(real), "%s/real", tmp);
	CHECK(!mkdir(real, 0700));
	use_root(tmp, "link", root, sizeof(root));
	CHECK(!symlink(real, root));
	struct err e = { 0 };
	CHECK(state_root(&e) == NULL);
	CHECK(strstr(e.msg, root) && strstr(e.msg, "symbolic link"));
}

static void test_root_symlink(void **st)
{
	(void)st;
	in_child(c_root_symlink);
}

/* state.tmp planted as a symlink to a victim file: the next write
 * replaces the link and leaves the victim alone. */
static void c_state_tmp_symlink(const char *tmp)
{
	char root[256], victim[256], link[512], path[512], buf[4096];
	use_root(tmp, "s", root, sizeof(root));
	snprintf(victim, sizeof(victim), "%s/profile", tmp);
	write_file(victim, "precious\n", 9);
	struct sandbox_state s, t;
	struct err e = { 0 };
	sample(&s);
	CHECK(state_write(&s, &e) == 0);
	snprintf(link, sizeof(link), "%s/" ID "/state.tmp", root);
	CHECK(!symlink(victim, link));
	snprintf(s.status, sizeof(s.status), "exited");
	s.exit_code = 3;
	CHECK(state_write(&s, &e) == 0);
	CHECK(read_file(victim, buf, sizeof(buf)) == 9 && !strcmp(buf, "precious\n"));
	snprintf(path, sizeof(path), "%s/" ID "/state", root);
	CHECK(S_ISREG(mode_of(path)));
	CHECK(state_read(ID, &t, &e) == 0 && !strcmp(t.status, "exited") && t.exit_code == 3);
	/* The -d log is created fresh: a planted link makes it fail. */
	snprintf(link, sizeof(link), "%s/" ID "/log", root);
	CHECK(!symlink(victim, link));
	CHECK(state_open(ID, "log", O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0600, &e) == -1);
	CHECK(read_file(victim, buf, sizeof(buf)) == 9 && !strcmp(buf, "precious\n"));
	/* ... and a link is not read through either. */
	CHECK(state_open(ID, "log", O_RDONLY, 0, &e) == -1 && strstr(e.msg, "symbolic link"));
	/* A FIFO planted as the log does not hang its reader. */
	CHECK(!unlink(link) && !mkfifo(link, 0600));
	CHECK(state_open(ID, "log", O_RDONLY, 0, &e) == -1 && strstr(e.msg, "not a regular file"));
}

static void test_state_tmp_symlink(void **st)
{
	(void)st;
	in_child(c_state_tmp_symlink);
}

/* The state file or the sandbox's directory swapped for a symlink to a
 * valid-looking forged one: not read. */
static void c_state_symlinks(const char *tmp)
{
	char root[256], path[512], forged[512], fdir[512];
	use_root(tmp, "s", root, sizeof(root));
	struct sandbox_state s, t;
	struct err e = { 0 };
	sample(&s);
	CHECK(state_write(&s, &e) == 0);
	snprintf(path, sizeof(path), "%s/" ID "/state", root);
	snprintf(forged, sizeof(forged), "%s/forged", tmp);
	CHECK(!rename(path, forged) && !symlink(forged, path));
	CHECK(state_read(ID, &t, &e) == -1 && e.errnum == EBADMSG);
	CHECK(strstr(e.msg, "symbolic link") && strstr(e.msg, "by hand"));
	CHECK(t.pid == 0 && t.name[0] == '\0');
	CHECK(!unlink(path) && !rename(forged, path));
	CHECK(state_read(ID, &t, &e) == 0);
	/* the directory itself */
	snprintf(path, sizeof(path), "%s/" ID, root);
	snprintf(fdir, sizeof(fdir), "%s/elsewhere", tmp);
	CHECK(!rename(path, fdir) && !symlink(fdir, path));
	CHECK(state_read(ID, &t, &e) == -1 && strstr(e.msg, "symbolic link"));
	CHECK(state_write(&s, &e) == -1);
	CHECK(state_find(ID, &t, &e) == -1 && strstr(e.msg, "symbolic link"));
	CHECK(!unlink(path) && !rename(fdir, path));
	/* a sandbox directory others can write */
	CHECK(!chmod(path, 0777));
	CHECK(state_read(ID, &t, &e) == -1 && strstr(e.msg, "writable by others") && strstr(e.msg, "by hand"));
	CHECK(state_write(&s, &e) == -1);
	CHECK(!chmod(path, 0700));
	if (geteuid() == 0) {
		CHECK(!chown(path, 65534, 65534));
		CHECK(state_read(ID, &t, &e) == -1 && strstr(e.msg, "owned by uid 65534"));
		CHECK(state_write(&s, &e) == -1);
	}
}

static void test_state_symlinks(void **st)
{
	(void)st;
	in_child(c_state_symlinks);
}

/* A control character in any value is refused, and the state before
 * stays as it was (finding 3: StopSignal "\ntap=victimtap"). */
static void c_write_refuses_control(const char *tmp)
{
	char root[256];
	use_root(tmp, "s", root, sizeof(root));
	struct sandbox_state s, t;
	struct err e = { 0 };
	sample(&s);
	CHECK(state_write(&s, &e) == 0);
	static const struct {
		size_t off, size;
		const char *name, *value;
	} bad[] = {
		{ offsetof(struct sandbox_state, stop_signal), sizeof(s.stop_signal), "stop_signal", "\ntap=victimtap" },
		{ offsetof(struct sandbox_state, name), sizeof(s.name), "name", "x\nstatus=exited" },
		{ offsetof(struct sandbox_state, image), sizeof(s.image), "image", "busybox\npid=1" },
		{ offsetof(struct sandbox_state, command), sizeof(s.command), "command", "sh\rx" },
		{ offsetof(struct sandbox_state, tap), sizeof(s.tap), "tap", "sb\tx" },
		{ offsetof(struct sandbox_state, cpus), sizeof(s.cpus), "cpus", "1\x7f" },
		{ offsetof(struct sandbox_state, status), sizeof(s.status), "status", "running\n" },
		{ offsetof(struct sandbox_state, isolation), sizeof(s.isolation), "isolation", "vm\x1b" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct sandbox_state b = s;
		snprintf((char *)&b + bad[i].off, bad[i].size, "%s", bad[i].value);
		CHECK(state_write(&b, &e) == -1);
		CHECK(strstr(e.msg, bad[i].name) && strstr(e.msg, "control character"));
		CHECK(state_read(ID, &t, &e) == 0);
		CHECK(!strcmp(t.tap, s.tap) && !strcmp(t.stop_signal, "SIGTERM") && !strcmp(t.name, s.name));
	}
}

static void test_write_refuses_control(void **st)
{
	(void)st;
	in_child(c_write_refuses_control);
}

/* ------------------------------------------------------------------ */
/* strict parsing */

/* TEXT with its first FROM replaced by TO (FROM must be there). */
static void replace_once(char *text, size_t len, const char *from, const char *to)
{
	char *p = strstr(text, from);
	CHECK(p != NULL);
	size_t fl = strlen(from), tl = strlen(to), rest = strlen(p + fl);
	CHECK(strlen(text) - fl + tl < len);
	memmove(p + tl, p + fl, rest + 1);
	memcpy(p, to, tl);
}

static void c_read_strict(const char *tmp)
{
	char root[256], path[512], good[4096], text[16384];
	use_root(tmp, "s", root, sizeof(root));
	struct sandbox_state s, t;
	struct err e = { 0 };
	sample(&s);
	CHECK(state_write(&s, &e) == 0);
	snprintf(path, sizeof(path), "%s/" ID "/state", root);
	size_t glen = read_file(path, good, sizeof(good));
	static const struct {
		const char *from, *to, *why;
	} cases[] = {
		{ "stop_signal=SIGTERM\n", "stop_signal=\ntap=victimtap\n", "twice" },   /* finding 3's injection */
		{ "status=running\n", "status=running\nstatus=exited\n", "twice" },
		{ "vmm_pid=0\n", "vmm_pid=0\nvmm_pid=4242\n", "twice" },
		{ "rm=0\n", "rm=0\nevil=1\n", "unknown key 'evil'" },
		{ "rm=0\n", "rm=0\ngarbage\n", "not key=value" },
		{ "rm=0\n", "rm=0\n\n", "not key=value" },
		{ "net=7\n", "", "no net" },
		{ "exit_code=-1\n", "exit_code=-1x\n", "exit_code" },
		{ "exit_code=-1\n", "exit_code=999\n", "exit_code" },
		{ "exit_code=-1\n", "exit_code=-0\n", "exit_code" },
		{ "net=7\n", "net=+7\n", "net" },
		{ "net=7\n", "net= 7\n", "net" },
		{ "net=7\n", "net=251\n", "net" },
		{ "rm=0\n", "rm=2\n", "rm" },
		{ "created=", "created=-", "created" },
		{ "memory=", "memory=x", "memory" },
		{ "vmm_start=0\n", "vmm_start=\n", "vmm_start" },
		{ "vmm_start=0\n", "vmm_start=99999999999999999999999\n", "vmm_start" },
		{ "vmm_pid=0\n", "vmm_pid=1\n", "vmm_pid is 1" },
		{ "isolation=container\n", "isolation=host\n", "isolation" },
		{ "status=running\n", "status=hidden\n", "status" },
		{ "tap=sb0123456789ab\n", "tap=victimtap\n", "tap 'victimtap'" },
		{ "tap=sb0123456789ab\n", "tap=sb0123456789ac\n", "tap" },
		{ "net=7\n", "net=0\n", "tap" },           /* a tap without a network */
		{ "stop_signal=SIGTERM\n", "stop_signal=SIGBOGUS\n", "stop_signal" },
		{ "name=web-1\n", "name=-x\n", "name" },
		{ "name=web-1\n", "name=\n", "name" },
		{ "name=web-1\n", "name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "longer than 63" },
		{ "image=busybox\n", "image=busybox\r\n", "control character" },
		{ "id=" ID "\n", "id=fedcba9876543210\n", "its id" },
		{ "cpus=1.5\n", "cpus=1e3\n", "cpus" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memcpy(text, good, glen + 1);
		replace_once(text, sizeof(text), cases[i].from, cases[i].to);
		write_file(path, text, strlen(text));
		memset(&t, 0x55, sizeof(t));
		int r = state_read(ID, &t, &e);
		if (r != -1 || e.errnum != EBADMSG || !strstr(e.msg, "damaged state file") || !strstr(e.msg, cases[i].why) ||
		    !strstr(e.msg, "by hand") || !strstr(e.msg, root))
			fprintf(stderr, "case %zu (%s): r=%d msg=%s\n", i, cases[i].why, r, e.msg);
		CHECK(r == -1 && e.errnum == EBADMSG);
		CHECK(strstr(e.msg, "damaged state file") && strstr(e.msg, cases[i].why) && strstr(e.msg, "by hand"));
		CHECK(strstr(e.msg, root));
		CHECK(t.pid == 0 && t.vmm_pid == 0 && t.tap[0] == '\0');     /* nothing half-read */
	}
	/* Values state_write takes but no owner writes. */
	struct sandbox_state b = s;
	b.pid_start = 0;
	CHECK(state_write(&b, &e) == 0);
	CHECK(state_read(ID, &t, &e) == -1 && strstr(e.msg, "pid_start is 0"));
	b = s;
	b.pid = 1;
	CHECK(state_write(&b, &e) == 0);
	CHECK(state_read(ID, &t, &e) == -1 && strstr(e.msg, "pid '1' is not a number from 2"));
	/* A NUL byte, a last line cut short, an empty file, an overlong one. */
	memcpy(text, good, glen + 1);
	text[10] = '\0';
	write_file(path, text, glen);
	CHECK(state_read(ID, &t, &e) == -1 && strstr(e.msg, "NUL"));
	write_file(path, good, glen - 1);
	CHECK(state_read(ID, &t, &e) == -1 && strstr(e.msg, "cut short"));
	write_file(path, "", 0);
	CHECK(state_read(ID, &t, &e) == -1 && strstr(e.msg, "empty"));
	memset(text, 'a', sizeof(text));
	write_file(path, text, sizeof(text));
	CHECK(state_read(ID, &t, &e) == -1 && strstr(e.msg, "larger than"));
	/* A damaged sandbox is found by its id (and the error is the
	 * damage), never by the name in it. */
	memcpy(text, good, glen + 1);
	replace_once(text, sizeof(text), "rm=0\n", "rm=0\nevil=1\n");
	write_file(path, text, strlen(text));
	CHECK(state_find(ID, &t, &e) == -1 && strstr(e.msg, "damaged state file"));
	CHECK(state_find("01234567", &t, &e) == -1 && strstr(e.msg, "damaged state file"));
	CHECK(state_find("web-1", &t, &e) == -1 && strstr(e.msg, "no such sandbox"));
	/* and the good one reads again */
	write_file(path, good, glen);
	CHECK(state_read(ID, &t, &e) == 0 && t.net == 7);
}

static void test_read_strict(void **st)
{
	(void)st;
	in_child(c_read_strict);
}

static void test_signal(void **st)
{
	(void)st;
	assert_int_equal(state_signal("TERM"), SIGTERM);
	assert_int_equal(state_signal("SIGTERM"), SIGTERM);
	assert_int_equal(state_signal("sigterm"), SIGTERM);
	assert_int_equal(state_signal("SIGKILL"), SIGKILL);
	assert_int_equal(state_signal("15"), 15);
	assert_int_equal(state_signal("1"), 1);
	assert_int_equal(state_signal("64"), 64);
	assert_int_equal(state_signal("SIGRTMIN+3"), SIGRTMIN + 3);
	assert_int_equal(state_signal("RTMIN"), SIGRTMIN);
	assert_int_equal(state_signal("SIGRTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(state_signal("0"), -1);
	assert_int_equal(state_signal("65"), -1);
	assert_int_equal(state_signal("-9"), -1);
	assert_int_equal(state_signal("15x"), -1);
	assert_int_equal(state_signal(""), -1);
	assert_int_equal(state_signal("SIG"), -1);
	assert_int_equal(state_signal("BOGUS"), -1);
	assert_int_equal(state_signal("\ntap=victimtap"), -1);
	assert_int_equal(state_signal("SIGTERM\n"), -1);
	assert_int_equal(state_signal("RTMIN+99"), -1);
	assert_int_equal(state_signal("RTMIN-1"), -1);
	assert_int_equal(state_signal("000000000000000015"), -1);    /* too long to record */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_root_other_owner),
		cmocka_unit_test(test_root_writable),
		cmocka_unit_test(test_root_symlink),
		cmocka_unit_test(test_state_tmp_symlink),
		cmocka_unit_test(test_state_symlinks),
		cmocka_unit_test(test_write_refuses_control),
		cmocka_unit_test(test_read_strict),
		cmocka_unit_test(test_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
