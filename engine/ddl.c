/*
 * ddl.c — classifying DDL and routing its names (see ddl.h).
 *
 * A tokenizer turns the statement into words, quoted identifiers, strings, numbers and
 * punctuation, each with its byte span; comments vanish, executable comments open up.  The
 * parser then walks the few grammars barge replays, looking only at what it needs: keywords,
 * object names, and the list separators between them.
 */
#include "engine/ddl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules.h"

#define DDL_MAX_LEN (64u * 1024u * 1024u)

enum tok_kind { T_WORD, T_QUOTED, T_STRING, T_NUMBER, T_PUNCT, T_END };

struct tok {
	enum tok_kind kind;
	size_t start, end; /* bytes in the statement; for T_QUOTED including the backticks */
};

struct lexer {
	const char *s;
	size_t len, pos;
	int in_exec_comment; /* depth of executable comments we are inside */
	bool bad;
};

static void skip_space_and_comments(struct lexer *lx)
{
	for (;;) {
		while (lx->pos < lx->len && isspace((unsigned char)lx->s[lx->pos]))
			lx->pos++;
		if (lx->pos >= lx->len)
			return;
		if (lx->s[lx->pos] == '#' ||
		    (lx->pos + 2 < lx->len && lx->s[lx->pos] == '-' && lx->s[lx->pos + 1] == '-' &&
		     isspace((unsigned char)lx->s[lx->pos + 2])) ||
		    (lx->pos + 2 == lx->len && lx->s[lx->pos] == '-' && lx->s[lx->pos + 1] == '-')) {
			while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
				lx->pos++;
			continue;
		}
		if (lx->pos + 1 < lx->len && lx->s[lx->pos] == '/' && lx->s[lx->pos + 1] == '*') {
			size_t p = lx->pos + 2;

			/* executable: slash-star-bang[version] or MariaDB's slash-star-M-bang */
			if (p < lx->len && lx->s[p] == 'M' && p + 1 < lx->len && lx->s[p + 1] == '!')
				p++;
			if (p < lx->len && lx->s[p] == '!') {
				p++;
				while (p < lx->len && isdigit((unsigned char)lx->s[p]))
					p++;
				lx->pos = p;
				lx->in_exec_comment++;
				continue;
			}
			/* a plain comment: skip to its end */
			while (p + 1 < lx->len && !(lx->s[p] == '*' && lx->s[p + 1] == '/'))
				p++;
			if (p + 1 >= lx->len) {
				lx->bad = true;
				lx->pos = lx->len;
				return;
			}
			lx->pos = p + 2;
			continue;
		}
		if (lx->in_exec_comment && lx->pos + 1 < lx->len && lx->s[lx->pos] == '*' &&
		    lx->s[lx->pos + 1] == '/') {
			lx->in_exec_comment--;
			lx->pos += 2;
			continue;
		}
		return;
	}
}

static bool word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static struct tok next_tok(struct lexer *lx)
{
	struct tok t = {T_END, lx->len, lx->len};
	char c;

	skip_space_and_comments(lx);
	if (lx->pos >= lx->len)
		return t;
	t.start = lx->pos;
	c = lx->s[lx->pos];
	if (c == '`' || c == '\'' || c == '"') {
		size_t p = lx->pos + 1;

		for (;;) {
			if (p >= lx->len) {
				lx->bad = true;
				break;
			}
			if (c != '`' && lx->s[p] == '\\') {
				p += 2;
				continue;
			}
			if (lx->s[p] == c) {
				if (p + 1 < lx->len && lx->s[p + 1] == c) {
					p += 2; /* doubled: a literal quote */
					continue;
				}
				p++;
				break;
			}
			p++;
		}
		lx->pos = p > lx->len ? lx->len : p;
		t.kind = c == '`' ? T_QUOTED : T_STRING;
	} else if (word_byte((unsigned char)c)) {
		while (lx->pos < lx->len && word_byte((unsigned char)lx->s[lx->pos]))
			lx->pos++;
		t.kind = isdigit((unsigned char)c) ? T_NUMBER : T_WORD;
		/* a number followed by letters (1e5, 2x) is still one word */
		for (size_t i = t.start; i < lx->pos; i++)
			if (!isdigit((unsigned char)lx->s[i]))
				t.kind = T_WORD;
	} else {
		lx->pos++;
		t.kind = T_PUNCT;
	}
	t.end = lx->pos;
	return t;
}

