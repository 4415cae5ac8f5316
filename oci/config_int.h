/* Private to sandbox-runtime's config.json parser, split by job:
 *   config.c          the walk: text to JSON, the top-level object, the
 *                     entry points of oci.h (config, --process, --resources)
 *   config_keys.c     each object's table of keys (honoured, noted,
 *                     refused) and the typed getters every section uses
 *   config_process.c  process: args, env, cwd, user, rlimits, capabilities
 *   config_mounts.c   the container's file systems: root and mounts
 *   config_linux.c    linux: resources, namespaces, seccomp, masked and
 *                     read-only paths
 * A section's parser fills struct oci_config and returns 0, or -1 with E
 * filled naming the field ("config.json: process.cwd ..."). */
#ifndef SANDBOX_OCI_CONFIG_INT_H
#define SANDBOX_OCI_CONFIG_INT_H

#include <json-c/json.h>

#include "oci.h"

enum what { HONOUR, NOTE, NOTE_IF_SET, REFUSE_IF_SET };

struct key {
	const char *name;
	enum what what;
};

/* Note PATH (once) as taken but not honoured: C's notes, for the log. 0. */
int cfg_note(struct oci_config *c, const char *path);
/* Check OBJ's keys against KEYS (PATH names OBJ in errors): an unknown
 * key or a REFUSE_IF_SET one set is an error, a NOTE one is noted. */
int cfg_keys(struct oci_config *c, json_object *obj, const char *path, const struct key *keys, size_t n,
	     struct err *e);
/* V as a string without a NUL in it (it points into the tree). */
int cfg_str(json_object *v, const char *path, const char **out, struct err *e);
/* V as an integer in MIN..MAX. */
int cfg_int(json_object *v, const char *path, int64_t min, int64_t max, int64_t *out, struct err *e);
int cfg_bool(json_object *v, const char *path, bool *out, struct err *e);
/* An array of strings into OUT (at most MAX), *N of them. */
int cfg_strs(json_object *v, const char *path, const char **out, unsigned *n, unsigned max, struct err *e);

/* The sections: process (P, also an exec's --process), root.path
 * (relative to BUNDLE), mounts (the array M), linux (L) and
 * linux.resources (R, also an update's --resources). */
int cfg_process(struct oci_config *c, json_object *p, struct err *e);
int cfg_root(struct oci_config *c, json_object *r, const char *bundle, struct err *e);
int cfg_mounts(struct oci_config *c, json_object *m, struct err *e);
int cfg_linux(struct oci_config *c, json_object *l, struct err *e);
int cfg_resources(struct oci_config *c, json_object *r, struct err *e);

#endif
