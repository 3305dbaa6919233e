/*
 * worker.h — runs one job: precheck, then the full phase (snapshot, chunked parallel copy), then
 * the incremental phase (binlog stream, decode, filter/route, apply), in threads of its own.
 *
 * The worker is the data path; it knows nothing of job files or the store.  The reconciler
 * (reconcile.c) starts one per running job, polls its status, records it in the store, posts
 * webhooks, and stops it when the job is paused, restarted or deleted.  `barge run --once`
 * drives the same API.
 *
 * Everything a worker must remember across crashes lives in the target's meta schema (the
 * checkpoints, written in the same transaction as the rows they cover), so a worker can be
 * started again at any time after any kind of stop and carries on where the data says.
 *
 * Threading: every function may be called from any one controlling thread.  Status snapshots
 * are copies; the worker never calls back into its owner.
 */
#ifndef BARGE_ENGINE_WORKER_H
#define BARGE_ENGINE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/error.h"
#include "engine/job.h"

/* A job's stage (the seed's "Stage and Status").  Allowed transitions: plan.c's table. */
enum barge_stage {
	BARGE_STAGE_NEW,
	BARGE_STAGE_PRECHECKING,
	BARGE_STAGE_DUMPING,  /* taking the snapshot and creating the schema on the target */
	BARGE_STAGE_LOADING,  /* copying rows (read and written in one stream) */
	BARGE_STAGE_SYNCING,  /* following the binlog */
	BARGE_STAGE_PAUSED,
	BARGE_STAGE_FAILED,
	BARGE_STAGE_FINISHED, /* a full-only job is done */
	BARGE_STAGE_DELETED,
};

/* "New", "Prechecking", ... as shown to users. */
const char *barge_stage_name(enum barge_stage stage);
/* The stage for a name (case-insensitive); -1 when unknown. */
int barge_stage_parse(const char *name);

struct barge_table_progress {
	char *schema, *table;      /* source names */
	uint64_t rows_done;        /* rows copied so far */
	uint64_t rows_estimated;   /* from the source's statistics; 0 when unknown */
	uint64_t bytes_done;
	uint32_t chunks_done, chunks_total;
	bool finished;
};

struct barge_position {
	char binlog_name[256]; /* "" when unknown */
	uint64_t binlog_pos;
	char *gtid_set;        /* heap; NULL when unknown */
};

struct barge_worker_status {
	enum barge_stage stage;

	/* full phase */
	uint64_t rows_done, rows_estimated, bytes_done;
	double rows_per_sec, bytes_per_sec; /* over the last few seconds */
	int64_t eta_seconds;                /* -1 when unknown */
	struct barge_table_progress *tables;
	size_t n_tables;

	/* incremental phase */
	struct barge_position applied;    /* the last transaction committed on the target */
	struct barge_position source_head; /* the source's newest binlog position, when known */
	int64_t lag_seconds;              /* -1 when unknown */
	uint64_t lag_bytes;               /* binlog bytes between applied and source_head */
	bool safe_mode;
	uint64_t events_applied, transactions_applied;

	/* the last error (code 0 when none) with where it happened */
	struct barge_err last_error;
	char *last_error_sql;      /* heap; the failing statement, secrets never included */
	struct barge_position last_error_position;
	bool running;              /* threads still alive */
	bool prechecked;           /* the precheck passed, or was not asked for */
};

struct barge_worker_opts {
	/* Directory of the job file: relative TLS and ${file:...} paths resolve against it. */
	const char *base_dir;
	/*
	 * The seed's Restart: replace target rows that conflict with the source's instead of
	 * stopping on a duplicate key, until the position where the job last failed is passed.
	 */
	bool replace_conflicts;
	/*
	 * "FILE:POS" of a DDL statement that stopped the job: skip it (the user applied an
	 * equivalent change by hand).  NULL for none.
	 */
	const char *skip_ddl_at;
	/* Skip the automatic precheck (it ran already, e.g. barge check just before). */
	bool skip_precheck;
};

struct barge_worker;

/*
 * Start running job (copied; the caller keeps its own).  Returns 0 and sets *out, or an error
 * when the worker could not even start (its threads are not running then).  Errors met while
 * running are reported through barge_worker_status(), never returned here.
 */
int barge_worker_start(const struct barge_job *job, const struct barge_worker_opts *opts,
		       struct barge_worker **out, struct barge_err *err);

/* Ask the worker to stop at the next safe point (checkpoints flushed); returns at once. */
void barge_worker_request_stop(struct barge_worker *w);

/* Wait up to timeout_ms (-1 = forever) for the worker's threads to end.  true when they have. */
bool barge_worker_wait(struct barge_worker *w, int timeout_ms);

/* A copy of the worker's status; release with barge_worker_status_dispose. */
void barge_worker_status_get(struct barge_worker *w, struct barge_worker_status *out);
void barge_worker_status_dispose(struct barge_worker_status *st);

/* Stop (if running), wait, and free.  Accepts NULL. */
void barge_worker_free(struct barge_worker *w);

#endif
