#include "bus.h"

#include <string.h>

int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_io_fn fn, void *dev,
		 const char *name, struct err *e)
{
	if (!len || base + len < base)
		return err_set(e, "%s: bad range 0x%llx+%llu", name, (unsigned long long)base,
			       (unsigned long long)len);
	if (b->n >= BUS_MAX_RANGES)
		return err_set(e, "%s: too many devices", name);
	for (unsigned i = 0; i < b->n; i++) {
		const struct bus_range *r = &b->r[i];
		if (base < r->base + r->len && r->base < base + len)
			return err_set(e, "%s overlaps %s at 0x%llx", name, r->name,
				       (unsigned long long)r->base);
	}
	b->r[b->n++] = (struct bus_range){ base, len, fn, dev, name };
	return 0;
}

bool bus_dispatch(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct bus_range *r = &b->r[i];
		if (addr >= r->base && addr - r->base < r->len) {
			/* An access that runs past the range is clipped to it. */
			uint64_t off = addr - r->base;
			uint32_t n = len;
			if (n > r->len - off) {
				n = (uint32_t)(r->len - off);
				if (!is_write)
					memset(data + n, 0xff, len - n);
			}
			r->fn(r->dev, off, data, n, is_write);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
