/* sandbox audit's pure parts (cli/audit_catalogue.c, audit_report.c,
 * audit_sha256.c): every attack's verdict function on evidence from a
 * contained run and from a weakened one (which must read as exposed: the
 * check can fail), the own-kernel rule, evidence parsing, the exit
 * status, the three report formats, SHA-256 test vectors. */
#include "unit.h"

#include "../../cli/audit.h"

static struct audit_context ctx(bool own)
{
	struct audit_context c = { .iso = own ? "vm" : "runc", .own_kernel = own, .host_inotify_instances = 128,
				   .listener_up = true, .port = 4242 };
	snprintf(c.host_version, sizeof(c.host_version), "Linux_version_6.1.0-host_#1");
	snprintf(c.abstract_name, sizeof(c.abstract_name), "sandbox-audit-1");
	snprintf(c.nbr_secret, sizeof(c.nbr_secret), "SBXNBR00112233445566778899aabb");
	c.nbr_up = true;
	return c;
}

static enum audit_verdict judge(const char *name, const char *out, int status, bool own, char *why)
{
	const struct audit_attack *a = audit_find(name);
	struct audit_evidence ev = { .status = status };
	struct audit_context c = ctx(own);
	struct audit_cell cell;
	assert_non_null(a);
	snprintf(ev.out, sizeof(ev.out), "%s%s%s", a->host_check ? "" : "attack=", a->host_check ? "" : a->argv[0],
		 a->host_check ? "" : "\n");
	size_t l = strlen(ev.out);
	snprintf(ev.out + l, sizeof(ev.out) - l, "%s", out);
	audit_judge(a, &ev, &c, &cell);
	if (why)
		snprintf(why, 256, "%s", cell.why);
	return cell.v;
}

/* Each attack: evidence of a contained run and of a weakened one on a
 * shared kernel (exposed). */
