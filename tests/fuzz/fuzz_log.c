/* libFuzzer target: the collected log's record decoder (cli/log_fmt.c),
 * which `sandbox logs` and the API run on what a container printed (its
 * bytes reach the record escaped; a damaged or hand-made log.json is
 * read too), --since's time parser and a log file's {"file":N} line. The input is one line. Nothing
 * may read or write out of bounds; an accepted record encodes again to a
 * line that decodes to the same record. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/json.c"
#include "../../cli/log_fmt.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	static char buf[4096], buf2[4096 * 6];
	struct log_rec r;
	if (!log_decode(line, size, buf, sizeof(buf), &r)) {
		assert(r.len < sizeof(buf));
		r.id = "id";
		r.name = "name";
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);
		log_encode(f, &r);
		fclose(f);
		struct log_rec r2;
		assert(len > 0 && out[len - 1] == '\n');
		assert(!log_decode(out, len - 1, buf2, sizeof(buf2), &r2));
		assert(r2.stream == r.stream && r2.partial == r.partial);
		/* times before 1970 or past 2262 are not round-tripped exactly */
		if (r.time_ns > 0)
			assert(r2.time_ns == r.time_ns);
		free(out);
	}
	int64_t t;
	log_parse_time(line, 1796600000LL * 1000000000LL, &t);
	/* a log file's first line: what it accepts prints back the same */
	long seq = log_head_parse(line, size);
	if (seq >= 0) {
		char h[64];
		int n = log_head_text(seq, h, sizeof(h));
		assert(n > 0 && (size_t)n == size + 1 && !memcmp(h, line, size));
	}
	free(line);
	return 0;
}
