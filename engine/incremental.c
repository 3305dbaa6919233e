/*
 * incremental.c — the incremental phase (see incremental.h and docs/incremental.md).
 *
 * One reader (the calling thread) follows the source's binlog as a replica, decodes each
 * transaction, turns its row changes into statements for the target, and hands the whole
 * transaction to one of `workers` apply threads.  Each apply thread owns a target connection
 * and commits batches of whole transactions together with its own row in the positions table,
 * in the same target transaction.
 *
 * Exactly once.  A transaction T goes to worker hash(first key of T) mod N, which depends only
 * on the binlog, so a replay sends it to the same worker.  Worker w commits its transactions in
 * binlog order and records, with them, the position P_w where the last of them ends; so after
 * any crash, the transactions w has committed are exactly its transactions that start before
 * P_w.  The reader restarts from min(P_w) and skips, per worker, those that start before P_w.
 * Positions of the snapshot and of transactions are transaction boundaries, which is what lets
 * a start position stand for "ends at or before".
 *
 * Order.  Changes to the same row keep their order: each transaction's keys (its rows' primary
 * and unique keys, old and new; a keyless table's name) are remembered with the worker and
 * sequence number they were sent with, and a transaction that touches a key still pending on
 * another worker is queued with that dependency: its own worker commits what it holds before
 * it and waits until the other worker has committed the earlier transaction, while the reader
 * goes on.  A dependency always points at an earlier transaction, so workers never wait for
 * each other in a circle.  DDL waits until every worker is idle, runs on the reader's own
 * connection, and then moves every worker's position past it.
 *
 * Statements.  A worker writes a batch's row statements joined into multi-row statements where
 * their order allows (engine/merge.h), and one by one when a batch fails for good, so that the
 * error names the row's own statement.
 *
 * Position markers go to every worker about once a second, so that idle workers' positions
 * follow the stream and a restart does not replay far.
 */
#include "engine/incremental.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "engine/apply.h"
#include "engine/binlog.h"
#include "engine/binlog_io.h"
#include "engine/checkpoint.h"
#include "engine/ddl.h"
#include "engine/gtid.h"
#include "engine/log.h"
#include "engine/merge.h"
#include "engine/rowimage.h"
#include "engine/snapshot.h"
#include "rules/rules.h"

#define MARK_INTERVAL_S 1.0
#define STATUS_INTERVAL_S 0.25
#define HEAD_INTERVAL_S 5.0
#define KEYMAP_SLOTS (1u << 18)
#define QUEUE_MAX_ITEMS 2048
#define MAX_ROW_KEYS 32
#define WORKER_RETRIES 5

/* ---- statements of one transaction (or batch) ---- */

/* What joining a row's statement with others needs (engine/merge.h): its shape (its slots in
 * the cuts) and the range of its row's keys in the transaction's keys. */
struct stmt_meta {
	struct barge_apply_shape shape;
	uint32_t key_from, key_to;
};

struct stmts {
	struct barge_buf sql;
	size_t *ends;          /* where each statement ends in sql */
	struct stmt_meta *meta;
	size_t n, cap;
	struct barge_apply_cuts cuts;
	bool joined;           /* a batch: some statements were joined into one */
};

static void stmts_init(struct stmts *s)
{
	memset(s, 0, sizeof *s);
	barge_buf_init(&s->sql, BARGE_BUF_NOCAP);
}

static void stmts_dispose(struct stmts *s)
{
	barge_buf_dispose(&s->sql);
	free(s->ends);
	free(s->meta);
	barge_apply_cuts_dispose(&s->cuts);
	s->ends = NULL;
	s->meta = NULL;
	s->n = s->cap = 0;
}

static void stmts_reset(struct stmts *s)
{
	barge_buf_truncate(&s->sql, 0);
	s->n = 0;
	s->cuts.n = 0;
	s->joined = false;
}

/* A row's statement that ends at offset end of s->sql. */
static void stmts_end_row(struct stmts *s, size_t end, struct barge_apply_shape shape,
			  size_t key_from, size_t key_to)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->ends = barge_xrealloc(s->ends, s->cap * sizeof *s->ends);
		s->meta = barge_xrealloc(s->meta, s->cap * sizeof *s->meta);
	}
	s->meta[s->n] = (struct stmt_meta){shape, (uint32_t)key_from, (uint32_t)key_to};
	s->ends[s->n++] = end;
}

/* The statement that ends at offset end of s->sql. */
static void stmts_end(struct stmts *s, size_t end)
{
	stmts_end_row(s, end, (struct barge_apply_shape){0, 0, false}, 0, 0);
}

static void stmts_end_cb(void *arg, size_t end)
{
	stmts_end(arg, end);
}

/* ---- work items ---- */

struct item {
	struct item *next;
	bool mark;                   /* a position marker: only the position is written */
	struct barge_position start; /* where the transaction starts (for messages) */
	struct barge_position end;   /* where it ends: the worker's position once committed */
	char *sql;
	size_t len;
	size_t *ends;
	struct stmt_meta *meta;
	size_t nstmt;
	uint64_t *keys;              /* its rows' keys (stmt_meta ranges index them) */
	struct dep {                 /* committed by another worker first: its transactions */
		unsigned worker;     /* up to seq touch a key of this one */
		uint64_t seq;
	} *deps;
	size_t ndeps;
	uint32_t *cuts;              /* its statements' slots (stmt_meta shapes index them) */
	uint64_t seq;
	uint32_t rows;
	uint32_t ts;                 /* the source's commit time (for lag) */
};

static void item_free(struct item *it)
{
	if (!it)
		return;
	barge_position_dispose(&it->start);
	barge_position_dispose(&it->end);
	free(it->sql);
	free(it->ends);
	free(it->meta);
	free(it->keys);
	free(it->cuts);
	free(it->deps);
	free(it);
}

struct inc;

struct apply_worker {
	struct inc *inc;
	unsigned id;
	pthread_t thread;
	bool started;
	pthread_cond_t wake;  /* items queued for it, or the run ends */
	struct barge_db *tgt;
	struct barge_merger merger;
	struct barge_merge_stmt *mstmts;
	size_t cap_mstmts;
	/* guarded by inc->mu */
	struct item *head, *tail;
	size_t queued;
	bool busy;                     /* holding items not yet committed */
	size_t pending_txns;           /* transactions given and not yet committed */
	uint64_t sent_seq, done_seq;
	struct barge_position done;    /* P_w: where its committed transactions end */
	uint32_t done_ts;
	struct barge_position skip_before; /* P_w when this run started */
};

struct keyslot {
	uint64_t key;
	uint32_t worker;
	uint64_t seq;
};

struct handoff {
	char *schema, *table;
	struct barge_position first, last;
	bool keyless;
};

struct tmap {
	uint64_t table_id;
	bool skip;
	char *schema, *table;              /* source names */
	struct barge_apply_table *at;      /* target table */
	const struct handoff *handoff;
	struct tmap *next;
};

struct inc {
	const struct barge_job *job;
	const char *meta;
	const char *base_dir;
	const struct barge_worker_opts *opts;
	struct barge_rules *rules;
	atomic_bool *stop;
	pthread_mutex_t *st_lock;
	struct barge_worker_status *st;

	struct barge_db *src, *tgt, *stream_db;
	struct barge_binlog_stream *stream;
	struct barge_binlog b;

	unsigned n;
	struct apply_worker *w;
	pthread_mutex_t mu;
	pthread_cond_t done;  /* the reader waits for commits and room */
	bool quit;
	bool failed;
	struct barge_err err;
	char *err_sql;
	struct barge_position err_pos;

	struct keyslot *keys;
	size_t keys_used;

	/* where the reader is */
	char file[256];
	uint64_t pos;                 /* end of the last event read */
	struct barge_position boundary; /* end of the last whole transaction read */
	char gtid_last[160];
	struct maria_domain { uint32_t domain, server; uint64_t seq; } *domains;
	size_t n_domains;
	/* MySQL: every transaction applied or skipped so far (the start set plus each GTID that
	 * passed), the GTID part of the positions; NULL without GTIDs */
	struct barge_gtid_set *mysql_set;
	bool skipping;                /* in a transaction the start set holds already */

	/* safe mode */
	enum barge_safe_mode safe_mode;
	struct barge_position safe_until;    /* transactions starting before it: safe */
	struct barge_position replace_until; /* restart: replace conflicting rows until here */

	struct handoff *handoffs;
	size_t n_handoffs;
	struct tmap *tmaps;

	/* the transaction being read */
	bool in_txn;
	struct barge_position txn_start;
	struct stmts txn;
	uint64_t *txn_keys;
	size_t n_txn_keys, cap_txn_keys;
	uint32_t txn_rows;
	bool txn_safe;
	struct barge_value *before, *after;

	/* status */
	double last_mark, last_status, last_head;
	uint64_t events, txns_applied;
	uint64_t rows_applied, batches, statements; /* row changes, target transactions and the
						      * statements they took */
	bool caught_up;               /* the last thing the stream sent was a heartbeat */
	uint32_t read_ts;             /* timestamp of the last event read */
	struct barge_position head;
};

/* ---- failure ---- */

/* Wake every apply thread (the run failed or ends); with in->mu held. */
static void wake_all(struct inc *in)
{
	for (unsigned i = 0; in->w && i < in->n; i++)
		pthread_cond_signal(&in->w[i].wake);
}

/* Record the first failure of the run (reader or worker); later ones are consequences. */
static void fail_locked(struct inc *in, const struct barge_err *err, const char *sql,
			const struct barge_position *pos)
{
	if (in->failed)
		return;
	in->failed = true;
	in->err = *err;
	free(in->err_sql);
	in->err_sql = sql ? barge_xstrdup(sql) : NULL;
	if (pos)
		barge_position_copy(&in->err_pos, pos);
	wake_all(in);
	pthread_cond_broadcast(&in->done);
}

