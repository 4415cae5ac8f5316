/* `sandbox audit`: the options and the loop over isolations and attacks
 * (docs/audit.md); the host's side is audit_host.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_iso.h"
#include "cli.h"
#include "util.h"

#define DEFAULT_TIMEOUT_S 60

bool audit_privileged_attacker;

void audit_usage(FILE *f)
{
	fprintf(f,
		"\nsandbox audit [--image IMAGE] [--isolation LIST] [--only ATTACKS]\n"
		"              [--format text|json|html|markdown] [--output FILE] [--html FILE]\n"
		"  runs the attack catalogue as root inside a sandbox of IMAGE (default busybox) in\n"
		"  each isolation of LIST (comma-separated; default vm,container,runc,crun,runsc;\n"
		"  one that cannot run here is skipped with the reason) and reports, per attack,\n"
		"  contained / exposed / not applicable / could not run with the evidence.\n"
		"  --only ATTACKS: a comma-separated subset (names as in the JSON report).\n"
		"  --html FILE: also write the HTML report to FILE (one self-contained page).\n"
		"  --privileged-attacker: the container holds every capability and no seccomp\n"
		"  (vm and container only; an audit mode, never a run option): in the VM it then\n"
		"  attacks the VMM's devices; on a shared kernel it only shows the doors open.\n"
		"  Exit status: 0 when every attack is contained in vm, 1 otherwise, 125 on error.\n");
}

struct audit_opts {
	const char *image;
	char isolations[128];
	const char *only;
	const char *output;
	const char *html;
	bool privileged;
	enum audit_format fmt;
};

static int parse(int argc, char **argv, struct audit_opts *o, struct err *e)
{
	static const struct option lo[] = {
		{ "image", required_argument, NULL, 'i' }, { "isolation", required_argument, NULL, 'I' },
		{ "format", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "only", required_argument, NULL, 'O' }, { "html", required_argument, NULL, 'H' },
		{ "privileged-attacker", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;
	bool isolation_given = false;
	o->image = "busybox";
	snprintf(o->isolations, sizeof(o->isolations), "vm,container,runc,crun,runsc");
	o->fmt = AUDIT_TEXT;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->image = optarg; break;
		case 'I':
			isolation_given = true;
			if (strlen(optarg) >= sizeof(o->isolations))
				return err_set(e, "--isolation: too long");
			snprintf(o->isolations, sizeof(o->isolations), "%s", optarg);
			break;
		case 'f':
			if (audit_format_parse(optarg, &o->fmt))
				return err_set(e, "--format '%s': want text, json, html or markdown", optarg);
			break;
		case 'o': o->output = optarg; break;
		case 'O': o->only = optarg; break;
		case 'H': o->html = optarg; break;
		case 'P': o->privileged = true; break;
		case 'h': audit_usage(stdout); exit(0);
		default:
			return err_set(e, "unknown or incomplete option '%s' (see sandbox audit --help)", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return err_set(e, "unexpected argument '%s' (see sandbox audit --help)", argv[optind]);
	if (o->privileged && !isolation_given)
		snprintf(o->isolations, sizeof(o->isolations), "vm,container");
	/* every name known, none twice */
	char copy[128], *save = NULL, *seen[AUDIT_MAX_ISO];
	size_t n = 0;
	snprintf(copy, sizeof(copy), "%s", o->isolations);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!audit_iso_find(t))
			return err_set(e, "--isolation: '%s' is not vm, container, runc, crun or runsc", t);
		for (size_t i = 0; i < n; i++)
			if (!strcmp(seen[i], t))
				return err_set(e, "--isolation: '%s' named twice", t);
		if (o->privileged && strcmp(t, "vm") && strcmp(t, "container"))
			return err_set(e, "--privileged-attacker: vm and container only, not '%s'", t);
		seen[n++] = t;
	}
	if (!n)
		return err_set(e, "--isolation: empty");
	if (o->only) {
		snprintf(copy, sizeof(copy), "%s", o->only);
		if (strlen(o->only) >= sizeof(copy))
			return err_set(e, "--only: too long");
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (!audit_find(t))
				return err_set(e, "--only: no attack named '%s'", t);
	}
	return 0;
}

