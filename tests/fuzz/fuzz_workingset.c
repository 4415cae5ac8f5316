/* libFuzzer target: a snapshot's working set file (vmm/snapshot/
 * workingset.c), as a restore reads it: ws_parse over any bytes for a
 * guest of some size, then, for an input the parser takes (the checksum
 * made right here, or the fuzzer would never pass it), ws_prefault's
 * walk of its runs over the guest's regions (a guest above the 32-bit
 * gap has two), with no vCPU behind it (each call fails, the walk goes
 * on). Checked besides ASan/UBSan: the pages it counts are never more
 * than the bitmap's.
 *   make fuzz-smoke */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/snapshot/format.h"
#include "../../vmm/snapshot/workingset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* the guest: 2 MiB steps up to 8 GiB (two regions past 3 GiB) */
	uint64_t mem = ((uint64_t)(data[0] | data[1] << 8) % 4096 + 1) * (2ULL << 20);
	data += 2;
	size -= 2;
	struct ws w;
	struct err e;
	ws_parse(data, size, mem, &w, &e);
	if (size != ws_file_size(mem) || size < WS_HDR_SIZE)
		return 0;
	uint8_t *f = malloc(size);
	if (!f)
		return 0;
	memcpy(f, data, size);
	uint32_t crc = snap_crc32(f + WS_HDR_SIZE, size - WS_HDR_SIZE);
	memcpy(f + 20, &crc, 4);
	if (ws_parse(f, size, mem, &w, &e) == 0) {
		struct guest_mem gm;
		gm_wrap(&gm, NULL, mem);        /* its layout only: nothing is touched */
		long n = ws_prefault(&gm, -1, &w);
		if (n < 0 || (uint64_t)n > mem / WS_PAGE)
			abort();
		/* the written pages are among the touched ones */
		for (uint32_t i = 0; i < w.pages; i++)
			if ((w.written[i / 8] >> (i % 8) & 1) && !(w.bits[i / 8] >> (i % 8) & 1))
				abort();
	}
	free(f);
	return 0;
}
