/* The lifecycle commands' shared parts (lifecycle.h's commands, one job a
 * file): what a recorded sandbox is now and whether its pids may be
 * signalled (lifecycle_status.c); ps and inspect (ps.c); kill, stop, rm
 * and prune (lifecycle.c). */
#ifndef SANDBOX_LIFECYCLE_IMPL_H
#define SANDBOX_LIFECYCLE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lifecycle.h"
#include "state.h"

/* A sandbox's status as shown (lifecycle_status.c's top). */
enum view { V_CREATED, V_RUNNING, V_EXITED, V_DEAD };

void lc_sleep_ms(unsigned ms);
/* Is PID a zombie (or gone)? A zombie keeps its /proc entry until reaped. */
bool lc_proc_zombie(pid_t pid);
/* The owner / the VMM (or host runtime) of S: still the process recorded,
 * and not a zombie. */
bool lc_owner_running(const struct sandbox_state *s);
bool lc_vmm_running(const struct sandbox_state *s);
/* May the owner / vmm_pid of S be signalled? Running, and this program
 * (or guest-init), and for the VMM the owner's child (or an orphan once
 * the owner died). */
bool lc_owner_trusted(const struct sandbox_state *s);
bool lc_vmm_trusted(const struct sandbox_state *s);
enum view lc_view_of(const struct sandbox_state *s);
/* "created", "running", "paused", "exited (N)", "dead". */
void lc_status_text(const struct sandbox_state *s, enum view v, char *buf, size_t len);
/* Under the state lock: if ID is (still) dead, end what is left of it and
 * remove its state. 1: cleaned, 0: not dead after all. */
int lc_clean_dead(const char *id);
/* REF's state and view; a "created" sandbox is waited for (up to 5 s)
 * until its owner has started its VMM. */
int lc_find_started(const char *ref, struct sandbox_state *s, enum view *v, struct err *e);

#endif