static int fail(struct inc *in, const struct barge_err *err, const char *sql,
		const struct barge_position *pos)
{
	pthread_mutex_lock(&in->mu);
	fail_locked(in, err, sql, pos);
	pthread_mutex_unlock(&in->mu);
	return err->code ? err->code : BARGE_EINVAL;
}

static bool stopping(struct inc *in)
{
	bool f;

	pthread_mutex_lock(&in->mu);
	f = in->failed;
	pthread_mutex_unlock(&in->mu);
	return f || atomic_load(in->stop);
}

/* ---- apply workers ---- */

/* Run a batch as one target transaction.  On failure *failed_stmt is the statement's index. */
static int run_batch(struct apply_worker *aw, const struct stmts *b, size_t *failed_stmt,
		     struct barge_err *err)
{
	MYSQL *c = aw->tgt->conn;
	size_t idx = 0;
	int more;

	*failed_stmt = 0;
	if (mysql_real_query(c, b->sql.data, b->sql.len) != 0)
		goto failed;
	for (;;) {
		MYSQL_RES *res = mysql_store_result(c);

		if (res)
			mysql_free_result(res);
		more = mysql_next_result(c);
		if (more < 0)
			return 0;
		idx++;
		if (more > 0)
			goto failed;
	}
failed:
	*failed_stmt = idx;
	barge_db_fail(aw->tgt, err, "apply");
	/* the statements after the failing one did not run: end the transaction */
	if (mysql_errno(c) != 0 && aw->tgt->conn)
		mysql_real_query(c, "ROLLBACK", 8);
	return err->code;
}

static void statement_text(const struct stmts *b, size_t idx, char *out, size_t n)
{
	size_t from = idx ? b->ends[idx - 1] : 0, to = idx < b->n ? b->ends[idx] : b->sql.len;
	size_t len = to > from ? to - from : 0;

	if (len > 0 && b->sql.data[from + len - 1] == ';')
		len--;
	if (len >= n) {
		snprintf(out, n, "%.*s ...", (int)(n - 8), b->sql.data + from);
		return;
	}
	snprintf(out, n, "%.*s", (int)len, b->sql.data + from);
}

/* A target transaction's first statement. */
static void batch_open(struct stmts *b)
{
	stmts_reset(b);
	barge_buf_puts(&b->sql, "START TRANSACTION;");
	stmts_end(b, b->sql.len);
}

/* Its end: the worker's position (when end is not NULL) and the commit. */
static void batch_close(struct apply_worker *aw, struct stmts *b, const struct barge_position *end)
{
	struct inc *in = aw->inc;

	if (end) {
		barge_ckpt_position_sql(&b->sql, aw->tgt, in->meta, in->job->name, aw->id, end);
		barge_buf_putc(&b->sql, ';');
		stmts_end(b, b->sql.len);
	}
	barge_buf_puts(&b->sql, "COMMIT");
	stmts_end(b, b->sql.len);
}

/*
 * Build the target transaction for items[0..k): their statements joined into multi-row ones
 * (engine/merge.h) when join is true, else one for one (which is what tells a failing
 * statement's transaction).
 */
static void build_batch(struct apply_worker *aw, struct item **items, size_t k, struct stmts *b,
			bool join)
{
	batch_open(b);
	if (join) {
		size_t n = 0, written;

		for (size_t i = 0; i < k; i++) {
			const struct item *it = items[i];

			if (it->mark)
				continue;
			if (n + it->nstmt > aw->cap_mstmts) {
				aw->cap_mstmts = (n + it->nstmt) * 2;
				aw->mstmts = barge_xrealloc(aw->mstmts,
							    aw->cap_mstmts * sizeof *aw->mstmts);
			}
			for (size_t s = 0; s < it->nstmt; s++) {
				size_t from = s ? it->ends[s - 1] : 0;
				const struct stmt_meta *mt = &it->meta[s];

				aw->mstmts[n++] = (struct barge_merge_stmt){
					it->sql + from, it->ends[s] - from, it->cuts + mt->shape.from,
					(mt->shape.to - mt->shape.from) / 2, mt->shape.strict,
					it->keys + mt->key_from, mt->key_to - mt->key_from};
			}
		}
		written = barge_merge(&aw->merger, aw->mstmts, n, &b->sql, stmts_end_cb, b);
		b->joined = written < n;
		batch_close(aw, b, &items[k - 1]->end);
		return;
	}
	for (size_t i = 0; i < k; i++) {
		size_t from = b->sql.len;

		if (items[i]->mark)
			continue;
		barge_buf_append(&b->sql, items[i]->sql, items[i]->len);
		/* item statements: their ends are known, shifted by from */
		for (size_t s = 0; s < items[i]->nstmt; s++)
			stmts_end(b, from + items[i]->ends[s]);
	}
	batch_close(aw, b, &items[k - 1]->end);
}

/* Which item a statement index belongs to (for the error's position). */
static struct item *item_of(struct item **items, size_t k, size_t stmt)
{
	size_t seen = 1; /* START TRANSACTION */

	for (size_t i = 0; i < k; i++) {
		if (items[i]->mark)
			continue;
		if (stmt < seen + items[i]->nstmt)
			return items[i];
		seen += items[i]->nstmt;
	}
	return items[k - 1];
}

/*
 * One source transaction too large for the target (TiDB's txn-total-size-limit, MySQL's
 * max_binlog_cache_size): applied in parts, each its own target transaction, halved again while
 * a part is still too large; the worker's position is written with the last part only.  Before
 * the first part the job's safe-mode exit is moved to the transaction's end, so that a crash
 * between parts re-applies the whole transaction in safe mode (idempotent statements) when the
 * job resumes.  On failure *failed_stmt indexes the statement as in the whole item's batch.
 */
static int apply_split(struct apply_worker *aw, const struct item *it, size_t *failed_stmt,
		       struct barge_err *err)
{
	struct inc *in = aw->inc;
	struct barge_position exit_at = {0};
	size_t part = (it->nstmt + 1) / 2, from = 0;
	struct stmts b;
	int rc;

	barge_log(BARGE_LOG_WARN, in->job->name, "the transaction at %s:%llu (%zu statements) is "
		  "too large for the target: applying it in parts", it->start.binlog_name,
		  (unsigned long long)it->start.binlog_pos, it->nstmt);
	pthread_mutex_lock(&in->mu);
	barge_position_copy(&exit_at, barge_position_cmp(&in->safe_until, &it->end) > 0
					      ? &in->safe_until : &it->end);
	pthread_mutex_unlock(&in->mu);
	rc = barge_ckpt_set_safe_exit(aw->tgt, in->meta, in->job->name, &exit_at, err);
	barge_position_dispose(&exit_at);
	stmts_init(&b);
	while (rc == 0 && from < it->nstmt) {
		size_t to = from + part < it->nstmt ? from + part : it->nstmt, base;

		batch_open(&b);
		base = from ? it->ends[from - 1] : 0;
		barge_buf_append(&b.sql, it->sql + base, it->ends[to - 1] - base);
		for (size_t s = from; s < to; s++)
			stmts_end(&b, it->ends[s] - base + (b.sql.len - (it->ends[to - 1] - base)));
		batch_close(aw, &b, to == it->nstmt ? &it->end : NULL);
		rc = run_batch(aw, &b, failed_stmt, err);
		if (rc == BARGE_ETGT_TXN_TOO_LARGE && to - from > 1) {
			part = (to - from + 1) / 2;
			barge_err_clear(err);
			rc = 0;
			continue;
		}
		if (rc) {
			/* the part's statement i (1-based after START) is the item's from + i - 1 */
			*failed_stmt = *failed_stmt >= 1 && *failed_stmt <= to - from
					       ? 1 + from + *failed_stmt - 1
					       : 1 + it->nstmt;
			break;
		}
		from = to;
	}
	stmts_dispose(&b);
	return rc;
}

/* Has every transaction the item waits for been committed?  With in->mu held. */
static bool deps_met(const struct inc *in, const struct item *it)
{
	for (size_t i = 0; i < it->ndeps; i++)
		if (in->w[it->deps[i].worker].done_seq < it->deps[i].seq)
			return false;
	return true;
}

