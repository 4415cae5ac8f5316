/* The state directory (see state.h). Plain files, no daemon: every command
 * reads what the owners wrote and checks that the owners still live. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char root[512];

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) && errno != EEXIST ? -1 : 0;
}

const char *state_root(struct err *e)
{
	if (root[0])
		return root;
	const char *env = getenv("SANDBOX_STATE_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	if (env && *env)
		snprintf(root, sizeof(root), "%s", env);
	else if (geteuid() == 0)
		snprintf(root, sizeof(root), "/run/sandbox");
	else if (xdg && *xdg)
		snprintf(root, sizeof(root), "%s/sandbox", xdg);
	else
		snprintf(root, sizeof(root), "/tmp/sandbox-%u", (unsigned)geteuid());
	if (mkdir_p(root, 0700)) {
		err_sys(e, "state directory %s", root);
		root[0] = '\0';
		return NULL;
	}
	return root;
}

int state_lock(struct err *e)
{
	char path[600];
	if (!state_root(e))
		return -1;
	snprintf(path, sizeof(path), "%s/.lock", root);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		err_sys(e, "lock %s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

void state_path(char *buf, size_t len, const char *id, const char *file)
{
	snprintf(buf, len, "%s/%s%s%s", root, id, file ? "/" : "", file ? file : "");
}

int state_write(const struct sandbox_state *s, struct err *e)
{
	char dir[600], tmp[700], path[700];
	unsigned long long vmm_start = s->vmm_pid <= 0 ? 0 : s->vmm_start ? s->vmm_start : state_proc_start(s->vmm_pid);
	state_path(dir, sizeof(dir), s->id, NULL);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return err_sys(e, "mkdir %s", dir);
	snprintf(tmp, sizeof(tmp), "%s/state.tmp", dir);
	snprintf(path, sizeof(path), "%s/state", dir);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return err_sys(e, "write %s", tmp);
	fprintf(f,
		"id=%s\nname=%s\nimage=%s\ncommand=%s\ncreated=%lld\nisolation=%s\ncpus=%s\nmemory=%lld\n"
		"pid=%d\npid_start=%llu\nvmm_pid=%d\nstatus=%s\nexit_code=%d\nnet=%d\ntap=%s\nstop_signal=%s\n"
		"rm=%d\ndetached=%d\nvmm_start=%llu\n",
		s->id, s->name, s->image, s->command, s->created, s->isolation, s->cpus, s->memory, (int)s->pid,
		s->pid_start, (int)s->vmm_pid, s->status, s->exit_code, s->net, s->tap, s->stop_signal, s->rm,
		s->detached, vmm_start);
	if (fflush(f) || ferror(f)) {
		fclose(f);
		unlink(tmp);
		return err_sys(e, "write %s", tmp);
	}
	fclose(f);
	if (rename(tmp, path))
		return err_sys(e, "rename %s", tmp);
	return 0;
}

#define COPY(field, v) snprintf(s->field, sizeof(s->field), "%s", v)

int state_read(const char *id, struct sandbox_state *s, struct err *e)
{
	char path[700], line[1400];
	if (!state_root(e))
		return -1;
	state_path(path, sizeof(path), id, "state");
	FILE *f = fopen(path, "re");
	if (!f)
		return err_sys(e, "sandbox %s", id);
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *v = strchr(line, '=');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "id")) COPY(id, v);
		else if (!strcmp(line, "name")) COPY(name, v);
		else if (!strcmp(line, "image")) COPY(image, v);
		else if (!strcmp(line, "command")) COPY(command, v);
		else if (!strcmp(line, "created")) s->created = atoll(v);
		else if (!strcmp(line, "isolation")) COPY(isolation, v);
		else if (!strcmp(line, "cpus")) COPY(cpus, v);
		else if (!strcmp(line, "memory")) s->memory = atoll(v);
		else if (!strcmp(line, "pid")) s->pid = atoi(v);
		else if (!strcmp(line, "pid_start")) s->pid_start = strtoull(v, NULL, 10);
		else if (!strcmp(line, "vmm_pid")) s->vmm_pid = atoi(v);
		else if (!strcmp(line, "status")) COPY(status, v);
		else if (!strcmp(line, "exit_code")) s->exit_code = atoi(v);
		else if (!strcmp(line, "net")) s->net = atoi(v);
		else if (!strcmp(line, "tap")) COPY(tap, v);
		else if (!strcmp(line, "stop_signal")) COPY(stop_signal, v);
		else if (!strcmp(line, "rm")) s->rm = atoi(v);
		else if (!strcmp(line, "detached")) s->detached = atoi(v);
		else if (!strcmp(line, "vmm_start")) s->vmm_start = strtoull(v, NULL, 10);
	}
	fclose(f);
	if (strcmp(s->id, id))
		return err_set(e, "sandbox %s: damaged state file", id);
	return 0;
}

static bool valid_id(const char *n)
{
	if (strlen(n) != STATE_ID_LEN)
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

struct ent {
	char *id;
	long long created;
};

static int by_created(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	return x->created < y->created ? -1 : x->created > y->created ? 1 : strcmp(x->id, y->id);
}

char **state_list(size_t *n)
{
	struct err e;
	*n = 0;
	if (!state_root(&e))
		return NULL;
	DIR *d = opendir(root);
	if (!d)
		return NULL;
	struct ent *ents = NULL;
	size_t cap = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (!valid_id(de->d_name))
			continue;
		struct sandbox_state s;
		if (state_read(de->d_name, &s, &e))
			s.created = 0;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			struct ent *ne = realloc(ents, cap * sizeof(*ents));
			if (!ne)
				break;
			ents = ne;
		}
		ents[*n].id = strdup(de->d_name);
		ents[*n].created = s.created;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(ents, *n, sizeof(*ents), by_created);
	char **ids = calloc(*n + 1, sizeof(char *));
	for (size_t i = 0; ids && i < *n; i++)
		ids[i] = ents[i].id;
	free(ents);
	return ids;
}

void state_free_list(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

int state_find(const char *ref, struct sandbox_state *s, struct err *e)
{
	size_t n, hits = 0;
	char **ids = state_list(&n);
	char found[STATE_ID_LEN + 1] = "";
	for (size_t i = 0; i < n; i++) {
		struct sandbox_state t;
		struct err e2;
		if (state_read(ids[i], &t, &e2))
			continue;
		if (!strcmp(t.name, ref) || !strcmp(t.id, ref)) {
			snprintf(found, sizeof(found), "%s", t.id);
			hits = 1;
			break;
		}
		if (strlen(ref) >= 4 && !strncmp(t.id, ref, strlen(ref))) {
			snprintf(found, sizeof(found), "%s", t.id);
			hits++;
		}
	}
	state_free_list(ids, n);
	if (hits == 0)
		return err_set(e, "no such sandbox: %s", ref);
	if (hits > 1)
		return err_set(e, "'%s' matches several sandboxes: give more of the id", ref);
	return state_read(found, s, e);
}

unsigned long long state_proc_start(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');    /* the command name may hold spaces */
	if (!p)
		return 0;
	/* fields after ")": state(3) ... starttime(22) */
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
		if (++field == 22)
			return strtoull(tok, NULL, 10);
	return 0;
}

