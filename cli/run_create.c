/* `sandbox run`'s making of a sandbox, before its owner forks (run.c):
 * the image or snapshot it starts from, its record in the state directory
 * (under the lock: its name, the host's limits, its network), then its
 * container spec, writable layer and VM record. Each returns 0, -1 with
 * E filled, or a status already reported (cli_report). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hostlimits.h"
#include "run_impl.h"
#include "snapshot.h"
#include "state.h"
#include "storage.h"

/* A free subnet index 1..250 among live sandboxes (under the state lock);
 * 0 if none is free; -1 with E filled if the sandboxes cannot be listed. */
static int alloc_net(struct err *e)
{
	bool used[256] = { false };
	size_t n;
	char **ids = state_list(&n, e);
	if (!ids)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct sandbox_state s;
		struct err e;
		if (!state_read(ids[i], &s, &e) && s.net > 0 && s.net < 256 && state_owner_alive(&s))
			used[s.net] = true;
	}
	state_free_list(ids, n);
	for (int k = 1; k <= 250; k++)
		if (!used[k])
			return k;
	return 0;
}

/* 1 if a sandbox is called NAME, 0 if not, -1 with E filled if the
 * sandboxes cannot be listed. */
static int name_in_use(const char *name, struct err *e)
{
	size_t n;
	int hit = 0;
	char **ids = state_list(&n, e);
	if (!ids)
		return -1;
	for (size_t i = 0; i < n && !hit; i++) {
		struct sandbox_state s;
		struct err e;
		hit = !state_read(ids[i], &s, &e) && !strcmp(s.name, name);
	}
	state_free_list(ids, n);
	return hit;
}

/* ROOT/<id>/vm: the VM's makings (snapshot.h), from the options or, for a
 * clone, the snapshot's record (FROM). */
static int record_vm(const struct run_opts *o, const struct runconf *rc, const struct sandbox_state *s,
		     const struct vm_record *from, struct err *e)
{
	struct vm_record r = { 0 };
	if (from) {
		r = *from;
	} else {
		uint64_t mem;
		unsigned ncpus;
		vm_size(o, &mem, &ncpus);
		if (vm_record_disk(&r, rc->disk, e))
			return -1;
		snprintf(r.image, sizeof(r.image), "%s", s->image);
		snprintf(r.stop_signal, sizeof(r.stop_signal), "%s", s->stop_signal);
		snprintf(r.cpus, sizeof(r.cpus), "%s", s->cpus);
		r.memory = o->memory;
		r.mem_bytes = mem;
		r.ncpus = ncpus;
		r.net = s->net > 0;
		r.layer = !o->read_only;
		r.volumes = o->nvol;
		r.pmem = run_image_transport(o, rc) == IMAGE_TRANSPORT_PMEM;
		/* as vm_child_setup decides; a VM left without it for want of a
		 * virtio slot has volumes, which a snapshot refuses */
		r.balloon = run_balloon();
	}
	snprintf(r.command, sizeof(r.command), "%s", s->command);
	r.uid = (unsigned)geteuid();
	char path[700];
	state_path(path, sizeof(path), s->id, "vm");
	return vm_record_write(path, &r, e);
}