static void *worker_main(void *arg)
{
	struct apply_worker *aw = arg;
	struct inc *in = aw->inc;
	unsigned batch = in->job->incremental.batch ? in->job->incremental.batch : 256;
	struct item **items = NULL;
	size_t cap = 0;
	struct stmts b;

	stmts_init(&b);
	pthread_mutex_lock(&in->mu);
	for (;;) {
		size_t k = 0, rows = 0, limit;
		struct barge_err err = {0};
		size_t failed_stmt = 0;
		int rc = 0, attempt = 0;
		bool split_failed = false, plain = false;
		size_t batches = 0, statements = 0;

		while (!aw->head && !in->quit && !in->failed)
			pthread_cond_wait(&aw->wake, &in->mu);
		if (in->failed || !aw->head)
			break;
		/* a transaction that touches a row another worker has yet to commit waits for that
		 * worker (which never waits for this one: it waits only for earlier transactions,
		 * and this one commits what it holds before waiting) */
		while (!in->failed && !deps_met(in, aw->head))
			pthread_cond_wait(&in->done, &in->mu);
		if (in->failed)
			break;
		/* take what is there, up to a batch of rows, whole transactions only, up to one
		 * that must wait */
		while (aw->head && (k == 0 || (rows + aw->head->rows <= batch &&
					       deps_met(in, aw->head)))) {
			struct item *it = aw->head;

			aw->head = it->next;
			if (!aw->head)
				aw->tail = NULL;
			aw->queued--;
			it->next = NULL;
			if (k == cap) {
				cap = cap ? cap * 2 : 64;
				items = barge_xrealloc(items, cap * sizeof *items);
			}
			items[k++] = it;
			rows += it->rows;
		}
		aw->busy = true;
		pthread_cond_broadcast(&in->done); /* room in the queue */
		pthread_mutex_unlock(&in->mu);

		/* nothing to write when only markers at or before the recorded position */
		if (rows == 0 && barge_position_cmp(&items[k - 1]->end, &aw->done) <= 0)
			goto committed;
		limit = k;
		for (size_t at = 0; at < k;) {
			size_t n = limit - at;

			build_batch(aw, items + at, n, &b, !plain);
			rc = run_batch(aw, &b, &failed_stmt, &err);
			if (rc == 0) {
				at += n;
				limit = k;
				attempt = 0;
				plain = false;
				batches++;
				statements += b.n - 3; /* START, the position, COMMIT */
				continue;
			}
			if (rc == BARGE_ETGT_TXN_TOO_LARGE && n > 1) {
				/* split, never retry whole */
				limit = at + (n + 1) / 2;
				continue;
			}
			if (rc == BARGE_ETGT_TXN_TOO_LARGE && !items[at]->mark &&
			    items[at]->nstmt > 1) {
				barge_err_clear(&err);
				rc = apply_split(aw, items[at], &failed_stmt, &err);
				if (rc == 0) {
					at += 1;
					limit = k;
					plain = false;
					continue;
				}
				/* parts may be committed: never retried here, but resumed from the
				 * checkpoints, in safe mode up to the transaction's end */
				split_failed = true;
			}
			if (!split_failed && barge_err_retryable(&err) && rc != BARGE_ETGT_LOST &&
			    ++attempt <= WORKER_RETRIES && !atomic_load(in->stop)) {
				barge_log(BARGE_LOG_WARN, in->job->name,
					  "worker %u: %s; retrying (%d of %d)", aw->id, err.msg, attempt,
					  WORKER_RETRIES);
				usleep(100000u << attempt);
				barge_err_clear(&err);
				continue;
			}
			if (!split_failed && b.joined && !plain && rc != BARGE_ETGT_LOST) {
				/* once more one statement per row change, so that the error names the
				 * statement and the transaction it comes from */
				plain = true;
				barge_err_clear(&err);
				continue;
			}
			{
				char text[1024];
				struct item *bad = item_of(items + at, n, failed_stmt);

				statement_text(&b, failed_stmt, text, sizeof text);
				if (rc == BARGE_EDUP_KEY)
					barge_err_wrap(&err, "transaction at %s:%llu",
						       bad->start.binlog_name,
						       (unsigned long long)bad->start.binlog_pos);
				pthread_mutex_lock(&in->mu);
				fail_locked(in, &err, text, &bad->start);
				pthread_mutex_unlock(&in->mu);
			}
			break;
		}
		if (rc)
			goto out;
committed:
		pthread_mutex_lock(&in->mu);
		for (size_t i = 0; i < k; i++) {
			if (items[i]->seq > aw->done_seq)
				aw->done_seq = items[i]->seq;
			if (!items[i]->mark && items[i]->ts)
				aw->done_ts = items[i]->ts;
		}
		if (barge_position_cmp(&items[k - 1]->end, &aw->done) > 0)
			barge_position_copy(&aw->done, &items[k - 1]->end);
		for (size_t i = 0; i < k; i++) {
			if (!items[i]->mark) {
				in->txns_applied++;
				aw->pending_txns--;
			}
			in->rows_applied += items[i]->rows;
			item_free(items[i]);
		}
		in->batches += batches;
		in->statements += statements;
		aw->busy = false;
		pthread_cond_broadcast(&in->done);
		continue;
out:
		for (size_t i = 0; i < k; i++)
			item_free(items[i]);
		pthread_mutex_lock(&in->mu);
		aw->busy = false;
		break;
	}
	pthread_mutex_unlock(&in->mu);
	free(items);
	stmts_dispose(&b);
	return NULL;
}

/* Hand an item to a worker, waiting for room. */
static int enqueue(struct inc *in, unsigned w, struct item *it)
{
	struct apply_worker *aw = &in->w[w];

	pthread_mutex_lock(&in->mu);
	while (aw->queued >= QUEUE_MAX_ITEMS && !in->failed)
		pthread_cond_wait(&in->done, &in->mu);
	/* dependencies met already are dropped */
	for (size_t i = 0; i < it->ndeps;)
		if (in->w[it->deps[i].worker].done_seq >= it->deps[i].seq)
			it->deps[i] = it->deps[--it->ndeps];
		else
			i++;
	if (in->failed) {
		pthread_mutex_unlock(&in->mu);
		item_free(it);
		return in->err.code ? in->err.code : BARGE_EINVAL;
	}
	it->seq = ++aw->sent_seq;
	if (!it->mark)
		aw->pending_txns++;
	if (aw->tail)
		aw->tail->next = it;
	else
		aw->head = it;
	aw->tail = it;
	aw->queued++;
	pthread_cond_signal(&aw->wake); /* only its own thread: the others have nothing new */
	pthread_mutex_unlock(&in->mu);
	return 0;
}

/* Wait until every worker has committed everything it was given. */
static int drain(struct inc *in)
{
	int rc = 0;

	pthread_mutex_lock(&in->mu);
	for (;;) {
		bool idle = true;

		if (in->failed) {
			rc = in->err.code ? in->err.code : BARGE_EINVAL;
			break;
		}
		for (unsigned i = 0; i < in->n; i++)
			if (in->w[i].head || in->w[i].busy)
				idle = false;
		if (idle)
			break;
		pthread_cond_wait(&in->done, &in->mu);
	}
	pthread_mutex_unlock(&in->mu);
	return rc;
}

