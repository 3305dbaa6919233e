/*
 * dialect.c — definitions for the target (see dialect.h and docs/dialect.md).
 */
#include "engine/dialect.h"

#include <stdlib.h>
#include <string.h>

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

/* Replace "PREFIX `name`" at the start of sql with "PREFIX IF NOT EXISTS `schema`[.`table`]". */
static int rename_head(const char *sql, const char *prefix, const char *to_schema,
		       const char *to_table, struct barge_buf *out, struct barge_err *err)
{
	size_t plen = strlen(prefix);
	const char *rest;

	if (strncmp(sql, prefix, plen) != 0 || !(rest = skip_quoted(sql + plen)))
		return barge_err_set(err, BARGE_EDDL, "cannot read the definition \"%.80s\"", sql);
	barge_buf_puts(out, prefix);
	barge_buf_puts(out, "IF NOT EXISTS ");
	if (to_table)
		barge_buf_append_qname(out, to_schema, to_table);
	else
		barge_buf_append_ident(out, to_schema);
	return barge_buf_puts(out, rest);
}

int barge_dialect_create_table(const struct barge_dialect_ctx *ctx, const char *create_sql,
			       const char *to_schema, const char *to_table, struct barge_buf *out,
			       struct barge_dialect_warnings *warnings, struct barge_err *err)
{
	(void)ctx;
	(void)warnings;
	return rename_head(create_sql, "CREATE TABLE ", to_schema, to_table, out, err);
}

int barge_dialect_create_database(const struct barge_dialect_ctx *ctx, const char *create_sql,
				  const char *to_schema, struct barge_buf *out,
				  struct barge_dialect_warnings *warnings, struct barge_err *err)
{
	(void)ctx;
	(void)warnings;
	return rename_head(create_sql, "CREATE DATABASE ", to_schema, NULL, out, err);
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
