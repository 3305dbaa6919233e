/*
 * buf.c — memory wrappers, growable capped buffers and SQL quoting (see buf.h).
 */
#include "engine/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

static void oom(size_t n)
{
	fprintf(stderr, "barge: out of memory allocating %zu bytes\n", n);
	abort();
}

void *barge_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *barge_xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		oom(count * size);
	return p;
}

void *barge_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *barge_xstrdup(const char *s)
{
	return barge_xstrndup(s, strlen(s));
}

char *barge_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = barge_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *barge_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return s;
}

void barge_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

void barge_free_secret(char *s)
{
	if (!s)
		return;
	barge_wipe(s, strlen(s));
	free(s);
}

void barge_buf_init(struct barge_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void barge_buf_dispose(struct barge_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void barge_buf_reset(struct barge_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *barge_buf_detach(struct barge_buf *b)
{
	char *p = b->data;

	if (!p)
		p = barge_xstrdup("");
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

const char *barge_buf_cstr(const struct barge_buf *b)
{
	return b->data ? b->data : "";
}

int barge_buf_reserve(struct barge_buf *b, size_t n)
{
	size_t need, cap;

	if (n > b->max || b->len > b->max - n)
		return BARGE_ETOOBIG;
	need = b->len + n + 1; /* room for the terminating NUL */
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = barge_xrealloc(b->data, cap);
	b->cap = cap;
	return 0;
}

int barge_buf_append(struct barge_buf *b, const void *data, size_t n)
{
	int rc = barge_buf_reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int barge_buf_puts(struct barge_buf *b, const char *s)
{
	return barge_buf_append(b, s, strlen(s));
}

int barge_buf_putc(struct barge_buf *b, char c)
{
	if (b->len + 2 <= b->cap && b->len < b->max) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return barge_buf_append(b, &c, 1);
}

int barge_buf_appendv(struct barge_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n, rc;

	/* one pass when it fits in the room there is; a second after growing when not */
	va_copy(ap2, ap);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return BARGE_EINVAL;
	if ((size_t)n < room) {
		if ((size_t)n > b->max - b->len) {
			b->data[b->len] = '\0';
			return BARGE_ETOOBIG;
		}
		b->len += (size_t)n;
		return 0;
	}
	rc = barge_buf_reserve(b, (size_t)n);
	if (rc) {
		if (b->data)
			b->data[b->len] = '\0';
		return rc;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int barge_buf_append_u64(struct barge_buf *b, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
				    "31323334353637383940414243444546474849505152535455565758596061"
				    "62636465666768697071727374757677787980818283848586878889909192"
				    "939495969798990";
	char tmp[24];
	size_t o = sizeof tmp;

	/* two digits at a time */
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		tmp[--o] = pairs[2 * r + 1];
		tmp[--o] = pairs[2 * r];
	}
	if (v >= 10) {
		tmp[--o] = pairs[2 * v + 1];
		tmp[--o] = pairs[2 * v];
	} else {
		tmp[--o] = (char)('0' + v);
	}
	return barge_buf_append(b, tmp + o, sizeof tmp - o);
}

int barge_buf_append_i64(struct barge_buf *b, int64_t v)
{
	if (v < 0) {
		int rc = barge_buf_putc(b, '-');

		return rc ? rc : barge_buf_append_u64(b, (uint64_t)0 - (uint64_t)v);
	}
	return barge_buf_append_u64(b, (uint64_t)v);
}

int barge_buf_appendf(struct barge_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = barge_buf_appendv(b, fmt, ap);
	va_end(ap);
	return rc;
}

void barge_buf_truncate(struct barge_buf *b, size_t n)
{
	if (n < b->len) {
		b->len = n;
		b->data[n] = '\0';
	}
}

int barge_buf_append_ident(struct barge_buf *b, const char *name)
{
	size_t start = b->len;
	int rc = barge_buf_putc(b, '`');

	for (const char *p = name; rc == 0 && *p; p++) {
		if (*p == '`')
			rc = barge_buf_putc(b, '`');
		if (rc == 0)
			rc = barge_buf_putc(b, *p);
	}
	if (rc == 0)
		rc = barge_buf_putc(b, '`');
	if (rc)
		barge_buf_truncate(b, start);
	return rc;
}

int barge_buf_append_qname(struct barge_buf *b, const char *schema, const char *table)
{
	size_t start = b->len;
	int rc = barge_buf_append_ident(b, schema);

	if (rc == 0)
		rc = barge_buf_putc(b, '.');
	if (rc == 0)
		rc = barge_buf_append_ident(b, table);
	if (rc)
		barge_buf_truncate(b, start);
	return rc;
}

int barge_buf_append_literal(struct barge_buf *b, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t start = b->len;
	int rc = barge_buf_reserve(b, n + 2);

	if (rc == 0)
		rc = barge_buf_putc(b, '\'');
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *esc = NULL;

		switch (p[i]) {
		case '\0': esc = "\\0"; break;
		case '\'': esc = "\\'"; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case 0x1a: esc = "\\Z"; break;
		default: break;
		}
		rc = esc ? barge_buf_append(b, esc, 2) : barge_buf_putc(b, (char)p[i]);
	}
	if (rc == 0)
		rc = barge_buf_putc(b, '\'');
	if (rc)
		barge_buf_truncate(b, start);
	return rc;
}

int barge_buf_append_hex(struct barge_buf *b, const void *data, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	const unsigned char *p = data;
	int rc;

	if (n == 0)
		return barge_buf_puts(b, "''");
	if (n > (SIZE_MAX - 3) / 2)
		return BARGE_ETOOBIG;
	rc = barge_buf_reserve(b, 2 * n + 3);
	if (rc)
		return rc;
	b->data[b->len++] = 'X';
	b->data[b->len++] = '\'';
	for (size_t i = 0; i < n; i++) {
		b->data[b->len++] = digits[p[i] >> 4];
		b->data[b->len++] = digits[p[i] & 15];
	}
	b->data[b->len++] = '\'';
	b->data[b->len] = '\0';
	return 0;
}