static const struct {
	const char *name, *contained, *exposed;
	int exposed_status;
} cases[] = {
	{ "kvm", "open=ENOENT\n", "open=OK\n", 0 },
	{ "dev", "extra=-\nentries=15\nextra_count=0\n", "extra=kvm,vda\nentries=17\nextra_count=2\n", 0 },
	{ "mknod", "mknod=EPERM\ndevices_tried=1\n", "mknod=OK\nopen=EPERM\ndevice=vda\nmknod=OK\nopen=OK\nread=OK\ndevice=loop0\n", 0 },
	{ "vda", "open=ENOENT\n", "open=OK\n", 0 },
	{ "module", "init_module=EPERM\nfinit_module=EPERM\n", "init_module=EFAULT\nfinit_module=EBADF\n", 0 },
	{ "mount", "mount=EPERM\n", "mount=OK\n", 0 },
	{ "ptrace", "ptrace_parent=EPERM\n", "ptrace_parent=OK\n", 0 },
	{ "syslog", "syslog=EPERM\n", "syslog=OK\nbytes=4096\n", 0 },
	{ "kallsyms", "open=OK\nsymbols=100\nnonzero=0\n", "open=OK\nsymbols=100\nnonzero=100\n", 0 },
	{ "kernel-id", "release=6.12\nversion=Linux_version_6.12-guest\n", "release=6.1.0\nversion=Linux_version_6.1.0-host_#1\n", 0 },
	{ "release-agent", "release_agent_files=0\nrelease_agent_writable=0\nnotify_on_release_writable=0\nmount_cgroup_v1=EPERM\n",
	  "release_agent_files=9\nrelease_agent_writable=9\nnotify_on_release_writable=10\nmount_cgroup_v1=EINVAL\n", 0 },
	{ "userns", "unshare_user=EPERM\n", "unshare_user=OK\nmount_in_userns=OK\n", 0 },
	{ "sys-io_uring", "result=EPERM\n", "result=OK\n", 0 },
	{ "sys-bpf", "result=EPERM\n", "result=OK\n", 0 },
	{ "sys-perf", "result=EACCES\n", "result=OK\n", 0 },
	{ "sys-userfaultfd", "result=EPERM\n", "result=OK\n", 0 },
	{ "sys-keyctl", "result=ENOSYS\n", "result=OK\n", 0 },
	{ "sys-add_key", "result=EPERM\n", "result=OK\n", 0 },
	{ "sys-kexec", "result=EPERM\n", "result=EINVAL\n", 0 },
	{ "procsys", "core_pattern=EROFS\nsysrq_trigger=ENOENT\ndrop_caches=EROFS\nmodprobe=ENOENT\n",
	  "core_pattern=OK\nsysrq_trigger=ENOENT\ndrop_caches=EROFS\nmodprobe=ENOENT\n", 0 },
	{ "sysfs", "uevent_helper=ENOENT\nthp_enabled=EROFS\npower_state=EROFS\n", "uevent_helper=OK\nthp_enabled=EROFS\npower_state=EROFS\n", 0 },
	{ "clock", "clock_settime=EPERM\nunshare_time=OK\n", "clock_settime=OK\nunshare_time=OK\n", 0 },
	{ "sniff", "packet_socket=OK\ninterfaces=lo\nnon_lo=0\n", "packet_socket=OK\ninterfaces=lo,eth0\nnon_lo=1\n", 0 },
	{ "hostlo", "127.0.0.1=ECONNREFUSED\n10.0.2.2=ENETUNREACH\n", "127.0.0.1=OK\n10.0.2.2=ENETUNREACH\n", 0 },
	{ "abstract", "connect=ECONNREFUSED\n", "connect=OK\n", 0 },
	{ "vsock", "socket=EPERM\n", "socket=OK\nconnect_host_1024=ECONNRESET\n", 0 },
	{ "exe", "exe_self=ETXTBSY\nexe_1=ETXTBSY\nexe_1_opath=ETXTBSY\n", "exe_self=ETXTBSY\nexe_1=OK\nexe_1_opath=ETXTBSY\n", 0 },
	{ "fds", "open_fds=-\nleaked=0\nleaked_dirs=0\ncwd=/\n", "open_fds=3:/run/runc\nleaked=1\nleaked_dirs=1\ncwd=/\n", 0 },
	{ "neighbour", "cmdline=ENOENT\nprocess_vm_readv=ESRCH\nproc_mem=ENOENT\n",
	  "cmdline=sandbox_audit_--isolation_runc\nprocess_vm_readv=OK\nproc_mem=OK\n", 0 },
	/* the neighbour: exposed only when the secret read is the neighbour's */
	{ "nbr-files", "pids=1\nroots_seen=1\nforeign_roots=0\nroot_error=-\nnbr_pid_root=ENOENT\nnbr_dir=ENOENT\nwalked=40\nscanned_mib=3\nfound=-\n",
	  "pids=3\nfound=/proc/77/root/audit-neighbour/secret\nsecret=SBXNBR00112233445566778899aabb\n", 0 },
	{ "nbr-mem", "pids=2\nenviron_read=2\nenviron_error=-\nmaps_read=2\nprocess_vm_readv=EPERM\nproc_mem=OK\nbytes_read=315392\nnbr_pid_environ=ENOENT\nnbr_pid_vm_readv=ESRCH\nfound=-\n",
	  "pids=9\nenviron_read=9\nfound=environ_of_pid_4242\nsecret=SBXNBR00112233445566778899aabb\n", 0 },
	{ "nbr-net", "packet_socket=OK\ninterfaces=lo\nframes=0\nfound=-\n",
	  "packet_socket=OK\ninterfaces=lo,eth0\nfound=traffic_on_eth0\nsecret=SBXNBR00112233445566778899aabb\nframes=12\n", 0 },
	{ "forkbomb", "wanted=200\nforked=63\nstopped_by=EAGAIN\n", "wanted=200\nforked=200\nstopped_by=-\n", 0 },
	{ "membomb", "wanted_mib=512\n", "wanted_mib=512\nallocated_mib=512\nstopped_by=-\n", 0 },
	{ "fill", "wanted_mib=512\nwrote_mib=245\nstopped_by=ENOSPC\n", "wanted_mib=512\nwrote_mib=512\nstopped_by=-\n", 0 },
	{ "fdbomb", "opened=1021\nstopped_by=EMFILE\n", "opened=90000\nstopped_by=ENFILE\n", 0 },
	{ "inotify", "instances=0\nstopped_by=EPERM\n", "instances=126\nstopped_by=EMFILE\n", 0 },
	{ "ports", "iopl=EPERM\n", "iopl=OK\n", 0 },
	{ "vsock-flood", "socket=EPERM\n", "socket=OK\n", 0 },
	{ "rawdisk", "mknod=EPERM\ndevices_tried=1\n", "device=sda\nread=OK\ndevices_tried=1\n", 0 },
	{ "vmm-survived", "vmm_pid=5\nvmm_alive=1\nvmm_seccomp=2\nexec_after=OK\n",
	  "vmm_pid=5\nvmm_alive=1\nvmm_seccomp=0\nexec_after=OK\n", 0 },
	{ "host-binaries", "changed=0\nchecked=3\n", "changed=1\nchecked=3\n", 0 },
	{ "host-image", "changed=0\nchecked=1\n", "changed=1\nchecked=1\n", 0 },
};