/* A position marker to every worker. */
static int send_marks(struct inc *in, const struct barge_position *at)
{
	for (unsigned i = 0; i < in->n; i++) {
		struct item *it = barge_xcalloc(1, sizeof *it);
		int rc;

		it->mark = true;
		barge_position_copy(&it->end, at);
		barge_position_copy(&it->start, at);
		rc = enqueue(in, i, it);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- causality: keys pending on workers ---- */

static struct keyslot *key_slot(struct inc *in, uint64_t key)
{
	size_t i = (size_t)(key ^ (key >> 29)) & (KEYMAP_SLOTS - 1);

	if (key == 0)
		key = 1; /* 0 marks an empty slot */
	for (;;) {
		struct keyslot *s = &in->keys[i];

		if (s->key == key || s->key == 0) {
			if (s->key == 0) {
				s->key = key;
				s->seq = 0;
				in->keys_used++;
			}
			return s;
		}
		i = (i + 1) & (KEYMAP_SLOTS - 1);
	}
}

/*
 * The key map half full: forget the keys whose transactions their workers have committed,
 * keeping those still pending, without stopping the workers (the map is the reader's alone).
 * Only when most keys are still pending does the reader wait for every worker to finish.
 */
static int forget_settled_keys(struct inc *in)
{
	uint64_t *done = barge_xcalloc(in->n, sizeof *done);
	struct keyslot *live = barge_xmalloc((in->keys_used + 1) * sizeof *live);
	size_t n_live = 0;
	int rc = 0;

	pthread_mutex_lock(&in->mu);
	for (unsigned i = 0; i < in->n; i++)
		done[i] = in->w[i].done_seq;
	pthread_mutex_unlock(&in->mu);
	for (size_t i = 0; i < KEYMAP_SLOTS; i++) {
		const struct keyslot *k = &in->keys[i];

		if (k->key && k->seq && k->worker < in->n && k->seq > done[k->worker] &&
		    n_live < in->keys_used)
			live[n_live++] = *k;
	}
	memset(in->keys, 0, KEYMAP_SLOTS * sizeof *in->keys);
	in->keys_used = 0;
	for (size_t i = 0; i < n_live; i++) {
		struct keyslot *k = key_slot(in, live[i].key);

		k->worker = live[i].worker;
		k->seq = live[i].seq;
	}
	free(live);
	free(done);
	if (in->keys_used > KEYMAP_SLOTS / 4) {
		/* most are pending: once every worker is idle, none is */
		rc = drain(in);
		if (rc == 0) {
			memset(in->keys, 0, KEYMAP_SLOTS * sizeof *in->keys);
			in->keys_used = 0;
		}
	}
	return rc;
}

/*
 * The transactions of other workers that the one being read must follow: for each other worker,
 * the latest of its transactions that touched one of its keys and may be uncommitted.
 */
static void find_deps(struct inc *in, unsigned w, struct item *it)
{
	for (size_t k = 0; k < in->n_txn_keys; k++) {
		struct keyslot *s = key_slot(in, in->txn_keys[k]);
		size_t d;

		if (s->seq == 0 || s->worker == w)
			continue;
		for (d = 0; d < it->ndeps && it->deps[d].worker != s->worker; d++)
			;
		if (d == it->ndeps) {
			it->deps = barge_xrealloc(it->deps, (it->ndeps + 1) * sizeof *it->deps);
			it->deps[it->ndeps++] = (struct dep){s->worker, s->seq};
		} else if (it->deps[d].seq < s->seq) {
			it->deps[d].seq = s->seq;
		}
	}
}

/* ---- positions ---- */

static void position_now(struct inc *in, struct barge_position *p)
{
	const char *gtid = NULL;
	struct barge_buf g;

	barge_buf_init(&g, BARGE_BUF_NOCAP);
	if (in->n_domains) {
		for (size_t i = 0; i < in->n_domains; i++)
			barge_buf_appendf(&g, "%s%u-%u-%llu", i ? "," : "", in->domains[i].domain,
					  in->domains[i].server,
					  (unsigned long long)in->domains[i].seq);
		gtid = barge_buf_cstr(&g);
	} else if (in->mysql_set) {
		char *text = barge_gtid_set_text(in->mysql_set);

		barge_buf_puts(&g, text);
		free(text);
		gtid = barge_buf_cstr(&g);
	} else if (in->gtid_last[0]) {
		gtid = in->gtid_last;
	}
	barge_position_set(p, in->file, in->pos, gtid);
	barge_buf_dispose(&g);
}

static void note_gtid(struct inc *in, const struct barge_event *ev)
{
	if (ev->type == BARGE_EV_MARIA_GTID) {
		size_t i;

		for (i = 0; i < in->n_domains; i++)
			if (in->domains[i].domain == ev->u.maria_gtid.domain_id)
				break;
		if (i == in->n_domains) {
			in->domains = barge_xrealloc(in->domains,
						     (in->n_domains + 1) * sizeof *in->domains);
			in->n_domains++;
		}
		in->domains[i].domain = ev->u.maria_gtid.domain_id;
		in->domains[i].server = ev->server_id;
		in->domains[i].seq = ev->u.maria_gtid.seq_no;
		return;
	}
	barge_gtid_text(ev, in->gtid_last, sizeof in->gtid_last);
	if (in->mysql_set && ev->type != BARGE_EV_ANONYMOUS_GTID)
		barge_gtid_set_add(in->mysql_set, ev->u.gtid.sid, ev->u.gtid.tag, ev->u.gtid.tag_len,
				   ev->u.gtid.gno);
}

/* Parse a MariaDB GTID list ("0-1-100,1-2-5") into the domains the positions carry on. */
static void domains_from_text(struct inc *in, const char *text)
{
	const char *p = text ? text : "";
	uint32_t d, sv;
	uint64_t q;

	while (barge_maria_gtid_next(&p, &d, &sv, &q) == 1) {
		in->domains = barge_xrealloc(in->domains, (in->n_domains + 1) * sizeof *in->domains);
		in->domains[in->n_domains].domain = d;
		in->domains[in->n_domains].server = sv;
		in->domains[in->n_domains].seq = q;
		in->n_domains++;
	}
}

/* ---- tables ---- */

static void tmaps_clear(struct inc *in)
{
	while (in->tmaps) {
		struct tmap *t = in->tmaps;

		in->tmaps = t->next;
		free(t->schema);
		free(t->table);
		barge_apply_table_free(t->at);
		free(t);
	}
}

static struct tmap *tmap_find(struct inc *in, uint64_t id)
{
	for (struct tmap *t = in->tmaps; t; t = t->next)
		if (t->table_id == id)
			return t;
	return NULL;
}

static const struct handoff *handoff_find(struct inc *in, const char *schema, const char *table)
{
	for (size_t i = 0; i < in->n_handoffs; i++)
		if (!strcmp(in->handoffs[i].schema, schema) && !strcmp(in->handoffs[i].table, table))
			return &in->handoffs[i];
	return NULL;
}

/* A table map: decide once per table id whether and where its rows go. */
static int on_table_map(struct inc *in, const struct barge_tablemap *m, struct barge_err *err)
{
	struct tmap *t = tmap_find(in, m->table_id);
	char *to_schema = NULL, *to_table = NULL;
	int rc;

	if (t && !strcmp(t->schema, m->schema) && !strcmp(t->table, m->table))
		return 0;
	if (t) { /* a table id reused for another table */
		struct tmap **pp = &in->tmaps;

		while (*pp != t)
			pp = &(*pp)->next;
		*pp = t->next;
		free(t->schema);
		free(t->table);
		barge_apply_table_free(t->at);
		free(t);
	}
	t = barge_xcalloc(1, sizeof *t);
	t->table_id = m->table_id;
	t->schema = barge_xstrdup(m->schema);
	t->table = barge_xstrdup(m->table);
	t->next = in->tmaps;
	in->tmaps = t;
	if (barge_rules_is_system_schema(m->schema) ||
	    !barge_rules_table_selected(in->rules, m->schema, m->table) ||
	    (in->meta && !strcmp(m->schema, in->meta))) {
		t->skip = true;
		return 0;
	}
	rc = barge_rules_route(in->rules, m->schema, m->table, &to_schema, &to_table, err);
	if (rc == 0) {
		rc = barge_apply_table_load(in->tgt, to_schema, to_table, &t->at, err);
		if (rc)
			barge_err_wrap(err, "binlog rows for %s.%s go to %s.%s", m->schema, m->table,
				       to_schema, to_table);
	}
	free(to_schema);
	free(to_table);
	t->handoff = handoff_find(in, m->schema, m->table);
	return rc;
}

static void txn_key(struct inc *in, uint64_t key)
{
	if (in->n_txn_keys == in->cap_txn_keys) {
		in->cap_txn_keys = in->cap_txn_keys ? in->cap_txn_keys * 2 : 64;
		in->txn_keys = barge_xrealloc(in->txn_keys, in->cap_txn_keys * sizeof *in->txn_keys);
	}
	in->txn_keys[in->n_txn_keys++] = key;
}

static const uint32_t rows_event_bit[] = {['i'] = BARGE_EV_INSERT, ['u'] = BARGE_EV_UPDATE,
					  ['d'] = BARGE_EV_DELETE};

static int on_rows(struct inc *in, const struct barge_event *ev, struct barge_err *err)
{
	struct tmap *t = tmap_find(in, ev->u.rows.table_id);
	struct barge_rows it;
	bool safe = in->txn_safe;
	char kind = barge_ev_rows_kind(ev->type);
	int rc;

	if (!t)
		return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
				     "%s:%llu: a rows event for table id %llu without its table map",
				     in->file, (unsigned long long)ev->offset,
				     (unsigned long long)ev->u.rows.table_id);
	if (t->skip || !t->at)
		return 0;
	if (barge_rules_event_ignored(in->rules, t->schema, t->table,
				      rows_event_bit[(unsigned char)kind], NULL))
		return 0;
	if (t->handoff) {
		/* the full phase: changes before the table's first snapshot are in its rows;
		 * between its first and last snapshots some chunks have them, so replay them
		 * idempotently */
		if (barge_position_cmp(&in->txn_start, &t->handoff->first) < 0)
			return 0;
		if (barge_position_cmp(&in->txn_start, &t->handoff->last) < 0)
			safe = true;
	}
	if (!t->at->n_key && safe && in->safe_mode != BARGE_SAFE_ALWAYS)
		safe = false; /* a keyless table cannot be replayed idempotently: exactness comes
			       * from the worker positions alone */
	rc = barge_rows_begin(&in->b, ev, &it, err);
	if (rc)
		return rc;
	for (;;) {
		uint64_t keys[MAX_ROW_KEYS];
		struct barge_apply_shape shapes[2];
		size_t nk, split = 0, key_from;

		rc = barge_rows_next(&it, in->before, in->after, err);
		if (rc <= 0)
			break;
		rc = barge_apply_sql(&in->txn.sql, t->at, it.map, kind, safe, in->before, in->after,
				     &split, shapes, &in->txn.cuts, err);
		if (rc) {
			barge_err_wrap(err, "%s:%llu", in->file, (unsigned long long)ev->offset);
			return rc;
		}
		nk = barge_apply_keys(t->at, kind, in->before, in->after, keys, MAX_ROW_KEYS);
		key_from = in->n_txn_keys;
		for (size_t k = 0; k < nk; k++)
			txn_key(in, keys[k]);
		if (split)
			stmts_end_row(&in->txn, split, shapes[0], key_from, in->n_txn_keys);
		stmts_end_row(&in->txn, in->txn.sql.len, shapes[split ? 1 : 0], key_from,
			      in->n_txn_keys);
		in->txn_rows++;
	}
	return rc < 0 ? rc : 0;
}

/* ---- transactions ---- */

static bool txn_safe_at(struct inc *in, const struct barge_position *start)
{
	if (in->safe_mode == BARGE_SAFE_ALWAYS)
		return true;
	if (in->safe_mode == BARGE_SAFE_AUTO && in->safe_until.binlog_name[0] &&
	    barge_position_cmp(start, &in->safe_until) <= 0)
		return true;
	/* a restart replaces conflicting rows until the position it was asked at */
	return in->replace_until.binlog_name[0] && barge_position_cmp(start, &in->replace_until) <= 0;
}

static void txn_begin(struct inc *in, const struct barge_event *ev)
{
	if (in->in_txn)
		return;
	in->in_txn = true;
	barge_position_set(&in->txn_start, in->file, ev->log_pos ? ev->log_pos - ev->size : in->pos,
			   NULL);
	stmts_reset(&in->txn);
	in->n_txn_keys = 0;
	in->txn_rows = 0;
	in->txn_safe = txn_safe_at(in, &in->txn_start);
}

static int txn_end(struct inc *in, const struct barge_event *ev, struct barge_err *err)
{
	struct item *it;
	unsigned w;
	int rc;

	(void)err;
	in->in_txn = false;
	position_now(in, &in->boundary);
	if (in->txn_rows == 0)
		return 0;
	w = (unsigned)(in->txn_keys[0] % in->n);
	/* committed by its worker before the crash or stop that this run resumes from */
	if (barge_position_cmp(&in->txn_start, &in->w[w].skip_before) < 0)
		return 0;
	it = barge_xcalloc(1, sizeof *it);
	find_deps(in, w, it);
	barge_position_copy(&it->start, &in->txn_start);
	barge_position_copy(&it->end, &in->boundary);
	it->sql = barge_xmalloc(in->txn.sql.len + 1);
	memcpy(it->sql, in->txn.sql.data, in->txn.sql.len);
	it->len = in->txn.sql.len;
	it->ends = barge_xcalloc(in->txn.n + 1, sizeof *it->ends);
	memcpy(it->ends, in->txn.ends, in->txn.n * sizeof *it->ends);
	it->meta = barge_xcalloc(in->txn.n + 1, sizeof *it->meta);
	memcpy(it->meta, in->txn.meta, in->txn.n * sizeof *it->meta);
	it->nstmt = in->txn.n;
	it->keys = barge_xcalloc(in->n_txn_keys + 1, sizeof *it->keys);
	memcpy(it->keys, in->txn_keys, in->n_txn_keys * sizeof *it->keys);
	it->cuts = barge_xcalloc(in->txn.cuts.n + 1, sizeof *it->cuts);
	if (in->txn.cuts.n)
		memcpy(it->cuts, in->txn.cuts.v, in->txn.cuts.n * sizeof *it->cuts);
	it->rows = in->txn_rows;
	it->ts = ev->timestamp;
	rc = enqueue(in, w, it);
	if (rc)
		return rc;
	for (size_t k = 0; k < in->n_txn_keys; k++) {
		struct keyslot *s = key_slot(in, in->txn_keys[k]);

		s->worker = w;
		s->seq = in->w[w].sent_seq;
	}
	if (in->keys_used > KEYMAP_SLOTS / 2)
		return forget_settled_keys(in);
	return 0;
}

/* ---- DDL ---- */

static int route_name(void *user, const char *schema, const char *table, char **to_schema,
		      char **to_table, struct barge_err *err)
{
	struct inc *in = user;

	if (!table)
		return barge_rules_route_schema(in->rules, schema, to_schema, err);
	if (!barge_rules_table_selected(in->rules, schema, table)) {
		*to_schema = barge_xstrdup(schema);
		*to_table = barge_xstrdup(table);
		return 0;
	}
	return barge_rules_route(in->rules, schema, table, to_schema, to_table, err);
}

/* Server errors a replayed DDL meets when it already ran before a crash. */
static bool ddl_already_done(enum barge_ddl_kind kind, unsigned db_errno)
{
	switch (db_errno) {
	case 1007: /* database exists */
	case 1050: /* table exists */
	case 1060: /* duplicate column */
	case 1061: /* duplicate key name */
	case 1068: /* multiple primary key */
	case 1091: /* can't drop: check that it exists */
	case 1008: /* database doesn't exist (drop) */
	case 1051: /* unknown table (drop) */
	case 1054: /* unknown column: dropped or renamed already */
		return true;
	case 1146: /* table doesn't exist: dropped, renamed or truncated away already */
		return kind == BARGE_DDL_DROP_TABLE || kind == BARGE_DDL_RENAME_TABLE ||
		       kind == BARGE_DDL_ALTER_TABLE || kind == BARGE_DDL_DROP_INDEX;
	default:
		return false;
	}
}

static bool ddl_selected(struct inc *in, const struct barge_ddl *d)
{
	for (size_t i = 0; i < d->n_names; i++) {
		const struct barge_ddl_name *n = &d->names[i];

		if (barge_rules_is_system_schema(n->schema) || (in->meta && !strcmp(n->schema, in->meta)))
			continue;
		if (n->table ? barge_rules_table_selected(in->rules, n->schema, n->table)
			     : barge_rules_schema_selected(in->rules, n->schema))
			return true;
	}
	return false;
}

/* A DROP or TRUNCATE of a routed table would empty a table other source tables may feed. */
static bool ddl_on_routed_table(struct inc *in, const struct barge_ddl *d)
{
	for (size_t i = 0; i < d->n_names; i++) {
		char *ts = NULL, *tt = NULL;
		bool routed;
		struct barge_err e = {0};

		if (!d->names[i].table)
			continue;
		if (barge_rules_route(in->rules, d->names[i].schema, d->names[i].table, &ts, &tt, &e))
			return true;
		routed = strcmp(ts, d->names[i].schema) || strcmp(tt, d->names[i].table);
		free(ts);
		free(tt);
		if (routed)
			return true;
	}
	return false;
}

static int write_all_positions(struct inc *in, const struct barge_position *p,
			       struct barge_err *err)
{
	struct barge_buf q;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "START TRANSACTION;");
	for (unsigned i = 0; i < in->n; i++) {
		barge_ckpt_position_sql(&q, in->tgt, in->meta, in->job->name, i, p);
		barge_buf_putc(&q, ';');
	}
	barge_buf_puts(&q, "COMMIT");
	rc = barge_db_exec(in->tgt, barge_buf_cstr(&q), err);
	barge_buf_dispose(&q);
	if (rc == 0) {
		pthread_mutex_lock(&in->mu);
		for (unsigned i = 0; i < in->n; i++)
			if (barge_position_cmp(p, &in->w[i].done) > 0)
				barge_position_copy(&in->w[i].done, p);
		pthread_mutex_unlock(&in->mu);
	}
	return rc;
}