int run_resolve(struct run_opts *o, struct runconf *rc, struct snap_from *from, struct err *ep)
{
	from->state_fd = from->mem_fd = from->layer_fd = from->ws_fd = -1;
	if (o->from) {
		/* a clone: the snapshot's image, disk and sandbox */
		if (snap_from_open(o->from, from, ep))
			return -1;
		o->image = from->rec.image;
		o->network = from->rec.net ? "tap" : "none";
		o->cpus = from->rec.cpus;
		o->memory = from->rec.memory;
		rc->disk = from->rec.disk;
		rc->fstype = "erofs";
		rc->stopsignal = from->rec.stop_signal;
	} else if (!o->rootfs && runconf_cached(o->image, rc) && runconf_load(o->image, rc, ep)) {
		/* (a host directory as the root, sandbox-runtime's, has no image) */
		return -1;
	}
	/* The image's StopSignal goes into the state file: a signal, or no run. */
	if (rc->stopsignal && *rc->stopsignal && state_signal(rc->stopsignal) < 0) {
		char shown[64];
		size_t k = 0;
		for (const char *p = rc->stopsignal; *p && k < sizeof(shown) - 1; p++)
			shown[k++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
		shown[k] = '\0';
		return err_set(ep, "image %s: its StopSignal '%s' is not a signal (want e.g. SIGTERM, TERM or 15)",
				o->image, shown);
	}
	return 0;
}

int run_create_state(const struct run_opts *o, const struct runconf *rc, const struct snap_from *from,
		     struct sandbox_state *s, struct err *ep)
{
	for (int i = 0; i < o->nvol; i++) {
		char file[4096];
		snprintf(file, sizeof(file), "%.*s", (int)(strchr(o->volumes[i], ':') - o->volumes[i]), o->volumes[i]);
		if (access(file, R_OK))
			return err_set(ep, "-v %s: %s: %s", o->volumes[i], file, strerror(errno));
	}

	state_new_id(s->id);
	int lock = state_lock(ep);
	if (lock < 0)
		return -1;
	int used = o->name ? name_in_use(o->name, ep) : 0;
	if (used) {
		state_unlock(lock);
		if (used < 0)
			return -1;
		return err_set(ep, "the name '%s' is in use (sandbox rm %s)", o->name, o->name);
	}
	/* Host-wide limits (limits.h), under the lock with the name. */
	struct limits lim;
	if (limits_load(&lim, ep) || limits_check(&lim, limits_guest_memory(o->isolation, o->memory), ep)) {
		state_unlock(lock);
		return cli_report(ep);
	}
	if (!strcmp(o->network, "tap")) {
		if (geteuid() != 0) {
			state_unlock(lock);
			return err_set(ep, "--network tap needs root (it creates a tap device)");
		}
		s->net = alloc_net(ep);
		if (s->net <= 0) {
			state_unlock(lock);
			if (s->net < 0)
				return -1;
			return err_set(ep, "--network tap: no free subnet (250 networked sandboxes run)");
		}
		snprintf(s->tap, sizeof(s->tap), "sb%.12s", s->id);
	}
	snprintf(s->name, sizeof(s->name), "%s", o->name ? o->name : s->id);
	snprintf(s->image, sizeof(s->image), "%s", o->image);
	size_t off = 0;
	if (o->from)
		snprintf(s->command, sizeof(s->command), "%s", from->rec.command);
	for (int i = 0; !o->from && i < o->ncmd && off < sizeof(s->command) - 1; i++)
		off += (size_t)snprintf(s->command + off, sizeof(s->command) - off, "%s%s", i ? " " : "", o->cmd[i]);
	for (char *p = s->command; *p; p++)     /* shown only; state values hold no control characters */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	s->created = (long long)time(NULL);
	snprintf(s->isolation, sizeof(s->isolation), "%s", o->isolation);
	snprintf(s->cpus, sizeof(s->cpus), "%s", o->cpus ? o->cpus : "1");
	s->memory = o->memory;
	snprintf(s->stop_signal, sizeof(s->stop_signal), "%s", rc->stopsignal && *rc->stopsignal ? rc->stopsignal : "SIGTERM");
	s->rm = o->rm;
	s->detached = o->detach;
	s->ttl = o->ttl;
	if (o->log.driver != LOG_NONE || o->log_given)
		snprintf(s->log_driver, sizeof(s->log_driver), "%s", log_driver_name(o->log.driver));
	snprintf(s->status, sizeof(s->status), "created");
	s->pid = getpid();
	s->pid_start = state_proc_start(s->pid);
	s->exit_code = -1;
	int r = state_write(s, ep);
	state_unlock(lock);
	if (r)
		return cli_report(ep);
	return 0;
}

int run_make_spec(const struct run_opts *o, const struct runconf *rc, const struct snap_from *from,
		  const struct sandbox_state *s, struct run_spec *spec, struct err *ep)
{
	if (o->from) {
		spec->from = from;
		snprintf(spec->hostname, sizeof(spec->hostname), "%.12s", s->id);
		if (from->rec.layer &&
		    storage_create_from(s->id, from->layer_fd, spec->storage, sizeof(spec->storage), ep))
			return -1;
	} else {
		if (spec_fill(o, rc, s->id, spec, ep))
			return -1;
		/* The writable layer: a file of its own, removed with the
		 * state (state_remove). --read-only writes nothing: none. */
		if (!o->read_only && !o->rootfs && storage_create(s->id, o->storage, spec->storage, sizeof(spec->storage), ep))
			return -1;
	}
	/* What the VM is made of, for sandbox snapshot. */
	if (strcmp(o->isolation, "container") && !o->rootfs && record_vm(o, rc, s, o->from ? &from->rec : NULL, ep))
		return -1;
	return 0;
}
