/* Sandbox events (docs/api.md): what happened to which sandbox, when,
 * kept as JSON lines in ROOT/.events.json (rotated at 1 MiB to
 * .events.json.1; beside .lock, the root's own files), appended by whichever command did it:
 *   {"time":"…","type":"start","id":"…","name":"…","image":"…",…}
 * types: create, start (with "setup_ms": the owner's start to the VMM or
 * runtime forked), exec ("command"), kill ("signal"), stop, exit
 * ("exit_code"), ttl (expired), remove, restore ("setup_ms"), oom
 * ("oom_kills": the count so far, as the guest reported it; VM
 * sandboxes). Writing one never fails a
 * command: the log is for watching, not for deciding. */
#ifndef SANDBOX_EVENTS_H
#define SANDBOX_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "state.h"

#define EVENTS_FILE ".events.json"
#define EVENTS_MAX_SIZE (1 << 20)

/* Append TYPE for S; EXTRA: more members, already JSON (",\"k\":v"), or
 * NULL. */
void events_emit(const char *type, const struct sandbox_state *s, const char *extra);

/* One event read back (pure: events_parse). */
struct event {
	int64_t time_ns;
	char type[16];
	char id[17], name[64];
	double setup_ms;        /* start: < 0 if none */
};
/* Parse one line as events_emit writes it: 0, or -1. */
int events_parse(const char *line, size_t len, struct event *ev);

int cmd_events(int argc, char **argv);
void events_usage(FILE *f);

#endif