static bool selected(const struct audit_opts *o, const char *name)
{
	if (!o->only)
		return true;
	size_t l = strlen(name);
	for (const char *p = o->only; *p;) {
		size_t k = strcspn(p, ",");
		if (k == l && !strncmp(p, name, l))
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

/* ---- one isolation ---------------------------------------------------------------------- */
static void fill_all(struct audit_column *col, enum audit_verdict v, const char *why)
{
	for (size_t k = 0; k < audit_catalogue_len; k++) {
		col->cells[k].v = v;
		snprintf(col->cells[k].why, sizeof(col->cells[k].why), "%.255s", why);
		col->cells[k].evidence[0] = '\0';
	}
}

/* The neighbour, when an attack on it is selected: a second sandbox of
 * the isolation holding a fresh secret; the reason when it cannot start
 * (those rows then read "could not run"). */
static void start_neighbour(const struct audit_opts *o, struct audit_run *r, struct audit_context *ctx)
{
	struct err e = { 0 };
	bool wanted = false;
	ctx->nbr_up = false;
	ctx->nbr_error[0] = '\0';
	for (size_t k = 0; k < audit_catalogue_len; k++)
		wanted |= selected(o, audit_catalogue[k].name) && audit_catalogue[k].argv[1] &&
			  !strcmp(audit_catalogue[k].argv[1], "@NBRSECRET");
	if (!wanted)
		return;
	audit_nbr_secret(ctx->nbr_secret, sizeof(ctx->nbr_secret));
	fprintf(stderr, "audit: %s: starting the neighbour\n", r->iso->name);
	if (r->iso->nbr_start(r, ctx->nbr_secret, &e)) {
		snprintf(ctx->nbr_error, sizeof(ctx->nbr_error), "%.199s", e.msg);
		fprintf(stderr, "audit: %s: no neighbour: %s\n", r->iso->name, e.msg);
		return;
	}
	ctx->nbr_up = true;
	fprintf(stderr, "audit: %s: neighbour %s up (%s), host pid %d, directory %s\n", r->iso->name, r->nbr_name,
		r->nbr_detail, (int)r->nbr_pid, r->nbr_dir[0] ? r->nbr_dir : "-");
}

static volatile sig_atomic_t interrupted;
static void on_int(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void run_column(const struct audit_opts *o, struct audit_run *r, struct audit_context *ctx,
		       struct audit_column *col)
{
	struct err e = { 0 };
	snprintf(col->name, sizeof(col->name), "%s", r->iso->name);
	if (r->iso->available(r, &e)) {
		col->skipped = true;
		snprintf(col->reason, sizeof(col->reason), "%.255s", e.msg);
		fprintf(stderr, "audit: %s skipped: %s\n", col->name, e.msg);
		return;
	}
	ctx->iso = r->iso->name;
	ctx->own_kernel = r->iso->own_kernel;
	char files[AUDIT_MAX_HOST_FILES][PATH_MAX], img[1][PATH_MAX];
	char before[AUDIT_MAX_HOST_FILES][65], img_before[1][65];
	size_t nf = 0;
	r->iso->host_files(r, files, &nf);
	snprintf(img[0], PATH_MAX, "%s", r->disk);
	audit_hash_files(files, nf, before);
	audit_hash_files(img, 1, img_before);
	fprintf(stderr, "audit: %s: starting\n", col->name);
	if (r->iso->start(r, &e)) {
		fill_all(col, AUDIT_NOT_RUN, e.msg);
		fprintf(stderr, "audit: %s: %s\n", col->name, e.msg);
		r->iso->stop(r);
		return;
	}
	r->iso->detail(r, col->detail, sizeof(col->detail));
	start_neighbour(o, r, ctx);
	if (ctx->nbr_up) {
		size_t l = strlen(col->detail);
		snprintf(col->detail + l, sizeof(col->detail) - l, "; neighbour: %s", r->nbr_detail);
	}
	/* An isolation that cannot start the attacker at all (a runtime that
	 * fails on this host) is tried once: the rest are not tried. */
	bool tried = false;
	char broken[256] = "";
	for (size_t k = 0; k < audit_catalogue_len && !interrupted; k++) {
		const struct audit_attack *a = &audit_catalogue[k];
		struct audit_evidence ev;
		if (!selected(o, a->name) || (a->privileged && !ctx->privileged)) {
			col->cells[k].v = AUDIT_NOT_APPLICABLE;
			snprintf(col->cells[k].why, sizeof(col->cells[k].why), "%s",
				 a->privileged && !ctx->privileged ? AUDIT_ONLY_PRIVILEGED : "not selected (--only)");
			continue;
		}
		if (broken[0] && !a->host_check) {
			col->cells[k].v = AUDIT_NOT_RUN;
			snprintf(col->cells[k].why, sizeof(col->cells[k].why), "not tried: %.240s", broken);
			continue;
		}
		if (a->host_check) {
			if (!strcmp(a->name, "vmm-survived"))
				audit_vmm_evidence(r, &ev);
			else if (!strcmp(a->name, "host-image"))
				audit_unchanged_evidence(img, 1, img_before, &ev);
			else
				audit_unchanged_evidence(files, nf, before, &ev);
		} else {
			char args[AUDIT_MAX_ARGS][PATH_MAX];
			char *argv[AUDIT_MAX_ARGS + 1];
			size_t i;
			for (i = 0; i < AUDIT_MAX_ARGS && a->argv[i]; i++) {
				const char *s = a->argv[i];
				if (!strcmp(s, "@PORT"))
					snprintf(args[i], sizeof(args[i]), "%d", ctx->port);
				else if (!strcmp(s, "@ABSTRACT"))
					snprintf(args[i], sizeof(args[i]), "%s", ctx->abstract_name);
				else if (!strcmp(s, "@HOSTPID"))
					snprintf(args[i], sizeof(args[i]), "%d", (int)getpid());
				else if (!strcmp(s, "@MODE"))
					snprintf(args[i], sizeof(args[i]), "%s", r->iso->own_kernel ? "hit" : "probe");
				else if (!strcmp(s, "@INOTIFY"))
					snprintf(args[i], sizeof(args[i]), "%ld", ctx->host_inotify_instances + 16);
				else if (!strcmp(s, "@NBRSECRET"))
					audit_reverse(ctx->nbr_secret, args[i], sizeof(args[i]));
				else if (!strcmp(s, "@NBRPID"))
					snprintf(args[i], sizeof(args[i]), "%d", (int)r->nbr_pid);
				else if (!strcmp(s, "@NBRDIR"))
					snprintf(args[i], sizeof(args[i]), "%s", r->nbr_dir[0] ? r->nbr_dir : "/nonexistent");
				else
					snprintf(args[i], sizeof(args[i]), "%s", s);
				argv[i] = args[i];
			}
			argv[i] = NULL;
			r->iso->attack(r, argv, a->timeout_s ? a->timeout_s : DEFAULT_TIMEOUT_S, &ev);
		}
		audit_judge(a, &ev, ctx, &col->cells[k]);
		if (!a->host_check && !tried && strncmp(ev.out, "attack=", 7) && !ev.timed_out)
			snprintf(broken, sizeof(broken), "%s", col->cells[k].why);
		tried |= !a->host_check;
		fprintf(stderr, "audit: %s: %-14s %s (%s)\n", col->name, a->name, audit_verdict_name(col->cells[k].v),
			col->cells[k].why);
	}
	/* the attack surface: which syscalls reach the kernel from inside */
	if (!interrupted && !broken[0]) {
		char *argv[] = { "syscalls", NULL };
		struct audit_evidence ev;
		r->iso->attack(r, argv, 120, &ev);
		long got = audit_ev_long(&ev, "syscalls_reached", -1), ref = audit_ev_long(&ev, "syscalls_refused", -1);
		if (got >= 0 && ref >= 0)
			snprintf(col->figures, sizeof(col->figures),
				 "%ld syscalls reach the %s kernel from the container, %ld are refused (EPERM/ENOSYS)", got,
				 r->iso->own_kernel ? "sandbox's own" : "host's", ref);
		else
			snprintf(col->figures, sizeof(col->figures), "syscall probe: no answer (status %d)", ev.status);
	}
	r->iso->nbr_stop(r);
	r->iso->stop(r);
}

int cmd_audit(int argc, char **argv)
{
	struct audit_opts o = { 0 };
	struct err e = { 0 };
	static struct audit_report rep;
	struct audit_context ctx = { 0 };
	struct host_side hs = { -1, -1 };
	if (parse(argc, argv, &o, &e))
		return cli_report(&e);
	const char *self = self_dir();
	char attacker[PATH_MAX], disk[PATH_MAX];
	snprintf(attacker, sizeof(attacker), "%.*s/sandbox-attacker", PATH_MAX - 32, self);
	if (access(attacker, R_OK)) {
		err_sys(&e, "the attacker program %s (built by make)", attacker);
		return cli_report(&e);
	}
	if (audit_image_disk(self, o.image, disk, sizeof(disk), &e))
		return cli_report(&e);
	FILE *out = stdout, *html = NULL;
	if (o.output && !(out = fopen(o.output, "w"))) {
		err_sys(&e, "--output %s", o.output);
		return cli_report(&e);
	}
	if (o.html && !(html = fopen(o.html, "w"))) {
		err_sys(&e, "--html %s", o.html);
		return cli_report(&e);
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_int };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	snprintf(rep.image, sizeof(rep.image), "%s", o.image);
	audit_host_facts(&ctx, &rep);
	audit_our_figures(&rep);
	ctx.privileged = o.privileged;
	audit_listeners_up(&ctx, &hs);
	char copy[128], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", o.isolations);
	for (char *t = strtok_r(copy, ",", &save); t && rep.ncol < AUDIT_MAX_ISO; t = strtok_r(NULL, ",", &save)) {
		struct audit_column *col = &rep.col[rep.ncol++];
		struct audit_run r = { .iso = audit_iso_find(t), .image = o.image, .privileged = o.privileged,
				       .close_fds = { hs.tcp, hs.unx } };
		snprintf(r.self, sizeof(r.self), "%s", self);
		snprintf(r.attacker, sizeof(r.attacker), "%s", attacker);
		snprintf(r.disk, sizeof(r.disk), "%s", disk);
		col->cells = calloc(audit_catalogue_len, sizeof(*col->cells));
		if (!col->cells) {
			err_oom(&e, "audit");
			return cli_report(&e);
		}
		run_column(&o, &r, &ctx, col);
	}
	if (hs.tcp >= 0)
		close(hs.tcp);
	if (hs.unx >= 0)
		close(hs.unx);
	int rc = audit_write(out, &rep, o.fmt, &e);
	if (out != stdout && fclose(out) && !rc)
		rc = err_sys(&e, "--output %s", o.output);
	if (html && !rc)
		rc = audit_write(html, &rep, AUDIT_HTML, &e);
	if (html && fclose(html) && !rc)
		rc = err_sys(&e, "--html %s", o.html);
	int status = audit_exit_status(&rep);
	for (size_t i = 0; i < rep.ncol; i++)
		free(rep.col[i].cells);
	if (rc)
		return cli_report(&e);
	if (interrupted) {
		fprintf(stderr, "sandbox: audit interrupted: the report is partial\n");
		return 125;
	}
	return status;
}