static int case_status(const char *name, bool exposed)
{
	/* the memory bomb's contained run ends by the OOM killer */
	return !exposed && !strcmp(name, "membomb") ? 137 : 0;
}

/* Every attack of the catalogue has its two cases, and they read right. */
static void test_every_attack_can_fail(void **state)
{
	(void)state;
	for (size_t i = 0; i < audit_catalogue_len; i++) {
		const struct audit_attack *a = &audit_catalogue[i];
		size_t k;
		for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			if (!strcmp(cases[k].name, a->name))
				break;
		if (k == sizeof(cases) / sizeof(cases[0]))
			fail_msg("attack %s has no verdict test", a->name);
		assert_non_null(a->title);
		assert_true(strlen(a->description) > 10 && strlen(a->rationale) > 10);
		char why[256];
		enum audit_verdict v = judge(a->name, cases[k].contained, case_status(a->name, false), false, why);
		if (v != AUDIT_CONTAINED)
			fail_msg("%s: contained evidence read as %s (%s)", a->name, audit_verdict_name(v), why);
		v = judge(a->name, cases[k].exposed, case_status(a->name, true), false, why);
		if (v != AUDIT_EXPOSED)
			fail_msg("%s: weakened evidence read as %s (%s)", a->name, audit_verdict_name(v), why);
		assert_true(why[0] != '\0');
	}
}

/* The neighbour rows: what is read must be the neighbour's secret (a
 * find of anything else is no verdict), in any isolation (a VM's
 * neighbour is another tenant: its own kernel is no excuse); no
 * neighbour, no verdict. */
static void test_neighbour(void **state)
{
	(void)state;
	char why[256];
	const char *hit = "found=memory_of_pid_7\nsecret=SBXNBR00112233445566778899aabb\n";
	assert_int_equal(judge("nbr-mem", hit, 0, true, why), AUDIT_EXPOSED);
	assert_non_null(strstr(why, "memory_of_pid_7"));
	assert_int_equal(judge("nbr-mem", "found=memory_of_pid_7\nsecret=SBXNBRffffffffffffffffffffffff\n", 0, false, why),
			 AUDIT_NOT_RUN);
	assert_int_equal(judge("nbr-files", "found=/x\n", 0, false, why), AUDIT_NOT_RUN);
	assert_int_equal(judge("nbr-net", "packet_socket=EPERM\n", 0, false, why), AUDIT_NOT_RUN);
	const struct audit_attack *a = audit_find("nbr-files");
	struct audit_evidence ev = { .status = 0 };
	struct audit_context c = ctx(false);
	struct audit_cell cell;
	snprintf(ev.out, sizeof(ev.out), "attack=nbr-files\n%s", hit);
	c.nbr_up = false;
	snprintf(c.nbr_error, sizeof(c.nbr_error), "runc run --detach: status 1");
	audit_judge(a, &ev, &c, &cell);
	assert_int_equal(cell.v, AUDIT_NOT_RUN);
	assert_non_null(strstr(cell.why, "runc run --detach"));
	/* the context's secret empty (never made): nothing matches it */
	c = ctx(false);
	c.nbr_secret[0] = '\0';
	audit_judge(a, &ev, &c, &cell);
	assert_int_not_equal(cell.v, AUDIT_EXPOSED);
}

/* A kernel reached is the sandbox's own in a VM: contained, with the wall
 * named; the host-side checks do not get that pass. */
