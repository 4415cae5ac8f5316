/* libFuzzer target: the image tool's JSON parsers (rootfs/source.c's OCI
 * index / manifest / config walk and docker-archive manifest.json;
 * rootfs/config.c's run defaults) fed layouts built from the input. The
 * file is included (not linked) so the static open_oci() / open_docker()
 * can be driven on a directory directly, without the archive step.
 *
 * Input: [mode u8][part 0] \0 [part 1] \0 ... (at most 8 parts)
 *   mode % 3 == 0: config_defaults(part 0)
 *   mode % 3 == 1: an OCI layout: part 0 is index.json (+ oci-layout)
 *   mode % 3 == 2: a docker save: part 0 is manifest.json
 *   mode & 4: open with the tag "latest"; mode & 8: also src_verify_layers
 * Parts 1.. become blobs/sha256/<sha256 of the part>. So the fuzzer can
 * build valid digest chains, "@N" in a part is replaced by
 * "sha256:<hex of part N>", "%N" by "<hex of part N>" and "#N" by its
 * size, for N greater than the part's own number (parts are written from
 * the last to the first). Nothing may crash or leak, whatever the JSON. */
#include "../../rootfs/source.c"

#define MAXPARTS 8

static int base = -1;
static char basepath[64];

static void cleanup(void)
{
	rm_rf_at(AT_FDCWD, basepath);
}

static void init(void)
{
	snprintf(basepath, sizeof(basepath), "/tmp/sb-fuzz-manifest.%d", (int)getpid());
	if (mkdir(basepath, 0700) && errno != EEXIST)
		abort();
	base = open(basepath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		abort();
	atexit(cleanup);
}

static int write_file(int dirfd, const char *path, const char *buf, size_t len)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t w = len ? write(fd, buf, len) : 0;
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

/* Expand @N, %N, #N in IN (N in (self, nparts)) into a malloc'd string. */
static char *expand(const char *in, size_t len, unsigned self, unsigned nparts,
		    char hex[][SHA256_HEX_LEN + 1], const size_t *sizes, size_t *outlen)
{
	size_t cap = len * 4 + 128, n = 0;
	char *out = malloc(cap);
	if (!out)
		abort();
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		unsigned k = i + 1 < len ? (unsigned)(in[i + 1] - '0') : 99;
		if ((c == '@' || c == '%' || c == '#') && k < nparts && k > self) {
			char tmp[80];
			int m = c == '@' ? snprintf(tmp, sizeof(tmp), "sha256:%s", hex[k])
			      : c == '%' ? snprintf(tmp, sizeof(tmp), "%s", hex[k])
				     : snprintf(tmp, sizeof(tmp), "%zu", sizes[k]);
			if (n + (size_t)m + 1 > cap) {
				cap = (n + (size_t)m + 1) * 2;
				if (!(out = realloc(out, cap)))
					abort();
			}
			memcpy(out + n, tmp, (size_t)m);
			n += (size_t)m;
			i++;
			continue;
		}
		if (n + 2 > cap) {
			cap *= 2;
			if (!(out = realloc(out, cap)))
				abort();
		}
		out[n++] = c;
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (base < 0)
		init();
	if (size < 1 || size > (1u << 16))
		return 0;
	unsigned mode = data[0];
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	struct err e;

	if (mode % 3 == 0) {
		char *text = strndup(p, (size_t)(end - p));
		json_object *o = NULL;
		if (!text)
			abort();
		if (config_defaults(text, &o, &e) == 0) {
			if (!o)
				abort();
			json_object_to_json_string(o);
			json_object_put(o);
		}
		free(text);
		return 0;
	}

	/* Split into parts. */
	const char *part[MAXPARTS];
	size_t plen[MAXPARTS];
	unsigned np = 0;
	while (np < MAXPARTS) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		part[np] = p;
		plen[np] = z ? (size_t)(z - p) : (size_t)(end - p);
		np++;
		if (!z)
			break;
		p = z + 1;
	}

	rm_rf_at(base, "l");
	if (mkdirat(base, "l", 0700) || mkdirat(base, "l/blobs", 0700) || mkdirat(base, "l/blobs/sha256", 0700))
		abort();
	int dfd = openat(base, "l", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		abort();
	char hex[MAXPARTS][SHA256_HEX_LEN + 1];
	size_t sizes[MAXPARTS];
	for (unsigned i = np; i-- > 0;) {
		size_t n;
		char *t = expand(part[i], plen[i], i, np, hex, sizes, &n);
		if (i == 0) {
			const char *name = mode % 3 == 1 ? "index.json" : "manifest.json";
			if (write_file(dfd, name, t, n) ||
			    (mode % 3 == 1 && write_file(dfd, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30)))
				abort();
		} else {
			struct sha256 *h = sha256_new(NULL);
			if (!h)
				abort();
			sha256_update(h, t, n);
			sha256_final(h, hex[i]);
			sizes[i] = n;
			char path[128];
			snprintf(path, sizeof(path), "blobs/sha256/%s", hex[i]);
			if (write_file(dfd, path, t, n))
				abort();
		}
		free(t);
	}

	struct image_src s;
	memset(&s, 0, sizeof(s));
	s.dirfd = dfd;
	s.format = mode % 3 == 1 ? SRC_OCI : SRC_DOCKER_ARCHIVE;
	const char *tag = (mode & 4) ? "latest" : NULL;
	int r = mode % 3 == 1 ? open_oci(&s, tag, &e) : open_docker(&s, tag, &e);
	if (getenv("SB_FUZZ_DEBUG")) /* to check seeds: why an input was refused */
		fprintf(stderr, "open: %d %s (%zu layers)\n", r, r ? e.msg : "ok", s.nlayers);
	if (r == 0) {
		/* What a successful open promises: a config key, layers. */
		if (strlen(s.key) != SHA256_HEX_LEN)
			abort();
		for (size_t i = 0; i < s.nlayers; i++)
			if (!s.layers[i] || (s.layer_hex[i] && strlen(s.layer_hex[i]) != SHA256_HEX_LEN))
				abort();
		json_object *o = NULL;
		if (s.config_json && config_defaults(s.config_json, &o, &e) == 0)
			json_object_put(o);
		if (mode & 8)
			src_verify_layers(&s, &e);
	}
	src_close(&s);
	return 0;
}
