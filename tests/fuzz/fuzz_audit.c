/* sandbox audit's evidence is what a program inside the sandbox printed:
 * untrusted. Every verdict function and every report format over
 * arbitrary evidence (stdout and stderr from the input, both
 * kernels), with the cell's strings checked to stay terminated. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct audit_report r;
	static struct audit_cell cells[2][64];
	struct audit_evidence ev;
	memset(&ev, 0, sizeof(ev));
	size_t n = size < sizeof(ev.out) - 1 ? size : sizeof(ev.out) - 1;
	memcpy(ev.out, data, n);
	size_t m = size - n < sizeof(ev.err) - 1 ? size - n : sizeof(ev.err) - 1;
	memcpy(ev.err, data + n, m);
	ev.status = size ? data[0] : 0;
	if (audit_catalogue_len > 64)
		abort();
	struct audit_context c = { .iso = "vm", .host_inotify_instances = 128, .listener_up = true, .port = 1 };
	snprintf(c.host_version, sizeof(c.host_version), "Linux_version_x");
	snprintf(c.nbr_secret, sizeof(c.nbr_secret), "SBXNBR0");   /* short: a fuzzer finds it */
	c.nbr_up = true;
	for (int k = 0; k < 2; k++) {
		c.own_kernel = k;
		for (size_t i = 0; i < audit_catalogue_len; i++) {
			audit_judge(&audit_catalogue[i], &ev, &c, &cells[k][i]);
			if (strnlen(cells[k][i].why, sizeof(cells[k][i].why)) == sizeof(cells[k][i].why) ||
			    strnlen(cells[k][i].evidence, sizeof(cells[k][i].evidence)) == sizeof(cells[k][i].evidence) ||
			    cells[k][i].v > AUDIT_NOT_RUN)
				abort();
		}
	}
	memset(&r, 0, sizeof(r));
	r.ncol = 2;
	snprintf(r.col[0].name, sizeof(r.col[0].name), "vm");
	snprintf(r.col[1].name, sizeof(r.col[1].name), "runc");
	r.col[0].cells = cells[1];
	r.col[1].cells = cells[0];
	FILE *f = fopen("/dev/null", "w");
	struct err e;
	for (int fmt = AUDIT_TEXT; fmt <= AUDIT_MARKDOWN; fmt++)
		audit_write(f, &r, (enum audit_format)fmt, &e);
	fclose(f);
	return 0;
}