static void test_own_kernel(void **state)
{
	(void)state;
	char why[256];
	assert_int_equal(judge("sys-io_uring", "result=OK\n", 0, true, why), AUDIT_CONTAINED);
	assert_non_null(strstr(why, "own kernel"));
	assert_int_equal(judge("forkbomb", "wanted=200\nforked=200\nstopped_by=-\n", 0, true, why), AUDIT_CONTAINED);
	assert_int_equal(judge("fill", "wanted_mib=512\nwrote_mib=512\nstopped_by=-\n", 0, true, why), AUDIT_EXPOSED);
	assert_int_equal(judge("host-binaries", "changed=1\nchecked=3\n", 0, true, why), AUDIT_EXPOSED);
	assert_int_equal(judge("kernel-id", "version=Linux_version_6.1.0-host_#1\n", 0, true, why), AUDIT_EXPOSED);
	assert_int_equal(judge("hostlo", "127.0.0.1=OK\n", 0, true, why), AUDIT_EXPOSED);
	/* --privileged-attacker in the VM: the attacks go through; what
	 * decides is the VMM and the disk */
	assert_int_equal(judge("ports", "iopl=OK\nports_written=130000\nreads_all_ones=129000\n", 0, true, why),
			 AUDIT_CONTAINED);
	assert_int_equal(judge("ports", "iopl=OK\n", 139, true, why), AUDIT_NOT_RUN);   /* died mid-way */
	assert_int_equal(judge("vsock-flood", "socket=OK\nagent_port_connected=64\nbytes_sent=4194304\n", 0, true, why),
			 AUDIT_CONTAINED);
	assert_int_equal(judge("rawdisk", "device=vda\nread=OK\nwrite=OK\nfsync=EIO\ndevices_tried=1\n", 0, true, why),
			 AUDIT_CONTAINED);
	assert_int_equal(judge("rawdisk", "device=vda\nread=OK\nwrite=OK\nfsync=OK\ndevices_tried=1\n", 0, true, why),
			 AUDIT_EXPOSED);
	assert_int_equal(judge("vmm-survived", "vmm_alive=0\n", 0, true, why), AUDIT_EXPOSED);
	assert_int_equal(judge("vmm-survived", "vmm_alive=1\nvmm_seccomp=2\nexec_after=timeout\n", 0, true, why),
			 AUDIT_EXPOSED);
	assert_int_equal(judge("vmm-survived", "no_vmm=1\n", 0, false, why), AUDIT_NOT_APPLICABLE);
}

/* No evidence, another program's output, a timeout, no listener: could
 * not run, never contained. */
static void test_could_not_run(void **state)
{
	(void)state;
	const struct audit_attack *a = audit_find("kvm");
	struct audit_evidence ev = { .status = 1 };
	struct audit_context c = ctx(false);
	struct audit_cell cell;
	snprintf(ev.err, sizeof(ev.err), "runc run failed");
	audit_judge(a, &ev, &c, &cell);
	assert_int_equal(cell.v, AUDIT_NOT_RUN);
	assert_non_null(strstr(cell.evidence, "runc run failed"));
	snprintf(ev.out, sizeof(ev.out), "attack=dev\nopen=OK\n");   /* someone else's answer */
	audit_judge(a, &ev, &c, &cell);
	assert_int_equal(cell.v, AUDIT_NOT_RUN);
	snprintf(ev.out, sizeof(ev.out), "attack=kvm\nopen=ENOENT\n");
	ev.timed_out = true;
	audit_judge(a, &ev, &c, &cell);
	assert_int_equal(cell.v, AUDIT_NOT_RUN);
	assert_int_equal(judge("kvm", "", 0, false, NULL), AUDIT_NOT_RUN);
	assert_int_equal(judge("forkbomb", "", 0, false, NULL), AUDIT_NOT_RUN);
	assert_int_equal(judge("host-image", "", 0, false, NULL), AUDIT_NOT_RUN);
	c.listener_up = false;
	snprintf(ev.out, sizeof(ev.out), "attack=hostlo\n127.0.0.1=ECONNREFUSED\n");
	ev.timed_out = false;
	audit_judge(audit_find("hostlo"), &ev, &c, &cell);
	assert_int_equal(cell.v, AUDIT_NOT_RUN);
}

static void test_evidence_parsing(void **state)
{
	(void)state;
	struct audit_evidence ev = { 0 };
	char b[16];
	snprintf(ev.out, sizeof(ev.out), "attack=x\nread=EPERM\nreadx=OK\nread=OK\nn=12\nbad=1x\ntrunc=abcdefghijklmnopqrstuvwxyz");
	assert_true(audit_ev_get(&ev, "read", b, sizeof(b)));
	assert_string_equal(b, "EPERM");
	assert_true(audit_ev_nth(&ev, "read", 1, b, sizeof(b)));
	assert_string_equal(b, "OK");
	assert_false(audit_ev_nth(&ev, "read", 2, b, sizeof(b)));
	assert_true(audit_ev_has(&ev, "read", "OK"));
	assert_false(audit_ev_has(&ev, "readx", "EPERM"));
	assert_int_equal(audit_ev_long(&ev, "n", -1), 12);
	assert_int_equal(audit_ev_long(&ev, "bad", -1), -1);
	assert_int_equal(audit_ev_long(&ev, "missing", -7), -7);
	assert_true(audit_ev_get(&ev, "trunc", b, sizeof(b)));
	assert_int_equal(strlen(b), sizeof(b) - 1);
	assert_false(audit_ev_get(&ev, "rea", b, sizeof(b)));
}

