/*
 * checkpoint.h — barge's progress, kept in the target next to the data it describes.
 *
 * The tables (schemas/checkpoint.sql) live in the job's meta schema on the target.  Writers add
 * their checkpoint statements to the same transaction as the rows they cover (the *_sql
 * functions append those statements to a buffer), so the data and the checkpoint can never
 * disagree, whenever the process dies.  docs/checkpoints.md gives the semantics:
 *
 *   jobs       one row per job: full phase done?, the incremental start, the safe-mode exit
 *   tables     one row per source table: keyless?, done?, the first and last snapshot
 *              positions its chunks were read at
 *   chunks     one row per key range of the full phase: its bounds, done?, rows, snapshot
 *   positions  one row per incremental apply worker: its last committed transaction
 */
#ifndef BARGE_ENGINE_CHECKPOINT_H
#define BARGE_ENGINE_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/db.h"
#include "engine/worker.h"

/* The DDL of schemas/checkpoint.sql with {meta} in place (a static string). */
const char *barge_ckpt_ddl(void);

/* Order two binlog positions of one server: <0, 0, >0.  An empty file name sorts first. */
int barge_position_cmp(const struct barge_position *a, const struct barge_position *b);
void barge_position_set(struct barge_position *p, const char *file, uint64_t pos,
			const char *gtid);
void barge_position_copy(struct barge_position *dst, const struct barge_position *src);
void barge_position_dispose(struct barge_position *p);
/* "mysql-bin.000003:4711" into out. */
void barge_position_format(const struct barge_position *p, char *out, size_t n);

/* Create the meta schema and its tables if missing.  Idempotent. */
int barge_ckpt_init(struct barge_db *tgt, const char *meta, struct barge_err *err);

struct barge_ckpt_job {
	bool exists;
	bool full_done;
	char method[32];
	struct barge_position start;     /* incremental start (full_done or mode incremental) */
	struct barge_position safe_exit; /* empty when none */
	bool running;                    /* an incremental run did not stop cleanly */
};

int barge_ckpt_job_load(struct barge_db *tgt, const char *meta, const char *job,
			struct barge_ckpt_job *out, struct barge_err *err);
void barge_ckpt_job_dispose(struct barge_ckpt_job *j);
/* Insert the job's row if it is missing (autocommit). */
int barge_ckpt_job_begin(struct barge_db *tgt, const char *meta, const char *job,
			 struct barge_err *err);
/*
 * Mark the full phase done: the incremental start becomes the earliest first_* position of the
 * job's tables (or the given fallback when there are no tables).  One transaction.
 */
int barge_ckpt_full_done(struct barge_db *tgt, const char *meta, const char *job,
			 const char *method, const struct barge_position *fallback,
			 struct barge_err *err);
/* Set (or clear, when p is NULL) the job's safe-mode exit position (autocommit). */
int barge_ckpt_set_safe_exit(struct barge_db *tgt, const char *meta, const char *job,
			     const struct barge_position *p, struct barge_err *err);
/* Mark an incremental run as under way (set at its start, cleared by a clean stop). */
int barge_ckpt_set_running(struct barge_db *tgt, const char *meta, const char *job, bool running,
			   struct barge_err *err);
/* Set the incremental start (mode incremental, first run). */
int barge_ckpt_set_start(struct barge_db *tgt, const char *meta, const char *job,
			 const struct barge_position *p, struct barge_err *err);

struct barge_ckpt_table {
	char *src_schema, *src_table, *tgt_schema, *tgt_table;
	bool keyless, done;
	uint64_t rows_copied;
	struct barge_position first, last;
	char *deferred_indexes; /* ALTER TABLE clauses to run once copied; NULL when none */
};

struct barge_ckpt_chunk {
	char *src_schema, *src_table;
	uint32_t chunk;
	char *lower, *upper; /* encoded keys (see dump.h); NULL = open end */
	bool done;
	uint64_t rows, bytes;
};

/* Every table row of the job (*out, *n; free with barge_ckpt_tables_free). */
int barge_ckpt_tables_load(struct barge_db *tgt, const char *meta, const char *job,
			   struct barge_ckpt_table **out, size_t *n, struct barge_err *err);
void barge_ckpt_tables_free(struct barge_ckpt_table *t, size_t n);
/* Every chunk row of the job, ordered by table and chunk. */
int barge_ckpt_chunks_load(struct barge_db *tgt, const char *meta, const char *job,
			   struct barge_ckpt_chunk **out, size_t *n, struct barge_err *err);
void barge_ckpt_chunks_free(struct barge_ckpt_chunk *c, size_t n);

/* Record a table (insert if missing; autocommit). */
int barge_ckpt_table_begin(struct barge_db *tgt, const char *meta, const char *job,
			   const char *src_schema, const char *src_table, const char *tgt_schema,
			   const char *tgt_table, bool keyless, struct barge_err *err);
/* Forget a table's chunks and progress (a keyless table about to be recopied whole). */
int barge_ckpt_table_reset(struct barge_db *tgt, const char *meta, const char *job,
			   const char *src_schema, const char *src_table, struct barge_err *err);
/* Record a planned chunk (autocommit; idempotent). */
int barge_ckpt_chunk_plan(struct barge_db *tgt, const char *meta, const char *job,
			  const char *src_schema, const char *src_table, uint32_t chunk,
			  const char *lower, const char *upper, struct barge_err *err);

/*
 * Append to sql the statements that record `rows` more rows of a chunk copied at snapshot
 * snap (done: the chunk is finished), separated by ";\n".  Run them in the transaction that
 * wrote the rows.
 */
int barge_ckpt_chunk_progress_sql(struct barge_buf *sql, struct barge_db *tgt, const char *meta,
				  const char *job, const char *src_schema, const char *src_table,
				  uint32_t chunk, uint64_t rows, uint64_t bytes, bool done,
				  const struct barge_position *snap);
/* Record the secondary-index clauses to add to a table's target once it is copied. */
int barge_ckpt_table_defer_indexes(struct barge_db *tgt, const char *meta, const char *job,
				   const char *src_schema, const char *src_table,
				   const char *clauses, struct barge_err *err);
/* Mark a table done (autocommit). */
int barge_ckpt_table_done(struct barge_db *tgt, const char *meta, const char *job,
			  const char *src_schema, const char *src_table, struct barge_err *err);

/* Positions of the incremental phase: one row per worker. */
int barge_ckpt_positions_load(struct barge_db *tgt, const char *meta, const char *job,
			      struct barge_position **out, size_t *n, struct barge_err *err);
/* Append the statement recording worker's position to sql (run it in the worker's txn). */
int barge_ckpt_position_sql(struct barge_buf *sql, struct barge_db *tgt, const char *meta,
			    const char *job, unsigned worker, const struct barge_position *p);

/* Remove every checkpoint row of a job (delete). */
int barge_ckpt_forget_job(struct barge_db *tgt, const char *meta, const char *job,
			  struct barge_err *err);

/* Append a string literal escaped for db's connection (NULL becomes NULL). */
int barge_ckpt_append_str(struct barge_buf *b, struct barge_db *db, const char *s);

#endif
