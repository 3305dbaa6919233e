/*
 * dialect.c — definitions for the target (see dialect.h and docs/dialect.md).
 *
 * With `dialect: mysql` a definition only gets its routed name and IF NOT EXISTS.  With
 * `dialect: tidb` it is rewritten as text, never by patterns over the raw bytes: a tokenizer
 * splits it into words, `quoted names`, 'strings', numbers, punctuation, white space and
 * comments, so that nothing inside a name, a string or a comment is ever taken for a keyword.
 * Executable comments (slash-star-bang with a version) are opened up, because TiDB runs their
 * content whatever the version says.  The rules then walk the statement's structure — column
 * and index definitions, table options, the partition clause — and mark tokens to drop, to
 * replace, or to follow with new text; the statement is written back from the tokens, with the
 * white space around what was dropped tidied up.
 */
#include "engine/dialect.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void barge_dialect_warnings_dispose(struct barge_dialect_warnings *w)
{
	for (size_t i = 0; i < w->count; i++)
		free(w->items[i]);
	free(w->items);
	w->items = NULL;
	w->count = 0;
}

/* Skip a backtick-quoted identifier at p; returns the byte after it, or NULL. */
static const char *skip_quoted(const char *p)
{
	if (*p != '`')
		return NULL;
	for (p++; *p; p++) {
		if (*p == '`') {
			if (p[1] != '`')
				return p + 1;
			p++;
		}
	}
	return NULL;
}

/*
 * Write "PREFIX IF NOT EXISTS `schema`[.`table`]" for the "PREFIX `name`" that opens sql, and
 * set *rest to what follows the name.
 */
static int write_head(const char *sql, const char *prefix, const char *to_schema,
		      const char *to_table, struct barge_buf *out, const char **rest,
		      struct barge_err *err)
{
	size_t plen = strlen(prefix);
	int rc;

	if (strncmp(sql, prefix, plen) != 0 || !(*rest = skip_quoted(sql + plen)))
		return barge_err_set(err, BARGE_EDDL, "cannot read the definition \"%.80s\"", sql);
	rc = barge_buf_puts(out, prefix);
	if (rc == 0)
		rc = barge_buf_puts(out, "IF NOT EXISTS ");
	if (rc == 0)
		rc = to_table ? barge_buf_append_qname(out, to_schema, to_table)
			      : barge_buf_append_ident(out, to_schema);
	return rc;
}

/* ---- tokens ---- */

#define NONE SIZE_MAX

enum tok_kind {
	TK_SPACE,    /* a run of white space */
	TK_COMMENT,  /* a plain comment, written back as it is */
	TK_LCOMMENT, /* a # or -- comment, left out (it would swallow what follows on its line) */
	TK_VOPEN,    /* the opening of an executable comment, with its version */
	TK_VCLOSE,   /* the star-slash that closes it */
	TK_WORD,
	TK_QUOTED, /* `identifier`, backticks included */
	TK_STRING, /* '...' or "...", quotes included */
	TK_NUMBER,
	TK_PUNCT, /* one byte */
};

struct tok {
	enum tok_kind kind;
	size_t start, end; /* bytes in the text */
	bool drop;
	char *repl;  /* written instead of the token (heap) */
	char *after; /* written right after it (heap) */
};

/*
 * A statement as tokens.  sig lists the tokens that carry meaning (no space, no comment, no
 * comment markers): the rules walk sig indexes, the writer walks every token.
 */
struct sql {
	const char *s;
	size_t len;
	struct tok *t;
	size_t n, cap;
	size_t *sig;
	size_t nsig;
};

static void sql_dispose(struct sql *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->t[i].repl);
		free(q->t[i].after);
	}
	free(q->t);
	free(q->sig);
}

static void push_tok(struct sql *q, enum tok_kind kind, size_t start, size_t end)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 64;
		q->t = barge_xrealloc(q->t, q->cap * sizeof *q->t);
	}
	q->t[q->n++] = (struct tok){kind, start, end, false, NULL, NULL};
}

static bool word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* End of the quoted token that opens at i, or 0 when it is not closed. */
static size_t quote_end(const char *s, size_t len, size_t i)
{
	char q = s[i];

	for (size_t p = i + 1; p < len; p++) {
		if (s[p] == '\\' && q != '`') {
			p++; /* an escaped byte, whatever it is */
			continue;
		}
		if (s[p] == q) {
			if (p + 1 < len && s[p + 1] == q) {
				p++; /* doubled: a literal quote */
				continue;
			}
			return p + 1;
		}
	}
	return 0;
}

/* End of the slash-star comment that opens at i, or 0 when it is not closed. */
static size_t comment_end(const char *s, size_t len, size_t i)
{
	for (size_t p = i + 2; p + 1 < len; p++)
		if (s[p] == '*' && s[p + 1] == '/')
			return p + 2;
	return 0;
}

/*
 * Length of the executable-comment opening at i (slash-star-bang or MariaDB's
 * slash-star-M-bang, then the version digits), or 0 when the comment at i is a plain one.
 */
static size_t exec_open_len(const char *s, size_t len, size_t i)
{
	size_t p = i + 2;

	if (p + 1 < len && s[p] == 'M' && s[p + 1] == '!')
		p++;
	if (p >= len || s[p] != '!')
		return 0;
	for (p++; p < len && isdigit((unsigned char)s[p]); p++)
		;
	return p - i;
}

static bool line_comment_at(const char *s, size_t len, size_t i)
{
	return s[i] == '#' || (s[i] == '-' && i + 1 < len && s[i + 1] == '-' &&
			       (i + 2 == len || isspace((unsigned char)s[i + 2])));
}

/* End of the token that opens at i, and its kind; 0 when it is not closed. */
static size_t scan_tok(const char *s, size_t len, size_t i, bool in_exec, enum tok_kind *kind)
{
	unsigned char c = (unsigned char)s[i];
	size_t j = i + 1;

	if (isspace(c)) {
		while (j < len && isspace((unsigned char)s[j]))
			j++;
		*kind = TK_SPACE;
	} else if (c == '/' && j < len && s[j] == '*') {
		size_t open = exec_open_len(s, len, i);

		*kind = open ? TK_VOPEN : TK_COMMENT;
		j = open ? i + open : comment_end(s, len, i);
	} else if (c == '*' && in_exec && j < len && s[j] == '/') {
		*kind = TK_VCLOSE;
		j++;
	} else if (line_comment_at(s, len, i)) {
		while (j < len && s[j] != '\n')
			j++;
		*kind = TK_LCOMMENT;
	} else if (c == '`' || c == '\'' || c == '"') {
		*kind = c == '`' ? TK_QUOTED : TK_STRING;
		j = quote_end(s, len, i);
	} else if (isdigit(c)) {
		while (j < len && (word_byte((unsigned char)s[j]) || s[j] == '.'))
			j++;
		*kind = TK_NUMBER;
	} else if (word_byte(c)) {
		while (j < len && word_byte((unsigned char)s[j]))
			j++;
		*kind = TK_WORD;
	} else {
		*kind = TK_PUNCT;
	}
	return j;
}

/* Split q->s into tokens.  0, or BARGE_EDDL for an unclosed quote or comment. */
static int tokenize(struct sql *q, const char *what, struct barge_err *err)
{
	bool in_exec = false;

	for (size_t i = 0; i < q->len;) {
		enum tok_kind kind;
		size_t end = scan_tok(q->s, q->len, i, in_exec, &kind);

		if (end == 0 || (kind == TK_VOPEN && in_exec))
			return barge_err_set(err, BARGE_EDDL,
					     "%s: cannot read the definition: unclosed quote or "
					     "comment at \"%.40s\"",
					     what, q->s + i);
		if (kind == TK_VOPEN || kind == TK_VCLOSE)
			in_exec = kind == TK_VOPEN;
		push_tok(q, kind, i, end);
		i = end;
	}
	if (in_exec)
		return barge_err_set(err, BARGE_EDDL,
				     "%s: cannot read the definition: unclosed executable comment",
				     what);
	q->sig = barge_xcalloc(q->n ? q->n : 1, sizeof *q->sig);
	for (size_t i = 0; i < q->n; i++)
		if (q->t[i].kind >= TK_WORD)
			q->sig[q->nsig++] = i;
	return 0;
}

/* ---- writing the tokens back ---- */

static bool wordish(char c)
{
	return word_byte((unsigned char)c) || c == '`' || c == '\'' || c == '"';
}

/* White space just inside an executable comment's markers: it goes with the markers. */
static bool marker_padding(const struct sql *q, size_t i)
{
	return (i > 0 && q->t[i - 1].kind == TK_VOPEN) ||
	       (i + 1 < q->n && q->t[i + 1].kind == TK_VCLOSE);
}

/*
 * Write white space t.  Right after something left out, blanks before a line break go: they
 * ended the line of what was dropped (MySQL writes a blank after some comments).
 */