/* ---- the parser ---- */

struct parser {
	struct lexer lx;
	struct tok cur;
	const char *default_schema;
	struct barge_ddl *d;
	struct barge_err *err;
	int rc;
};

static void advance(struct parser *p)
{
	p->cur = next_tok(&p->lx);
}

static bool is_word(const struct parser *p, const char *w)
{
	size_t n = strlen(w);

	return p->cur.kind == T_WORD && p->cur.end - p->cur.start == n &&
	       strncasecmp(p->lx.s + p->cur.start, w, n) == 0;
}

static bool accept(struct parser *p, const char *w)
{
	if (!is_word(p, w))
		return false;
	advance(p);
	return true;
}

static bool is_punct(const struct parser *p, char c)
{
	return p->cur.kind == T_PUNCT && p->lx.s[p->cur.start] == c;
}

/* The text of an identifier token, unquoted (heap). */
static char *ident_text(const struct parser *p, const struct tok *t)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	if (t->kind == T_QUOTED) {
		for (size_t i = t->start + 1; i + 1 < t->end; i++) {
			if (p->lx.s[i] == '`' && p->lx.s[i + 1] == '`')
				i++;
			barge_buf_putc(&b, p->lx.s[i]);
		}
	} else {
		barge_buf_append(&b, p->lx.s + t->start, t->end - t->start);
	}
	return barge_buf_detach(&b);
}

static bool ident_tok(const struct parser *p)
{
	return p->cur.kind == T_WORD || p->cur.kind == T_QUOTED || p->cur.kind == T_NUMBER;
}

static void add_name(struct parser *p, char *schema, char *table, size_t start, size_t end,
		     bool qualified)
{
	struct barge_ddl *d = p->d;
	struct barge_ddl_name *n;

	d->names = barge_xrealloc(d->names, (d->n_names + 1) * sizeof *d->names);
	n = &d->names[d->n_names++];
	n->schema = schema;
	n->table = table;
	n->start = start;
	n->end = end;
	n->qualified = qualified;
}

/* [schema.]table, or for database statements a schema alone (table_expected false). */
static bool parse_name(struct parser *p, bool table_expected)
{
	struct tok first = p->cur, second;
	char *a, *b;

	if (!ident_tok(p)) {
		p->rc = barge_err_set(p->err, BARGE_EDDL, "expected a name at byte %zu",
				      p->cur.start);
		return false;
	}
	a = ident_text(p, &first);
	advance(p);
	if (!table_expected) {
		add_name(p, a, NULL, first.start, first.end, false);
		return true;
	}
	if (is_punct(p, '.')) {
		advance(p);
		if (!ident_tok(p)) {
			p->rc = barge_err_set(p->err, BARGE_EDDL, "expected a table name after \"%s.\"",
					      a);
			free(a);
			return false;
		}
		second = p->cur;
		b = ident_text(p, &second);
		advance(p);
		add_name(p, a, b, first.start, second.end, true);
		return true;
	}
	if (!p->default_schema || !*p->default_schema) {
		p->rc = barge_err_set(p->err, BARGE_EDDL,
				      "table %s has no database, and the statement ran without a "
				      "default database", a);
		free(a);
		return false;
	}
	add_name(p, barge_xstrdup(p->default_schema), a, first.start, first.end, false);
	return true;
}

static void skip(struct parser *p, const char *reason)
{
	p->d->kind = BARGE_DDL_SKIP;
	p->d->skip_reason = reason;
}

static void if_clause(struct parser *p, bool not_exists)
{
	p->d->if_at = p->cur.start;
	if (is_word(p, "IF")) {
		p->d->has_if = true;
		advance(p);
		if (not_exists)
			accept(p, "NOT");
		accept(p, "EXISTS");
	}
}

