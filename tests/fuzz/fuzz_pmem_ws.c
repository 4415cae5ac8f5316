/* libFuzzer target: the pmem window's working set record
 * (vmm/devices/pmem_ws.c), which any VMM that ran a guest may have
 * written. Checked against a fixed image identity, for windows of a few
 * sizes taken from the input's first byte; a record it accepts yields
 * only runs inside the window, covering exactly its set bits.
 *   make fuzz-smoke */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/devices/pmem_ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* windows of 1 to 256 pages, not all multiples of 8 */
	uint64_t pages = (uint64_t)data[0] + 1, window = pages * PMEM_WS_PAGE;
	const struct pmem_ws_id id = { .file_size = 1, .dev = 2, .ino = 3, .mtime_ns = 4 };
	data++;
	size--;
	/* half the inputs get a valid header, so the bitmap is reached */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size >= PMEM_WS_HDR && (pages & 1))
		pmem_ws_header(buf, &id, window);
	const uint8_t *bits;
	struct err e;
	if (pmem_ws_parse(buf, size, &id, window, &bits, &e) == 0) {
		if (size != pmem_ws_size(window) || bits != buf + PMEM_WS_HDR)
			abort();
		uint64_t pos = 0, start, n, covered = 0, set = 0, last_end = 0;
		while (pmem_ws_next_run(bits, pages, &pos, &start, &n)) {
			if (!n || start < last_end || start + n > pages)
				abort();
			last_end = start + n;
			covered += n;
		}
		for (uint64_t i = 0; i < pages; i++)
			set += bits[i / 8] >> (i % 8) & 1;
		if (covered != set)
			abort();
	}
	free(buf);
	return 0;
}