/* The character set of a client collation id, for the ones DDL is written in. */
static const char *client_charset(unsigned id)
{
	switch (id) {
	case 8: case 31: case 47: case 48: case 49: case 94:
		return "latin1";
	case 33: case 83: case 192: case 223:
		return "utf8";
	case 63:
		return "binary";
	case 45: case 46: case 224: case 255: case 246:
		return "utf8mb4";
	default:
		return id >= 224 && id <= 323 ? "utf8mb4" : NULL;
	}
}

static int on_query(struct inc *in, const struct barge_event *ev, struct barge_err *err)
{
	const char *q = ev->u.query.query;
	size_t len = ev->u.query.query_len;
	char *db = NULL, *sql = NULL;
	struct barge_ddl d = {0};
	struct barge_buf out;
	struct barge_position end;
	int rc;

	if ((len == 5 && !strncasecmp(q, "BEGIN", 5)) || (len == 17 && !strncasecmp(q, "START TRANSACTION", 17))) {
		txn_begin(in, ev);
		return 0;
	}
	if ((len == 6 && !strncasecmp(q, "COMMIT", 6)))
		return in->in_txn ? txn_end(in, ev, err) : 0;
	if (len == 8 && !strncasecmp(q, "ROLLBACK", 8)) {
		/* a transaction that touched a non-transactional table and rolled back */
		in->in_txn = false;
		stmts_reset(&in->txn);
		in->n_txn_keys = in->txn_rows = 0;
		return 0;
	}
	db = ev->u.query.db_len ? barge_xstrndup(ev->u.query.db, ev->u.query.db_len) : NULL;
	sql = barge_xstrndup(q, len);
	memset(&end, 0, sizeof end);
	rc = barge_ddl_parse(sql, len, db, &d, err);
	if (rc) {
		barge_err_wrap(err, "%s:%llu: DDL", in->file, (unsigned long long)ev->offset);
		fail(in, err, sql, &in->txn_start);
		goto done;
	}
	if (d.kind == BARGE_DDL_NONE) {
		const char *p = sql;

		while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '(')
			p++;
		if (!strncasecmp(p, "INSERT", 6) || !strncasecmp(p, "UPDATE", 6) ||
		    !strncasecmp(p, "DELETE", 6) || !strncasecmp(p, "REPLACE", 7) ||
		    !strncasecmp(p, "LOAD", 4)) {
			rc = barge_err_set(err, BARGE_ESRC_QUERY,
					   "%s:%llu: the source wrote a change as a statement, not as "
					   "rows; set binlog_format=ROW on the source (the statement "
					   "cannot be replayed exactly)",
					   in->file, (unsigned long long)ev->offset);
			fail(in, err, sql, &in->txn_start);
		}
		goto done;
	}
	/* DDL ends any implicit transaction: it is its own group */
	if (!in->in_txn)
		txn_begin(in, ev);
	in->in_txn = false;
	position_now(in, &end);
	if (d.kind == BARGE_DDL_SKIP || !ddl_selected(in, &d) ||
	    barge_rules_event_ignored(in->rules, d.names[0].schema, d.names[0].table, d.event, sql))
		goto moved;
	if ((d.kind == BARGE_DDL_DROP_TABLE || d.kind == BARGE_DDL_TRUNCATE_TABLE) &&
	    ddl_on_routed_table(in, &d)) {
		barge_log(BARGE_LOG_WARN, in->job->name,
			  "%s:%llu: not applied: %s of a routed table (it may merge several source "
			  "tables): %s", in->file, (unsigned long long)ev->offset,
			  barge_ddl_kind_name(d.kind), sql);
		goto moved;
	}
	/* every earlier change is committed before the schema changes under it */
	rc = drain(in);
	if (rc)
		goto done;
	if (in->opts && in->opts->skip_ddl_at) {
		char at[300];

		barge_position_format(&in->txn_start, at, sizeof at);
		if (!strcmp(at, in->opts->skip_ddl_at)) {
			barge_log(BARGE_LOG_WARN, in->job->name, "%s: skipped as asked: %s", at, sql);
			goto moved_commit;
		}
	}
	barge_buf_init(&out, BARGE_BUF_NOCAP);
	rc = barge_ddl_rewrite(&d, sql, len, route_name, in, &out, err);
	if (rc == 0) {
		/* the statement's bytes are in the character set its client used */
		const char *cs = ev->u.query.has_charset ? client_charset(ev->u.query.charset_client)
							 : NULL;

		barge_log(BARGE_LOG_INFO, in->job->name, "%s:%llu: %s", in->file,
			  (unsigned long long)ev->offset, barge_buf_cstr(&out));
		if (cs && strcmp(cs, "utf8mb4"))
			barge_db_execf(in->tgt, NULL, "SET NAMES %s", cs);
		rc = barge_db_exec(in->tgt, barge_buf_cstr(&out), err);
		if (rc && ddl_already_done(d.kind, err->db_errno)) {
			barge_log(BARGE_LOG_INFO, in->job->name, "already applied (%s)", err->msg);
			barge_err_clear(err);
			rc = 0;
		}
		if (cs && strcmp(cs, "utf8mb4"))
			barge_db_exec(in->tgt, "SET NAMES utf8mb4", NULL);
	}
	if (rc) {
		char at[300];

		barge_position_format(&in->txn_start, at, sizeof at);
		barge_err_wrap(err, "%s: the DDL could not be applied to the target (apply an "
			       "equivalent change by hand, then run with --skip-ddl %s to go on)",
			       at, at);
		if (err->code != BARGE_ETGT_LOST)
			err->code = BARGE_EDDL;
		fail(in, err, barge_buf_cstr(&out), &in->txn_start);
		barge_buf_dispose(&out);
		goto done;
	}
	barge_buf_dispose(&out);