static void fill_report(struct audit_report *r, struct audit_cell *vm, struct audit_cell *rc)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->image, sizeof(r->image), "busybox<&>");
	snprintf(r->host, sizeof(r->host), "Linux test");
	r->ncol = 3;
	snprintf(r->col[0].name, sizeof(r->col[0].name), "vm");
	r->col[0].cells = vm;
	snprintf(r->col[1].name, sizeof(r->col[1].name), "runc");
	r->col[1].cells = rc;
	snprintf(r->col[2].name, sizeof(r->col[2].name), "runsc");
	r->col[2].skipped = true;
	snprintf(r->col[2].reason, sizeof(r->col[2].reason), "runsc is not installed");
	snprintf(r->figures, sizeof(r->figures), "VMM threads' syscall allowlists: vcpu 20");
	snprintf(r->col[1].figures, sizeof(r->col[1].figures), "333 syscalls reach the host's kernel");
	for (size_t i = 0; i < audit_catalogue_len; i++) {
		vm[i].v = AUDIT_CONTAINED;
		snprintf(vm[i].why, sizeof(vm[i].why), "refused");
		snprintf(vm[i].evidence, sizeof(vm[i].evidence), "open=EPERM");
		rc[i].v = AUDIT_EXPOSED;
		snprintf(rc[i].why, sizeof(rc[i].why), "quote \" and <script>");
		snprintf(rc[i].evidence, sizeof(rc[i].evidence), "back\\slash\x01");
	}
}

static void test_exit_status(void **state)
{
	(void)state;
	static struct audit_report r;
	struct audit_cell *vm = calloc(audit_catalogue_len, sizeof(*vm)), *rc = calloc(audit_catalogue_len, sizeof(*rc));
	fill_report(&r, vm, rc);
	assert_int_equal(audit_exit_status(&r), 0);   /* runc's exposures do not count */
	vm[3].v = AUDIT_NOT_APPLICABLE;
	assert_int_equal(audit_exit_status(&r), 0);
	vm[5].v = AUDIT_NOT_RUN;
	assert_int_equal(audit_exit_status(&r), 1);
	vm[5].v = AUDIT_EXPOSED;
	assert_int_equal(audit_exit_status(&r), 1);
	vm[5].v = AUDIT_CONTAINED;
	r.col[0].skipped = true;
	assert_int_equal(audit_exit_status(&r), 1);   /* no vm column run: not 0 */
	free(vm);
	free(rc);
}

