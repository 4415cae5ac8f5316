/* sandbox-image: the command line (import, ls, inspect, runconf, rm,
 * prune) over the image cache (cache.c); import.c imports, builtin.c
 * brings in the built-in images, runconf.c answers sandbox run. */
#include "image.h"

#include <getopt.h>
#include <json-c/json.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: sandbox image COMMAND ...\n"
	"  import [--format FMT] SRC[:TAG] NAME   import an image into the cache as NAME\n"
	"        FMT: oci, oci-archive, docker-archive, rootfs-tar, rootfs-dir\n"
	"        (detected when not given; layers plain, gzip, zstd or xz)\n"
	"  ls                                     list names, digests and disk sizes\n"
	"  inspect NAME                           print the run defaults (JSON)\n"
	"  runconf NAME                           the run defaults as NUL-terminated key=value\n"
	"        records (for sandbox run); imports a built-in image on first use\n"
	"  rm NAME                                remove a name (and its disk if unused)\n"
	"  prune                                  remove unused disks and stale work dirs\n"
	"\n"
	"cache: $SANDBOX_IMAGE_DIR, else /var/lib/sandbox/images (root) or\n"
	"$XDG_DATA_HOME/sandbox/images. NAME: letters, digits and . _ - : @ (not\n"
	"starting with '.').\n"
	"exit status: 0 ok, 1 usage error, 125 failure (one line on stderr,\n"
	"\"sandbox-image: ...\"); the cache is never left half-written.\n";

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "sandbox-image: %s\n", msg);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int fail(struct err *e)
{
	fprintf(stderr, "sandbox-image: %s\n", e->msg);
	return EXIT_FAIL;
}

static int do_ls(struct cache *c, struct err *e)
{
	size_t n;
	char **v = cache_list_names(c, &n, e);
	if (!v)
		return -1;
	printf("%-30s %-19s %10s %s\n", "NAME", "DIGEST", "SIZE", "FS");
	for (size_t i = 0; i < n; i++) {
		char key[SHA256_HEX_LEN + 1], dname[128];
		struct err e;
		if (cache_name_key(c, v[i], key) == 0) {
			json_object *m = cache_load_meta(c, key, &e), *fs = NULL;
			const char *fst = m && json_object_object_get_ex(m, "FsType", &fs) ? json_object_get_string(fs) : "?";
			struct stat st;
			snprintf(dname, sizeof(dname), "%s.%s", key, fst);
			long long size = fstatat(c->vfd, dname, &st, 0) ? -1 : (long long)st.st_size;
			printf("%-30s sha256:%.12s %10lld %s\n", v[i], key, size, fst);
			json_object_put(m);
		}
		free(v[i]);
	}
	free(v);
	return 0;
}

static int do_inspect(struct cache *c, const char *name, struct err *e)
{
	char key[SHA256_HEX_LEN + 1];
	if (cache_name_key(c, name, key))
		return err_set(e, "no image named '%s'", name);
	json_object *m = cache_load_meta(c, key, e);
	if (!m)
		return -1;
	printf("%s\n", json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(m);
	return 0;
}

static int do_rm(struct cache *c, const char *name, struct err *e)
{
	char key[SHA256_HEX_LEN + 1];
	if (cache_lock(c, e))
		return -1;
	int rc = 0;
	if (cache_name_key(c, name, key))
		rc = err_set(e, "no image named '%s'", name);
	else if (unlinkat(c->namesfd, name, 0))
		rc = err_sys(e, "remove %s", name);
	else
		rc = cache_gc(c, false, e);
	cache_unlock(c);
	return rc;
}

int main(int argc, char **argv)
{
	umask(022);
	/* libarchive converts pax (UTF-8) names to the locale's charset. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	if (argc < 2)
		return usage(NULL);
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	enum src_format fmt = SRC_AUTO;
	char **args = argv + 2;
	int nargs = argc - 2;
	if (!strcmp(cmd, "import")) {
		static const struct option opts[] = {
			{ "format", required_argument, NULL, 'f' },
			{ "help", no_argument, NULL, 'h' },
			{ 0 },
		};
		int o;
		optind = 2;
		while ((o = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
			if (o == 'f') {
				if (src_format_parse(optarg, &fmt) || fmt == SRC_AUTO)
					return usage("unknown --format");
			} else if (o == 'h') {
				fputs(usage_text, stdout);
				return 0;
			} else {
				return usage(NULL);
			}
		}
		args = argv + optind;
		nargs = argc - optind;
		if (nargs != 2)
			return usage("import takes SRC[:TAG] NAME");
		if (!image_name_valid(args[1]))
			return usage("bad NAME");
	} else if (!strcmp(cmd, "inspect") || !strcmp(cmd, "rm") || !strcmp(cmd, "runconf")) {
		if (nargs != 1)
			return usage("expected one NAME");
		if (!image_name_valid(args[0]))
			return usage("bad NAME");
	} else if (!strcmp(cmd, "ls") || !strcmp(cmd, "prune")) {
		if (nargs != 0)
			return usage("no arguments expected");
	} else {
		return usage("unknown command");
	}

	struct cache c;
	struct err e = { 0 };
	if (cache_open(&c, &e))
		return fail(&e);
	int rc = 0;
	if (!strcmp(cmd, "import"))
		rc = image_import(&c, args[0], fmt, args[1], false, &e);
	else if (!strcmp(cmd, "ls"))
		rc = do_ls(&c, &e);
	else if (!strcmp(cmd, "inspect"))
		rc = do_inspect(&c, args[0], &e);
	else if (!strcmp(cmd, "runconf"))
		rc = runconf_print(&c, args[0], &e);
	else if (!strcmp(cmd, "rm"))
		rc = do_rm(&c, args[0], &e);
	else if (!strcmp(cmd, "prune")) {
		if (!(rc = cache_lock(&c, &e))) {
			rc = cache_gc(&c, true, &e);
			cache_unlock(&c);
		}
	}
	return rc ? fail(&e) : 0;
}
