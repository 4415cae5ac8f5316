/* Writing JSON: a string with its escapes, as every command that prints
 * JSON needs it (ps, inspect, stats, logs, events). */
#ifndef SANDBOX_JSON_H
#define SANDBOX_JSON_H

#include <stdio.h>

/* S as a JSON string: quotes and backslashes escaped, control characters
 * as \u00XX, valid UTF-8 passed through, any other byte as U+FFFD. */
void json_str(FILE *f, const char *s);
/* The same for N bytes that may hold NUL (a log line). */
void json_strn(FILE *f, const char *s, size_t n);

#endif