static int write_space(const struct sql *q, const struct tok *t, bool gap, struct barge_buf *out)
{
	const char *s = q->s + t->start;
	size_t n = t->end - t->start;
	const char *nl = gap ? memchr(s, '\n', n) : NULL;

	if (nl) {
		n -= (size_t)(nl - s);
		s = nl;
	}
	return barge_buf_append(out, s, n);
}

/*
 * Write the kept tokens.  White space before a dropped token goes with it, so that "a B c"
 * without B reads "a c" and "x,\n  B\n)" without ",\n  B" reads "x\n)"; white space at the
 * very end is left out; two words that dropping brought together get one space between them.
 */
static int write_sql(const struct sql *q, struct barge_buf *out)
{
	const struct tok *pending = NULL; /* white space not written yet */
	bool gap = false;                 /* something left out since the last byte written */
	int rc = 0;

	for (size_t i = 0; i < q->n && rc == 0; i++) {
		const struct tok *t = &q->t[i];
		const char *text = t->repl ? t->repl : q->s + t->start;
		size_t len = t->repl ? strlen(t->repl) : t->end - t->start;

		if (t->kind == TK_VOPEN || t->kind == TK_VCLOSE || t->kind == TK_LCOMMENT ||
		    (t->kind == TK_SPACE && (t->drop || marker_padding(q, i)))) {
			gap = true;
			continue;
		}
		if (t->kind == TK_SPACE) {
			if (!pending)
				pending = t;
			continue;
		}
		if (t->drop) {
			pending = NULL;
			gap = true;
			continue;
		}
		if (pending)
			rc = write_space(q, pending, gap, out);
		else if (gap && len && out->len && wordish(out->data[out->len - 1]) &&
			 wordish(text[0]))
			rc = barge_buf_putc(out, ' ');
		if (rc == 0)
			rc = barge_buf_append(out, text, len);
		if (rc == 0 && t->after)
			rc = barge_buf_puts(out, t->after);
		pending = NULL;
		gap = false;
	}
	return rc;
}

/* ---- the rewriter ---- */

struct release {
	int major, minor;
};

/* What a column is, as far as the rules care. */
enum col_class {
	CC_OTHER,   /* fixed size: bytes gives its key length */
	CC_CHARS,   /* CHAR, VARCHAR: length in characters */
	CC_BYTES,   /* BINARY, VARBINARY */
	CC_TEXT,    /* TINYTEXT..LONGTEXT */
	CC_BLOB,    /* TINYBLOB..LONGBLOB */
	CC_JSON,
	CC_DECIMAL,
	CC_BIT,
	CC_SPATIAL, /* TiDB has no spatial types */
	CC_NOTYPE,  /* a MariaDB type TiDB lacks (UUID, INET4, INET6) */
};

struct column {
	size_t name_si;
	const char *name; /* unquoted */
	enum col_class cls;
	int bytes;      /* key bytes of a fixed-size type */
	long len;       /* the (n) of the type, -1 without */
	const char *cs; /* its character set (canonical), NULL for the table's */
	bool auto_inc;
	bool ai_keyed; /* first column of an index that is kept */
};

/* An element of the table body: a column, an index or a constraint. */
enum elem_kind {
	EK_COLUMN,
	EK_PRIMARY,
	EK_UNIQUE,
	EK_KEY,
	EK_FULLTEXT,
	EK_SPATIAL,
	EK_FOREIGN,
	EK_CHECK,
	EK_PERIOD,
	EK_OTHER,
};

struct elem {
	size_t a, b; /* first and last sig index */
	enum elem_kind kind;
	size_t body;  /* sig index just after the kind keywords */
	size_t cname; /* sig index of the CONSTRAINT name, NONE without */
	bool drop;
};

/* A table or database option: [DEFAULT] NAME [=] VALUE. */
struct option {
	size_t a, b;  /* first and last sig index */
	size_t name;  /* sig index of the (first) name word */
	size_t value; /* sig index of the value, NONE without */
	char key[64]; /* the name, upper case, words joined by one space */
};

struct rw {
	struct sql q;
	struct release tidb; /* the target's release */
	bool src_mysql8;     /* bare utf8mb4 means utf8mb4_0900_ai_ci on the source */
	const char *what;    /* "table `db`.`t`" or "database `db`" */
	struct barge_dialect_warnings *w;
	struct barge_err *err;
	int rc;
	char **scratch; /* strings made for messages, freed at the end */
	size_t nscratch;
	/* the table being read */
	struct column *cols;
	size_t ncols;
	const char *table_cs; /* its default character set (canonical), NULL if unknown */
	bool has_fk;
};

static const char *keep(struct rw *r, char *s)
{
	r->scratch = barge_xrealloc(r->scratch, (r->nscratch + 1) * sizeof *r->scratch);
	r->scratch[r->nscratch++] = s;
	return s;
}

static void warnf(struct rw *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct rw *r, const char *fmt, ...)
{
	struct barge_buf b;
	va_list ap;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_appendf(&b, "%s: ", r->what);
	va_start(ap, fmt);
	barge_buf_appendv(&b, fmt, ap);
	va_end(ap);
	r->w->items = barge_xrealloc(r->w->items, (r->w->count + 1) * sizeof *r->w->items);
	r->w->items[r->w->count++] = barge_buf_detach(&b);
}

/* Fail with BARGE_EDDL naming the object; only the first failure is kept. */
static void failf(struct rw *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(struct rw *r, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (r->rc)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->rc = barge_err_set(r->err, BARGE_EDDL, "%s: %s", r->what, msg);
}

static bool below(const struct rw *r, int major, int minor)
{
	return r->tidb.major < major || (r->tidb.major == major && r->tidb.minor < minor);
}

static const struct tok *sig_tok(const struct rw *r, size_t si)
{
	return &r->q.t[r->q.sig[si]];
}

static size_t tok_len(const struct tok *t)
{
	return t->end - t->start;
}

static const char *tok_text(const struct rw *r, const struct tok *t)
{
	return r->q.s + t->start;
}

static bool is_word(const struct rw *r, size_t si, const char *w)
{
	const struct tok *t;

	if (si >= r->q.nsig)
		return false;
	t = sig_tok(r, si);
	return t->kind == TK_WORD && tok_len(t) == strlen(w) &&
	       strncasecmp(tok_text(r, t), w, tok_len(t)) == 0;
}

static bool is_punct(const struct rw *r, size_t si, char c)
{
	const struct tok *t;

	if (si >= r->q.nsig)
		return false;
	t = sig_tok(r, si);
	return t->kind == TK_PUNCT && r->q.s[t->start] == c;
}

static bool is_kind(const struct rw *r, size_t si, enum tok_kind kind)
{
	return si < r->q.nsig && sig_tok(r, si)->kind == kind;
}

/* The sig index of the ")" that closes the "(" at si, or NONE. */
static size_t close_paren(const struct rw *r, size_t si)
{
	int depth = 0;

	for (size_t i = si; i < r->q.nsig; i++) {
		if (is_punct(r, i, '('))
			depth++;
		else if (is_punct(r, i, ')') && --depth == 0)
			return i;
	}
	return NONE;
}

/*
 * Past the parenthesised group at si; si itself when there is none, the end of the statement
 * when it is not closed (so that every loop over groups moves on).
 */
static size_t skip_group(const struct rw *r, size_t si)
{
	size_t c;

	if (!is_punct(r, si, '('))
		return si;
	c = close_paren(r, si);
	return c == NONE ? r->q.nsig : c + 1;
}

/* The token's text as a heap string: identifiers unquoted, words lower-cased. */
static char *tok_value(const struct rw *r, size_t si)
{
	const struct tok *t = sig_tok(r, si);
	const char *s = tok_text(r, t);
	size_t n = tok_len(t);
	char *v, *o;

	if (t->kind == TK_QUOTED || t->kind == TK_STRING) {
		v = o = barge_xmalloc(n);
		for (size_t i = 1; i + 1 < n; i++) {
			if (s[i] == s[0] && s[i + 1] == s[0])
				i++;
			*o++ = s[i];
		}
		*o = '\0';
		return v;
	}
	v = barge_xstrndup(s, n);
	for (o = v; *o; o++)
		*o = (char)tolower((unsigned char)*o);
	return v;
}

/* "`name`" for messages: a quoted identifier as written, anything else quoted. */
static const char *qname(struct rw *r, size_t si)
{
	const struct tok *t = sig_tok(r, si);

	if (t->kind == TK_QUOTED)
		return keep(r, barge_xstrndup(tok_text(r, t), tok_len(t)));
	return keep(r, barge_xasprintf("`%.*s`", (int)tok_len(t), tok_text(r, t)));
}

/* The source text from sig index a to b, shortened for a message. */
static const char *excerpt(struct rw *r, size_t a, size_t b)
{
	const struct tok *ta = sig_tok(r, a), *tb = sig_tok(r, b);
	size_t n = tb->end - ta->start;

	return keep(r, barge_xasprintf("%.*s%s", n > 60 ? 60 : (int)n, tok_text(r, ta),
				       n > 60 ? "..." : ""));
}

/* Leave sig tokens a..b out, with every token between them. */
static void drop_sigs(struct rw *r, size_t a, size_t b)
{
	for (size_t i = r->q.sig[a]; i <= r->q.sig[b]; i++)
		r->q.t[i].drop = true;
}

static void replace(struct rw *r, size_t si, const char *text)
{
	struct tok *t = &r->q.t[r->q.sig[si]];

	free(t->repl);
	t->repl = barge_xstrdup(text);
}

static void append_after(struct rw *r, size_t si, const char *text)
{
	struct tok *t = &r->q.t[r->q.sig[si]];
	char *joined = barge_xasprintf("%s%s", t->after ? t->after : "", text);

	free(t->after);
	t->after = joined;
}

/* ---- versions ---- */

/* The release in "8.0.11-TiDB-v7.5.1" (7.5); false when v names no TiDB release. */
static bool tidb_release(const char *v, struct release *out)
{
	const char *p = v ? strstr(v, "-TiDB-") : NULL;
	char *end;

	if (!p)
		return false;
	p += 6;
	if (*p == 'v' || *p == 'V')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	out->major = (int)strtol(p, &end, 10);
	out->minor = *end == '.' ? (int)strtol(end + 1, NULL, 10) : 0;
	return true;
}

/* Whether v is a MySQL 8.0 or later server (not MariaDB, whose 10.x and 11.x also pass 8). */
static bool mysql8_or_later(const char *v)
{
	return v && !strstr(v, "MariaDB") && !strstr(v, "TiDB") && atoi(v) >= 8;
}

/* ---- character sets and collations ---- */

/* The character sets TiDB has (v6.5 to v8.5), with the source's default collation of each. */
static const struct charset {
	const char *name;
	int maxlen; /* bytes per character */
	const char *def;
} charsets[] = {
	{"ascii", 1, "ascii_general_ci"}, {"binary", 1, "binary"},
	{"gbk", 2, "gbk_chinese_ci"},     {"latin1", 1, "latin1_swedish_ci"},
	{"utf8", 3, "utf8_general_ci"},   {"utf8mb4", 4, "utf8mb4_general_ci"},
};

/* The charset called name (any case; utf8mb3 is utf8), or NULL when TiDB has none by that name. */
static const struct charset *find_charset(const char *name, size_t n)
{
	if (n == 7 && strncasecmp(name, "utf8mb3", 7) == 0)
		name = "utf8", n = 4;
	for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++)
		if (strlen(charsets[i].name) == n && strncasecmp(charsets[i].name, name, n) == 0)
			return &charsets[i];
	return NULL;
}

