/* table.h: columns as wide as their widest cell, two spaces apart. */
#include "table.h"

#include <string.h>

#define TABLE_MAX_COLS 16

static void cell_out(FILE *f, const struct table_col *c, int w, const char *s, bool last)
{
	if (last && !c->right)
		fprintf(f, "%s\n", s);
	else
		fprintf(f, c->right ? "%*s%s" : "%-*s%s", w, s, last ? "\n" : "  ");
}

void table_print(FILE *f, const struct table_col *cols, int ncols, size_t nrows, table_cell_fn cell, const void *ctx)
{
	int w[TABLE_MAX_COLS];
	char buf[256];
	if (ncols > TABLE_MAX_COLS)
		ncols = TABLE_MAX_COLS;
	for (int k = 0; k < ncols; k++) {
		w[k] = cols[k].width;
		if ((int)strlen(cols[k].head) > w[k])
			w[k] = (int)strlen(cols[k].head);
		for (size_t i = 0; i < nrows; i++) {
			int len = (int)strlen(cell(ctx, i, k, buf, sizeof(buf)));
			if (len > w[k])
				w[k] = len;
		}
	}
	for (int k = 0; k < ncols; k++)
		cell_out(f, &cols[k], w[k], cols[k].head, k == ncols - 1);
	for (size_t i = 0; i < nrows; i++)
		for (int k = 0; k < ncols; k++)
			cell_out(f, &cols[k], w[k], cell(ctx, i, k, buf, sizeof(buf)), k == ncols - 1);
}
