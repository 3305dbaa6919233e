/*
 * dialect.h — adapting the source's definitions to the target.
 *
 * barge_dialect_create_table() turns a source `SHOW CREATE TABLE` into the statement run on the
 * target: the routed name, IF NOT EXISTS, and for `dialect: tidb` the rewrites TiDB needs (see
 * docs/dialect.md).  Warnings name what changed; errors name what TiDB cannot take.
 */
#ifndef BARGE_ENGINE_DIALECT_H
#define BARGE_ENGINE_DIALECT_H

#include <stddef.h>

#include "engine/buf.h"
#include "engine/error.h"
#include "engine/job.h"

struct barge_dialect_ctx {
	enum barge_dialect dialect;
	const char *target_version; /* SELECT VERSION() of the target ("8.0.11-TiDB-v7.5.1") */
	/*
	 * SELECT VERSION() of the source, or NULL.  Only used to know which collation a bare
	 * CHARSET=utf8mb4 means there: utf8mb4_0900_ai_ci on MySQL 8.0+, utf8mb4_general_ci on
	 * MySQL 5.7 and MariaDB (the assumption when NULL).
	 */
	const char *source_version;
};

/* Warnings collected while rewriting (heap strings, each naming the table and what changed). */
struct barge_dialect_warnings {
	char **items;
	size_t count;
};

void barge_dialect_warnings_dispose(struct barge_dialect_warnings *w);

/*
 * Rewrite create_sql (a SHOW CREATE TABLE answer) to create to_schema.to_table on the target if
 * it does not exist.  Appends the statement to out and, for BARGE_DIALECT_TIDB, one warning per
 * change to warnings (the caller disposes of them).  Returns 0, or BARGE_EDDL when the statement
 * cannot be understood or the target cannot take it (err names the table and the construct);
 * on failure neither out nor warnings are changed.
 */
int barge_dialect_create_table(const struct barge_dialect_ctx *ctx, const char *create_sql,
			       const char *to_schema, const char *to_table, struct barge_buf *out,
			       struct barge_dialect_warnings *warnings, struct barge_err *err);

/* Same for a SHOW CREATE DATABASE answer. */
int barge_dialect_create_database(const struct barge_dialect_ctx *ctx, const char *create_sql,
				  const char *to_schema, struct barge_buf *out,
				  struct barge_dialect_warnings *warnings, struct barge_err *err);

/*
 * Split the plain secondary indexes (KEY, FULLTEXT KEY, SPATIAL KEY lines) out of a CREATE TABLE
 * as SHOW CREATE TABLE prints it, so that they can be built once the rows are in: loading into a
 * table with only its primary and unique keys, then adding the rest, is much faster.  Appends
 * the table without them to table_sql and one clause per line ("KEY `k` (`c`)") to clauses.
 * Tables with foreign keys keep every index (a foreign key needs its index from the start).
 * Returns the number of clauses split out.
 */
size_t barge_dialect_split_indexes(const char *create_sql, struct barge_buf *table_sql,
				   struct barge_buf *clauses);

#endif
