/* sandbox-runtime: its record of a container, ROOT/<id>/oci ("key=value"
 * lines, replaced atomically: common/atomic_file.c), and ROOT/<id>/annotations (the config's
 * annotations as JSON, for `state`). The sandbox itself (owner, VMM,
 * sockets) is recorded by cli/state.c under ROOT/.sandbox. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "ostate.h"
#include "procstat.h"

const char *oci_root = "/run/sandbox-runtime";

void oci_path(char *buf, size_t len, const char *id, const char *file)
{
	snprintf(buf, len, "%s/%s%s%s", oci_root, id, file ? "/" : "", file ? file : "");
}

int oci_state_write(const struct oci_state *s, struct err *e)
{
	char path[PATH_MAX], pod[OCI_ID_MAX + 8] = "";
	oci_path(path, sizeof(path), s->id, "oci");
	for (const char *p = s->bundle; *p; p++)
		if ((unsigned char)*p < 0x20)
			return err_set(e, "bundle path with a control character");
	if (s->pod[0])
		snprintf(pod, sizeof(pod), "pod=%s\n", s->pod);
	/* no fsync: ROOT is a tmpfs (/run), written on every state change */
	return atomic_printf(AT_FDCWD, path, path, 0, e,
			     "sid=%s\nbundle=%s\nrootfs=%s\ncreated_ns=%lld\nstarted=%d\npid=%d\npid_start=%llu\n%s%s", s->sid,
			     s->bundle, s->rootfs, s->created_ns, s->started ? 1 : 0, (int)s->pid, s->pid_start, pod,
			     s->pod_share ? "pod_share=1\n" : "");
}

int oci_state_read(const char *id, struct oci_state *s, struct err *e)
{
	char path[PATH_MAX], line[PATH_MAX + 64];
	memset(s, 0, sizeof(*s));
	if (!oci_id_valid(id))
		return err_set(e, "'%.80s' is not a valid container id", id);
	oci_path(path, sizeof(path), id, "oci");
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			err_set(e, "container \"%s\" does not exist", id);
			e->errnum = ENOENT;
			return -1;
		}
		return err_sys(e, "%s", path);
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return err_sys(e, "%s", path);
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	unsigned seen = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *v = strchr(line, '=');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "sid") && strlen(v) == STATE_ID_LEN)
			memcpy(s->sid, v, STATE_ID_LEN + 1), seen |= 1;
		else if (!strcmp(line, "bundle"))
			snprintf(s->bundle, sizeof(s->bundle), "%s", v), seen |= 2;
		else if (!strcmp(line, "rootfs"))
			snprintf(s->rootfs, sizeof(s->rootfs), "%s", v), seen |= 4;
		else if (!strcmp(line, "created_ns"))
			s->created_ns = atoll(v), seen |= 8;
		else if (!strcmp(line, "started"))
			s->started = atoi(v) == 1, seen |= 16;
		else if (!strcmp(line, "pid"))
			s->pid = atoi(v), seen |= 32;
		else if (!strcmp(line, "pid_start"))
			s->pid_start = strtoull(v, NULL, 10), seen |= 64;
		else if (!strcmp(line, "pod") && oci_id_valid(v))
			snprintf(s->pod, sizeof(s->pod), "%s", v);
		else if (!strcmp(line, "pod_share"))
			s->pod_share = atoi(v) == 1;
	}
	fclose(f);
	for (const char *p = s->sid; *p; p++)
		if (!strchr("0123456789abcdef", *p))
			seen = 0;
	if (seen != 127 || s->pid <= 0)
		return err_set(e, "%s: damaged state file (remove %s/%s)", path, oci_root, id);
	return 0;
}

bool oci_owner_alive(const struct oci_state *s)
{
	/* the same process (start time), and not a zombie (exited, not yet
	 * reaped by the engine) */
	struct proc_stat st;
	return !proc_stat_read(s->pid, &st) && st.start && st.start == s->pid_start && st.state != 'Z' &&
	       st.state != 'X';
}
