/* The collected log's records (logs.h): encoding, strict decoding, times.
 * No system calls: unit-tested (tests/unit/test_logs.c) and fuzzed
 * (tests/fuzz/fuzz_log.c): `sandbox logs` and the API read what the
 * container printed, so a record is parsed as untrusted text. */
#include "logs.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

void log_time_text(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	if (frac < 0) {
		frac += 1000000000;
		s--;
	}
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void log_encode(FILE *f, const struct log_rec *r)
{
	char t[40];
	log_time_text(r->time_ns, t, sizeof(t));
	fprintf(f, "{\"time\":\"%s\",\"id\":", t);
	json_str(f, r->id);
	fputs(",\"name\":", f);
	json_str(f, r->name);
	fprintf(f, ",\"stream\":\"%s\",\"line\":", r->stream == LOG_STDERR ? "stderr" : "stdout");
	json_strn(f, r->data, r->len);
	fputs(r->partial ? ",\"partial\":true}\n" : "}\n", f);
}

/* ------------------------------------------------------------------ */
/* decoding */

struct cur {
	const char *p, *end;
};

static bool lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n))
		return false;
	c->p += n;
	return true;
}

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* A JSON string at C into OUT (OUTLEN bytes room, NUL added): its
 * length, or -1. */
static long str(struct cur *c, char *out, size_t outlen)
{
	if (!lit(c, "\""))
		return -1;
	size_t n = 0;
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = (unsigned char)*c->p++;
		char tmp[4];
		size_t k = 1;
		if (ch < 0x20)
			return -1;
		if (ch != '\\') {
			tmp[0] = (char)ch;
		} else {
			if (c->p >= c->end)
				return -1;
			char esc = *c->p++;
			switch (esc) {
			case '"': case '\\': case '/': tmp[0] = esc; break;
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u': {
				if (c->end - c->p < 4)
					return -1;
				unsigned v = 0;
				for (int i = 0; i < 4; i++) {
					int h = hexval(c->p[i]);
					if (h < 0)
						return -1;
					v = v * 16 + (unsigned)h;
				}
				c->p += 4;
				if (v >= 0xd800 && v < 0xe000)
					v = 0xfffd;     /* we never write surrogates */
				if (v < 0x80) {
					tmp[0] = (char)v;
				} else if (v < 0x800) {
					tmp[0] = (char)(0xc0 | (v >> 6));
					tmp[1] = (char)(0x80 | (v & 0x3f));
					k = 2;
				} else {
					tmp[0] = (char)(0xe0 | (v >> 12));
					tmp[1] = (char)(0x80 | ((v >> 6) & 0x3f));
					tmp[2] = (char)(0x80 | (v & 0x3f));
					k = 3;
				}
				break;
			}
			default: return -1;
			}
		}
		if (n + k >= outlen)
			return -1;
		memcpy(out + n, tmp, k);
		n += k;
	}
	if (!lit(c, "\""))
		return -1;
	out[n] = '\0';
	return (long)n;
}

static int days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* RFC 3339 at S (LEN bytes): unix ns; the bytes used, or -1. */
static long rfc3339(const char *s, size_t len, int64_t *out)
{
	int y, mo, d, h, mi, sec;
	if (len < 20)
		return -1;
	for (int i = 0; i < 19; i++) {
		char want = i == 4 || i == 7 ? '-' : i == 10 ? 'T' : i == 13 || i == 16 ? ':' : 0;
		if (want ? s[i] != want && !(i == 10 && s[i] == 't') : !isdigit((unsigned char)s[i]))
			return -1;
	}
	y = atoi(s);
	mo = (s[5] - '0') * 10 + s[6] - '0';
	d = (s[8] - '0') * 10 + s[9] - '0';
	h = (s[11] - '0') * 10 + s[12] - '0';
	mi = (s[14] - '0') * 10 + s[15] - '0';
	sec = (s[17] - '0') * 10 + s[18] - '0';
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	size_t i = 19;
	int64_t frac = 0;
	if (i < len && s[i] == '.') {
		int digits = 0;
		for (i++; i < len && isdigit((unsigned char)s[i]); i++, digits++)
			if (digits < 9)
				frac = frac * 10 + (s[i] - '0');
		if (!digits)
			return -1;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	int64_t off = 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && isdigit((unsigned char)s[i + 1]) &&
		   isdigit((unsigned char)s[i + 2]) && s[i + 3] == ':' && isdigit((unsigned char)s[i + 4]) &&
		   isdigit((unsigned char)s[i + 5])) {
		off = ((s[i + 1] - '0') * 10 + s[i + 2] - '0') * 3600 + ((s[i + 4] - '0') * 10 + s[i + 5] - '0') * 60;
		if (s[i] == '+')
			off = -off;
		i += 6;
	} else {
		return -1;
	}
	int64_t secs = (int64_t)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec + off;
	if (secs > 9200000000LL || secs < -9200000000LL)        /* int64 ns: 1678 to 2262 */
		return -1;
	*out = secs * 1000000000 + frac;
	return (long)i;
}

