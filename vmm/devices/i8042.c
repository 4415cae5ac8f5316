#include "i8042.h"

#include <string.h>

void i8042_init(struct i8042 *k, void (*reset)(void *), void *ctx)
{
	k->reset = reset;
	k->ctx = ctx;
}

void i8042_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct i8042 *k = dev;
	if (!is_write) {
		/* Status: output buffer empty, input buffer empty; data: 0. */
		memset(data, 0, len);
		return;
	}
	if (offset == 4 && len == 1 && data[0] == I8042_CMD_RESET && k->reset)
		k->reset(k->ctx);
}

void reset_cf9_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct i8042 *k = dev;
	(void)offset;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	/* Bit 2 starts the reset (bit 1 selects hard reset). */
	if (len == 1 && (data[0] & 0x04) && k->reset)
		k->reset(k->ctx);
}
