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
 * written.  So that engine/merge.c can join statements of many rows into one, a row is found by
 * `key IN (value)` (a key of several columns: `(k1, k2) IN ((v1, v2))`), and an UPDATE by key
 * sets `col = CASE key WHEN value THEN new END` (see struct barge_apply_shape).
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
 * A statement that can be joined with others is fixed parts and slots, F0 S0 F1 S1 ... Fn Sn
 * F(n+1).  Statements whose fixed parts are the same bytes are written as one: each fixed part
 * once, and in each slot every statement's slot in turn, the last slot's joined by ", ", the
 * others' by nothing.  An INSERT or REPLACE has one slot, its row `(v1, v2)`; a DELETE by key
 * one, the key's value; an UPDATE by key one per column it sets, ` WHEN key THEN value` inside
 * `col = CASE ... END`, and a last one, the key's value in `WHERE key IN (...)`.
 * An UPDATE that changes the key, a JSON partial update, and a keyless table's UPDATE and
 * DELETE (one row by every column) cannot be joined.
 */
struct barge_apply_cuts {
	uint32_t *v;     /* two per slot: its start and end, counted from the statement's start */
	size_t n, cap;
};

struct barge_apply_shape {
	uint32_t from, to; /* its slots' bounds: cuts->v[from..to); from == to: cannot be joined */
	bool strict;       /* no other statement it is joined with may touch its rows */
};

/*
 * Append the statement(s) for one row change, each followed by ";".  kind 'i', 'u' or 'd';
 * map is the event's table map (its signedness wins over the target's when present).  *split
 * (may be NULL) is where a second statement starts in sql, or 0 when there is one (only a
 * safe-mode update that changes the key writes two).  shapes (may be NULL, then cuts too)
 * gets each statement's shape, in order, its slots' bounds appended to cuts.
 * BARGE_EDDL when the row images do not have the table's columns (the schemas diverged).
 */
int barge_apply_sql(struct barge_buf *sql, const struct barge_apply_table *t,
		    const struct barge_tablemap *map, char kind, bool safe,
		    const struct barge_value *before, const struct barge_value *after,
		    size_t *split, struct barge_apply_shape shapes[2], struct barge_apply_cuts *cuts,
		    struct barge_err *err);
void barge_apply_cuts_dispose(struct barge_apply_cuts *cuts);

/*
 * Hashes identifying the rows a change touches (its key and unique keys, old and new values),
 * for ordering changes across workers.  keys[0] is the one the change is routed by.  Returns
 * how many were written (at most max).
 */
size_t barge_apply_keys(const struct barge_apply_table *t, char kind,
			const struct barge_value *before, const struct barge_value *after,
			uint64_t *keys, size_t max);

#endif