static void parse_create(struct parser *p)
{
	struct barge_ddl *d = p->d;

	if (accept(p, "OR"))
		accept(p, "REPLACE");
	if (accept(p, "TEMPORARY")) {
		d->temporary = true;
		skip(p, "temporary tables are not replayed");
		return;
	}
	accept(p, "ONLINE");
	accept(p, "OFFLINE");
	if (is_word(p, "DATABASE") || is_word(p, "SCHEMA")) {
		advance(p);
		d->kind = BARGE_DDL_CREATE_DATABASE;
		d->event = BARGE_EV_CREATE_DATABASE;
		if_clause(p, true);
		parse_name(p, false);
		return;
	}
	if (accept(p, "TABLE")) {
		d->kind = BARGE_DDL_CREATE_TABLE;
		d->event = BARGE_EV_CREATE_TABLE;
		if_clause(p, true);
		if (!parse_name(p, true))
			return;
		/* CREATE TABLE a LIKE b, or (LIKE b) */
		if (is_punct(p, '('))
			advance(p);
		if (accept(p, "LIKE"))
			parse_name(p, true);
		return;
	}
	if (is_word(p, "UNIQUE") || is_word(p, "FULLTEXT") || is_word(p, "SPATIAL"))
		advance(p);
	if (accept(p, "INDEX")) {
		d->kind = BARGE_DDL_CREATE_INDEX;
		d->event = BARGE_EV_CREATE_INDEX;
		if (is_word(p, "IF")) {
			advance(p);
			accept(p, "NOT");
			accept(p, "EXISTS");
		}
		advance(p); /* the index name */
		while (p->cur.kind != T_END && !is_word(p, "ON"))
			advance(p); /* USING BTREE */
		if (accept(p, "ON"))
			parse_name(p, true);
		return;
	}
	skip(p, "only databases, tables and indexes are replayed (not views, triggers, routines, "
		"events, users, servers or tablespaces)");
}

static void parse_drop(struct parser *p)
{
	struct barge_ddl *d = p->d;

	if (accept(p, "TEMPORARY")) {
		d->temporary = true;
		skip(p, "temporary tables are not replayed");
		return;
	}
	if (is_word(p, "DATABASE") || is_word(p, "SCHEMA")) {
		advance(p);
		d->kind = BARGE_DDL_DROP_DATABASE;
		d->event = BARGE_EV_DROP_DATABASE;
		if_clause(p, false);
		parse_name(p, false);
		return;
	}
	if (accept(p, "TABLE") || accept(p, "TABLES")) {
		d->kind = BARGE_DDL_DROP_TABLE;
		d->event = BARGE_EV_DROP_TABLE;
		if_clause(p, false);
		while (parse_name(p, true)) {
			if (!is_punct(p, ','))
				break;
			advance(p);
		}
		return;
	}
	if (accept(p, "INDEX")) {
		d->kind = BARGE_DDL_DROP_INDEX;
		d->event = BARGE_EV_DROP_INDEX;
		if (is_word(p, "IF")) {
			advance(p);
			accept(p, "EXISTS");
		}
		advance(p); /* the index name */
		if (accept(p, "ON"))
			parse_name(p, true);
		return;
	}
	skip(p, "only databases, tables and indexes are replayed (not views, triggers, routines, "
		"events, users, servers or tablespaces)");
}