moved_commit:
	/* the tables' shapes changed: read them again from the target */
	tmaps_clear(in);
	rc = write_all_positions(in, &end, err);
	if (rc) {
		fail(in, err, NULL, &in->txn_start);
		goto done;
	}
moved:
	barge_position_copy(&in->boundary, &end);
done:
	barge_position_dispose(&end);
	barge_ddl_dispose(&d);
	free(db);
	free(sql);
	return rc;
}

/* ---- the event loop ---- */

static int on_event(struct inc *in, const uint8_t *data, size_t len, bool inner,
		    struct barge_err *err);

static int on_inner_event(void *user, const uint8_t *data, size_t len, struct barge_err *err)
{
	return on_event(user, data, len, true, err);
}

static int on_event(struct inc *in, const uint8_t *data, size_t len, bool inner,
		    struct barge_err *err)
{
	struct barge_event ev;
	int rc = barge_binlog_decode(&in->b, data, len, in->pos, inner, &ev, err);

	if (rc) {
		barge_err_wrap(err, "binlog %s", in->file);
		return rc;
	}
	in->events++;
	if (ev.type != BARGE_EV_HEARTBEAT && ev.type != BARGE_EV_HEARTBEAT_V2 && ev.timestamp) {
		in->caught_up = false;
		in->read_ts = ev.timestamp;
	}
	if (!inner && ev.log_pos)
		in->pos = ev.log_pos;
	/* a transaction the start GTID set holds already: read past it, apply nothing */
	if ((ev.type == BARGE_EV_GTID || ev.type == BARGE_EV_GTID_TAGGED) && in->mysql_set)
		in->skipping = barge_gtid_set_contains(in->mysql_set, ev.u.gtid.sid, ev.u.gtid.tag,
						       ev.u.gtid.tag_len, ev.u.gtid.gno);
	else if (ev.type == BARGE_EV_ANONYMOUS_GTID || ev.type == BARGE_EV_MARIA_GTID)
		in->skipping = false;
	if (in->skipping) {
		if (ev.type == BARGE_EV_XID) {
			in->skipping = false;
			position_now(in, &in->boundary);
		} else if (ev.type == BARGE_EV_ROTATE || ev.type == BARGE_EV_HEARTBEAT ||
			   ev.type == BARGE_EV_HEARTBEAT_V2) {
			goto handle;
		}
		return 0;
	}
handle:
	switch (ev.type) {
	case BARGE_EV_ROTATE:
		snprintf(in->file, sizeof in->file, "%.*s", (int)ev.u.rotate.name_len,
			 ev.u.rotate.name);
		in->pos = ev.u.rotate.position;
		snprintf(in->b.file, sizeof in->b.file, "%s", in->file);
		if (!in->in_txn) {
			position_now(in, &in->boundary);
		}
		return 0;
	case BARGE_EV_GTID:
	case BARGE_EV_GTID_TAGGED:
	case BARGE_EV_ANONYMOUS_GTID:
		txn_begin(in, &ev);
		note_gtid(in, &ev);
		return 0;
	case BARGE_EV_MARIA_GTID:
		txn_begin(in, &ev);
		note_gtid(in, &ev);
		return 0;
	case BARGE_EV_QUERY:
		return on_query(in, &ev, err);
	case BARGE_EV_TABLE_MAP:
		return on_table_map(in, ev.u.table_map.map, err);
	case BARGE_EV_XID:
		return in->in_txn ? txn_end(in, &ev, err) : 0;
	case BARGE_EV_TRANSACTION_PAYLOAD:
		/* the payload is the whole transaction; its end is the payload event's end */
		return barge_binlog_payload_each(&in->b, &ev, on_inner_event, in, err);
	case BARGE_EV_HEARTBEAT:
	case BARGE_EV_HEARTBEAT_V2:
		in->caught_up = true;
		return 0;
	case BARGE_EV_MARIA_QUERY_COMPRESSED:
		return on_query(in, &ev, err);
	default:
		if (barge_ev_is_rows(ev.type)) {
			if (!in->in_txn)
				txn_begin(in, &ev);
			return on_rows(in, &ev, err);
		}
		return 0;
	}
}

/* ---- status ---- */

static void publish(struct inc *in, bool force)
{
	double t = barge_clock_s();
	struct barge_position applied = {0};
	uint32_t ts = 0;
	bool idle = true;

	if (!force && t - in->last_status < STATUS_INTERVAL_S)
		return;
	in->last_status = t;
	pthread_mutex_lock(&in->mu);
	for (unsigned i = 0; i < in->n; i++) {
		struct apply_worker *aw = &in->w[i];

		if (aw->pending_txns) {
			idle = false;
			if (!applied.binlog_name[0] || barge_position_cmp(&aw->done, &applied) < 0)
				barge_position_copy(&applied, &aw->done);
		}
		if (aw->done_ts > ts)
			ts = aw->done_ts;
	}
	pthread_mutex_unlock(&in->mu);
	if (idle)
		barge_position_copy(&applied, &in->boundary);
	pthread_mutex_lock(in->st_lock);
	barge_position_copy(&in->st->applied, &applied);
	barge_position_copy(&in->st->source_head, &in->head);
	/* lag: how old the oldest change not yet on the target is, roughly: nothing pending and
	 * the stream idle is no lag; else the age of the newest committed (or read) change */
	if (idle && (in->caught_up || !in->read_ts))
		in->st->lag_seconds = 0;
	else {
		int64_t age = (int64_t)time(NULL) - (int64_t)(idle ? in->read_ts : ts ? ts : in->read_ts);

		in->st->lag_seconds = age > 0 ? age : 0;
	}
	if (in->head.binlog_name[0] && !strcmp(in->head.binlog_name, applied.binlog_name))
		in->st->lag_bytes = in->head.binlog_pos > applied.binlog_pos
					    ? in->head.binlog_pos - applied.binlog_pos : 0;
	in->st->safe_mode = in->safe_mode == BARGE_SAFE_ALWAYS ||
			    (in->in_txn ? in->txn_safe : txn_safe_at(in, &in->boundary));
	in->st->events_applied = in->events;
	pthread_mutex_unlock(in->st_lock);
	pthread_mutex_lock(&in->mu);
	pthread_mutex_lock(in->st_lock);
	in->st->transactions_applied = in->txns_applied;
	pthread_mutex_unlock(in->st_lock);
	pthread_mutex_unlock(&in->mu);
	barge_position_dispose(&applied);
}

static void poll_head(struct inc *in)
{
	double t = barge_clock_s();
	struct barge_err e = {0};

	if (t - in->last_head < HEAD_INTERVAL_S)
		return;
	in->last_head = t;
	if (barge_source_position(in->src, &in->head, &e))
		barge_log(BARGE_LOG_DEBUG, in->job->name, "source position: %s", e.msg);
}

/* A marker when the stream moved on since the last one (and no transaction is open). */
static int maybe_mark(struct inc *in, bool force)
{
	double t = barge_clock_s();

	if (in->in_txn || !in->boundary.binlog_name[0])
		return 0;
	if (!force && t - in->last_mark < MARK_INTERVAL_S)
		return 0;
	in->last_mark = t;
	return send_marks(in, &in->boundary);
}

/* ---- one run: connect, resume from the checkpoints, follow until stopped or failed ---- */

static int load_handoffs(struct inc *in, struct barge_err *err)
{
	struct barge_ckpt_table *t = NULL;
	size_t n = 0;
	int rc = barge_ckpt_tables_load(in->tgt, in->meta, in->job->name, &t, &n, err);

	if (rc)
		return rc;
	in->handoffs = barge_xcalloc(n + 1, sizeof *in->handoffs);
	for (size_t i = 0; i < n; i++) {
		struct handoff *h = &in->handoffs[in->n_handoffs];

		if (!t[i].first.binlog_name[0])
			continue;
		h->schema = barge_xstrdup(t[i].src_schema);
		h->table = barge_xstrdup(t[i].src_table);
		barge_position_copy(&h->first, &t[i].first);
		barge_position_copy(&h->last, t[i].last.binlog_name[0] ? &t[i].last : &t[i].first);
		h->keyless = t[i].keyless;
		in->n_handoffs++;
	}
	barge_ckpt_tables_free(t, n);
	return 0;
}

/* The Previous_gtids of binlog file name on the source (empty when the file has none). */
static int previous_gtids(struct inc *in, const char *name, struct barge_gtid_set **out,
			  struct barge_err *err)
{
	struct barge_db *db = NULL;
	struct barge_binlog_stream *st = NULL;
	struct barge_stream_opts so = {0};
	struct barge_binlog b;
	struct barge_buf text;
	int rc;

