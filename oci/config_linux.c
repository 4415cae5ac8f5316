/* sandbox-runtime's config.json parser (config_int.h): the linux object:
 * resources (memory, pids, cpu; also an update's --resources), namespaces
 * (the engine's network namespace, a pod's ipc, uts and pid), seccomp,
 * masked and read-only paths. */
#include <string.h>

#include "config_int.h"

/* linux.maskedPaths or readonlyPaths into OUT. */
static int parse_paths(json_object *v, const char *path, const char **out, unsigned *n, struct err *e)
{
	if (cfg_strs(v, path, out, n, CSPEC_MAX_PATHS, e))
		return -1;
	for (unsigned i = 0; i < *n; i++)
		if (out[i][0] != '/' || strstr(out[i], "/..") || strlen(out[i]) > CSPEC_MAX_PATH)
			return err_set(e, "config.json: %s: '%.80s': want an absolute path without '..'", path, out[i]);
	return 0;
}

int cfg_resources(struct oci_config *c, json_object *r, struct err *e)
{
	static const struct key keys[] = {
		{ "memory", HONOUR }, { "cpu", HONOUR }, { "pids", HONOUR }, { "devices", NOTE_IF_SET },
		{ "blockIO", NOTE_IF_SET }, { "hugepageLimits", NOTE_IF_SET }, { "network", NOTE_IF_SET },
		{ "rdma", NOTE_IF_SET }, { "unified", NOTE_IF_SET },
	};
	if (cfg_keys(c, r, "linux.resources", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *o, *v;
	if (json_object_object_get_ex(r, "memory", &o)) {
		static const struct key mk[] = {
			{ "limit", HONOUR }, { "reservation", NOTE_IF_SET }, { "swap", NOTE_IF_SET },
			{ "kernel", NOTE_IF_SET }, { "kernelTCP", NOTE_IF_SET }, { "swappiness", NOTE_IF_SET },
			{ "disableOOMKiller", NOTE_IF_SET }, { "useHierarchy", NOTE_IF_SET },
			{ "checkBeforeUpdate", NOTE_IF_SET },
		};
		if (cfg_keys(c, o, "linux.resources.memory", mk, sizeof(mk) / sizeof(mk[0]), e))
			return -1;
		if (json_object_object_get_ex(o, "limit", &v) &&
		    cfg_int(v, "linux.resources.memory.limit", -1, 1LL << 50, &c->memory, e))
			return -1;
		if (c->memory < 0)
			c->memory = 0;
		if (c->memory && c->memory < 4 << 20)
			return err_set(e, "config.json: linux.resources.memory.limit: at least 4 MiB");
	}
	if (json_object_object_get_ex(r, "pids", &o)) {
		static const struct key pk[] = { { "limit", HONOUR } };
		if (cfg_keys(c, o, "linux.resources.pids", pk, 1, e))
			return -1;
		if (json_object_object_get_ex(o, "limit", &v) &&
		    cfg_int(v, "linux.resources.pids.limit", -1, 4194304, &c->pids, e))
			return -1;
		if (c->pids < 0)
			c->pids = 0;
	}
	if (json_object_object_get_ex(r, "cpu", &o)) {
		static const struct key ck[] = {
			{ "quota", HONOUR }, { "period", HONOUR }, { "shares", NOTE_IF_SET }, { "realtimeRuntime", NOTE_IF_SET },
			{ "realtimePeriod", NOTE_IF_SET }, { "cpus", NOTE_IF_SET }, { "mems", NOTE_IF_SET },
			{ "idle", NOTE_IF_SET }, { "burst", NOTE_IF_SET },
		};
		if (cfg_keys(c, o, "linux.resources.cpu", ck, sizeof(ck) / sizeof(ck[0]), e))
			return -1;
		int64_t period = 100000;
		if (json_object_object_get_ex(o, "quota", &v) &&
		    cfg_int(v, "linux.resources.cpu.quota", -1, 1LL << 40, &c->cpu_quota, e))
			return -1;
		if (json_object_object_get_ex(o, "period", &v) &&
		    cfg_int(v, "linux.resources.cpu.period", 1000, 1000000, &period, e))
			return -1;
		if (c->cpu_quota < 0)
			c->cpu_quota = 0;
		c->cpu_period = (uint64_t)period;
	}
	return 0;
}

int cfg_linux(struct oci_config *c, json_object *l, struct err *e)
{
	static const struct key keys[] = {
		{ "namespaces", HONOUR }, { "resources", HONOUR }, { "cgroupsPath", NOTE_IF_SET },
		{ "seccomp", HONOUR }, { "maskedPaths", HONOUR }, { "readonlyPaths", HONOUR },
		{ "sysctl", NOTE_IF_SET }, { "devices", NOTE_IF_SET }, { "mountLabel", NOTE_IF_SET },
		{ "rootfsPropagation", NOTE_IF_SET }, { "uidMappings", REFUSE_IF_SET }, { "gidMappings", REFUSE_IF_SET },
		{ "intelRdt", REFUSE_IF_SET }, { "personality", REFUSE_IF_SET }, { "timeOffsets", REFUSE_IF_SET },
	};
	if (cfg_keys(c, l, "linux", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *v;
	if (json_object_object_get_ex(l, "resources", &v) && cfg_resources(c, v, e))
		return -1;
	if (json_object_object_get_ex(l, "seccomp", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_object))
			return err_set(e, "config.json: linux.seccomp must be an object");
		/* the guest's own profile (docs/seccomp.md), not the engine's rules */
		c->seccomp = true;
		cfg_note(c, "linux.seccomp (the guest's default profile applies, not the config's rules)");
	}
	if (json_object_object_get_ex(l, "maskedPaths", &v) &&
	    parse_paths(v, "linux.maskedPaths", c->masked, &c->nmasked, e))
		return -1;
	if (json_object_object_get_ex(l, "readonlyPaths", &v) &&
	    parse_paths(v, "linux.readonlyPaths", c->ro_paths, &c->nro_paths, e))
		return -1;
	if (json_object_object_get_ex(l, "namespaces", &v)) {
		if (!json_object_is_type(v, json_type_array))
			return err_set(e, "config.json: linux.namespaces must be an array");
		static const char *const types[] = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
		static const struct key nk[] = { { "type", HONOUR }, { "path", HONOUR } };
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *n = json_object_array_get_idx(v, i), *t, *p;
			const char *type, *path = "";
			if (cfg_keys(c, n, "linux.namespaces[]", nk, 2, e))
				return -1;
			if (!json_object_object_get_ex(n, "type", &t) || cfg_str(t, "linux.namespaces[].type", &type, e))
				return err_set(e, "config.json: linux.namespaces[%zu]: want a type", i);
			size_t k = 0;
			while (k < sizeof(types) / sizeof(types[0]) && strcmp(types[k], type))
				k++;
			if (k == sizeof(types) / sizeof(types[0]))
				return err_set(e, "config.json: linux.namespaces: unknown type '%.40s'", type);
			if (json_object_object_get_ex(n, "path", &p) && cfg_str(p, "linux.namespaces[].path", &path, e))
				return -1;
			if (*path && !strcmp(type, "network")) {
				/* the VM's NIC goes into it (cli/run_netns.c) */
				if (path[0] != '/' || strlen(path) >= 4096)
					return err_set(e, "config.json: linux.namespaces: network path '%.80s': want an absolute path", path);
				c->netns = path;
			} else if (*path && (!strcmp(type, "ipc") || !strcmp(type, "uts") || !strcmp(type, "pid"))) {
				/* a pod's: another container's (oci/pod.c) */
				if (path[0] != '/' || strlen(path) >= 4096)
					return err_set(e, "config.json: linux.namespaces: %s path '%.80s': want an absolute path", type, path);
				*(type[0] == 'i' ? &c->ns_ipc : type[0] == 'u' ? &c->ns_uts : &c->ns_pid) = path;
			} else if (*path) {
				return err_set(e, "config.json: linux.namespaces: joining the %s namespace %.80s is not supported yet (the container has the VM's own)",
					       type, path);
			}
			if (!strcmp(type, "user"))
				return err_set(e, "config.json: linux.namespaces: a user namespace is not supported yet");
		}
	}
	return 0;
}
