/* cgroup v2's memory.events, the one field this project reads from it:
 * oom_kill, how many processes of the group (and its descendants) the
 * OOM killer killed, whether the group's own memory.max or the whole
 * machine ran out. guest-init's PID 1 reads it for the container's group
 * and reports it to the host (common/proto.h's OOM frame); the host
 * never trusts the number beyond its bounds (SB_OOM_MAX). */
#ifndef SANDBOX_MEMEVENTS_H
#define SANDBOX_MEMEVENTS_H

#include <stddef.h>
#include <stdint.h>

/* The file's text (LEN bytes, not NUL-terminated): lines "key value",
 * value decimal. The oom_kill value into *OUT: 0, or -1 if the text is
 * not such lines or has no oom_kill (or it is above UINT32_MAX). */
int memevents_oom_kill(const char *buf, size_t len, uint32_t *out);

#endif