	barge_binlog_init(&b);
	barge_buf_init(&text, BARGE_BUF_NOCAP);
	so.server_id = in->job->source.server_id;
	so.file = name;
	so.pos = 4;
	so.non_blocking = true;
	rc = barge_db_connect(&in->job->source, BARGE_DB_SOURCE, in->base_dir, NULL, &db, err);
	if (rc == 0)
		rc = barge_binlog_stream_open(db, &so, &st, err);
	for (int i = 0; rc == 0 && i < 8; i++) {
		const uint8_t *data;
		size_t len;
		struct barge_event ev;

		rc = barge_binlog_stream_next(st, &data, &len, err);
		if (rc != 1)
			break;
		rc = barge_binlog_decode(&b, data, len, 0, false, &ev, err);
		if (rc == 0 && ev.type == BARGE_EV_PREVIOUS_GTIDS) {
			rc = barge_prev_gtids_text(&ev, &text, err);
			break;
		}
		if (rc == 0 && (ev.type == BARGE_EV_GTID || ev.type == BARGE_EV_GTID_TAGGED ||
				ev.type == BARGE_EV_ANONYMOUS_GTID || ev.type == BARGE_EV_QUERY))
			break; /* past where Previous_gtids would be */
	}
	if (rc >= 0)
		rc = barge_gtid_set_parse(barge_buf_cstr(&text), out, err);
	barge_binlog_stream_close(st);
	barge_db_close(db);
	barge_binlog_dispose(&b);
	barge_buf_dispose(&text);
	return rc < 0 ? barge_err_wrap(err, "read the Previous_gtids of %s", name) : 0;
}

/*
 * A MySQL source from a GTID set: the newest binlog file whose Previous_gtids the set holds,
 * from its start (the transactions in it that the set holds are skipped as they pass).
 */
static int mysql_gtid_start(struct inc *in, const char *text, struct barge_position *start,
			    struct barge_err *err)
{
	struct barge_gtid_set *set = NULL, **prev = NULL;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char **names = NULL;
	size_t n = 0;
	long at = -1;
	int rc;

	rc = barge_gtid_set_parse(text, &set, err);
	if (rc) {
		char why[sizeof err->msg];

		snprintf(why, sizeof why, "%s", err->msg);
		return barge_err_set(err, BARGE_ECONFIG, "incremental.start.gtid: %s", why);
	}
	rc = barge_db_query(in->src, "SHOW BINARY LOGS", &res, err);
	while (rc == 0 && (row = mysql_fetch_row(res)) != NULL) {
		names = barge_xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = barge_xstrdup(row[0] ? row[0] : "");
	}
	if (res)
		mysql_free_result(res);
	prev = barge_xcalloc(n + 1, sizeof *prev);
	/* newest first: usually the first file read is the one */
	for (size_t i = n; rc == 0 && i-- > 0;) {
		rc = previous_gtids(in, names[i], &prev[i], err);
		if (rc == 0 && barge_gtid_set_subset(prev[i], set)) {
			at = (long)i;
			break;
		}
	}
	if (rc == 0 && at < 0)
		rc = barge_err_set(err, BARGE_EBINLOG_PURGED, "incremental.start.gtid %s: the oldest "
				   "binary log left on the source (%s) starts after transactions the "
				   "set does not hold", text, n ? names[0] : "none");
	if (rc == 0) {
		barge_position_set(start, names[at], 4, text);
		barge_log(BARGE_LOG_INFO, in->job->name, "GTID set %s: starting at %s:4, skipping the "
			  "transactions it holds", text, names[at]);
	}
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		barge_gtid_set_free(prev[i]);
	}
	free(names);
	free(prev);
	barge_gtid_set_free(set);
	return rc;
}

/* Where to start, how many workers, which transactions each already has, safe mode. */
static int resume_point(struct inc *in, struct barge_position *start, struct barge_err *err)
{
	struct barge_ckpt_job ck = {0};
	struct barge_position *pos = NULL, hi = {0};
	size_t npos = 0;
	bool equal = true;
	int rc;

	rc = barge_ckpt_job_load(in->tgt, in->meta, in->job->name, &ck, err);
	if (rc == 0)
		rc = barge_ckpt_positions_load(in->tgt, in->meta, in->job->name, &pos, &npos, err);
	if (rc)
		goto out;
	for (size_t i = 1; i < npos; i++)
		if (barge_position_cmp(&pos[i], &pos[0]) != 0)
			equal = false;
	/* a change of `workers` takes effect once the workers agree on a position; until then
	 * transactions must go to the workers they went to before */
	in->n = npos && !equal ? (unsigned)npos : in->job->incremental.workers;
	if (in->n == 0)
		in->n = 1;
	in->w = barge_xcalloc(in->n, sizeof *in->w);
	for (unsigned i = 0; i < in->n; i++)
		pthread_cond_init(&in->w[i].wake, NULL);
	if (npos) {
		size_t lo = 0;

		for (size_t i = 0; i < npos; i++) {
			if (barge_position_cmp(&pos[i], &pos[lo]) < 0)
				lo = i;
			if (!hi.binlog_name[0] || barge_position_cmp(&pos[i], &hi) > 0)
				barge_position_copy(&hi, &pos[i]);
		}
		barge_position_copy(start, &pos[lo]);
		for (unsigned i = 0; i < in->n; i++) {
			const struct barge_position *p = equal ? &pos[0] : &pos[i];

			barge_position_copy(&in->w[i].skip_before, p);
			barge_position_copy(&in->w[i].done, p);
		}
	} else if (ck.start.binlog_name[0] || ck.start.gtid_set) {
		barge_position_copy(start, &ck.start);
	} else if (in->job->incremental.start.binlog_name) {
		barge_position_set(start, in->job->incremental.start.binlog_name,
				   in->job->incremental.start.binlog_pos,
				   in->job->incremental.start.gtid);
		rc = barge_ckpt_set_start(in->tgt, in->meta, in->job->name, start, err);
	} else if (in->job->incremental.start.gtid && barge_db_is_mariadb(in->src)) {
		/* MariaDB finds where a GTID position starts by itself */
		barge_position_set(start, "", 0, in->job->incremental.start.gtid);
		rc = barge_ckpt_set_start(in->tgt, in->meta, in->job->name, start, err);
	} else if (in->job->incremental.start.gtid) {
		rc = mysql_gtid_start(in, in->job->incremental.start.gtid, start, err);
		if (rc == 0)
			rc = barge_ckpt_set_start(in->tgt, in->meta, in->job->name, start, err);
	} else {
		/* mode incremental without a start: from now on */
		rc = barge_source_position(in->src, start, err);
		if (rc == 0) {
			barge_log(BARGE_LOG_INFO, in->job->name,
				  "no start position configured: following the binlog from the "
				  "source's current position %s:%llu",
				  start->binlog_name, (unsigned long long)start->binlog_pos);
			rc = barge_ckpt_set_start(in->tgt, in->meta, in->job->name, start, err);
		}
	}
	if (rc)
		goto out;
	if (!npos)
		for (unsigned i = 0; i < in->n; i++)
			barge_position_copy(&in->w[i].done, start);
	if (start->gtid_set && barge_db_is_mariadb(in->src)) {
		domains_from_text(in, start->gtid_set);
	} else if (start->gtid_set && *start->gtid_set) {
		rc = barge_gtid_set_parse(start->gtid_set, &in->mysql_set, err);
		if (rc) {
			barge_err_wrap(err, "the start position's GTID set");
			goto out;
		}
	}
	/* positions of workers no longer configured */
	if (equal && npos > in->n) {
		struct barge_buf q;

		barge_buf_init(&q, BARGE_BUF_NOCAP);
		barge_buf_puts(&q, "DELETE FROM ");
		barge_buf_append_qname(&q, in->meta, "positions");
		barge_buf_puts(&q, " WHERE `job` = ");
		barge_ckpt_append_str(&q, in->tgt, in->job->name);
		barge_buf_appendf(&q, " AND `worker` >= %u", in->n);
		rc = barge_db_exec(in->tgt, barge_buf_cstr(&q), err);
		barge_buf_dispose(&q);
	}
	if (rc)
		goto out;

	/* safe mode after an abrupt stop: until every worker's position is passed */
	in->safe_mode = in->job->incremental.safe_mode;
	if (ck.safe_exit.binlog_name[0])
		barge_position_copy(&in->safe_until, &ck.safe_exit);
	if (ck.running && hi.binlog_name[0] &&
	    (!in->safe_until.binlog_name[0] || barge_position_cmp(&hi, &in->safe_until) > 0)) {
		barge_position_copy(&in->safe_until, &hi);
		rc = barge_ckpt_set_safe_exit(in->tgt, in->meta, in->job->name, &hi, err);
	}
	if (rc == 0 && in->safe_mode == BARGE_SAFE_AUTO && in->safe_until.binlog_name[0])
		barge_log(BARGE_LOG_INFO, in->job->name,
			  "the last run did not stop cleanly: safe mode until %s:%llu",
			  in->safe_until.binlog_name,
			  (unsigned long long)in->safe_until.binlog_pos);
out:
	for (size_t i = 0; i < npos; i++)
		barge_position_dispose(&pos[i]);
	free(pos);
	barge_position_dispose(&hi);
	barge_ckpt_job_dispose(&ck);
	return rc;
}