bool state_owner_alive(const struct sandbox_state *s)
{
	return s->pid > 0 && s->pid_start && state_proc_start(s->pid) == s->pid_start;
}

bool state_vmm_alive(const struct sandbox_state *s)
{
	if (s->vmm_pid <= 0)
		return false;
	unsigned long long t = state_proc_start(s->vmm_pid);
	if (!t)
		return false;
	if (s->vmm_start)
		return t == s->vmm_start;
	/* Written before vmm_start existed: at least younger than the owner. */
	return s->pid_start && t >= s->pid_start;
}

int state_remove(const char *id)
{
	char dir[600];
	if (!valid_id(id))
		return -1;
	state_path(dir, sizeof(dir), id, NULL);
	DIR *d = opendir(dir);
	if (d) {
		for (struct dirent *de; (de = readdir(d));) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (unlinkat(dirfd(d), de->d_name, 0) && (errno == EISDIR || errno == EPERM))
				unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		}
		closedir(d);
	}
	return rmdir(dir);
}

void state_new_id(char id[STATE_ID_LEN + 1])
{
	unsigned char b[STATE_ID_LEN / 2];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		unsigned long long x = (unsigned long long)getpid() * 2654435761u ^ (unsigned long long)time(NULL);
		memcpy(b, &x, sizeof(b) < sizeof(x) ? sizeof(b) : sizeof(x));
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
}
