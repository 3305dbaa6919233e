/*
 * buf.h — memory wrappers and a growable byte buffer with a cap.
 *
 * Out of memory is not an error barge can recover from in a useful way, so the barge_x*
 * wrappers abort with a message instead of returning NULL.  Buffers carry a cap so that a huge
 * row or hostile input fails cleanly with BARGE_ETOOBIG instead of exhausting memory.
 *
 * The quoting helpers are the only way SQL text is built from names and values: every
 * identifier goes through barge_buf_append_ident, every string literal through
 * barge_buf_append_literal (or barge_buf_append_hex for bytes).
 */
#ifndef BARGE_ENGINE_BUF_H
#define BARGE_ENGINE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *barge_xmalloc(size_t n);
void *barge_xcalloc(size_t count, size_t size);
void *barge_xrealloc(void *p, size_t n);
char *barge_xstrdup(const char *s);
char *barge_xstrndup(const char *s, size_t n);
/* printf into a fresh heap string the caller frees. */
char *barge_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overwrite n bytes with zeros in a way the compiler does not remove (for secrets). */
void barge_wipe(void *p, size_t n);
/* Wipe then free a NUL-terminated secret; accepts NULL. */
void barge_free_secret(char *s);

#define BARGE_BUF_NOCAP SIZE_MAX

struct barge_buf {
	char *data; /* NUL-terminated after every append; NULL until the first append */
	size_t len;
	size_t cap; /* allocated bytes */
	size_t max; /* the most len may reach; BARGE_BUF_NOCAP for none */
};

/* Initialise an empty buffer that may hold at most max bytes. */
void barge_buf_init(struct barge_buf *b, size_t max);
/* Free the storage; the buffer may be initialised again. */
void barge_buf_dispose(struct barge_buf *b);
/* Empty the buffer and keep its storage. */
void barge_buf_reset(struct barge_buf *b);
/* Take the storage (NUL-terminated, never NULL); the buffer is left empty.  Caller frees. */
char *barge_buf_detach(struct barge_buf *b);
/* The contents as a C string; "" when empty. */
const char *barge_buf_cstr(const struct barge_buf *b);

/* Make room for n more bytes.  0, or BARGE_ETOOBIG when that would pass the cap. */
int barge_buf_reserve(struct barge_buf *b, size_t n);
int barge_buf_append(struct barge_buf *b, const void *data, size_t n);
int barge_buf_puts(struct barge_buf *b, const char *s);
int barge_buf_putc(struct barge_buf *b, char c);
int barge_buf_appendf(struct barge_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int barge_buf_appendv(struct barge_buf *b, const char *fmt, va_list ap);
/* Decimal digits of an integer (faster than appendf for the hot paths). */
int barge_buf_append_u64(struct barge_buf *b, uint64_t v);
int barge_buf_append_i64(struct barge_buf *b, int64_t v);
/* Drop bytes from the end so that len becomes n (n <= len). */
void barge_buf_truncate(struct barge_buf *b, size_t n);

/* `name` with backticks doubled: safe for any identifier, including unicode and reserved words. */
int barge_buf_append_ident(struct barge_buf *b, const char *name);
/* `schema`.`table` */
int barge_buf_append_qname(struct barge_buf *b, const char *schema, const char *table);
/*
 * A single-quoted string literal of n bytes, escaping NUL, quote, backslash, newline, CR and
 * ^Z.  Correct whether or not the session has NO_BACKSLASH_ESCAPES only if the session does
 * not; barge's own sessions never set it.
 */
int barge_buf_append_literal(struct barge_buf *b, const void *data, size_t n);
/* X'...' hex literal of n bytes (exact for any bytes, in any sql_mode); '' when n is 0. */
int barge_buf_append_hex(struct barge_buf *b, const void *data, size_t n);

#endif
