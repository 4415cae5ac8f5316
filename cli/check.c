/* `sandbox check`: can this host run sandboxes, and if not, what to fix.
 * One line per item, "ok" or "no", what was found, and for "no" the fix.
 * Exit 0 if VM sandboxes (the default isolation) can run natively here,
 * 1 otherwise. The other items (tap networking, cgroups, container
 * isolation) are reported but do not decide the exit status. */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "kvm.h"
#include "state.h"

static int nfail;   /* items that keep VM sandboxes from running */

static void item(bool ok, bool needed, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void item(bool ok, bool needed, const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%-3s %-20s ", ok ? "ok" : "no", what);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	if (!ok && needed)
		nfail++;
}

static bool cpu_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return false;
	char line[8192];
	bool hit = false;
	while (!hit && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *t = strtok(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \t\n"); t && !hit;
		     t = strtok(NULL, " \t\n"))
			hit = !strcmp(t, flag);
		break;
	}
	fclose(f);
	return hit;
}

static bool have_fs(const char *fs)
{
	FILE *f = fopen("/proc/filesystems", "re");
	if (!f)
		return false;
	char line[256];
	bool hit = false;
	while (!hit && fgets(line, sizeof(line), f)) {
		char *t = strrchr(line, '\t');
		t = t ? t + 1 : line;
		t[strcspn(t, "\n")] = '\0';
		hit = !strcmp(t, fs);
	}
	fclose(f);
	return hit;
}

/* Writable, or creatable: the nearest existing ancestor is writable. */
static bool dir_writable(const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (;;) {
		struct stat st;
		if (stat(buf, &st) == 0)
			return S_ISDIR(st.st_mode) && access(buf, W_OK | X_OK) == 0;
		char *slash = strrchr(buf, '/');
		if (!slash)
			return access(".", W_OK | X_OK) == 0;
		if (slash == buf) {
			buf[1] = '\0';
		} else {
			*slash = '\0';
		}
	}
}

/* The image tool's cache (rootfs/main.c). */
static bool image_cache(char *buf, size_t len)
{
	const char *d = getenv("SANDBOX_IMAGE_DIR");
	if (d && *d)
		snprintf(buf, len, "%s", d);
	else if (!geteuid())
		snprintf(buf, len, "/var/lib/sandbox/images");
	else if ((d = getenv("XDG_DATA_HOME")) && *d)
		snprintf(buf, len, "%s/sandbox/images", d);
	else if ((d = getenv("HOME")) && *d)
		snprintf(buf, len, "%s/.local/share/sandbox/images", d);
	else
		return false;
	return true;
}