/* The charset a collation belongs to: its name up to the first '_' ("binary" is its own). */
static const struct charset *collation_charset(const char *coll)
{
	const char *us = strchr(coll, '_');

	return find_charset(coll, us ? (size_t)(us - coll) : strlen(coll));
}

static bool collation_supported(const struct rw *r, const char *coll)
{
	static const char *const all[] = {
		"ascii_bin",       "binary",          "gbk_bin",           "gbk_chinese_ci",
		"latin1_bin",      "utf8_bin",        "utf8_general_ci",   "utf8_unicode_ci",
		"utf8mb4_bin",     "utf8mb4_general_ci", "utf8mb4_unicode_ci",
	};

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (strcmp(coll, all[i]) == 0)
			return true;
	/* the UCA 9.0 collations came with v7.4 */
	return !below(r, 7, 4) &&
	       (strcmp(coll, "utf8mb4_0900_ai_ci") == 0 || strcmp(coll, "utf8mb4_0900_bin") == 0);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

/*
 * The TiDB collation for coll (lower case): NULL when TiDB has coll itself, else the
 * replacement (static or in scratch) with *why saying what changes.  Sets *cs to coll's
 * charset; NULL there means TiDB has not even the charset.
 */
static const char *map_collation(struct rw *r, const char *coll, const struct charset **cs,
				 const char **why)
{
	const char *name = coll;

	*why = NULL;
	if (strncmp(coll, "utf8mb3_", 8) == 0) {
		name = keep(r, barge_xasprintf("utf8_%s", coll + 8));
		*why = "utf8mb3 is spelled utf8 on TiDB";
	}
	*cs = collation_charset(name);
	if (!*cs || collation_supported(r, name))
		return name == coll ? NULL : name;
	if (strcmp(name, "utf8mb4_0900_ai_ci") == 0) {
		*why = "TiDB before v7.4 lacks it: trailing spaces become insignificant (values "
		       "differing only by them collide in unique keys) and 'ß' no longer equals 'ss'";
		return "utf8mb4_general_ci";
	}
	if (strcmp(name, "utf8mb4_0900_bin") == 0) {
		*why = "TiDB before v7.4 lacks it: trailing spaces become insignificant";
		return "utf8mb4_bin";
	}
	if (strcmp(name, "utf8mb4_uca1400_ai_ci") == 0 && !below(r, 7, 4)) {
		*why = "TiDB has no UCA 14.0 collations; the UCA 9.0 one sorts a few characters "
		       "differently";
		return "utf8mb4_0900_ai_ci";
	}
	if (ends_with(name, "_ci")) {
		*why = "TiDB lacks it; comparisons and sorting change";
		if (strcmp((*cs)->name, "utf8") == 0 || strcmp((*cs)->name, "utf8mb4") == 0)
			return strcmp((*cs)->name, "utf8") == 0 ? "utf8_general_ci"
								: "utf8mb4_general_ci";
		if (strcmp((*cs)->name, "gbk") == 0)
			return "gbk_chinese_ci";
		*why = "TiDB lacks it: comparisons become case- and accent-sensitive";
	} else {
		*why = "TiDB lacks it; comparisons and sorting change";
	}
	return keep(r, barge_xasprintf("%s_bin", (*cs)->name));
}

/* The collation a bare CHARSET=cs meant on the source. */
static const char *source_default_collation(const struct rw *r, const struct charset *cs)
{
	if (strcmp(cs->name, "utf8mb4") == 0 && r->src_mysql8)
		return "utf8mb4_0900_ai_ci";
	return cs->def;
}

/*
 * The character set named at cs_si and the collation at co_si (either may be NONE), for
 * `where` (a column, the table, the database): spell both as TiDB knows them and, when there
 * is no collation, add the source's default after the charset, introduced by collate_kw.
 * Returns the charset, or NULL (after failing) when TiDB has none such.
 */
static const struct charset *fix_charset(struct rw *r, size_t cs_si, size_t co_si,
					 const char *collate_kw, const char *where)
{
	const struct charset *cs = NULL, *co_cs = NULL;
	const char *to, *why;

	if (cs_si != NONE) {
		char *name = tok_value(r, cs_si);

		keep(r, name);
		cs = find_charset(name, strlen(name));
		if (!cs) {
			failf(r, "%s: character set %s is not supported by TiDB (it has ascii, "
				 "binary, gbk, latin1, utf8, utf8mb4)", where, name);
			return NULL;
		}
		if (strcmp(name, "utf8mb3") == 0) {
			replace(r, cs_si, "utf8");
			warnf(r, "%s: character set utf8mb3 written as utf8, the same 3-byte UTF-8 "
				 "(older TiDB rejects the name utf8mb3)", where);
		}
	}
	if (co_si != NONE) {
		char *name = tok_value(r, co_si);

		keep(r, name);
		to = map_collation(r, name, &co_cs, &why);
		if (!co_cs) {
			failf(r, "%s: collation %s is of a character set TiDB does not support",
			      where, name);
			return NULL;
		}
		if (to) {
			replace(r, co_si, to);
			warnf(r, "%s: collation %s written as %s (%s)", where, name, to, why);
		}
		return cs ? cs : co_cs;
	}
	if (cs && strcmp(cs->name, "binary") != 0) {
		const char *def = source_default_collation(r, cs);

		to = map_collation(r, def, &co_cs, &why);
		append_after(r, cs_si, keep(r, barge_xasprintf("%s%s", collate_kw, to ? to : def)));
		if (to)
			warnf(r, "%s: collation made explicit as %s for %s, whose default on the "
				 "source, %s, TiDB lacks (%s)",
			      where, to, cs->name, def, why);
		else
			warnf(r, "%s: collation made explicit as %s, the source's default for %s "
				 "(TiDB's own default may differ)",
			      where, def, cs->name);
	}
	return cs;
}

/* ---- options: [DEFAULT] NAME [=] VALUE, for tables and databases ---- */

/* Read the option at si (whose last token may be at most last) into *o; false if none. */
static bool read_option(const struct rw *r, size_t si, size_t last, struct option *o)
{
	size_t i = si;
	size_t klen = 0;

	memset(o, 0, sizeof *o);
	o->a = si;
	o->value = NONE;
	if (is_word(r, i, "DEFAULT") && i < last)
		i++;
	o->name = i;
	if (!is_kind(r, i, TK_WORD) && !is_kind(r, i, TK_QUOTED))
		return false;
	/* two-word names */
	for (;;) {
		const struct tok *t = sig_tok(r, i);
		size_t n = tok_len(t);

		if (klen + n + 2 > sizeof o->key)
			return false;
		if (klen)
			o->key[klen++] = ' ';
		for (size_t k = 0; k < n; k++)
			o->key[klen++] = (char)toupper((unsigned char)tok_text(r, t)[k]);
		o->key[klen] = '\0';
		if (i < last && ((is_word(r, i, "CHARACTER") && is_word(r, i + 1, "SET")) ||
				 ((is_word(r, i, "DATA") || is_word(r, i, "INDEX")) &&
				  is_word(r, i + 1, "DIRECTORY")) ||
				 (is_word(r, i, "WITH") && is_word(r, i + 1, "SYSTEM")) ||
				 (is_word(r, i, "SYSTEM") && is_word(r, i + 1, "VERSIONING")))) {
			i++;
			continue;
		}
		break;
	}
	o->b = i;
	if (strcmp(o->key, "WITH SYSTEM VERSIONING") == 0)
		return true;
	if (i < last && is_punct(r, i + 1, '='))
		i++;
	if (i >= last)
		return true; /* a name without a value */
	o->value = ++i;
	o->b = i;
	if (is_punct(r, i, '(')) {
		size_t c = close_paren(r, i);

		o->b = c == NONE || c > last ? last : c;
	}
	/* TABLESPACE ts STORAGE DISK */
	if (strcmp(o->key, "TABLESPACE") == 0 && o->b + 2 <= last && is_word(r, o->b + 1, "STORAGE"))
		o->b += 2;
	return true;
}

static bool is_charset_option(const struct option *o)
{
	return strcmp(o->key, "CHARSET") == 0 || strcmp(o->key, "CHARACTER SET") == 0;
}

/* "ENGINE=InnoDB" for a word or number value, the bare name for anything else (secrets). */
static const char *option_label(struct rw *r, const struct option *o)
{
	const struct tok *v = o->value != NONE ? sig_tok(r, o->value) : NULL;

	if (v && (v->kind == TK_WORD || v->kind == TK_NUMBER))
		return keep(r, barge_xasprintf("%s=%.*s", o->key, (int)tok_len(v), tok_text(r, v)));
	return o->key;
}

/* Leave option o out, with the comma that separates it from the next one if there is one. */
static void drop_option(struct rw *r, const struct option *o, size_t last)
{
	size_t b = o->b;

	if (b < last && is_punct(r, b + 1, ','))
		b++;
	drop_sigs(r, o->a, b);
}

/* ---- columns ---- */

static const struct coltype {
	const char *name;
	enum col_class cls;
	int bytes;
} coltypes[] = {
	{"tinyint", CC_OTHER, 1},  {"bool", CC_OTHER, 1},        {"boolean", CC_OTHER, 1},
	{"smallint", CC_OTHER, 2}, {"mediumint", CC_OTHER, 3},   {"int", CC_OTHER, 4},
	{"integer", CC_OTHER, 4},  {"bigint", CC_OTHER, 8},      {"float", CC_OTHER, 4},
	{"double", CC_OTHER, 8},   {"real", CC_OTHER, 8},        {"decimal", CC_DECIMAL, 0},
	{"numeric", CC_DECIMAL, 0}, {"date", CC_OTHER, 3},       {"time", CC_OTHER, 3},
	{"datetime", CC_OTHER, 8}, {"timestamp", CC_OTHER, 4},   {"year", CC_OTHER, 1},
	{"bit", CC_BIT, 0},        {"enum", CC_OTHER, 2},        {"set", CC_OTHER, 8},
	{"char", CC_CHARS, 0},     {"varchar", CC_CHARS, 0},     {"binary", CC_BYTES, 0},
	{"varbinary", CC_BYTES, 0}, {"tinytext", CC_TEXT, 0},    {"text", CC_TEXT, 0},
	{"mediumtext", CC_TEXT, 0}, {"longtext", CC_TEXT, 0},    {"tinyblob", CC_BLOB, 0},
	{"blob", CC_BLOB, 0},      {"mediumblob", CC_BLOB, 0},   {"longblob", CC_BLOB, 0},
	{"json", CC_JSON, 0},      {"geometry", CC_SPATIAL, 0},  {"point", CC_SPATIAL, 0},
	{"linestring", CC_SPATIAL, 0}, {"polygon", CC_SPATIAL, 0},
	{"multipoint", CC_SPATIAL, 0}, {"multilinestring", CC_SPATIAL, 0},
	{"multipolygon", CC_SPATIAL, 0}, {"geometrycollection", CC_SPATIAL, 0},
	{"geomcollection", CC_SPATIAL, 0}, {"uuid", CC_NOTYPE, 0}, {"inet4", CC_NOTYPE, 0},
	{"inet6", CC_NOTYPE, 0},
};

static const struct coltype *find_type(const struct rw *r, size_t si)
{
	for (size_t i = 0; i < sizeof coltypes / sizeof coltypes[0]; i++)
		if (is_word(r, si, coltypes[i].name))
			return &coltypes[i];
	return NULL;
}

static bool is_lob(const struct column *c)
{
	return c->cls == CC_TEXT || c->cls == CC_BLOB || c->cls == CC_JSON;
}

/*
 * The expression defaults TiDB v8.0+ takes (data-type-default-values.md), written as MySQL 8
 * prints them once spaces and charset introducers are taken out and words lower-cased.
 */
static bool default_expr_allowed(const char *e)
{
	static const char *const exact[] = {
		"rand()", "uuid()", "uuid_to_bin(uuid())", "current_timestamp()",
		"current_date()", "json_object()", "json_array()",
		"upper(substring_index(user(),'@',1))", "replace(upper(uuid()),'-','')",
		"date_format(now(),'%Y-%m')", "date_format(now(),'%Y-%m-%d')",
		"date_format(now(),'%Y-%m-%d %H.%i.%s')", "date_format(now(),'%Y-%m-%d %H:%i:%s')",
	};
	static const char *const shaped[][2] = {
		{"str_to_date('", "','%Y-%m-%d')"},
		{"json_quote('", "')"},
		{"vec_from_text('", "')"},
	};

	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (strcmp(e, exact[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof shaped / sizeof shaped[0]; i++) {
		size_t a = strlen(shaped[i][0]), b = strlen(shaped[i][1]), n = strlen(e);

		if (n > a + b && strncmp(e, shaped[i][0], a) == 0 && ends_with(e, shaped[i][1]) &&
		    !memchr(e + a, '\'', n - a - b))
			return true;
	}
	return false;
}

/* Sig tokens a..b as a normalised expression (see default_expr_allowed). */
static const char *normal_expr(struct rw *r, size_t a, size_t b)
{
	struct barge_buf e;

	barge_buf_init(&e, BARGE_BUF_NOCAP);
	for (size_t i = a; i <= b; i++) {
		const struct tok *t = sig_tok(r, i);

		if (t->kind == TK_WORD && tok_text(r, t)[0] == '_' && is_kind(r, i + 1, TK_STRING))
			continue; /* _utf8mb4'x' is 'x' */
		for (size_t k = 0; k < tok_len(t); k++) {
			char c = tok_text(r, t)[k];

			barge_buf_putc(&e, t->kind == TK_STRING ? c : (char)tolower((unsigned char)c));
		}
	}
	return keep(r, barge_buf_detach(&e));
}

/* A literal written with an introducer: _utf8mb4'x', b'0', x'ff', N'x'. */
static bool introduced_literal(const struct rw *r, size_t si)
{
	const struct tok *t = sig_tok(r, si);
	const char *s = tok_text(r, t);

	if (t->kind != TK_WORD || !is_kind(r, si + 1, TK_STRING))
		return false;
	return s[0] == '_' || (tok_len(t) == 1 && strchr("bBxXnN", s[0]) &&
			       sig_tok(r, si + 1)->start == t->end);
}

static bool now_function(const struct rw *r, size_t si)
{
	return is_word(r, si, "CURRENT_TIMESTAMP") || is_word(r, si, "NOW") ||
	       is_word(r, si, "LOCALTIME") || is_word(r, si, "LOCALTIMESTAMP");
}

/*
 * The DEFAULT clause at si of column c (its definition ends at last): R9.  TiDB before v8.0
 * takes constants and the current time only; v8.0 adds a short list of expressions, the only
 * defaults BLOB, TEXT and JSON columns may have.  Returns the clause's last sig index.
 */
static size_t column_default(struct rw *r, const struct column *c, size_t si, size_t last)
{
	size_t v = si + 1, start = si + 1, end, ea, eb;
	bool expr = false, null = false;
	const char *why = NULL;

	if (v > last)
		return si;
	if (is_punct(r, v, '-') || is_punct(r, v, '+'))
		v++;
	end = v;
	if (is_punct(r, v, '(')) {
		end = close_paren(r, v);
		expr = true;
	} else if (introduced_literal(r, v)) {
		end = v + 1;
	} else if (is_punct(r, v + 1, '(') && is_kind(r, v, TK_WORD)) {
		end = close_paren(r, v + 1); /* MariaDB prints function defaults bare */
		expr = !now_function(r, v);
	} else {
		null = is_word(r, v, "NULL");
	}
	if (end == NONE || end > last) {
		failf(r, "column %s: cannot read its DEFAULT", qname(r, c->name_si));
		return last;
	}
	ea = is_punct(r, v, '(') ? v + 1 : v;
	eb = is_punct(r, v, '(') ? end - 1 : end;
	if (null)
		return end;
	if (expr && below(r, 8, 0))
		why = "TiDB before v8.0 takes no expression defaults";
	else if (expr && (ea > eb || !default_expr_allowed(normal_expr(r, ea, eb))))
		why = "not among the expressions TiDB takes as defaults";
	else if (!expr && is_lob(c))
		why = below(r, 8, 0) ? "TiDB before v8.0 takes no default on BLOB, TEXT or JSON"
				     : "TiDB takes only expressions as defaults on BLOB, TEXT or JSON";
	if (why) {
		warnf(r, "column %s: DEFAULT %s removed (%s)", qname(r, c->name_si),
		      excerpt(r, start, end), why);
		drop_sigs(r, si, end);
	}
	return end;
}

/* Read the type at si of column c: class, (n) and key bytes.  Returns the next sig index. */
static size_t column_type(struct rw *r, struct column *c, size_t si, size_t last)
{
	const struct coltype *ct = find_type(r, si);
	size_t next = si + 1;

	c->len = -1;
	c->cls = ct ? ct->cls : CC_OTHER;
	c->bytes = ct ? ct->bytes : 0;
	if (next <= last && is_punct(r, next, '(')) {
		if (is_kind(r, next + 1, TK_NUMBER))
			c->len = strtol(tok_text(r, sig_tok(r, next + 1)), NULL, 10);
		next = skip_group(r, next);
	}
	if (c->cls == CC_SPATIAL)
		failf(r, "column %s: spatial type %s is not supported by TiDB", qname(r, c->name_si),
		      keep(r, tok_value(r, si)));
	else if (c->cls == CC_NOTYPE)
		failf(r, "column %s: MariaDB type %s is not supported by TiDB",
		      qname(r, c->name_si), keep(r, tok_value(r, si)));
	return next;
}

/*
 * One column definition, elements a..b: R2/R3 on its charset, R8 INVISIBLE, R9 DEFAULT, an
 * inline CHECK (R6) and MariaDB's COMPRESSED and system versioning.
 */
static void column_rules(struct rw *r, size_t a, size_t b)
{
	struct column c = {.name_si = a};
	size_t cs_si = NONE, co_si = NONE, i;
	const char *where;

	c.name = keep(r, tok_value(r, a));
	where = keep(r, barge_xasprintf("column %s", qname(r, a)));
	if (a + 1 > b || !is_kind(r, a + 1, TK_WORD)) {
		failf(r, "%s: cannot read its type", where);
		return;
	}
	i = column_type(r, &c, a + 1, b);
	while (i <= b && r->rc == 0) {
		if (is_punct(r, i, '(')) {
			i = skip_group(r, i);
		} else if ((is_word(r, i, "CHARACTER") && is_word(r, i + 1, "SET")) ||
			   is_word(r, i, "CHARSET")) {
			i += is_word(r, i, "CHARSET") ? 1 : 2;
			cs_si = i++;
		} else if (is_word(r, i, "COLLATE")) {
			co_si = ++i;
			i++;
		} else if (is_word(r, i, "DEFAULT")) {
			i = column_default(r, &c, i, b) + 1;
		} else if (is_word(r, i, "INVISIBLE")) {
			warnf(r, "%s: INVISIBLE removed, SELECT * now shows it (TiDB has no invisible "
				 "columns)", where);
			drop_sigs(r, i, i);
			i++;
		} else if (is_word(r, i, "CHECK") && is_punct(r, i + 1, '(')) {
			size_t end = skip_group(r, i + 1) - 1;

			warnf(r, "%s: CHECK %s removed (%s)", where, excerpt(r, i + 1, end),
			      below(r, 7, 2) ? "TiDB v6.5 ignores CHECK constraints"
					     : "TiDB drops CHECK constraints unless "
					       "tidb_enable_check_constraint is ON");
			drop_sigs(r, i, end);
			i = end + 1;
		} else if (is_word(r, i, "COMPRESSED")) {
			warnf(r, "%s: MariaDB's COMPRESSED removed (TiDB does not take it)", where);
			drop_sigs(r, i, i);
			i++;
		} else if ((is_word(r, i, "WITH") || is_word(r, i, "WITHOUT")) &&
			   is_word(r, i + 1, "SYSTEM")) {
			failf(r, "%s: system versioning is not supported by TiDB", where);
		} else if (is_word(r, i, "AS") && is_word(r, i + 1, "ROW")) {
			failf(r, "%s: system-versioned tables are not supported by TiDB (run ALTER "
				 "TABLE ... DROP SYSTEM VERSIONING on the source first)",
			      where);
		} else if (is_word(r, i, "PRIMARY") && is_word(r, i + 1, "KEY")) {
			append_after(r, i + 1, " /*T![clustered_index] CLUSTERED */");
			warnf(r, "%s: primary key declared CLUSTERED, as InnoDB stores it", where);
			c.ai_keyed = true;
			i += 2;
		} else {
			c.auto_inc |= is_word(r, i, "AUTO_INCREMENT");
			c.ai_keyed |= is_word(r, i, "UNIQUE") || is_word(r, i, "KEY");
			i++;
		}
	}
	if (r->rc == 0 && (cs_si != NONE || co_si != NONE)) {
		const struct charset *cs = fix_charset(r, cs_si, co_si, " COLLATE ", where);

		c.cs = cs ? cs->name : NULL;
	}
	r->cols = barge_xrealloc(r->cols, (r->ncols + 1) * sizeof *r->cols);
	r->cols[r->ncols++] = c;
}

static struct column *find_column(struct rw *r, size_t si)
{
	char *name = tok_value(r, si);
	struct column *found = NULL;

	for (size_t i = 0; i < r->ncols && !found; i++)
		if (strcasecmp(r->cols[i].name, name) == 0)
			found = &r->cols[i];
	free(name);
	return found;
}

/* ---- indexes and constraints ---- */

#define TIDB_MAX_KEY_BYTES 3072

/* Bytes of column c in a key with a prefix of prefix characters (-1: none); LONG_MAX: unbounded. */
static long key_bytes(const struct rw *r, const struct column *c, long prefix)
{
	const char *csname = c->cs ? c->cs : r->table_cs ? r->table_cs : "utf8mb4";
	const struct charset *cs = find_charset(csname, strlen(csname));
	long maxlen = cs ? cs->maxlen : 4;
	long n = prefix >= 0 ? prefix : c->len;

	switch (c->cls) {
	case CC_CHARS: return (n < 0 ? 1 : n) * maxlen;
	case CC_BYTES: return n < 0 ? 1 : n;
	case CC_TEXT: return prefix < 0 ? LONG_MAX : prefix * maxlen;
	case CC_BLOB: return prefix < 0 ? LONG_MAX : prefix;
	case CC_JSON: return LONG_MAX;
	case CC_DECIMAL: return (n < 0 ? 10 : n) / 2 + 1;
	case CC_BIT: return ((n < 0 ? 1 : n) + 7) / 8;
	default: return c->bytes;
	}
}

/* Whether function name at si may be used in an expression index (R10). */
static bool index_function_allowed(const struct rw *r, size_t si)
{
	static const char *const names[] = {"lower", "upper", "md5", "reverse", "tidb_shard",
					    "vitess_hash"};
	const struct tok *t = sig_tok(r, si);

	if (tok_len(t) > 5 && strncasecmp(tok_text(r, t), "json_", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (is_word(r, si, names[i]))
			return true;
	return false;
}

/*
 * Why the expression a..b cannot be an index key part on the target, or NULL.  TiDB takes
 * JSON_*, LOWER, UPPER, MD5, REVERSE, TIDB_SHARD and VITESS_HASH over columns and constants;
 * CAST(... AS type ARRAY) is a multi-valued index (v7.0+).
 */
static const char *index_expr_problem(struct rw *r, size_t a, size_t b)
{
	for (size_t i = a; i <= b; i++) {
		const struct tok *t = sig_tok(r, i);

		if (t->kind == TK_QUOTED || t->kind == TK_STRING || t->kind == TK_NUMBER)
			continue;
		if (t->kind == TK_PUNCT && strchr("(),", r->q.s[t->start]))
			continue;
		if (introduced_literal(r, i))
			continue;
		if (is_word(r, i, "CAST") && is_punct(r, i + 1, '(')) {
			size_t c = close_paren(r, i + 1);

			if (c != NONE && c <= b && is_word(r, c - 1, "ARRAY") && !below(r, 7, 0)) {
				i = c;
				continue;
			}
		}
		if (t->kind == TK_WORD && is_punct(r, i + 1, '(') && index_function_allowed(r, i))
			continue;
		return keep(r, barge_xasprintf("%.*s", (int)tok_len(t), tok_text(r, t)));
	}
	return NULL;
}

struct keyinfo {
	const char *name;  /* for messages */
	long bytes;        /* LONG_MAX: a column without a length limit */
	const char *lob;   /* the TEXT/BLOB/JSON column that made it unbounded */
	const char *bad;   /* what keeps an expression part out of TiDB, or NULL */
	struct column *first;
	size_t ignored; /* MariaDB's IGNORED after the key parts, or NONE */
	bool using_hash;
};

/* Read the key parts "(...)" at si (closing at c). */
static void read_key_parts(struct rw *r, size_t si, size_t c, struct keyinfo *k)
{
	for (size_t p = si + 1; p < c;) {
		size_t end = p;

		while (end < c && !is_punct(r, end, ','))
			end = is_punct(r, end, '(') ? skip_group(r, end) : end + 1;
		if (is_punct(r, p, '(')) {
			if (!k->bad)
				k->bad = index_expr_problem(r, p + 1, skip_group(r, p) - 2);
		} else {
			struct column *col = find_column(r, p);
			long prefix = -1, n;

			if (is_punct(r, p + 1, '(') && is_kind(r, p + 2, TK_NUMBER))
				prefix = strtol(tok_text(r, sig_tok(r, p + 2)), NULL, 10);
			n = col ? key_bytes(r, col, prefix) : 0;
			if (col && p == si + 1)
				k->first = col;
			if (n == LONG_MAX && !k->lob)
				k->lob = qname(r, p);
			k->bytes = (n == LONG_MAX || k->bytes > LONG_MAX - n) ? LONG_MAX : k->bytes + n;
		}
		p = end + 1;
	}
}

/* Read the index element e: its name, key parts and USING HASH. */
static bool read_key(struct rw *r, const struct elem *e, struct keyinfo *k)
{
	size_t i = e->body;

	memset(k, 0, sizeof *k);
	k->name = e->kind == EK_PRIMARY ? "PRIMARY" : "(unnamed)";
	if (e->cname != NONE)
		k->name = qname(r, e->cname);
	if (i <= e->b && !is_punct(r, i, '(') && !is_word(r, i, "USING"))
		k->name = qname(r, i++);
	for (; i <= e->b && !is_punct(r, i, '('); i++)
		k->using_hash |= is_word(r, i, "USING") && is_word(r, i + 1, "HASH");
	if (i > e->b || close_paren(r, i) == NONE || close_paren(r, i) > e->b) {
		failf(r, "cannot read the key parts of index %s", k->name);
		return false;
	}
	read_key_parts(r, i, close_paren(r, i), k);
	k->ignored = NONE;
	for (i = close_paren(r, i); i <= e->b; i++) {
		k->using_hash |= is_word(r, i, "USING") && is_word(r, i + 1, "HASH");
		if (is_word(r, i, "IGNORED") && !is_word(r, i - 1, "NOT"))
			k->ignored = i;
	}
	return true;
}

/*
 * Whether element e already says CLUSTERED or NONCLUSTERED, as a TiDB source does (then in a
 * comment that may follow the element's last token).
 */
static bool says_clustered(const struct rw *r, const struct elem *e)
{
	size_t end = e->b + 1 < r->q.nsig ? r->q.sig[e->b + 1] : r->q.n;

	for (size_t i = r->q.sig[e->a]; i < end; i++) {
		const struct tok *t = &r->q.t[i];
		const char *s = r->q.s + t->start;
		size_t n = tok_len(t);

		if (t->kind == TK_WORD && ((n == 9 && strncasecmp(s, "CLUSTERED", 9) == 0) ||
					   (n == 12 && strncasecmp(s, "NONCLUSTERED", 12) == 0)))
			return true;
		if (t->kind == TK_COMMENT && memmem(s, n, "clustered_index", 15))
			return true;
	}
	return false;
}

/* PRIMARY, UNIQUE and plain KEY elements: R10, R12, R14. */
static void key_rules(struct rw *r, struct elem *e)
{
	struct keyinfo k;

	if (!read_key(r, e, &k))
		return;
	if (k.bad) {
		warnf(r, "index %s removed: %s in its expression is not allowed in TiDB expression "
			 "indexes (only JSON_*, LOWER, UPPER, MD5, REVERSE, TIDB_SHARD, VITESS_HASH "
			 "unless allow-expression-index is set)%s",
		      k.name, k.bad,
		      e->kind == EK_KEY ? "" : "; the uniqueness it enforced is not enforced");
		e->drop = true;
		return;
	}
	if (k.lob)
		failf(r, "index %s covers %s without a prefix length (MariaDB's long unique "
			 "USING HASH); TiDB keys are limited to %d bytes",
		      k.name, k.lob, TIDB_MAX_KEY_BYTES);
	else if (k.bytes > TIDB_MAX_KEY_BYTES)
		failf(r, "index %s is %ld bytes long%s; TiDB keys are limited to %d bytes", k.name,
		      k.bytes, k.using_hash ? " (MariaDB's long unique USING HASH)" : "",
		      TIDB_MAX_KEY_BYTES);
	if (k.first)
		k.first->ai_keyed = true;
	if (k.ignored != NONE) {
		replace(r, k.ignored, "INVISIBLE");
		warnf(r, "index %s: MariaDB's IGNORED written as INVISIBLE, its TiDB name", k.name);
	}
	if (e->kind == EK_PRIMARY && !says_clustered(r, e)) {
		append_after(r, e->b, " /*T![clustered_index] CLUSTERED */");
		warnf(r, "primary key declared CLUSTERED, as InnoDB stores it (TiDB would otherwise "
			 "follow tidb_enable_clustered_index, and it cannot be changed later)");
	}
}

/* The name of a FULLTEXT/SPATIAL/CHECK/FOREIGN element for messages. */
static const char *elem_name(struct rw *r, const struct elem *e)
{
	if (e->cname != NONE)
		return qname(r, e->cname);
	if (e->body <= e->b && (is_kind(r, e->body, TK_QUOTED) ||
				(is_kind(r, e->body, TK_WORD) && !is_word(r, e->body, "USING"))))
		return qname(r, e->body);
	return excerpt(r, e->a, e->b);
}

/* Everything in the table body that is not a column. */
static void constraint_rules(struct rw *r, struct elem *e)
{
	switch (e->kind) {
	case EK_PRIMARY:
	case EK_UNIQUE:
	case EK_KEY:
		key_rules(r, e);
		break;
	case EK_FULLTEXT:
		warnf(r, "FULLTEXT index %s removed (TiDB v6.5 drops FULLTEXT indexes with warning "
			 "1214; later releases parse them but never use them)",
		      elem_name(r, e));
		e->drop = true;
		break;
	case EK_SPATIAL:
		failf(r, "SPATIAL index %s is not supported by TiDB", elem_name(r, e));
		break;
	case EK_CHECK:
		warnf(r, "CHECK constraint %s removed (%s)", elem_name(r, e),
		      below(r, 7, 2) ? "TiDB v6.5 parses and ignores CHECK constraints"
				     : "TiDB drops CHECK constraints unless the global "
				       "tidb_enable_check_constraint is ON, and then checks the loaded "
				       "rows against them");
		e->drop = true;
		break;
	case EK_FOREIGN:
		r->has_fk = true;
		if (below(r, 6, 6))
			warnf(r, "foreign key %s kept, but TiDB before v6.6 does not enforce foreign "
				 "keys (and those created there stay unenforced after an upgrade)",
			      elem_name(r, e));
		break;
	case EK_PERIOD:
		failf(r, "PERIOD FOR (MariaDB system versioning or application periods) is not "
			 "supported by TiDB");
		break;
	default:
		break;
	}
}

/* What element e is, and where its body starts. */
static void classify(const struct rw *r, struct elem *e)
{
	static const struct {
		const char *word;
		enum elem_kind kind;
		int key_word; /* KEY or INDEX after it: 0 never, 1 optional, 2 required */
	} heads[] = {
		{"PRIMARY", EK_PRIMARY, 2}, {"UNIQUE", EK_UNIQUE, 1},   {"FULLTEXT", EK_FULLTEXT, 1},
		{"SPATIAL", EK_SPATIAL, 1}, {"FOREIGN", EK_FOREIGN, 2}, {"KEY", EK_KEY, 0},
		{"INDEX", EK_KEY, 0},       {"CHECK", EK_CHECK, 0},     {"PERIOD", EK_PERIOD, 0},
	};
	size_t i = e->a;

	e->cname = NONE;
	e->kind = EK_COLUMN;
	if (is_word(r, i, "CONSTRAINT")) {
		i++;
		if (!is_word(r, i, "PRIMARY") && !is_word(r, i, "UNIQUE") &&
		    !is_word(r, i, "FOREIGN") && !is_word(r, i, "CHECK"))
			e->cname = i++;
		e->kind = EK_OTHER;
	}
	for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++) {
		bool key_word = is_word(r, i + 1, "KEY") || is_word(r, i + 1, "INDEX");

		if (!is_word(r, i, heads[h].word) || (heads[h].key_word == 2 && !key_word))
			continue;
		e->kind = heads[h].kind;
		e->body = i + 1 + (heads[h].key_word && key_word);
		return;
	}
	e->body = i;
}

/* ---- partitioning (R11) ---- */

/* Options of one partition definition from si to last: keep COMMENT, drop the rest. */
static bool partition_options(struct rw *r, size_t si, size_t last)
{
	bool dropped = false;

	for (size_t i = si; i <= last;) {
		struct option o;

		if (is_punct(r, i, '(') && is_word(r, i + 1, "SUBPARTITION")) {
			size_t c = skip_group(r, i) - 1;

			drop_sigs(r, i, c); /* said with SUBPARTITION BY */
			i = c + 1;
			continue;
		}
		if (is_word(r, i, "STORAGE") && is_word(r, i + 1, "ENGINE"))
			i++;
		if (!read_option(r, i, last, &o)) {
			i++;
			continue;
		}
		if (strcmp(o.key, "COMMENT") != 0) {
			drop_sigs(r, is_word(r, o.a - 1, "STORAGE") ? o.a - 1 : o.a, o.b);
			dropped = true;
		}
		i = o.b + 1;
	}
	return dropped;
}

/* The "(PARTITION p0 ..., ...)" list at si: storage options and subpartitions out. */
static void partition_definitions(struct rw *r, size_t si)
{
	size_t c = close_paren(r, si);
	bool dropped = false;

	for (size_t p = si + 1; c != NONE && p < c;) {
		size_t end = p, opts = p;

		while (end < c && !is_punct(r, end, ','))
			end = is_punct(r, end, '(') ? skip_group(r, end) : end + 1;
		/* PARTITION name [VALUES LESS THAN (...) | MAXVALUE | VALUES IN (...)] */
		opts = p + 2;
		if (is_word(r, opts, "VALUES")) {
			opts++;
			if (is_word(r, opts, "LESS") && is_word(r, opts + 1, "THAN"))
				opts += 2;
			else if (is_word(r, opts, "IN"))
				opts++;
			opts = is_punct(r, opts, '(') ? skip_group(r, opts) : opts + 1;
		}
		if (opts < end && partition_options(r, opts, end - 1))
			dropped = true;
		p = end + 1;
	}
	if (dropped)
		warnf(r, "storage options (ENGINE, DATA/INDEX DIRECTORY, TABLESPACE, MAX_ROWS, ...) "
			 "removed from the partition definitions (TiDB ignores them)");
}

/* The partition clause from si to the end. */
static void partition_rules(struct rw *r, size_t si)
{
	size_t last = r->q.nsig - 1, i = si + 2, linear = NONE, cols;
	bool key;

	if (!is_word(r, si + 1, "BY")) {
		failf(r, "cannot read the partition clause");
		return;
	}
	if (is_word(r, i, "LINEAR"))
		linear = i++;
	if (is_word(r, i, "SYSTEM_TIME")) {
		failf(r, "PARTITION BY SYSTEM_TIME (MariaDB system versioning) is not supported by "
			 "TiDB");
		return;
	}
	key = is_word(r, i, "KEY");
	i++;
	if (key && is_word(r, i, "ALGORITHM"))
		i += 3;
	if (is_word(r, i, "COLUMNS"))
		i++;
	cols = i;
	i = skip_group(r, i);
	if (key && below(r, 7, 0)) {
		warnf(r, "PARTITION BY %sKEY removed: the table is not partitioned (TiDB before "
			 "v7.0 has no KEY partitioning and would do the same)",
		      linear != NONE ? "LINEAR " : "");
		drop_sigs(r, si, last);
		return;
	}
	if (key && is_punct(r, cols, '(') && is_punct(r, cols + 1, ')') && below(r, 8, 0)) {
		warnf(r, "PARTITION BY KEY () removed: the table is not partitioned (TiDB before "
			 "v8.0 needs KEY partitioning columns and would do the same)");
		drop_sigs(r, si, last);
		return;
	}
	if (r->has_fk) {
		failf(r, "foreign keys on a partitioned table are not supported by TiDB");
		return;
	}
	if (linear != NONE) {
		warnf(r, "LINEAR removed from PARTITION BY LINEAR %s (TiDB ignores it)",
		      key ? "KEY" : "HASH");
		drop_sigs(r, linear, linear);
	}
	if (is_word(r, i, "PARTITIONS"))
		i += 2;
	if (is_word(r, i, "SUBPARTITION")) {
		size_t end = i + 2;

		while (end <= last && !is_punct(r, end, '('))
			end++;
		end = skip_group(r, end);
		if (is_word(r, end, "SUBPARTITIONS"))
			end += 2;
		warnf(r, "SUBPARTITION BY %s removed (TiDB has no subpartitions)",
		      excerpt(r, i + 2, end - 1));
		drop_sigs(r, i, end - 1);
		i = end;
	}
	if (is_punct(r, i, '('))
		partition_definitions(r, i);
}

/* ---- tables ---- */

/* Table options from si to last, other than the charset and collation (R4). */
static void table_options(struct rw *r, size_t si, size_t last)
{
	static const char *const ignored[] = {
		"ENGINE", "ROW_FORMAT", "KEY_BLOCK_SIZE", "STATS_PERSISTENT", "STATS_AUTO_RECALC",
		"STATS_SAMPLE_PAGES", "TABLESPACE", "STORAGE", "DATA DIRECTORY", "INDEX DIRECTORY",
		"COMPRESSION", "ENCRYPTION", "AVG_ROW_LENGTH", "MAX_ROWS", "MIN_ROWS", "CHECKSUM",
		"TABLE_CHECKSUM", "DELAY_KEY_WRITE", "PACK_KEYS", "CONNECTION", "AUTOEXTEND_SIZE",
		"SECONDARY_ENGINE", "SECONDARY_ENGINE_ATTRIBUTE", "ENGINE_ATTRIBUTE",
		"PAGE_CHECKSUM", "TRANSACTIONAL", "PAGE_COMPRESSED", "PAGE_COMPRESSION_LEVEL",
		"ENCRYPTED", "ENCRYPTION_KEY_ID", "IETF_QUOTES",
	};
	struct barge_buf dropped;
	size_t cs_si = NONE, co_si = NONE;

	barge_buf_init(&dropped, BARGE_BUF_NOCAP);
	for (size_t i = si; i <= last && r->rc == 0;) {
		struct option o;
		bool drop = false;

		if (is_punct(r, i, ',')) {
			i++;
			continue;
		}
		if (!read_option(r, i, last, &o)) {
			i++; /* not an option barge knows: left as it is */
			continue;
		}
		if (is_charset_option(&o))
			cs_si = o.value;
		else if (strcmp(o.key, "COLLATE") == 0)
			co_si = o.value;
		else if (strcmp(o.key, "UNION") == 0 || strcmp(o.key, "INSERT_METHOD") == 0)
			failf(r, "%s (a MERGE table) is rejected by TiDB (error %s)", o.key,
			      o.key[0] == 'U' ? "8232" : "8233");
		else if (strcmp(o.key, "WITH SYSTEM VERSIONING") == 0)
			failf(r, "system-versioned tables are not supported by TiDB (run ALTER TABLE "
				 "... DROP SYSTEM VERSIONING on the source first)");
		else if (strcmp(o.key, "SEQUENCE") == 0)
			failf(r, "a MariaDB SEQUENCE is not a table; create it with CREATE SEQUENCE");
		drop = is_kind(r, o.name, TK_QUOTED); /* MariaDB's engine-defined options */
		for (size_t k = 0; k < sizeof ignored / sizeof ignored[0] && !drop; k++)
			drop = strcmp(o.key, ignored[k]) == 0;
		if (drop) {
			barge_buf_appendf(&dropped, "%s%s", dropped.len ? ", " : "",
					  option_label(r, &o));
			drop_option(r, &o, last);
		}
		i = o.b + 1;
	}
	if (r->rc == 0 && dropped.len)
		warnf(r, "table options %s removed (TiDB ignores them: every table is a TiKV "
			 "table)", dropped.data);
	barge_buf_dispose(&dropped);
	if (r->rc == 0 && (cs_si != NONE || co_si != NONE))
		fix_charset(r, cs_si, co_si, " COLLATE=", "table default");
}

/* The table's default charset, read before the columns need it for key lengths. */
static void peek_table_charset(struct rw *r, size_t si, size_t last)
{
	for (size_t i = si; i <= last;) {
		struct option o;

		if (!read_option(r, i, last, &o)) {
			i++;
			continue;
		}
		if (o.value != NONE && (is_charset_option(&o) || strcmp(o.key, "COLLATE") == 0)) {
			char *v = tok_value(r, o.value);
			const struct charset *cs = is_charset_option(&o) ? find_charset(v, strlen(v))
									 : collation_charset(v);

			if (cs && (!r->table_cs || is_charset_option(&o)))
				r->table_cs = cs->name;
			free(v);
		}
		i = o.b + 1;
	}
}

/* Split the body "( ... )" at sig 0 into elements; returns the index of its ")" or NONE. */
static size_t split_body(struct rw *r, struct elem **out, size_t *n)
{
	size_t c = is_punct(r, 0, '(') ? close_paren(r, 0) : NONE;

	*out = NULL;
	*n = 0;
	if (c == NONE)
		return NONE;
	for (size_t p = 1; p < c;) {
		size_t end = p;

		while (end < c && !is_punct(r, end, ','))
			end = is_punct(r, end, '(') ? skip_group(r, end) : end + 1;
		if (end == p)
			return NONE; /* an empty element */
		*out = barge_xrealloc(*out, (*n + 1) * sizeof **out);
		(*out)[*n] = (struct elem){.a = p, .b = end - 1};
		classify(r, &(*out)[*n]);
		(*n)++;
		p = end + 1;
	}
	return *n ? c : NONE;
}

/*
 * Leave out the dropped elements.  The comma before an element is kept only when the element
 * is kept and a kept one comes before it.
 */
static void drop_elements(struct rw *r, struct elem *el, size_t n)
{
	bool kept_before = false;

	for (size_t k = 0; k < n; k++) {
		if (el[k].drop)
			drop_sigs(r, el[k].a, el[k].b);
		if (k > 0 && (el[k].drop || !kept_before))
			drop_sigs(r, el[k].a - 1, el[k].a - 1);
		kept_before |= !el[k].drop;
	}
}

/* TiDB before v7.0 wants an AUTO_INCREMENT column to lead an index (MyISAM did not). */
static void auto_increment_rule(struct rw *r)
{
	for (size_t i = 0; i < r->ncols && r->rc == 0; i++)
		if (r->cols[i].auto_inc && !r->cols[i].ai_keyed && below(r, 7, 0))
			failf(r, "AUTO_INCREMENT column %s does not lead an index, which TiDB before "
				 "v7.0 requires",
			      qname(r, r->cols[i].name_si));
}

static void table_rules(struct rw *r)
{
	struct elem *el = NULL;
	size_t n = 0, close = split_body(r, &el, &n), part = NONE;

	if (close == NONE) {
		failf(r, "cannot read the column and index definitions");
		goto done;
	}
	for (size_t i = close + 1; i < r->q.nsig && part == NONE; i++)
		if (is_word(r, i, "PARTITION") && is_word(r, i + 1, "BY"))
			part = i;
	peek_table_charset(r, close + 1, (part == NONE ? r->q.nsig : part) - 1);
	for (size_t k = 0; k < n && r->rc == 0; k++)
		if (el[k].kind == EK_COLUMN)
			column_rules(r, el[k].a, el[k].b);
	for (size_t k = 0; k < n && r->rc == 0; k++)
		if (el[k].kind != EK_COLUMN)
			constraint_rules(r, &el[k]);
	if (r->rc == 0)
		auto_increment_rule(r);
	if (r->rc == 0)
		drop_elements(r, el, n);
	if (r->rc == 0 && close + 1 < (part == NONE ? r->q.nsig : part))
		table_options(r, close + 1, (part == NONE ? r->q.nsig : part) - 1);
	if (r->rc == 0 && part != NONE)
		partition_rules(r, part);
done:
	free(el);
}

/* Database options: only the charset and collation mean something to TiDB. */
static void database_rules(struct rw *r)
{
	size_t cs_si = NONE, co_si = NONE, last = r->q.nsig - 1;

	for (size_t i = 0; i < r->q.nsig && r->rc == 0;) {
		struct option o;

		if (!read_option(r, i, last, &o)) {
			failf(r, "cannot read the database option at \"%s\"", excerpt(r, i, last));
			break;
		}
		if (is_charset_option(&o)) {
			cs_si = o.value;
		} else if (strcmp(o.key, "COLLATE") == 0) {
			co_si = o.value;
		} else {
			warnf(r, "database option %s removed (TiDB does not take it)",
			      option_label(r, &o));
			drop_option(r, &o, last);
		}
		i = o.b + 1;
	}
	if (r->rc == 0 && (cs_si != NONE || co_si != NONE))
		fix_charset(r, cs_si, co_si, " COLLATE ", "default");
}

/*
 * The TiDB path: write the head with the routed name, then the rest of the definition with
 * the rules applied.  On failure out and warnings are left as they were.
 */
static int tidb_rewrite(const struct barge_dialect_ctx *ctx, const char *sql, const char *prefix,
			const char *to_schema, const char *to_table, struct barge_buf *out,
			struct barge_dialect_warnings *w, struct barge_err *err)
{
	struct rw r = {.w = w, .err = err};
	size_t out_len = out->len, warn_count = w->count;
	const char *rest = NULL;
	struct barge_buf what;

	barge_buf_init(&what, BARGE_BUF_NOCAP);
	barge_buf_puts(&what, to_table ? "table " : "database ");
	if (to_table)
		barge_buf_append_qname(&what, to_schema, to_table);
	else
		barge_buf_append_ident(&what, to_schema);
	r.what = barge_buf_cstr(&what);
	r.src_mysql8 = mysql8_or_later(ctx->source_version);
	r.rc = write_head(sql, prefix, to_schema, to_table, out, &rest, err);
	if (r.rc)
		goto done;
	if (!tidb_release(ctx->target_version, &r.tidb)) {
		r.tidb = (struct release){6, 5};
		warnf(&r, "target version \"%s\" names no TiDB release; rewriting for TiDB v6.5, "
			  "the oldest supported",
		      ctx->target_version ? ctx->target_version : "");
	}
	r.q.s = rest;
	r.q.len = strlen(rest);
	r.rc = tokenize(&r.q, r.what, err);
	if (r.rc == 0) {
		if (to_table)
			table_rules(&r);
		else
			database_rules(&r);
	}
	if (r.rc == 0)
		r.rc = write_sql(&r.q, out);
done:
	if (r.rc) {
		barge_buf_truncate(out, out_len);
		while (w->count > warn_count)
			free(w->items[--w->count]);
	}
	sql_dispose(&r.q);
	for (size_t i = 0; i < r.nscratch; i++)
		free(r.scratch[i]);
	free(r.scratch);
	free(r.cols);
	barge_buf_dispose(&what);
	return r.rc;
}

static bool rewrites(const struct barge_dialect_ctx *ctx)
{
	return ctx && ctx->dialect == BARGE_DIALECT_TIDB;
}

int barge_dialect_create_table(const struct barge_dialect_ctx *ctx, const char *create_sql,
			       const char *to_schema, const char *to_table, struct barge_buf *out,
			       struct barge_dialect_warnings *warnings, struct barge_err *err)
{
	const char *rest;
	int rc;

	if (rewrites(ctx))
		return tidb_rewrite(ctx, create_sql, "CREATE TABLE ", to_schema, to_table, out,
				    warnings, err);
	rc = write_head(create_sql, "CREATE TABLE ", to_schema, to_table, out, &rest, err);
	return rc ? rc : barge_buf_puts(out, rest);
}

int barge_dialect_create_database(const struct barge_dialect_ctx *ctx, const char *create_sql,
				  const char *to_schema, struct barge_buf *out,
				  struct barge_dialect_warnings *warnings, struct barge_err *err)
{
	const char *rest;
	int rc;

	if (rewrites(ctx))
		return tidb_rewrite(ctx, create_sql, "CREATE DATABASE ", to_schema, NULL, out,
				    warnings, err);
	rc = write_head(create_sql, "CREATE DATABASE ", to_schema, NULL, out, &rest, err);
	return rc ? rc : barge_buf_puts(out, rest);
}

static bool secondary_index_line(const char *line, size_t len)
{
	static const char *const heads[] = {"  KEY `", "  FULLTEXT KEY `", "  SPATIAL KEY `",
					    "  INDEX `"};

	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		if (len > strlen(heads[i]) && strncmp(line, heads[i], strlen(heads[i])) == 0)
			return true;
	return false;
}

size_t barge_dialect_split_indexes(const char *create_sql, struct barge_buf *table_sql,
				   struct barge_buf *clauses)
{
	const char *p = create_sql;
	size_t split = 0, last_kept_end = 0; /* table_sql offset just after the last element */
	bool in_body = false;

	if (strstr(create_sql, "\n  CONSTRAINT ") && strstr(create_sql, " FOREIGN KEY ")) {
		barge_buf_puts(table_sql, create_sql);
		return 0;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (in_body && secondary_index_line(p, len)) {
			size_t clen = (p[len - 1] == ',') ? len - 1 : len;

			barge_buf_append(clauses, p + 2, clen - 2);
			barge_buf_putc(clauses, '\n');
			split++;
		} else {
			if (in_body && len && p[0] == ')' && split && last_kept_end &&
			    table_sql->data[last_kept_end - 1] == ',') {
				/* the last kept element no longer has a successor */
				barge_buf_truncate(table_sql, last_kept_end - 1);
				barge_buf_putc(table_sql, '\n');
			}
			barge_buf_append(table_sql, p, len);
			if (in_body && len && p[0] == ' ')
				last_kept_end = table_sql->len;
			if (nl)
				barge_buf_putc(table_sql, '\n');
			in_body = true; /* after the CREATE TABLE ... ( line */
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return split;
}
