/* Shared helpers for the cmocka unit tests: the cmocka includes in the
 * order it needs, temporary files for the fd-based loaders and guest
 * memory backed by a plain buffer. Header-only: every test binary is one
 * .c file linked against the VMM objects. */
#ifndef SANDBOX_TEST_UNIT_H
#define SANDBOX_TEST_UNIT_H

/* Include this first. Paths below are relative to this directory, and
 * _GNU_SOURCE is set here, so the tests build even when a command-line
 * CFLAGS (as in `make check-asan`) replaces the Makefile's -I/-D flags. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/memory.h"
#include "../../common/util.h"

/* An unlinked temporary file holding LEN bytes of DATA, rewound; the
 * caller closes it. DATA may be NULL for a sparse (all-zero) file. */
static inline int temp_file(const void *data, size_t len)
{
	char path[] = "/tmp/sandbox-unit-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	if (data) {
		const uint8_t *p = data;
		size_t left = len;
		while (left) {
			ssize_t n = write(fd, p, left);
			assert_true(n > 0);
			p += n;
			left -= (size_t)n;
		}
	} else {
		assert_int_equal(ftruncate(fd, (off_t)len), 0);
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Guest memory of SIZE bytes backed by malloc (so ASan sees overruns),
 * every byte set to FILL so tests can tell what the code wrote. */
static inline void test_gm_alloc(struct guest_mem *gm, uint64_t size, uint8_t fill)
{
	void *buf = malloc(size);
	assert_non_null(buf);
	memset(buf, fill, size);
	gm_wrap(gm, buf, size);
}

static inline void test_gm_release(struct guest_mem *gm)
{
	free(gm->host);
	memset(gm, 0, sizeof(*gm));
}

/* Does the error message contain NEEDLE? Prints the message if not. */
#define assert_err_contains(e, needle)                                            \
	do {                                                                      \
		if (!strstr((e)->msg, (needle)))                                  \
			fail_msg("error \"%s\" does not mention \"%s\"", (e)->msg, (needle)); \
	} while (0)

/* Is every byte of [P, P+LEN) equal to V? */
static inline int all_bytes(const void *p, size_t len, uint8_t v)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i] != v)
			return 0;
	return 1;
}

#endif