static void parse_alter(struct parser *p)
{
	struct barge_ddl *d = p->d;

	accept(p, "ONLINE");
	accept(p, "IGNORE");
	if (is_word(p, "DATABASE") || is_word(p, "SCHEMA")) {
		advance(p);
		d->kind = BARGE_DDL_ALTER_DATABASE;
		d->event = BARGE_EV_ALTER_TABLE; /* filters have no alter-database kind */
		if (ident_tok(p) && !is_word(p, "DEFAULT") && !is_word(p, "CHARACTER") &&
		    !is_word(p, "CHARSET") && !is_word(p, "COLLATE") && !is_word(p, "UPGRADE"))
			parse_name(p, false);
		else
			add_name(p, barge_xstrdup(p->default_schema ? p->default_schema : ""), NULL,
				 p->cur.start, p->cur.start, false);
		return;
	}
	if (!accept(p, "TABLE")) {
		skip(p, "only databases and tables are altered by replay");
		return;
	}
	d->kind = BARGE_DDL_ALTER_TABLE;
	d->event = BARGE_EV_ALTER_TABLE;
	if (is_word(p, "IF")) {
		advance(p);
		accept(p, "EXISTS");
	}
	if (!parse_name(p, true))
		return;
	/* ... RENAME [TO|AS] new_name, at the top level of the statement */
	{
		int depth = 0;

		while (p->cur.kind != T_END && p->rc == 0) {
			if (is_punct(p, '('))
				depth++;
			else if (is_punct(p, ')'))
				depth--;
			if (depth == 0 && is_word(p, "RENAME")) {
				advance(p);
				if (is_word(p, "COLUMN") || is_word(p, "INDEX") || is_word(p, "KEY"))
					continue;
				if (!accept(p, "TO"))
					accept(p, "AS");
				parse_name(p, true);
				d->event = BARGE_EV_RENAME_TABLE;
				continue;
			}
			advance(p);
		}
	}
}

static void parse_rename(struct parser *p)
{
	struct barge_ddl *d = p->d;

	if (!accept(p, "TABLE") && !accept(p, "TABLES")) {
		skip(p, "RENAME USER is not replayed");
		return;
	}
	d->kind = BARGE_DDL_RENAME_TABLE;
	d->event = BARGE_EV_RENAME_TABLE;
	if (is_word(p, "IF")) {
		advance(p);
		accept(p, "EXISTS");
	}
	for (;;) {
		if (!parse_name(p, true))
			return;
		if (!accept(p, "TO")) {
			p->rc = barge_err_set(p->err, BARGE_EDDL, "RENAME TABLE without TO");
			return;
		}
		if (!parse_name(p, true))
			return;
		if (!is_punct(p, ','))
			return;
		advance(p);
	}
}

int barge_ddl_parse(const char *sql, size_t len, const char *default_schema,
		    struct barge_ddl *out, struct barge_err *err)
{
	struct parser p;

	memset(out, 0, sizeof *out);
	if (len > DDL_MAX_LEN)
		return barge_err_set(err, BARGE_EDDL, "a statement of %zu bytes is over the %u-byte "
				     "limit", len, DDL_MAX_LEN);
	memset(&p, 0, sizeof p);
	p.lx.s = sql;
	p.lx.len = len;
	p.default_schema = default_schema;
	p.d = out;
	p.err = err;
	advance(&p);
	if (accept(&p, "CREATE")) {
		/* CREATE DEFINER=... is a view, trigger, routine or event */
		if (is_word(&p, "DEFINER") || is_word(&p, "ALGORITHM") || is_word(&p, "SQL"))
			skip(&p, "views, triggers, routines and events are not replayed");
		else
			parse_create(&p);
	} else if (accept(&p, "DROP")) {
		parse_drop(&p);
	} else if (accept(&p, "ALTER")) {
		if (is_word(&p, "DEFINER") || is_word(&p, "ALGORITHM") || is_word(&p, "SQL") ||
		    is_word(&p, "VIEW") || is_word(&p, "EVENT") || is_word(&p, "PROCEDURE") ||
		    is_word(&p, "FUNCTION") || is_word(&p, "USER") || is_word(&p, "SERVER"))
			skip(&p, "views, routines, events, users and servers are not replayed");
		else
			parse_alter(&p);
	} else if (accept(&p, "TRUNCATE")) {
		accept(&p, "TABLE");
		out->kind = BARGE_DDL_TRUNCATE_TABLE;
		out->event = BARGE_EV_TRUNCATE_TABLE;
		parse_name(&p, true);
	} else if (accept(&p, "RENAME")) {
		parse_rename(&p);
	} else if (is_word(&p, "GRANT") || is_word(&p, "REVOKE") || is_word(&p, "FLUSH") ||
		   is_word(&p, "ANALYZE") || is_word(&p, "OPTIMIZE") || is_word(&p, "REPAIR") ||
		   is_word(&p, "CHECK") || is_word(&p, "XA") || is_word(&p, "SAVEPOINT") ||
		   is_word(&p, "INSTALL") || is_word(&p, "UNINSTALL")) {
		skip(&p, "administrative statements are not replayed");
	} else {
		out->kind = BARGE_DDL_NONE; /* BEGIN, COMMIT, SET, statement-format DML */
	}
	/* read to the end, so that a broken quote or comment anywhere is seen */
	while (p.rc == 0 && out->kind > BARGE_DDL_SKIP && p.cur.kind != T_END && !p.lx.bad)
		advance(&p);
	if (p.lx.bad && p.rc == 0 && out->kind > BARGE_DDL_SKIP)
		p.rc = barge_err_set(err, BARGE_EDDL, "unbalanced quotes or comment");
	if (p.rc) {
		barge_ddl_dispose(out);
		return p.rc;
	}
	return 0;
}

