/* memory.events (memevents.h): a strict reader of "key value" lines. */
#include "memevents.h"

#include <string.h>

int memevents_oom_kill(const char *buf, size_t len, uint32_t *out)
{
	const char *p = buf, *end = buf + len;
	int found = -1;
	while (p < end) {
		const char *key = p;
		while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '_'))
			p++;
		size_t klen = (size_t)(p - key);
		if (!klen || p == end || *p != ' ')
			return -1;
		p++;
		uint64_t v = 0;
		const char *digits = p;
		while (p < end && *p >= '0' && *p <= '9') {
			if (v > UINT64_MAX / 10 - 1)
				return -1;
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		if (p == digits || p - digits > 20 || p == end || *p != '\n')
			return -1;
		p++;
		if (klen == 8 && !memcmp(key, "oom_kill", 8)) {
			if (v > UINT32_MAX || found == 0)
				return -1;
			*out = (uint32_t)v;
			found = 0;
		}
	}
	return found;
}