int cmd_check(int argc, char **argv)
{
	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: sandbox check   (exit 0: VM sandboxes can run on this host)\n");
			return 0;
		}
		fprintf(stderr, "sandbox: check: unexpected argument '%s'\n", argv[1]);
		return 125;
	}
	const char *bindir = self_dir();
	nfail = 0;

	/* KVM */
	struct stat st;
	bool kvm_dev = stat(KVM_DEV_PATH, &st) == 0 && S_ISCHR(st.st_mode);
	bool pvm = kvm_host_is_pvm();
	item(kvm_dev, true, "kvm device",
	     kvm_dev ? "%s is there"
		     : "%s is missing; fix: enable VT-x/AMD-V in the firmware and modprobe kvm_intel (or "
		       "kvm_amd), or use a VM with nested virtualization",
	     KVM_DEV_PATH);
	if (kvm_dev) {
		int fd = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);
		int err = errno;
		if (fd >= 0)
			close(fd);
		if (fd >= 0)
			item(true, true, "kvm access", "%s opens read-write", KVM_DEV_PATH);
		else if (err == EACCES || err == EPERM)
			item(false, true, "kvm access",
			     "%s: permission denied; fix: run as root, or add your user to its group "
			     "(usermod -aG kvm $USER, then log in again)", KVM_DEV_PATH);
		else
			item(false, true, "kvm access", "%s: %s; fix: reload the kvm modules", KVM_DEV_PATH,
			     strerror(err));
	}
	bool vmx = cpu_flag("vmx"), svm = cpu_flag("svm");
	if (pvm) {
		item(false, true, "kvm backend",
		     "PVM (kvm_pvm: shadow paging without VMX/SVM) boots only PVM-patched guest kernels; "
		     "fix: use the nested test host: tests/kvmhost/run %s/sandbox run ... "
		     "(or --isolation container here)", bindir);
	} else if (!vmx && !svm) {
		item(false, true, "kvm backend",
		     "the CPU shows neither vmx nor svm in /proc/cpuinfo; fix: enable VT-x/AMD-V in the "
		     "firmware, or nested virtualization on the hypervisor");
	} else {
		struct kvm k;
		struct err e;
		if (kvm_dev && kvm_open(&k, KVM_DEV_PATH, false, &e) == 0) {
			kvm_close(&k);
			item(true, true, "kvm backend", "%s, with every capability the VMM needs",
			     vmx ? "VMX (Intel VT-x)" : "SVM (AMD-V)");
		} else {
			item(false, true, "kvm backend", "%s, but: %s", vmx ? "VMX (Intel VT-x)" : "SVM (AMD-V)",
			     kvm_dev ? e.msg : "no device");
		}
	}

	/* What the VM mode loads. */
	const char *files[] = { "guest-vmlinux", "guest-initramfs.cpio" };
	const char *what[] = { "guest kernel", "guest initramfs" };
	for (int i = 0; i < 2; i++) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/%s", bindir, files[i]);
		bool ok = access(p, R_OK) == 0;
		item(ok, true, what[i], ok ? "%s" : "%s is missing; fix: make (or give run --kernel/--initrd)", p);
	}
	char tool[4200];
	snprintf(tool, sizeof(tool), "%s/sandbox-image", bindir);
	bool tool_ok = access(tool, X_OK) == 0;
	item(tool_ok, true, "image tool", tool_ok ? "%s" : "%s is missing; fix: make", tool);
	char cache[4096];
	if (!image_cache(cache, sizeof(cache))) {
		item(false, true, "image cache", "no directory; fix: set SANDBOX_IMAGE_DIR");
	} else {
		bool ok = dir_writable(cache);
		item(ok, true, "image cache",
		     ok ? "%s is writable" : "%s is not writable; fix: set SANDBOX_IMAGE_DIR to a writable directory",
		     cache);
	}
	struct err e;
	const char *sroot = state_root(&e);
	if (sroot)
		item(access(sroot, W_OK) == 0, true, "state directory",
		     access(sroot, W_OK) == 0 ? "%s" : "%s is not writable; fix: set SANDBOX_STATE_DIR", sroot);
	else
		item(false, true, "state directory", "%s; fix: set SANDBOX_STATE_DIR to a writable directory", e.msg);

	/* Optional features. */
	int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	int tun_err = errno;
	if (tun >= 0)
		close(tun);
	if (tun >= 0)
		item(true, false, "tun (--network tap)", "/dev/net/tun opens%s",
		     geteuid() ? " (tap devices still need root)" : "");
	else
		item(false, false, "tun (--network tap)", "/dev/net/tun: %s; fix: modprobe tun%s", strerror(tun_err),
		     tun_err == EACCES ? " and run as root" : "");
	struct statfs sf;
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
		char ctl[512] = "";
		FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "re");
		if (f) {
			if (!fgets(ctl, sizeof(ctl), f))
				ctl[0] = '\0';
			fclose(f);
		}
		ctl[strcspn(ctl, "\n")] = '\0';
		item(true, false, "cgroup", "v2 (controllers: %s)", ctl[0] ? ctl : "none");
	} else if (statfs("/sys/fs/cgroup/memory", &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC) {
		item(true, false, "cgroup", "v1 (limits of --isolation container need v2: not applied)");
	} else {
		item(false, false, "cgroup",
		     "none mounted (the VMM jail's limits are not applied); fix: mount -t cgroup2 none /sys/fs/cgroup");
	}
	bool root = geteuid() == 0;
	item(root, false, "root", root ? "yes (--isolation container and --network tap need it)"
				       : "no; fix: run as root for --isolation container and --network tap");
	bool loop = access("/dev/loop-control", F_OK) == 0;
	item(loop, false, "loop devices", loop ? "/dev/loop-control (for --isolation container)"
					       : "/dev/loop-control is missing; fix: modprobe loop");
	const char *fss[] = { "overlay", "erofs" };
	for (int i = 0; i < 2; i++) {
		bool ok = have_fs(fss[i]);
		char label[32];
		snprintf(label, sizeof(label), "%s fs", fss[i]);
		item(ok, false, label, ok ? "in /proc/filesystems (for --isolation container)"
					  : "not in /proc/filesystems; fix: modprobe %s", fss[i]);
	}
	if (nfail)
		printf("=> VM sandboxes cannot run natively here (%d item%s above)\n", nfail, nfail > 1 ? "s" : "");
	else
		printf("=> VM sandboxes can run here\n");
	return nfail ? 1 : 0;
}
