/* sandbox-runtime update (cmd.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "exec.h"
#include "map.h"
#include "oci.h"
#include "state.h"

/* update --resources FILE|- ID (runc's JSON: linux resources), or
 * --memory BYTES, --pids-limit N, --cpu-quota US, --cpu-period US: the
 * container's cgroup in the guest takes the new limits (an exec
 * connection whose spec is an UPDATE, done by the guest's PID 1: guest-
 * init/cgroup.c). The VM's RAM and vCPUs are fixed at create: a memory
 * limit above the VM's RAM is refused here, one above what its kernel
 * has left, or a CPU quota above its vCPUs, by the guest. */
int oci_cmd_update(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, 0, 'r' }, { "memory", required_argument, 0, 'm' },
		{ "pids-limit", required_argument, 0, 'p' }, { "cpu-quota", required_argument, 0, 'q' },
		{ "cpu-period", required_argument, 0, 'P' }, { 0, 0, 0, 0 },
	};
	const char *res = NULL;
	long long flag[4] = { 0, 0, 0, 0 };     /* memory, pids, quota, period */
	bool flags = false;
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
		const char *p = strchr("mpqP", ch);
		if (ch == 'r') {
			res = optarg;
		} else if (p && ch) {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1)
				return oci_fail("update: --%s '%s': want a positive number", opts[p - "mpqP" + 1].name, optarg);
			flag[p - "mpqP"] = v;
			flags = true;
		} else {
			return oci_fail("update: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return oci_fail("update: want exactly one container id");
	if (!res && !flags)
		return oci_fail("update: nothing to update (--resources FILE|-, --memory, --pids-limit, --cpu-quota)");
	const char *id = argv[optind];
	static struct oci_config rc;
	struct err e = { 0 };
	if (res) {
		char *buf = NULL;
		long n;
		if (!strcmp(res, "-")) {
			size_t cap = 64 * 1024, got = 0;
			buf = malloc(cap + 1);
			while (buf && got < cap && (n = read(0, buf + got, cap - got)) > 0)
				got += (size_t)n;
			if (!buf)
				return oci_fail("update: out of memory");
			buf[got] = '\0';
			n = (long)got;
		} else {
			int fd = open(res, O_RDONLY | O_CLOEXEC);
			struct stat st;
			if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > 64 * 1024) {
				if (fd >= 0)
					close(fd);
				return oci_fail("update: --resources %s: not a readable file of at most 64 KiB", res);
			}
			buf = malloc((size_t)st.st_size + 1);
			n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
			close(fd);
			if (n < 0) {
				free(buf);
				return oci_fail("update: --resources %s: cannot read it", res);
			}
			buf[n] = '\0';
		}
		int r = oci_resources_parse(buf, (size_t)n, &rc, &e);
		free(buf);
		if (r)
			return oci_fail_err(&e);
		oci_config_free(&rc);
	}
	if (flag[0])
		rc.memory = flag[0];
	if (flag[1])
		rc.pids = flag[1];
	if (flag[2])
		rc.cpu_quota = flag[2];
	if (flag[3])
		rc.cpu_period = (uint64_t)flag[3];
	if (rc.cpu_period && (rc.cpu_period < 1000 || rc.cpu_period > 1000000))
		return oci_fail("update: cpu period %llu: want 1000 to 1000000 us", (unsigned long long)rc.cpu_period);
	if (rc.pids > 4194304)
		return oci_fail("update: pids limit %lld: at most 4194304", (long long)rc.pids);
	struct cspec x = { 0 };
	x.argv[0] = "update";
	x.nargv = 1;
	x.action = CSPEC_ACT_UPDATE;
	x.memory = (uint64_t)rc.memory;
	x.pids = (uint64_t)rc.pids;
	if (rc.cpu_quota) {     /* per the guest's 100 ms period */
		uint64_t period = rc.cpu_period ? rc.cpu_period : 100000;
		x.cpu_quota_us = (uint64_t)rc.cpu_quota * 100000 / period;
		if (!x.cpu_quota_us || (uint64_t)rc.cpu_quota > UINT64_MAX / 100000)
			return oci_fail("update: cpu quota %lld per %llu us is out of range", (long long)rc.cpu_quota,
				    (unsigned long long)period);
	}
	if (!x.memory && !x.pids && !x.cpu_quota_us)
		return oci_fail("update: nothing to change (memory.limit, pids.limit or cpu.quota above 0; "
			    "removing a limit is not supported)");
	struct oci_state s;
	if (oci_load(id, &s))
		return 1;
	struct sandbox_state ss;
	if (!oci_owner_alive(&s) || !s.started || state_read(s.sid, &ss, &e))
		return oci_fail("update: container %s is not running", id);
	if (s.pod[0])
		return oci_fail("update: %s is a pod's container: updating its limits is not supported yet", id);
	/* the VM's RAM, as run_vm.c sized it at create */
	uint64_t vm = ss.memory > 0 ? (uint64_t)ss.memory + GUEST_MEM_OVERHEAD : GUEST_MEM_DEFAULT;
	if (x.memory > vm)
		return oci_fail("update: memory %llu MiB is above the VM's %llu MiB (fixed when it was created: "
			    "give a larger --memory at create)", (unsigned long long)(x.memory >> 20),
			    (unsigned long long)(vm >> 20));
	static struct exec_stream xs;
	if (exec_stream_start(&xs, &ss, &x, -1, 1, 2, &e))
		return oci_fail_err(&e);
	int st = exec_stream_wait(&xs, false, &e);
	if (st < 0)
		return oci_fail_err(&e);
	if (st)
		return oci_fail("update: container %s: the guest refused it (see above)", id);
	return 0;
}

/* ------------------------------------------------------------------ */
