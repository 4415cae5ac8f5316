/* The container's user: "uid[:gid]" (numbers) or "name[:group]", looked up
 * in the container's own /etc/passwd and /etc/group (after pivot_root, so
 * the image's files, never the host's), plus the supplementary groups that
 * list the user. No NSS: the init is static. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "container.h"

static bool is_number(const char *s, unsigned long *v)
{
	char *end;
	if (!*s)
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !*end && !errno && *v < 0xffffffffUL;
}

/* Split one line of a passwd/group file into at most N ':' fields. */
static int split(char *line, char **f, int n)
{
	int i = 0;
	line[strcspn(line, "\n")] = '\0';
	f[i++] = line;
	for (char *p = line; *p && i < n; p++)
		if (*p == ':') {
			*p = '\0';
			f[i++] = p + 1;
		}
	return i;
}

/* passwd entry by name (or by uid if name is NULL). */
static bool find_passwd(const char *name, uid_t uid, struct sb_ids *ids, char *uname, size_t ulen)
{
	FILE *f = fopen("/etc/passwd", "re");
	char line[1024], *fld[7];
	bool found = false;
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (split(line, fld, 7) < 7)
			continue;
		unsigned long u, g;
		if (!is_number(fld[2], &u) || !is_number(fld[3], &g))
			continue;
		if (name ? strcmp(fld[0], name) : u != uid)
			continue;
		ids->uid = u;
		ids->gid = g;
		snprintf(ids->home, sizeof(ids->home), "%s", fld[5]);
		snprintf(uname, ulen, "%s", fld[0]);
		found = true;
	}
	fclose(f);
	return found;
}

/* Group NAME's gid (if name), and the supplementary groups listing UNAME. */
static bool scan_groups(const char *gname, gid_t *gid, const char *uname, struct sb_ids *ids)
{
	FILE *f = fopen("/etc/group", "re");
	char line[4096], *fld[4];
	bool found = false;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (split(line, fld, 4) < 4)
			continue;
		unsigned long g;
		if (!is_number(fld[2], &g))
			continue;
		if (gname && !strcmp(fld[0], gname)) {
			*gid = g;
			found = true;
		}
		if (!uname || !*uname)
			continue;
		for (char *m = strtok(fld[3], ","); m; m = strtok(NULL, ","))
			if (!strcmp(m, uname) && ids->ngroups < (int)(sizeof(ids->groups) / sizeof(ids->groups[0])))
				ids->groups[ids->ngroups++] = g;
	}
	fclose(f);
	return found;
}

int user_resolve(const char *user, struct sb_ids *ids, struct err *err)
{
	char buf[256], uname[256] = "";
	memset(ids, 0, sizeof(*ids));
	if (!user || !*user)
		user = "0";
	snprintf(buf, sizeof(buf), "%s", user);
	char *group = strchr(buf, ':');
	if (group)
		*group++ = '\0';
	unsigned long v;
	if (is_number(buf, &v)) {
		ids->uid = v;
		ids->gid = v;          /* Docker: numeric user without an entry gets gid = 0... */
		if (!find_passwd(NULL, v, ids, uname, sizeof(uname)))
			ids->gid = 0;  /* ...as in runc: no passwd entry, group root. */
	} else if (!find_passwd(buf, 0, ids, uname, sizeof(uname))) {
		return err_errno(err, ENOENT, "no user \"%s\" in the container's /etc/passwd", buf);
	}
	gid_t g = ids->gid;
	if (group && is_number(group, &v))
		g = v;
	else if (group && !scan_groups(group, &g, NULL, ids))
		return err_errno(err, ENOENT, "no group \"%s\" in the container's /etc/group", group);
	ids->gid = g;
	scan_groups(NULL, &g, uname, ids);
	return 0;
}

/* setgroups → setgid → setuid, keeping the capabilities across the uid
 * change so caps_apply() decides them (exec then recomputes them: a
 * non-root user ends with none effective, as in Docker). */
int user_switch(const struct sb_ids *ids, struct err *err)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return err_errno(err, errno, "keepcaps");
	if (setgroups(ids->ngroups, ids->groups))
		return err_errno(err, errno, "setgroups");
	if (setgid(ids->gid))
		return err_errno(err, errno, "setgid %u", (unsigned)ids->gid);
	if (setuid(ids->uid))
		return err_errno(err, errno, "setuid %u", (unsigned)ids->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		return err_errno(err, errno, "keepcaps off");
	return 0;
}