int log_decode(const char *line, size_t len, char *buf, size_t buflen, struct log_rec *r)
{
	struct cur c = { line, line + len };
	char tmp[48], stream[16], ignored[256];
	if (!lit(&c, "{\"time\":") || str(&c, tmp, sizeof(tmp)) < 0 || rfc3339(tmp, strlen(tmp), &r->time_ns) != (long)strlen(tmp))
		return -1;
	if (!lit(&c, ",\"id\":") || str(&c, ignored, sizeof(ignored)) < 0 || !lit(&c, ",\"name\":") ||
	    str(&c, ignored, sizeof(ignored)) < 0 || !lit(&c, ",\"stream\":") || str(&c, stream, sizeof(stream)) < 0)
		return -1;
	if (!strcmp(stream, "stdout"))
		r->stream = LOG_STDOUT;
	else if (!strcmp(stream, "stderr"))
		r->stream = LOG_STDERR;
	else
		return -1;
	long n;
	if (!lit(&c, ",\"line\":") || (n = str(&c, buf, buflen)) < 0)
		return -1;
	r->data = buf;
	r->len = (size_t)n;
	r->partial = lit(&c, ",\"partial\":true");
	r->id = r->name = NULL;
	return lit(&c, "}") && c.p == c.end ? 0 : -1;
}

int log_head_text(long seq, char *buf, size_t len)
{
	int n = snprintf(buf, len, "{\"file\":%ld}\n", seq);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

long log_head_parse(const char *line, size_t len)
{
	struct cur c = { line, line + len };
	long v = 0;
	if (!lit(&c, "{\"file\":") || c.p == c.end || !isdigit((unsigned char)*c.p))
		return -1;
	/* digits only, no leading zero but 0 itself, at most 18 of them */
	if (*c.p == '0' && c.p + 1 < c.end && isdigit((unsigned char)c.p[1]))
		return -1;
	for (int k = 0; c.p < c.end && isdigit((unsigned char)*c.p); k++, c.p++) {
		if (k == 18)
			return -1;
		v = v * 10 + (*c.p - '0');
	}
	return lit(&c, "}") && c.p == c.end ? v : -1;
}

int log_parse_time(const char *s, int64_t now_ns, int64_t *out)
{
	size_t len = strlen(s);
	if (!len || len > 64)
		return -1;
	if (len >= 20 && s[4] == '-')
		return rfc3339(s, len, out) == (long)len ? 0 : -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !(v >= 0) || v > 1e11 || !isdigit((unsigned char)s[0]))
		return -1;
	double mul;
	if (!*end) {            /* unix seconds (to 2262: int64 ns) */
		if (v > 9.2e9)
			return -1;
		*out = (int64_t)(v * 1e9);
		return 0;
	}
	if (end[1])
		return -1;
	switch (*end) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -1;
	}
	if (v * mul > 3.2e9)    /* a century: more would overflow */
		return -1;
	*out = now_ns - (int64_t)(v * mul * 1e9);
	return 0;
}
