/* Just enough of the PC keyboard controller for a guest to reset itself
 * (`reboot=k`: command 0xfe on port 0x64), plus the port 0xcf9 reset
 * register. A reset ends the VM. */
#ifndef SANDBOX_I8042_H
#define SANDBOX_I8042_H

#include <stdbool.h>
#include <stdint.h>

struct i8042 {
	void (*reset)(void *ctx); /* called on a guest reset request */
	void *ctx;
};

void i8042_init(struct i8042 *k, void (*reset)(void *), void *ctx);
/* Handlers for ports 0x60 (offset 0) and 0x64 (offset 4), and 0xcf9. */
void i8042_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);
void reset_cf9_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

#define I8042_CMD_RESET 0xfe

#endif
