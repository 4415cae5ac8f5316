/* sandbox-runtime: config.json into struct oci_config (oci.h), checked
 * once. This file walks it: the text into a JSON tree, the top-level
 * object's keys (ociVersion, hostname, annotations here; each section in a
 * file of its own, config_int.h), and the entry points: a bundle's config,
 * an exec's --process, an update's --resources. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"

static int parse_annotations(struct oci_config *c, json_object *a, struct err *e)
{
	if (!json_object_is_type(a, json_type_object))
		return err_set(e, "config.json: annotations must be an object");
	json_object_object_foreach(a, k, v) {
		if (c->nannot == OCI_MAX_ANNOTATIONS)
			return err_set(e, "config.json: annotations: more than %d", OCI_MAX_ANNOTATIONS);
		if (cfg_str(v, "annotations.*", &c->annot_val[c->nannot], e))
			return -1;
		c->annot_key[c->nannot++] = k;
	}
	return 0;
}

/* An error quotes names and values from the file: keep it one line of
 * printable text (control characters become '?'). -1. */
static int one_line(struct err *e)
{
	for (char *p = e->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

/* TEXT (LEN bytes) as one JSON value: *OUT, or -1 with E filled. */
static int parse_json(const char *text, size_t len, json_object **out, struct err *e)
{
	*out = NULL;
	if (len > OCI_CONFIG_MAX)
		return err_set(e, "config.json: larger than %d bytes", OCI_CONFIG_MAX);
	if (len > INT_MAX || memchr(text, '\0', len))
		return err_set(e, "config.json: not JSON (a NUL byte)");
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return err_oom(e, "config.json");
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || je != json_tokener_success) {
		json_object_put(root);
		return err_set(e, "config.json: not valid JSON (%s)",
			       je == json_tokener_continue || je == json_tokener_success ? "unexpected end"
											: json_tokener_error_desc(je));
	}
	while (used < len && strchr(" \t\r\n", text[used]))
		used++;
	if (used != len) {
		json_object_put(root);
		return err_set(e, "config.json: not valid JSON (text after the object)");
	}
	*out = root;
	return 0;
}

int oci_config_parse(const char *text, size_t len, const char *bundle, struct oci_config *c, struct err *e)
{
	memset(c, 0, sizeof(*c));
	json_object *root;
	if (parse_json(text, len, &root, e))
		return -1;
	c->json = root;
	static const struct key keys[] = {
		{ "ociVersion", HONOUR }, { "process", HONOUR }, { "root", HONOUR }, { "hostname", HONOUR },
		{ "mounts", HONOUR }, { "linux", HONOUR }, { "annotations", HONOUR },
		{ "domainname", NOTE_IF_SET }, { "hooks", REFUSE_IF_SET },
	};
	if (cfg_keys(c, root, "config", keys, sizeof(keys) / sizeof(keys[0]), e))
		goto fail;
	json_object *v;
	if (!json_object_object_get_ex(root, "ociVersion", &v) || cfg_str(v, "ociVersion", &c->version, e) ||
	    strncmp(c->version, "1.", 2)) {
		err_set(e, "config.json: ociVersion: want 1.x");
		goto fail;
	}
	if (!json_object_object_get_ex(root, "process", &v)) {
		err_set(e, "config.json: process is missing (sandbox-runtime runs a process)");
		goto fail;
	}
	if (cfg_process(c, v, e))
		goto fail;
	if (!json_object_object_get_ex(root, "root", &v)) {
		err_set(e, "config.json: root is missing");
		goto fail;
	}
	if (cfg_root(c, v, bundle, e))
		goto fail;
	if (json_object_object_get_ex(root, "hostname", &v)) {
		if (cfg_str(v, "hostname", &c->hostname, e))
			goto fail;
		if (strlen(c->hostname) > 63) {
			err_set(e, "config.json: hostname: at most 63 bytes");
			goto fail;
		}
		if (!*c->hostname)
			c->hostname = NULL;
	}
	if (json_object_object_get_ex(root, "mounts", &v) && cfg_mounts(c, v, e))
		goto fail;
	if (json_object_object_get_ex(root, "linux", &v) && cfg_linux(c, v, e))
		goto fail;
	if (json_object_object_get_ex(root, "annotations", &v) && parse_annotations(c, v, e))
		goto fail;
	return 0;
fail:
	oci_config_free(c);
	return one_line(e);
}

/* PATH's bytes, NUL-terminated, in *BUF (free it): its length, or -1. */
static long read_file(const char *path, char **buf, struct err *e)
{
	*buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > OCI_CONFIG_MAX) {
		close(fd);
		return err_set(e, "%s: not a regular file of at most %d bytes", path, OCI_CONFIG_MAX);
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return err_oom(e, path);
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	(*buf)[got] = '\0';
	return (long)got;
}

int oci_config_load(const char *bundle, struct oci_config *c, struct err *e)
{
	char path[PATH_MAX], *buf;
	memset(c, 0, sizeof(*c));
	if ((size_t)snprintf(path, sizeof(path), "%s/config.json", bundle) >= sizeof(path))
		return err_set(e, "bundle %s: path too long", bundle);
	long n = read_file(path, &buf, e);
	if (n < 0)
		return -1;
	int r = oci_config_parse(buf, (size_t)n, bundle, c, e);
	free(buf);
	return r;
}

int oci_process_parse(const char *text, size_t len, struct oci_config *c, struct err *e)
{
	memset(c, 0, sizeof(*c));
	json_object *root;
	if (parse_json(text, len, &root, e))
		return -1;
	c->json = root;
	if (cfg_process(c, root, e)) {
		oci_config_free(c);
		err_wrap(e, "--process");
		return one_line(e);
	}
	return 0;
}

int oci_process_load(const char *path, struct oci_config *c, struct err *e)
{
	char *buf;
	memset(c, 0, sizeof(*c));
	long n = read_file(path, &buf, e);
	if (n < 0)
		return -1;
	int r = oci_process_parse(buf, (size_t)n, c, e);
	free(buf);
	return r;
}

int oci_resources_parse(const char *text, size_t len, struct oci_config *c, struct err *e)
{
	memset(c, 0, sizeof(*c));
	json_object *root;
	if (parse_json(text, len, &root, e))
		return err_wrap(e, "--resources");
	c->json = root;
	if (cfg_resources(c, root, e)) {
		oci_config_free(c);
		err_wrap(e, "--resources");
		return one_line(e);
	}
	return 0;
}

void oci_config_free(struct oci_config *c)
{
	if (c->json)
		json_object_put(c->json);
	c->json = NULL;
}

bool oci_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (!n || n > OCI_ID_MAX || id[0] == '.')
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_+.-", *p)))
			return false;
	return true;
}