void barge_ddl_dispose(struct barge_ddl *d)
{
	for (size_t i = 0; i < d->n_names; i++) {
		free(d->names[i].schema);
		free(d->names[i].table);
	}
	free(d->names);
	memset(d, 0, sizeof *d);
}

int barge_ddl_rewrite(const struct barge_ddl *d, const char *sql, size_t len,
		      barge_ddl_route_fn route, void *user, struct barge_buf *out,
		      struct barge_err *err)
{
	size_t at = 0;
	bool add_if = !d->has_if && (d->kind == BARGE_DDL_CREATE_DATABASE ||
				     d->kind == BARGE_DDL_DROP_DATABASE ||
				     d->kind == BARGE_DDL_CREATE_TABLE || d->kind == BARGE_DDL_DROP_TABLE);

	for (size_t i = 0; i < d->n_names; i++) {
		const struct barge_ddl_name *n = &d->names[i];
		char *ts = NULL, *tt = NULL;
		int rc;

		if (add_if && d->if_at <= n->start && d->if_at >= at) {
			barge_buf_append(out, sql + at, d->if_at - at);
			barge_buf_puts(out, d->kind == BARGE_DDL_CREATE_DATABASE ||
						    d->kind == BARGE_DDL_CREATE_TABLE
					    ? "IF NOT EXISTS "
					    : "IF EXISTS ");
			at = d->if_at;
			add_if = false;
		}
		rc = route(user, n->schema, n->table, &ts, &tt, err);
		if (rc)
			return rc;
		barge_buf_append(out, sql + at, n->start - at);
		if (n->table)
			barge_buf_append_qname(out, ts, tt);
		else
			barge_buf_append_ident(out, ts);
		free(ts);
		free(tt);
		at = n->end;
	}
	return barge_buf_append(out, sql + at, len - at);
}

const char *barge_ddl_kind_name(enum barge_ddl_kind kind)
{
	switch (kind) {
	case BARGE_DDL_NONE: return "not DDL";
	case BARGE_DDL_SKIP: return "skipped";
	case BARGE_DDL_CREATE_DATABASE: return "create database";
	case BARGE_DDL_DROP_DATABASE: return "drop database";
	case BARGE_DDL_ALTER_DATABASE: return "alter database";
	case BARGE_DDL_CREATE_TABLE: return "create table";
	case BARGE_DDL_ALTER_TABLE: return "alter table";
	case BARGE_DDL_DROP_TABLE: return "drop table";
	case BARGE_DDL_TRUNCATE_TABLE: return "truncate table";
	case BARGE_DDL_RENAME_TABLE: return "rename table";
	case BARGE_DDL_CREATE_INDEX: return "create index";
	case BARGE_DDL_DROP_INDEX: return "drop index";
	}
	return "?";
}
