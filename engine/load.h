/*
 * load.h — writing one chunk into the target as it is read from the source.
 *
 * A chunk is streamed with LOAD DATA LOCAL INFILE whose "file" is a callback: it pulls rows from
 * the source result set (mysql_use_result, so one row at a time is in memory) and formats them
 * as tab-separated lines.  No intermediate file, and memory bounded by the largest row.  The
 * chunk's rows and its checkpoint are committed in one transaction.  bench/README.md has the
 * numbers behind this choice over multi-row INSERTs.
 *
 * Duplicate keys follow onDuplicate: `replace` loads with REPLACE, `ignore` with IGNORE, and
 * `error` fails the chunk (and the job) with BARGE_EDUP_KEY when any row was skipped.  Any other
 * warning means a value did not arrive exactly, and fails the chunk with the warning's text.
 */
#ifndef BARGE_ENGINE_LOAD_H
#define BARGE_ENGINE_LOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/checkpoint.h"
#include "engine/db.h"
#include "engine/dump.h"
#include "engine/job.h"

struct barge_load_chunk {
	const struct barge_table_info *table;
	const char *job, *meta;
	uint32_t chunk;
	const char *lower, *upper;       /* the chunk's bounds (keyed tables) */
	const struct barge_position *snap; /* the reader's snapshot */
	enum barge_on_duplicate on_duplicate;
	bool tidb;                       /* target is TiDB: utf8mb4 text, no CHARACTER SET */
	uint64_t commit_rows;            /* keyless tables: commit every this many rows */
	_Atomic uint64_t *rows_done;     /* live progress counters (may be NULL) */
	_Atomic uint64_t *bytes_done;
	const atomic_bool *stop;         /* set to abandon the chunk (rolled back) */
};

/*
 * Copy one chunk from the reader src (inside its snapshot transaction) into tgt, commit it with
 * its checkpoint.  Returns 0 with *rows / *bytes copied, or an error (nothing of the chunk is
 * committed, except for keyless tables whose earlier batches are — they are recopied whole).
 */
int barge_load_chunk(struct barge_db *src, struct barge_db *tgt,
		     const struct barge_load_chunk *c, uint64_t *rows, uint64_t *bytes,
		     struct barge_err *err);

/* The LOAD DATA statement for table t (exposed for tests). */
int barge_load_sql(struct barge_buf *b, const struct barge_table_info *t,
		   enum barge_on_duplicate on_dup, bool tidb);

/* Append one field escaped for LOAD DATA (NULL as \N). */
void barge_load_escape(struct barge_buf *b, const char *v, unsigned long len);

#endif