static char *render(const struct audit_report *r, enum audit_format f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct err e;
	assert_int_equal(audit_write(m, r, f, &e), 0);
	fclose(m);
	return buf;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Rows only --privileged-attacker runs are left out of a report without it. */
static void test_privileged_rows_hidden(void **state)
{
	(void)state;
	static struct audit_report r;
	struct audit_cell *vm = calloc(audit_catalogue_len, sizeof(*vm)), *rc = calloc(audit_catalogue_len, sizeof(*rc));
	fill_report(&r, vm, rc);
	size_t priv = 0;
	for (size_t i = 0; i < audit_catalogue_len; i++)
		if (audit_catalogue[i].privileged) {
			priv++;
			vm[i].v = rc[i].v = AUDIT_NOT_APPLICABLE;
			snprintf(vm[i].why, sizeof(vm[i].why), AUDIT_ONLY_PRIVILEGED);
			snprintf(rc[i].why, sizeof(rc[i].why), AUDIT_ONLY_PRIVILEGED);
		}
	assert_true(priv >= 4);
	char *j = render(&r, AUDIT_JSON);
	assert_int_equal(count(j, "\"results\": {"), audit_catalogue_len - priv);
	assert_null(strstr(j, "\"name\": \"vmm-survived\""));
	assert_non_null(strstr(j, "\"not applicable\": 0"));
	free(j);
	char *h = render(&r, AUDIT_HTML);
	assert_int_equal(count(h, "<tr id=\"a-"), audit_catalogue_len - priv);
	free(h);
	/* one column that ran them: shown */
	vm[audit_catalogue_len - 3].v = AUDIT_CONTAINED;
	snprintf(vm[audit_catalogue_len - 3].why, sizeof(vm[0].why), "refused");
	h = render(&r, AUDIT_HTML);
	assert_int_equal(count(h, "<tr id=\"a-"), audit_catalogue_len - priv + 1);
	free(h);
	free(vm);
	free(rc);
}

static void test_formats(void **state)
{
	(void)state;
	static struct audit_report r;
	enum audit_format f;
	struct audit_cell *vm = calloc(audit_catalogue_len, sizeof(*vm)), *rc = calloc(audit_catalogue_len, sizeof(*rc));
	fill_report(&r, vm, rc);
	assert_int_equal(audit_format_parse("json", &f), 0);
	assert_int_equal(f, AUDIT_JSON);
	assert_int_equal(audit_format_parse("xml", &f), -1);

	char *t = render(&r, AUDIT_TEXT);
	assert_non_null(strstr(t, "runsc      skipped: runsc is not installed"));
	assert_non_null(strstr(t, "open /dev/kvm"));
	assert_int_equal(count(t, "\n  vm         contained: refused [open=EPERM]"), audit_catalogue_len);
	free(t);

	char *j = render(&r, AUDIT_JSON);
	/* one result per attack per column run, strings escaped, balanced */
	assert_int_equal(count(j, "\"verdict\": \"contained\""), audit_catalogue_len);
	assert_int_equal(count(j, "\"verdict\": \"exposed\""), audit_catalogue_len);
	assert_non_null(strstr(j, "\"quote \\\" and <script>\""));
	assert_non_null(strstr(j, "back\\\\slash\\u0001"));
	assert_non_null(strstr(j, "\"vm_contains_all\": true"));
	assert_non_null(strstr(j, "\"figures\": \"VMM threads' syscall allowlists: vcpu 20\""));
	assert_non_null(strstr(j, "\"figures\": \"333 syscalls reach the host's kernel\""));
	assert_non_null(strstr(j, "\"skipped\": true, \"reason\": \"runsc is not installed\""));
	assert_int_equal(count(j, "{"), count(j, "}"));
	assert_int_equal(count(j, "["), count(j, "]"));
	free(j);

	char *m = render(&r, AUDIT_MARKDOWN);
	assert_non_null(strstr(m, "| vm | runc |"));
	assert_non_null(strstr(m, "| runsc | | | | | skipped: runsc is not installed |"));
	assert_int_equal(count(m, " **exposed**: "), audit_catalogue_len);
	free(m);

	char *h = render(&r, AUDIT_HTML);
	assert_non_null(strstr(h, "<!DOCTYPE html>"));
	assert_non_null(strstr(h, "<li><b>runc</b>: 333 syscalls reach the host&#39;s kernel</li>"));
	assert_non_null(strstr(h, "busybox&lt;&amp;&gt;"));
	assert_null(strstr(h, "<script>"));               /* escaped, and none of our own */
	assert_non_null(strstr(h, "&lt;script&gt;"));
	assert_null(strstr(h, "http://"));                /* self-contained */
	assert_null(strstr(h, "https://"));
	assert_int_equal(count(h, "<td class=\"ok\">"), audit_catalogue_len);
	assert_int_equal(count(h, "<td class=\"bad\">"), audit_catalogue_len);
	assert_int_equal(count(h, "<tr id=\"a-"), audit_catalogue_len);
	free(h);
	free(vm);
	free(rc);
}

static void test_sha256(void **state)
{
	(void)state;
	unsigned char d[32];
	char hex[65];
	static const struct { const char *in, *out; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		audit_sha256(v[i].in, strlen(v[i].in), d);
		for (int k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", d[k]);
		assert_string_equal(hex, v[i].out);
	}
	/* a file of a million 'a' (more than one read) */
	static char big[1000000];
	memset(big, 'a', sizeof(big));
	int fd = temp_file(big, sizeof(big));
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct err e;
	assert_int_equal(audit_sha256_file(path, hex, &e), 0);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	close(fd);
	assert_int_equal(audit_sha256_file("/nonexistent/file", hex, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_attack_can_fail), cmocka_unit_test(test_own_kernel), cmocka_unit_test(test_neighbour),
		cmocka_unit_test(test_could_not_run), cmocka_unit_test(test_evidence_parsing),
		cmocka_unit_test(test_exit_status), cmocka_unit_test(test_formats),
		cmocka_unit_test(test_privileged_rows_hidden), cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
