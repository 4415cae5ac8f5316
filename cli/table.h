/* Text tables as `docker ps` and `docker stats` print them: a header row,
 * then one row per item, columns two spaces apart, each as wide as its
 * widest cell (at least its given width), the last column not padded.
 * Used by `sandbox ps` (lifecycle.c) and `sandbox stats` (stats_fmt.c).
 * Pure: unit-tested with a memory stream (tests/unit/test_stats.c). */
#ifndef SANDBOX_TABLE_H
#define SANDBOX_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct table_col {
	const char *head;
	int width;              /* at least this wide (0: as its cells) */
	bool right;             /* aligned right (numbers) */
};

/* The text of row ROW's column COL: written into BUF (LEN bytes, 256)
 * and returned, or a string of the caller's own. Asked for more than once
 * (widths first, then printing): the same answer each time. */
typedef const char *(*table_cell_fn)(const void *ctx, size_t row, int col, char *buf, size_t len);

/* The header and NROWS rows, their cells from CELL. */
void table_print(FILE *f, const struct table_col *cols, int ncols, size_t nrows, table_cell_fn cell, const void *ctx);

#endif
