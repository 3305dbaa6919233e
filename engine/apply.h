/*
 * apply.h — row changes from the binlog as statements for the target.
 *
 * A struct barge_apply_table holds what writing a table's rows needs, read from the target's
 * own information_schema (the target table mirrors the source's, DDL included, so it is also
 * the schema the binlog's row images follow): column names, which are unsigned, generated or
 * JSON, their character sets, the key rows are found by (the primary key, else the first
 * not-null unique key, else every column), and every unique key (for ordering changes).
 *
 * barge_apply_sql() writes one row change:
 *             normal                              safe mode (idempotent)
 *   insert    INSERT INTO t (cols) VALUES (...)   REPLACE INTO t (cols) VALUES (...)
 *   update    UPDATE t SET cols WHERE key         DELETE FROM t WHERE old key (when the key
 *                                                 changed); REPLACE INTO t VALUES (new row)
 *   delete    DELETE FROM t WHERE key             the same
 * Tables without a key match on every column with <=> and LIMIT 1.  Generated columns are never
 * written.  A DELETE by key is written `DELETE FROM t WHERE key IN (value)` (a key of several
 * columns: `(k1, k2) IN ((v1, v2))`), so that it has the same shape as an INSERT: a head, one
 * tuple and a tail, which engine/merge.c can join with others of the same head.
 */
#ifndef BARGE_ENGINE_APPLY_H
#define BARGE_ENGINE_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/binlog.h"
#include "engine/buf.h"
#include "engine/db.h"
#include "engine/rowimage.h"

struct barge_apply_col {
	char *name;
	char *charset;   /* NULL for binary and non-string columns */
	bool is_unsigned;
	bool generated;
	bool json;
};

struct barge_apply_table {
	char *schema, *table; /* target names */
	size_t ncols;
	struct barge_apply_col *cols;
	size_t *key;          /* the row's identity; n_key 0 = keyless */
	size_t n_key;
	size_t **uniques;     /* every unique key (the key included) */
	size_t *unique_len;
	size_t n_uniques;
	bool json_text;       /* the target stores JSON as text (MariaDB) */
};

/* Read a target table's facts.  BARGE_ETGT_QUERY when the table does not exist. */
int barge_apply_table_load(struct barge_db *tgt, const char *schema, const char *table,
			   struct barge_apply_table **out, struct barge_err *err);
void barge_apply_table_free(struct barge_apply_table *t);

/*
 * A statement that is `head tuple tail`: statements whose heads are the same bytes can be
 * written as one, `head tuple1, tuple2, ... tail` (a multi-row INSERT or REPLACE, a DELETE of
 * several keys).  head 0: the statement cannot be joined with others (an UPDATE, a keyless
 * table's DELETE).  Lengths in bytes from the statement's start and back from its end.
 */
struct barge_apply_shape {
	uint32_t head;
	uint32_t tail;
};

/*
 * Append the statement(s) for one row change, each followed by ";".  kind 'i', 'u' or 'd';
 * map is the event's table map (its signedness wins over the target's when present).  *split
 * (may be NULL) is where a second statement starts in sql, or 0 when there is one (only a
 * safe-mode update that changes the key writes two).  shapes (may be NULL) gets each
 * statement's shape, in order.
 * BARGE_EDDL when the row images do not have the table's columns (the schemas diverged).
 */
int barge_apply_sql(struct barge_buf *sql, const struct barge_apply_table *t,
		    const struct barge_tablemap *map, char kind, bool safe,
		    const struct barge_value *before, const struct barge_value *after,
		    size_t *split, struct barge_apply_shape shapes[2], struct barge_err *err);

/*
 * Hashes identifying the rows a change touches (its key and unique keys, old and new values),
 * for ordering changes across workers.  keys[0] is the one the change is routed by.  Returns
 * how many were written (at most max).
 */
size_t barge_apply_keys(const struct barge_apply_table *t, char kind,
			const struct barge_value *before, const struct barge_value *after,
			uint64_t *keys, size_t max);

#endif