static void inc_dispose(struct inc *in)
{
	pthread_mutex_lock(&in->mu);
	in->quit = true;
	wake_all(in);
	pthread_mutex_unlock(&in->mu);
	for (unsigned i = 0; in->w && i < in->n; i++) {
		struct apply_worker *aw = &in->w[i];
		struct item *it;

		if (aw->started)
			pthread_join(aw->thread, NULL);
		while ((it = aw->head) != NULL) {
			aw->head = it->next;
			item_free(it);
		}
		barge_db_close(aw->tgt);
		barge_merger_dispose(&aw->merger);
		free(aw->mstmts);
		barge_position_dispose(&aw->done);
		barge_position_dispose(&aw->skip_before);
		pthread_cond_destroy(&aw->wake);
	}
	free(in->w);
	if (in->stream)
		barge_binlog_stream_close(in->stream);
	barge_db_close(in->stream_db);
	barge_db_close(in->src);
	tmaps_clear(in);
	barge_db_close(in->tgt);
	barge_binlog_dispose(&in->b);
	for (size_t i = 0; i < in->n_handoffs; i++) {
		free(in->handoffs[i].schema);
		free(in->handoffs[i].table);
		barge_position_dispose(&in->handoffs[i].first);
		barge_position_dispose(&in->handoffs[i].last);
	}
	free(in->handoffs);
	free(in->keys);
	free(in->domains);
	barge_gtid_set_free(in->mysql_set);
	stmts_dispose(&in->txn);
	free(in->txn_keys);
	free(in->before);
	free(in->after);
	free(in->err_sql);
	barge_position_dispose(&in->err_pos);
	barge_position_dispose(&in->safe_until);
	barge_position_dispose(&in->replace_until);
	barge_position_dispose(&in->boundary);
	barge_position_dispose(&in->txn_start);
	barge_position_dispose(&in->head);
	barge_rules_free(in->rules);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->done);
}

static int run_once(struct inc *in, struct barge_err *err)
{
	struct barge_db_opts so = {.read_timeout_s = 0};
	struct barge_position start = {0};
	struct barge_stream_opts sopts = {0};
	const struct barge_job *job = in->job;
	int rc;

	rc = barge_job_compile_rules(job, &in->rules, NULL, err);
	if (rc == 0)
		rc = barge_db_connect(&job->source, BARGE_DB_SOURCE, in->base_dir, NULL, &in->src, err);
	if (rc == 0)
		rc = barge_db_connect(&job->target, BARGE_DB_TARGET, in->base_dir, NULL, &in->tgt, err);
	if (rc == 0)
		rc = barge_ckpt_init(in->tgt, in->meta, err);
	if (rc == 0)
		rc = barge_ckpt_job_begin(in->tgt, in->meta, job->name, err);
	if (rc == 0)
		rc = resume_point(in, &start, err);
	if (rc == 0 && job->mode == BARGE_MODE_ALL)
		rc = load_handoffs(in, err);
	if (rc == 0 && in->opts && in->opts->replace_conflicts) {
		/* the seed's Restart: replace conflicting rows up to where the source is now */
		rc = barge_source_position(in->src, &in->replace_until, err);
		if (rc == 0)
			barge_log(BARGE_LOG_INFO, job->name,
				  "restart: rows that conflict are replaced by the source's until "
				  "%s:%llu", in->replace_until.binlog_name,
				  (unsigned long long)in->replace_until.binlog_pos);
	}
	if (rc == 0)
		rc = barge_ckpt_set_running(in->tgt, in->meta, job->name, true, err);
	if (rc)
		goto out;
	for (unsigned i = 0; i < in->n; i++) {
		struct apply_worker *aw = &in->w[i];

		aw->inc = in;
		aw->id = i;
		rc = barge_db_connect(&job->target, BARGE_DB_TARGET, in->base_dir, NULL, &aw->tgt, err);
		if (rc == 0)
			rc = barge_db_exec(aw->tgt, "SET SESSION foreign_key_checks = 0, "
					   "unique_checks = 1", err);
		if (rc)
			goto out;
		if (pthread_create(&aw->thread, NULL, worker_main, aw) != 0) {
			rc = barge_err_set(err, BARGE_EIO, "cannot start an apply thread");
			goto out;
		}
		aw->started = true;
	}
	rc = barge_db_connect(&job->source, BARGE_DB_SOURCE, in->base_dir, &so, &in->stream_db, err);
	if (rc)
		goto out;
	snprintf(in->file, sizeof in->file, "%s", start.binlog_name);
	in->pos = start.binlog_pos;
	position_now(in, &in->boundary);
	sopts.server_id = job->source.server_id;
	sopts.file = start.binlog_name;
	sopts.pos = start.binlog_pos ? start.binlog_pos : 4;
	sopts.heartbeat_s = 1;
	if (!start.binlog_name[0] && start.gtid_set)
		sopts.maria_gtid = start.gtid_set;
	barge_log(BARGE_LOG_INFO, job->name, "following the binlog from %s%s%s:%llu with %u worker%s",
		  sopts.maria_gtid ? "GTID " : "", sopts.maria_gtid ? sopts.maria_gtid : "",
		  start.binlog_name, (unsigned long long)sopts.pos, in->n, in->n == 1 ? "" : "s");
	rc = barge_binlog_stream_open(in->stream_db, &sopts, &in->stream, err);
	if (rc)
		goto out;
	in->last_mark = barge_clock_s();
	while (rc == 0) {
		const uint8_t *data;
		size_t len;

		if (!in->in_txn && stopping(in))
			break;
		rc = barge_binlog_stream_next(in->stream, &data, &len, err);
		if (rc == 1)
			rc = on_event(in, data, len, false, err);
		else if (rc == 0)
			break;
		if (rc == 0)
			rc = maybe_mark(in, false);
		if (rc == 0) {
			poll_head(in);
			publish(in, false);
		}
	}
	pthread_mutex_lock(&in->mu);
	if (in->failed) {
		*err = in->err;
		rc = in->err.code ? in->err.code : BARGE_EINVAL;
	}
	pthread_mutex_unlock(&in->mu);
	if (rc < 0 && rc != BARGE_ECANCELLED)
		fail(in, err, NULL, NULL);
	if (rc == 0 || rc == BARGE_ECANCELLED) {
		/* a clean stop: every worker reaches the same position */
		rc = maybe_mark(in, true);
		if (rc == 0)
			rc = drain(in);
		if (rc == 0)
			rc = barge_ckpt_set_safe_exit(in->tgt, in->meta, job->name, NULL, err);
		if (rc == 0)
			rc = barge_ckpt_set_running(in->tgt, in->meta, job->name, false, err);
		if (rc == 0)
			barge_log(BARGE_LOG_INFO, job->name,
				  "stopped cleanly at %s:%llu; this run applied %llu transactions "
				  "(%llu row changes) in %llu target transactions of %llu statements",
				  in->boundary.binlog_name, (unsigned long long)in->boundary.binlog_pos,
				  (unsigned long long)in->txns_applied,
				  (unsigned long long)in->rows_applied,
				  (unsigned long long)in->batches, (unsigned long long)in->statements);
		if (rc)
			*err = in->failed ? in->err : *err;
	}
	publish(in, true);
out:
	barge_position_dispose(&start);
	return rc;
}

static void publish_error(struct inc *in, const struct barge_err *err, bool retrying)
{
	pthread_mutex_lock(in->st_lock);
	in->st->last_error = *err;
	if (retrying)
		barge_err_wrap(&in->st->last_error, "retrying");
	free(in->st->last_error_sql);
	in->st->last_error_sql = in->err_sql ? barge_xstrdup(in->err_sql) : NULL;
	barge_position_copy(&in->st->last_error_position, &in->err_pos);
	pthread_mutex_unlock(in->st_lock);
}

int barge_incremental_run(const struct barge_job *job, const char *base_dir,
			  const struct barge_worker_opts *opts, struct barge_db *src,
			  struct barge_db *tgt, atomic_bool *stop, pthread_mutex_t *lock,
			  struct barge_worker_status *st, struct barge_err *err)
{
	unsigned backoff = 1;
	int rc;

	/* the run opens connections of its own, so that it can open them again after a loss */
	(void)src;
	(void)tgt;
	for (;;) {
		struct inc in;
		uint64_t before;

		memset(&in, 0, sizeof in);
		in.job = job;
		in.meta = job->target.meta_schema;
		in.base_dir = base_dir;
		in.opts = opts;
		in.stop = stop;
		in.st_lock = lock;
		in.st = st;
		pthread_mutex_init(&in.mu, NULL);
		pthread_cond_init(&in.done, NULL);
		barge_binlog_init(&in.b);
		stmts_init(&in.txn);
		in.keys = barge_xcalloc(KEYMAP_SLOTS, sizeof *in.keys);
		in.before = barge_xcalloc(BARGE_BINLOG_MAX_COLUMNS, sizeof *in.before);
		in.after = barge_xcalloc(BARGE_BINLOG_MAX_COLUMNS, sizeof *in.after);
		before = st->transactions_applied;
		barge_err_clear(err);
		rc = run_once(&in, err);
		if (rc && rc != BARGE_ECANCELLED)
			publish_error(&in, err, barge_err_retryable(err) && !atomic_load(stop));
		inc_dispose(&in);
		if (rc == 0 || rc == BARGE_ECANCELLED || atomic_load(stop))
			return atomic_load(stop) ? BARGE_ECANCELLED : rc;
		if (!barge_err_retryable(err))
			return rc;
		if (st->transactions_applied > before)
			backoff = 1;
		barge_log(BARGE_LOG_WARN, job->name, "%s; reconnecting in %us", err->msg, backoff);
		for (unsigned i = 0; i < backoff * 10 && !atomic_load(stop); i++)
			usleep(100 * 1000);
		backoff = backoff < 30 ? backoff * 2 : 30;
	}
}
