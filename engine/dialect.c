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
