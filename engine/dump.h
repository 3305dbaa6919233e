/*
 * dump.h — what the full phase reads from the source: the selected tables with their columns
 * and copy key, the key ranges (chunks) they are split into, and the SELECT for one chunk.
 *
 * A table's copy key is its primary key, else its shortest unique key whose columns are all
 * NOT NULL (and not prefixes).  Tables with such a key over integer, decimal, string, binary or
 * temporal columns are split into chunks of about `chunkRows` rows by walking the key in order;
 * tables with a key of other types are copied as one chunk; tables without a key ("keyless")
 * are copied whole in one stream, committed every `chunkRows` rows.
 *
 * Chunk bounds are stored in the checkpoints as encoded keys: a JSON array with one hex string
 * per key column holding the value's bytes exactly as the source returned them, so a bound
 * means the same thing after any restart.  Chunks are (lower, upper]: lower exclusive (NULL =
 * from the start), upper inclusive (NULL = to the end).
 */
#ifndef BARGE_ENGINE_DUMP_H
#define BARGE_ENGINE_DUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/db.h"
#include "rules/rules.h"

enum barge_colkind {
	BARGE_COL_INT,      /* tinyint ... bigint, signed or not */
	BARGE_COL_DECIMAL,
	BARGE_COL_FLOAT,    /* read as a double: the text of a FLOAT may not round-trip */
	BARGE_COL_DOUBLE,
	BARGE_COL_BIT,
	BARGE_COL_YEAR,
	BARGE_COL_TEMPORAL, /* date, time, datetime, timestamp */
	BARGE_COL_STRING,   /* char, varchar, text types with a character set */
	BARGE_COL_BINARY,   /* binary, varbinary, blob types */
	BARGE_COL_ENUM,
	BARGE_COL_SET,
	BARGE_COL_JSON,
	BARGE_COL_GEOMETRY,
	BARGE_COL_OTHER,
};

struct barge_column {
	char *name;
	char *data_type;   /* information_schema DATA_TYPE: "int", "varchar", ... */
	char *column_type; /* COLUMN_TYPE: "int(10) unsigned" */
	char *charset;     /* NULL for non-character columns */
	enum barge_colkind kind;
	bool nullable;
	bool generated;    /* virtual or stored generated: never written */
};

struct barge_table_info {
	char *schema, *name;       /* source */
	char *to_schema, *to_name; /* target, after routes */
	struct barge_column *cols;
	size_t n_cols;
	size_t *key;               /* indexes into cols */
	size_t n_key;
	bool keyless;              /* no usable key: copied whole, recopied after a crash */
	bool chunkable;            /* the key's types allow range chunks */
	uint64_t rows_estimated;
	uint64_t bytes_estimated;
};

/*
 * The tables of src that rules select, with routes applied, sorted by schema and name.
 * Returns 0 and sets *out / *n (free with barge_tables_free), or an error (a route conflict is
 * BARGE_ERULES naming the table).
 */
int barge_dump_list_tables(struct barge_db *src, const struct barge_rules *rules,
			   struct barge_table_info **out, size_t *n, struct barge_err *err);
void barge_tables_free(struct barge_table_info *t, size_t n);

/* The table's copied columns as a list of quoted names: `a`, `b` (generated ones left out). */
int barge_dump_column_list(struct barge_buf *b, const struct barge_table_info *t);

/*
 * SELECT of every copied column of t for the chunk (lower, upper] (NULL = open end), in key
 * order when ordered.  Values come back as the source stores them, except FLOAT, read as a
 * DOUBLE so its text round-trips.
 */
int barge_dump_select_sql(struct barge_buf *b, const struct barge_table_info *t,
			  const char *lower, const char *upper, bool ordered, struct barge_err *err);

/*
 * The upper bound of the chunk that starts after lower and holds chunk_rows rows: *upper is an
 * encoded key (caller frees), or NULL when fewer rows remain (the chunk runs to the end).
 */
int barge_dump_next_bound(struct barge_db *src, const struct barge_table_info *t,
			  const char *lower, uint64_t chunk_rows, char **upper,
			  struct barge_err *err);

/* Encode a row's key columns (raw values and lengths, in key order) as a bound. */
char *barge_key_encode(const char *const *values, const unsigned long *lengths, size_t n);

#endif
