/*
 * worker.c — one job's data path: precheck, full phase, incremental phase (see worker.h).
 *
 * The worker's own thread runs the phases in order.  The full phase fans out to `threads` copy
 * threads, each with one snapshot reader and one target connection; they share a queue of
 * chunks fed by per-table planners that walk each table's key lazily, so copying starts at once
 * and planning costs one index pass in all.  Everything that must survive a crash is written to
 * the target's checkpoint tables in the transaction of the rows it describes; this file keeps
 * only what status shows.
 */
#include "engine/worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "engine/buf.h"
#include "engine/checkpoint.h"
#include "engine/db.h"
#include "engine/dialect.h"
#include "engine/dump.h"
#include "engine/incremental.h"
#include "engine/load.h"
#include "engine/log.h"
#include "engine/precheck.h"
#include "engine/snapshot.h"
#include "rules/rules.h"

static const char *const stage_names[] = {"New",     "Prechecking", "Dumping",
					  "Loading", "Syncing",     "Paused",
					  "Failed",  "Finished",    "Deleted"};

const char *barge_stage_name(enum barge_stage stage)
{
	if ((unsigned)stage < sizeof stage_names / sizeof stage_names[0])
		return stage_names[stage];
	return "?";
}

int barge_stage_parse(const char *name)
{
	for (size_t i = 0; i < sizeof stage_names / sizeof stage_names[0]; i++)
		if (strcasecmp(name, stage_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- state ---- */

struct table_run {
	struct barge_table_info *info; /* points into worker.tables */
	_Atomic uint64_t rows_done, bytes_done;
	uint64_t rows_before;          /* copied in earlier runs */
	/* planning (under worker.qlock) */
	bool planning_done;            /* every chunk of the table is planned */
	bool planning_busy;            /* a copy thread is finding the next bound */
	char *next_lower;              /* lower bound of the next chunk to plan */
	uint32_t next_chunk;
	uint32_t chunks_planned, chunks_done;
	bool finished;
	char *deferred;                /* index clauses to add once copied (one per line) */
};

struct chunk_item {
	size_t table;
	uint32_t chunk;
	char *lower, *upper;
	struct chunk_item *next;
};

struct barge_worker {
	struct barge_job *job;
	char *base_dir;
	char *skip_ddl;
	struct barge_worker_opts opts;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool running;

	pthread_mutex_t lock; /* guards st and the rate samples */
	struct barge_worker_status st;
	double rate_t, rate_rows, rate_bytes; /* last sample */

	/* full phase */
	struct barge_table_info *tables;
	size_t n_tables;
	struct table_run *runs;
	pthread_mutex_t qlock; /* guards the queue, planners and the first error */
	pthread_cond_t qcond;
	struct chunk_item *queue;
	size_t busy_threads;
	struct barge_err copy_err;
	struct barge_snapshot snap;
	struct barge_rules *rules;
};

static void set_stage(struct barge_worker *w, enum barge_stage stage)
{
	pthread_mutex_lock(&w->lock);
	if (w->st.stage != stage)
		barge_log(BARGE_LOG_INFO, w->job->name, "stage %s -> %s",
			  barge_stage_name(w->st.stage), barge_stage_name(stage));
	w->st.stage = stage;
	pthread_mutex_unlock(&w->lock);
}

static void set_error(struct barge_worker *w, const struct barge_err *err, const char *sql,
		      const struct barge_position *pos)
{
	pthread_mutex_lock(&w->lock);
	w->st.last_error = *err;
	/* the incremental phase publishes its statement and position itself */
	if (sql || w->st.stage != BARGE_STAGE_SYNCING) {
		free(w->st.last_error_sql);
		w->st.last_error_sql = sql ? barge_xstrdup(sql) : NULL;
	}
	if (pos)
		barge_position_copy(&w->st.last_error_position, pos);
	pthread_mutex_unlock(&w->lock);
	barge_log(BARGE_LOG_ERROR, w->job->name, "%s", err->msg);
}

/* ---- full phase: planning and the chunk queue ---- */

static void queue_push(struct barge_worker *w, size_t table, uint32_t chunk, const char *lower,
		       const char *upper)
{
	struct chunk_item *it = barge_xcalloc(1, sizeof *it), **tail = &w->queue;

	it->table = table;
	it->chunk = chunk;
	it->lower = lower ? barge_xstrdup(lower) : NULL;
	it->upper = upper ? barge_xstrdup(upper) : NULL;
	while (*tail)
		tail = &(*tail)->next;
	*tail = it;
}

static void item_free(struct chunk_item *it)
{
	if (!it)
		return;
	free(it->lower);
	free(it->upper);
	free(it);
}

static bool copy_failed(struct barge_worker *w)
{
	return w->copy_err.code != 0 || atomic_load(&w->stop);
}

/*
 * Take the next chunk to copy: a queued one, or a new one planned now with this thread's reader.
 * Returns NULL when nothing is left (or the copy is stopping).  Called without qlock.
 */
static struct chunk_item *next_chunk(struct barge_worker *w, struct barge_db *reader,
				     struct barge_db *tgt, struct barge_err *err)
{
	struct chunk_item *it = NULL;

	pthread_mutex_lock(&w->qlock);
	for (;;) {
		size_t pick = SIZE_MAX;
		bool someone_planning = false;
		struct table_run *r;
		char *lower, *upper = NULL;
		uint32_t chunk;
		int rc;

		if (copy_failed(w))
			break;
		if (w->queue) {
			it = w->queue;
			w->queue = it->next;
			break;
		}
		for (size_t i = 0; i < w->n_tables; i++) {
			r = &w->runs[i];
			if (r->planning_done || r->finished)
				continue;
			if (r->planning_busy) {
				someone_planning = true;
				continue;
			}
			pick = i;
			break;
		}
		if (pick == SIZE_MAX) {
			if (!someone_planning)
				break; /* every table planned and the queue is empty */
			pthread_cond_wait(&w->qcond, &w->qlock);
			continue;
		}
		r = &w->runs[pick];
		r->planning_busy = true;
		lower = r->next_lower ? barge_xstrdup(r->next_lower) : NULL;
		chunk = r->next_chunk;
		pthread_mutex_unlock(&w->qlock);

		if (r->info->chunkable)
			rc = barge_dump_next_bound(reader, r->info, lower, w->job->full.chunk_rows,
						   &upper, err);
		else
			rc = 0; /* one chunk for the whole table */
		if (rc == 0)
			rc = barge_ckpt_chunk_plan(tgt, w->job->target.meta_schema, w->job->name,
						   r->info->schema, r->info->name, chunk, lower, upper,
						   err);

		pthread_mutex_lock(&w->qlock);
		r->planning_busy = false;
		pthread_cond_broadcast(&w->qcond);
		if (rc) {
			free(lower);
			free(upper);
			break;
		}
		r->chunks_planned++;
		r->next_chunk++;
		free(r->next_lower);
		r->next_lower = upper ? barge_xstrdup(upper) : NULL;
		if (!upper)
			r->planning_done = true;
		it = barge_xcalloc(1, sizeof *it);
		it->table = pick;
		it->chunk = chunk;
		it->lower = lower;
		it->upper = upper;
		break;
	}
	if (it)
		w->busy_threads++;
	pthread_mutex_unlock(&w->qlock);
	return it;
}

static bool same_target(const struct barge_table_info *a, const struct barge_table_info *b)
{
	return !strcmp(a->to_schema, b->to_schema) && !strcmp(a->to_name, b->to_name);
}

/* Add the clauses (one per line) whose index does not exist yet on the target table. */
static int add_deferred_indexes(struct barge_db *tgt, const struct barge_table_info *t,
				const char *clauses, struct barge_err *err)
{
	struct barge_buf q, alter;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char **have = NULL;
	size_t n_have = 0, added = 0;
	const char *p = clauses;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_init(&alter, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE "
			   "TABLE_SCHEMA = ");
	barge_buf_append_literal(&q, t->to_schema, strlen(t->to_schema));
	barge_buf_puts(&q, " AND TABLE_NAME = ");
	barge_buf_append_literal(&q, t->to_name, strlen(t->to_name));
	rc = barge_db_query(tgt, barge_buf_cstr(&q), &res, err);
	if (rc)
		goto done;
	while ((row = mysql_fetch_row(res)) != NULL) {
		have = barge_xrealloc(have, (n_have + 1) * sizeof *have);
		have[n_have++] = barge_xasprintf("`%s`", row[0]);
	}
	mysql_free_result(res);
	barge_buf_puts(&alter, "ALTER TABLE ");
	barge_buf_append_qname(&alter, t->to_schema, t->to_name);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *name = memchr(p, '`', len);
		bool exists = false;

		/* the clause's index name, as SHOW CREATE TABLE quotes it */
		for (size_t i = 0; name && i < n_have; i++)
			if (!strncmp(name, have[i], strlen(have[i])) && strlen(have[i]) <= len)
				exists = true;
		if (len && !exists) {
			barge_buf_puts(&alter, added ? ", ADD " : " ADD ");
			barge_buf_append(&alter, p, len);
			added++;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (added)
		rc = barge_db_exec(tgt, barge_buf_cstr(&alter), err);
	if (rc)
		barge_err_wrap(err, "build the secondary indexes of %s.%s", t->to_schema, t->to_name);
done:
	for (size_t i = 0; i < n_have; i++)
		free(have[i]);
	free(have);
	barge_buf_dispose(&q);
	barge_buf_dispose(&alter);
	return rc;
}

/*
 * A table's rows are all in: when every table feeding its target table is too, build the
 * target's deferred secondary indexes; then mark the table done.
 */
static int finish_table(struct barge_worker *w, struct barge_db *tgt, size_t i,
			struct barge_err *err)
{
	struct table_run *r = &w->runs[i];
	struct barge_buf clauses;
	bool last = true;
	int rc = 0;

	barge_buf_init(&clauses, BARGE_BUF_NOCAP);
	pthread_mutex_lock(&w->qlock);
	for (size_t j = 0; j < w->n_tables; j++) {
		if (!same_target(w->runs[j].info, r->info))
			continue;
		if (!w->runs[j].finished)
			last = false;
		if (w->runs[j].deferred)
			barge_buf_puts(&clauses, w->runs[j].deferred);
	}
	pthread_mutex_unlock(&w->qlock);
	if (last && clauses.len)
		rc = add_deferred_indexes(tgt, r->info, clauses.data, err);
	barge_buf_dispose(&clauses);
	if (rc == 0)
		rc = barge_ckpt_table_done(tgt, w->job->target.meta_schema, w->job->name,
					   r->info->schema, r->info->name, err);
	return rc;
}

/* A chunk finished: count it, and finish the table when it was its last. */
static int chunk_done(struct barge_worker *w, struct barge_db *tgt, const struct chunk_item *it,
		      struct barge_err *err)
{
	struct table_run *r = &w->runs[it->table];
	bool table_finished;
	int rc = 0;

	pthread_mutex_lock(&w->qlock);
	r->chunks_done++;
	table_finished = r->planning_done && r->chunks_done == r->chunks_planned && !r->finished;
	if (table_finished)
		r->finished = true;
	pthread_mutex_unlock(&w->qlock);
	if (table_finished) {
		rc = finish_table(w, tgt, it->table, err);
		if (rc == 0)
			barge_log(BARGE_LOG_INFO, w->job->name, "copied %s.%s: %llu rows",
				  r->info->schema, r->info->name,
				  (unsigned long long)(atomic_load(&r->rows_done) + r->rows_before));
	}
	return rc;
}

struct copy_thread {
	struct barge_worker *w;
	size_t index;
	pthread_t thread;
};

static void record_copy_error(struct barge_worker *w, const struct barge_err *err)
{
	pthread_mutex_lock(&w->qlock);
	if (w->copy_err.code == 0 && err->code != BARGE_ECANCELLED)
		w->copy_err = *err;
	pthread_cond_broadcast(&w->qcond);
	pthread_mutex_unlock(&w->qlock);
}

static void *copy_main(void *arg)
{
	struct copy_thread *ct = arg;
	struct barge_worker *w = ct->w;
	struct barge_db *reader = w->snap.readers[ct->index];
	struct barge_db *tgt = NULL;
	struct barge_db_opts opts = {.local_infile = true};
	struct barge_err err = {0};
	struct chunk_item *it;

	if (barge_db_connect(&w->job->target, BARGE_DB_TARGET, w->base_dir, &opts, &tgt, &err) != 0) {
		record_copy_error(w, &err);
		return NULL;
	}
	while ((it = next_chunk(w, reader, tgt, &err)) != NULL) {
		struct table_run *r = &w->runs[it->table];
		struct barge_load_chunk c = {
			.table = r->info,
			.job = w->job->name,
			.meta = w->job->target.meta_schema,
			.chunk = it->chunk,
			.lower = it->lower,
			.upper = it->upper,
			.snap = &w->snap.pos[ct->index],
			.on_duplicate = w->job->full.on_duplicate,
			.tidb = w->job->target.dialect == BARGE_DIALECT_TIDB,
			.commit_rows = w->job->full.chunk_rows,
			.rows_done = &r->rows_done,
			.bytes_done = &r->bytes_done,
			.stop = &w->stop,
		};
		uint64_t rows = 0, bytes = 0;
		int rc = barge_load_chunk(reader, tgt, &c, &rows, &bytes, &err);

		if (rc == 0)
			rc = chunk_done(w, tgt, it, &err);
		pthread_mutex_lock(&w->qlock);
		w->busy_threads--;
		pthread_cond_broadcast(&w->qcond);
		pthread_mutex_unlock(&w->qlock);
		item_free(it);
		if (rc) {
			barge_err_wrap(&err, "chunk %u", c.chunk);
			record_copy_error(w, &err);
			break;
		}
	}
	if (err.code && !copy_failed(w))
		record_copy_error(w, &err);
	barge_db_close(tgt);
	return NULL;
}

/* ---- full phase: preparation ---- */

/*
 * Create one table on the target unless it exists.  A new table starts with only its primary
 * and unique keys; its other indexes are recorded (before the table exists, so a crash cannot
 * lose them) and built once its rows are in.
 */
static int create_one_table(struct barge_worker *w, struct barge_db *tgt,
			    const struct barge_table_info *t, const char *create_sql,
			    struct barge_err *err)
{
	struct barge_buf q, table_sql, clauses;
	char *exists = NULL;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_init(&table_sql, BARGE_BUF_NOCAP);
	barge_buf_init(&clauses, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
	barge_buf_append_literal(&q, t->to_schema, strlen(t->to_schema));
	barge_buf_puts(&q, " AND TABLE_NAME = ");
	barge_buf_append_literal(&q, t->to_name, strlen(t->to_name));
	rc = barge_db_query_value(tgt, barge_buf_cstr(&q), &exists, NULL, err);
	if (rc || (exists && strcmp(exists, "0") != 0))
		goto done; /* an existing table is kept as it is */
	if (barge_dialect_split_indexes(create_sql, &table_sql, &clauses) > 0) {
		rc = barge_ckpt_table_defer_indexes(tgt, w->job->target.meta_schema, w->job->name,
						    t->schema, t->name, clauses.data, err);
		if (rc == 0)
			rc = barge_db_exec(tgt, table_sql.data, err);
	} else {
		rc = barge_db_exec(tgt, create_sql, err);
	}
done:
	free(exists);
	barge_buf_dispose(&q);
	barge_buf_dispose(&table_sql);
	barge_buf_dispose(&clauses);
	return rc;
}

/* Create the target's schemas and tables (kept when they exist). */
static int create_target_objects(struct barge_worker *w, struct barge_db *src, struct barge_db *tgt,
				 struct barge_err *err)
{
	struct barge_dialect_ctx ctx = {w->job->target.dialect, tgt->version, src->version};
	struct barge_dialect_warnings warn = {0};
	const char *last_schema = NULL;
	int rc = 0;

	for (size_t i = 0; i < w->n_tables && rc == 0; i++) {
		const struct barge_table_info *t = &w->tables[i];
		struct barge_buf q, out;
		MYSQL_RES *res = NULL;
		MYSQL_ROW row;

		barge_buf_init(&q, BARGE_BUF_NOCAP);
		barge_buf_init(&out, BARGE_BUF_NOCAP);
		if (!last_schema || strcmp(last_schema, t->schema) != 0) {
			barge_buf_puts(&q, "SHOW CREATE DATABASE ");
			barge_buf_append_ident(&q, t->schema);
			rc = barge_db_query(src, barge_buf_cstr(&q), &res, err);
			if (rc == 0 && (row = mysql_fetch_row(res)) != NULL && row[1])
				rc = barge_dialect_create_database(&ctx, row[1], t->to_schema, &out,
								   &warn, err);
			if (res)
				mysql_free_result(res);
			res = NULL;
			if (rc == 0)
				rc = barge_db_exec(tgt, barge_buf_cstr(&out), err);
			last_schema = t->schema;
			barge_buf_reset(&q);
			barge_buf_reset(&out);
		}
		/* shards merged into one table: the first one creates it */
		for (size_t j = 0; rc == 0 && j < i; j++)
			if (!strcmp(w->tables[j].to_schema, t->to_schema) &&
			    !strcmp(w->tables[j].to_name, t->to_name))
				goto next;
		if (rc == 0) {
			barge_buf_puts(&q, "SHOW CREATE TABLE ");
			barge_buf_append_qname(&q, t->schema, t->name);
			rc = barge_db_query(src, barge_buf_cstr(&q), &res, err);
		}
		if (rc == 0 && (row = mysql_fetch_row(res)) != NULL && row[1])
			rc = barge_dialect_create_table(&ctx, row[1], t->to_schema, t->to_name, &out,
							&warn, err);
		if (rc == 0)
			rc = create_one_table(w, tgt, t, barge_buf_cstr(&out), err);
		if (rc)
			barge_err_wrap(err, "create %s.%s on the target", t->to_schema, t->to_name);
next:
		if (res)
			mysql_free_result(res);
		barge_buf_dispose(&q);
		barge_buf_dispose(&out);
	}
	for (size_t i = 0; i < warn.count; i++)
		barge_log(BARGE_LOG_WARN, w->job->name, "%s", warn.items[i]);
	barge_dialect_warnings_dispose(&warn);
	return rc;
}

static bool merged_target(const struct barge_worker *w, size_t i)
{
	for (size_t j = 0; j < w->n_tables; j++)
		if (j != i && !strcmp(w->tables[j].to_schema, w->tables[i].to_schema) &&
		    !strcmp(w->tables[j].to_name, w->tables[i].to_name))
			return true;
	return false;
}

/*
 * Read the checkpoints and decide, per table, what is left: finished tables are skipped, keyed
 * tables resume with their planned-but-unfinished chunks and plan on after the last planned
 * bound, keyless tables with any progress are emptied and copied again.
 */
static int resume_plan(struct barge_worker *w, struct barge_db *tgt, struct barge_err *err)
{
	const char *meta = w->job->target.meta_schema;
	struct barge_ckpt_table *ct = NULL;
	struct barge_ckpt_chunk *cc = NULL;
	size_t n_ct = 0, n_cc = 0;
	int rc;

	rc = barge_ckpt_tables_load(tgt, meta, w->job->name, &ct, &n_ct, err);
	if (rc == 0)
		rc = barge_ckpt_chunks_load(tgt, meta, w->job->name, &cc, &n_cc, err);
	for (size_t i = 0; rc == 0 && i < w->n_tables; i++) {
		struct table_run *r = &w->runs[i];
		const struct barge_ckpt_table *rec = NULL;
		bool any_progress = false;

		for (size_t k = 0; k < n_ct; k++)
			if (!strcmp(ct[k].src_schema, r->info->schema) &&
			    !strcmp(ct[k].src_table, r->info->name))
				rec = &ct[k];
		if (rec && rec->deferred_indexes)
			r->deferred = barge_xstrdup(rec->deferred_indexes);
		if (rec && rec->done) {
			r->finished = true;
			r->planning_done = true;
			r->rows_before = rec->rows_copied;
			continue;
		}
		for (size_t k = 0; k < n_cc; k++)
			if (!strcmp(cc[k].src_schema, r->info->schema) &&
			    !strcmp(cc[k].src_table, r->info->name))
				any_progress = true;
		if (r->info->keyless && any_progress) {
			struct barge_buf q;

			if (merged_target(w, i)) {
				rc = barge_err_set(err, BARGE_EUNSUPPORTED,
						   "%s.%s has no primary or not-null unique key and is "
						   "merged with other tables into %s.%s: its partial copy "
						   "cannot be told apart from theirs, so it cannot be "
						   "resumed; empty %s.%s and restart the job",
						   r->info->schema, r->info->name, r->info->to_schema,
						   r->info->to_name, r->info->to_schema, r->info->to_name);
				break;
			}
			barge_log(BARGE_LOG_WARN, w->job->name,
				  "%s.%s has no key: its partial copy is removed and it is copied again",
				  r->info->schema, r->info->name);
			barge_buf_init(&q, BARGE_BUF_NOCAP);
			barge_buf_puts(&q, "TRUNCATE TABLE ");
			barge_buf_append_qname(&q, r->info->to_schema, r->info->to_name);
			rc = barge_db_exec(tgt, barge_buf_cstr(&q), err);
			barge_buf_dispose(&q);
			if (rc == 0)
				rc = barge_ckpt_table_reset(tgt, meta, w->job->name, r->info->schema,
							    r->info->name, err);
			continue;
		}
		r->rows_before = rec ? rec->rows_copied : 0;
		for (size_t k = 0; k < n_cc; k++) {
			const struct barge_ckpt_chunk *c = &cc[k];

			if (strcmp(c->src_schema, r->info->schema) || strcmp(c->src_table, r->info->name))
				continue;
			r->chunks_planned++;
			if (c->chunk >= r->next_chunk) {
				r->next_chunk = c->chunk + 1;
				free(r->next_lower);
				r->next_lower = c->upper ? barge_xstrdup(c->upper) : NULL;
				r->planning_done = c->upper == NULL;
			}
			if (c->done) {
				r->chunks_done++;
			} else {
				queue_push(w, i, c->chunk, c->lower, c->upper);
				/* its partial rows were rolled back; only done chunks count */
			}
		}
		if (r->planning_done && r->chunks_done == r->chunks_planned && r->chunks_planned)
			r->finished = true; /* crashed between its last chunk and marking it done */
	}
	/* tables whose chunks are all done but whose row says otherwise */
	for (size_t i = 0; rc == 0 && i < w->n_tables; i++) {
		struct table_run *r = &w->runs[i];
		bool recorded_done = false;

		for (size_t k = 0; k < n_ct; k++)
			if (!strcmp(ct[k].src_schema, r->info->schema) &&
			    !strcmp(ct[k].src_table, r->info->name))
				recorded_done = ct[k].done;
		if (r->finished && !recorded_done)
			rc = finish_table(w, tgt, i, err);
	}
	barge_ckpt_tables_free(ct, n_ct);
	barge_ckpt_chunks_free(cc, n_cc);
	return rc;
}

static uint64_t total_rows(const struct barge_worker *w, uint64_t *bytes)
{
	uint64_t rows = 0;

	*bytes = 0;
	for (size_t i = 0; i < w->n_tables; i++) {
		rows += atomic_load(&w->runs[i].rows_done) + w->runs[i].rows_before;
		*bytes += atomic_load(&w->runs[i].bytes_done);
	}
	return rows;
}

/* Update rates and ETA from the counters (about once a second). */
static void sample_progress(struct barge_worker *w)
{
	uint64_t bytes, rows = total_rows(w, &bytes), est = 0;
	double t = barge_clock_s();

	for (size_t i = 0; i < w->n_tables; i++) {
		uint64_t done = atomic_load(&w->runs[i].rows_done) + w->runs[i].rows_before;
		uint64_t e = w->tables[i].rows_estimated;

		est += (w->runs[i].finished || done > e) ? done : e;
	}
	pthread_mutex_lock(&w->lock);
	if (w->rate_t > 0 && t > w->rate_t) {
		double dt = t - w->rate_t;
		double rr = ((double)rows - w->rate_rows) / dt, br = ((double)bytes - w->rate_bytes) / dt;

		/* smooth over a few seconds so the ETA does not jump */
		w->st.rows_per_sec = w->st.rows_per_sec ? 0.7 * w->st.rows_per_sec + 0.3 * rr : rr;
		w->st.bytes_per_sec = w->st.bytes_per_sec ? 0.7 * w->st.bytes_per_sec + 0.3 * br : br;
	}
	w->rate_t = t;
	w->rate_rows = (double)rows;
	w->rate_bytes = (double)bytes;
	w->st.rows_done = rows;
	w->st.bytes_done = bytes;
	w->st.rows_estimated = est;
	w->st.eta_seconds = w->st.rows_per_sec > 1 && est > rows
				    ? (int64_t)((double)(est - rows) / w->st.rows_per_sec)
				    : (est <= rows ? 0 : -1);
	pthread_mutex_unlock(&w->lock);
}

static int run_full(struct barge_worker *w, struct barge_db *src, struct barge_db *tgt,
		    struct barge_err *err)
{
	const char *meta = w->job->target.meta_schema;
	size_t n_threads = w->job->full.threads;
	struct copy_thread *threads = NULL;
	size_t started = 0;
	int rc;

	set_stage(w, BARGE_STAGE_DUMPING);
	rc = barge_dump_list_tables(src, w->rules, &w->tables, &w->n_tables, err);
	if (rc)
		return rc;
	barge_log(BARGE_LOG_INFO, w->job->name, "%zu table%s selected", w->n_tables,
		  w->n_tables == 1 ? "" : "s");
	w->runs = barge_xcalloc(w->n_tables + 1, sizeof *w->runs);
	for (size_t i = 0; i < w->n_tables; i++) {
		w->runs[i].info = &w->tables[i];
		rc = barge_ckpt_table_begin(tgt, meta, w->job->name, w->tables[i].schema,
					    w->tables[i].name, w->tables[i].to_schema,
					    w->tables[i].to_name, w->tables[i].keyless, err);
		if (rc)
			return rc;
	}
	rc = create_target_objects(w, src, tgt, err);
	if (rc == 0)
		rc = resume_plan(w, tgt, err);
	if (rc)
		return rc;
	sample_progress(w);

	if (n_threads > w->n_tables && w->n_tables > 0) {
		/* no more readers than could ever be busy: chunkable tables split, others do not */
		size_t useful = 0;

		for (size_t i = 0; i < w->n_tables; i++)
			useful += w->tables[i].chunkable ? n_threads : 1;
		if (useful < n_threads)
			n_threads = useful;
	}
	if (n_threads == 0)
		n_threads = 1;
	rc = barge_snapshot_open(&w->job->source, w->base_dir, src, w->tables, w->n_tables,
				 n_threads, w->job->target.dialect != BARGE_DIALECT_TIDB, &w->snap,
				 err);
	if (rc)
		return barge_err_wrap(err, "take the snapshot");
	set_stage(w, BARGE_STAGE_LOADING);
	threads = barge_xcalloc(n_threads, sizeof *threads);
	for (size_t i = 0; i < n_threads; i++) {
		threads[i].w = w;
		threads[i].index = i;
		if (pthread_create(&threads[i].thread, NULL, copy_main, &threads[i]) != 0)
			break;
		started++;
	}
	/* sample progress while the copy threads run */
	for (;;) {
		bool all_idle;

		pthread_mutex_lock(&w->qlock);
		all_idle = true;
		for (size_t i = 0; i < w->n_tables; i++)
			if (!w->runs[i].finished)
				all_idle = false;
		if (w->copy_err.code || atomic_load(&w->stop))
			all_idle = true;
		pthread_mutex_unlock(&w->qlock);
		sample_progress(w);
		if (all_idle)
			break;
		usleep(200 * 1000);
	}
	atomic_store(&w->stop, atomic_load(&w->stop) || w->copy_err.code != 0);
	pthread_mutex_lock(&w->qlock);
	pthread_cond_broadcast(&w->qcond);
	pthread_mutex_unlock(&w->qlock);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i].thread, NULL);
	free(threads);
	sample_progress(w);
	if (w->copy_err.code) {
		*err = w->copy_err;
		return err->code;
	}
	if (atomic_load(&w->stop))
		return barge_err_set(err, BARGE_ECANCELLED, "stopped during the full phase");
	rc = barge_ckpt_full_done(tgt, meta, w->job->name, w->snap.method, &w->snap.pos[0], err);
	if (rc == 0)
		barge_log(BARGE_LOG_INFO, w->job->name,
			  "full phase done: %llu rows in %zu tables (snapshot method %s)",
			  (unsigned long long)w->st.rows_done, w->n_tables, w->snap.method);
	barge_snapshot_close(&w->snap);
	return rc;
}

/* ---- the worker's thread ---- */

static void fill_tables_status(struct barge_worker *w, struct barge_worker_status *st)
{
	st->tables = barge_xcalloc(w->n_tables + 1, sizeof *st->tables);
	st->n_tables = w->n_tables;
	for (size_t i = 0; i < w->n_tables; i++) {
		struct barge_table_progress *p = &st->tables[i];
		const struct table_run *r = &w->runs[i];

		p->schema = barge_xstrdup(w->tables[i].schema);
		p->table = barge_xstrdup(w->tables[i].name);
		p->rows_done = atomic_load(&r->rows_done) + r->rows_before;
		p->bytes_done = atomic_load(&r->bytes_done);
		p->rows_estimated = w->tables[i].rows_estimated;
		p->chunks_done = r->chunks_done;
		p->chunks_total = r->chunks_planned;
		p->finished = r->finished;
	}
}

/*
 * The automatic precheck of a job that starts (not of one that resumes): Warnings are logged,
 * Failed items stop the job with their instructions.  A source or target that cannot be
 * reached is left to the connection that follows, whose error says so in the seed's words and
 * is retried.
 */
static int precheck(struct barge_worker *w, struct barge_err *err)
{
	struct barge_precheck_report rep = {0};
	struct barge_buf failed;
	bool unreachable = false;
	int rc, cause = 0;

	rc = barge_precheck_run(w->job, &rep, err);
	if (rc)
		return rc;
	barge_buf_init(&failed, BARGE_BUF_NOCAP);
	for (size_t i = 0; i < rep.count; i++) {
		const struct barge_check_result *it = &rep.items[i];

		if (it->state == BARGE_CHECK_WARNING)
			barge_log(BARGE_LOG_WARN, w->job->name, "precheck %s: %s %s", it->id,
				  it->message ? it->message : "", it->instruction ? it->instruction : "");
		if (it->state != BARGE_CHECK_FAILED)
			continue;
		if (!strcmp(it->id, "source-connect") || !strcmp(it->id, "target-connect"))
			unreachable = true;
		if (it->cause && !cause) {
			const struct barge_errinfo *info = barge_errinfo_get(it->cause);

			if (info && info->retryable)
				cause = it->cause; /* a connection lost while checking */
		}
		barge_buf_appendf(&failed, "%s%s: %s%s%s", failed.len ? "; " : "", it->id,
				  it->message ? it->message : "", it->instruction ? " " : "",
				  it->instruction ? it->instruction : "");
	}
	barge_log(BARGE_LOG_INFO, w->job->name, "precheck: %zu passed, %zu warnings, %zu failed, "
		  "%zu ignored", rep.n_pass, rep.n_warning, rep.n_failed, rep.n_skipped);
	if (rep.n_failed && !unreachable && cause)
		/* not the job's fault: retried like the lost connection it is */
		rc = barge_err_set(err, cause, "precheck interrupted: %s", barge_buf_cstr(&failed));
	else if (rep.n_failed && !unreachable)
		rc = barge_err_set(err, BARGE_EPRECHECK, "precheck failed (barge check shows the "
				   "whole report; precheck.ignore skips an item): %s",
				   barge_buf_cstr(&failed));
	barge_buf_dispose(&failed);
	barge_precheck_report_dispose(&rep);
	return rc;
}

static void *worker_main(void *arg)
{
	struct barge_worker *w = arg;
	struct barge_db *src = NULL, *tgt = NULL;
	struct barge_ckpt_job ck = {0};
	struct barge_err err = {0};
	const char *meta = w->job->target.meta_schema;
	int rc;

	set_stage(w, BARGE_STAGE_PRECHECKING);
	rc = w->opts.skip_precheck ? 0 : precheck(w, &err);
	if (rc == 0) {
		pthread_mutex_lock(&w->lock);
		w->st.prechecked = true;
		pthread_mutex_unlock(&w->lock);
		rc = barge_job_compile_rules(w->job, &w->rules, NULL, &err);
	}
	if (rc == 0)
		rc = barge_db_connect(&w->job->source, BARGE_DB_SOURCE, w->base_dir, NULL, &src, &err);
	if (rc == 0) {
		struct barge_db_opts o = {.local_infile = true};

		rc = barge_db_connect(&w->job->target, BARGE_DB_TARGET, w->base_dir, &o, &tgt, &err);
	}
	if (rc == 0)
		barge_log(BARGE_LOG_INFO, w->job->name, "source %s (%s), target %s (%s)",
			  src->version, barge_flavor_name(src->flavor), tgt->version,
			  barge_flavor_name(tgt->flavor));
	if (rc == 0)
		rc = barge_ckpt_init(tgt, meta, &err);
	if (rc == 0)
		rc = barge_ckpt_job_begin(tgt, meta, w->job->name, &err);
	if (rc == 0)
		rc = barge_ckpt_job_load(tgt, meta, w->job->name, &ck, &err);
	if (rc == 0 && w->job->mode != BARGE_MODE_INCREMENTAL && !ck.full_done)
		rc = run_full(w, src, tgt, &err);
	if (rc == 0 && w->job->mode == BARGE_MODE_FULL) {
		set_stage(w, BARGE_STAGE_FINISHED);
	} else if (rc == 0) {
		set_stage(w, BARGE_STAGE_SYNCING);
		rc = barge_incremental_run(w->job, w->base_dir, &w->opts, src, tgt, &w->stop,
					   &w->lock, &w->st, &err);
	}
	if (rc && rc != BARGE_ECANCELLED) {
		barge_err_wrap(&err, "job %s", w->job->name);
		set_error(w, &err, NULL, NULL);
		set_stage(w, BARGE_STAGE_FAILED);
	}
	barge_ckpt_job_dispose(&ck);
	barge_snapshot_close(&w->snap);
	barge_db_close(src);
	barge_db_close(tgt);
	atomic_store(&w->running, false);
	return NULL;
}

int barge_worker_start(const struct barge_job *job, const struct barge_worker_opts *opts,
		       struct barge_worker **out, struct barge_err *err)
{
	struct barge_worker *w = barge_xcalloc(1, sizeof *w);

	w->job = barge_job_dup(job);
	if (opts)
		w->opts = *opts;
	w->base_dir = opts && opts->base_dir ? barge_xstrdup(opts->base_dir) : barge_job_base_dir(job);
	w->opts.base_dir = w->base_dir;
	w->skip_ddl = opts && opts->skip_ddl_at ? barge_xstrdup(opts->skip_ddl_at) : NULL;
	w->opts.skip_ddl_at = w->skip_ddl;
	w->st.stage = BARGE_STAGE_NEW;
	w->st.eta_seconds = -1;
	w->st.lag_seconds = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->qlock, NULL);
	pthread_cond_init(&w->qcond, NULL);
	atomic_store(&w->running, true);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		atomic_store(&w->running, false);
		barge_worker_free(w);
		return barge_err_set(err, BARGE_EIO, "cannot start a thread for job %s", job->name);
	}
	*out = w;
	return 0;
}

void barge_worker_request_stop(struct barge_worker *w)
{
	atomic_store(&w->stop, true);
	pthread_mutex_lock(&w->qlock);
	pthread_cond_broadcast(&w->qcond);
	pthread_mutex_unlock(&w->qlock);
}

bool barge_worker_wait(struct barge_worker *w, int timeout_ms)
{
	double deadline = barge_clock_s() + (double)timeout_ms / 1000.0;

	while (atomic_load(&w->running)) {
		if (timeout_ms >= 0 && barge_clock_s() >= deadline)
			return false;
		usleep(20 * 1000);
	}
	return true;
}

void barge_worker_status_get(struct barge_worker *w, struct barge_worker_status *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->st;
	out->last_error_sql = w->st.last_error_sql ? barge_xstrdup(w->st.last_error_sql) : NULL;
	memset(&out->applied, 0, sizeof out->applied);
	memset(&out->source_head, 0, sizeof out->source_head);
	memset(&out->last_error_position, 0, sizeof out->last_error_position);
	barge_position_copy(&out->applied, &w->st.applied);
	barge_position_copy(&out->source_head, &w->st.source_head);
	barge_position_copy(&out->last_error_position, &w->st.last_error_position);
	out->running = atomic_load(&w->running);
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_lock(&w->qlock);
	if (w->runs)
		fill_tables_status(w, out);
	else {
		out->tables = NULL;
		out->n_tables = 0;
	}
	pthread_mutex_unlock(&w->qlock);
}

void barge_worker_status_dispose(struct barge_worker_status *st)
{
	for (size_t i = 0; i < st->n_tables; i++) {
		free(st->tables[i].schema);
		free(st->tables[i].table);
	}
	free(st->tables);
	free(st->last_error_sql);
	barge_position_dispose(&st->applied);
	barge_position_dispose(&st->source_head);
	barge_position_dispose(&st->last_error_position);
	st->tables = NULL;
	st->n_tables = 0;
	st->last_error_sql = NULL;
}

void barge_worker_free(struct barge_worker *w)
{
	struct chunk_item *it;

	if (!w)
		return;
	if (w->thread) {
		barge_worker_request_stop(w);
		pthread_join(w->thread, NULL);
	}
	while ((it = w->queue) != NULL) {
		w->queue = it->next;
		item_free(it);
	}
	for (size_t i = 0; w->runs && i < w->n_tables; i++) {
		free(w->runs[i].next_lower);
		free(w->runs[i].deferred);
	}
	free(w->runs);
	barge_tables_free(w->tables, w->n_tables);
	barge_rules_free(w->rules);
	barge_worker_status_dispose(&w->st);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->qlock);
	pthread_cond_destroy(&w->qcond);
	barge_job_free(w->job);
	free(w->base_dir);
	free(w->skip_ddl);
	free(w);
}
