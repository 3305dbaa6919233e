/*
 * reconcile.c — the controller (see reconcile.h).
 */
#include "engine/reconcile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/checkpoint.h"
#include "engine/db.h"
#include "engine/jobset.h"
#include "engine/lifecycle.h"
#include "engine/log.h"
#include "engine/plan.h"
#include "engine/store.h"
#include "engine/webhook.h"

#define STOP_WAIT_MS 120000

#define BACKOFF_MAX_S 60

#define LEASE_TTL_DEFAULT_MS 30000

struct run {
	char *name;
	struct barge_job *job;      /* the spec the worker runs (or last ran) */
	struct barge_worker *w;
	enum barge_stage seen;      /* the stage last recorded, for stage events */
	int seen_error;             /* the error code last posted */
	bool lag_over;
	double retry_at;            /* > 0: start the worker again at this time */
	unsigned backoff;
	unsigned retries;           /* retryable failures in a row */
	bool need_precheck;         /* started or restarted, and not past Prechecking yet */
	/* the job's lease; under the controller's mu, as the keeper thread renews it */
	bool leased;                /* this controller holds it */
	bool lease_lost;            /* a renewal found another holder, or failed too long */
	double lease_ok_at;         /* when it was last acquired or renewed (barge_clock_s) */
};

struct barge_controller {
	struct barge_controller_opts opts;
	struct barge_store *store;
	struct barge_jobset *set;
	struct run *runs;
	size_t n_runs;
	struct barge_notifier *notifier;
	size_t failed;

	/* leases: this controller's name, and the keeper thread that renews what it holds */
	char owner[320];
	int64_t lease_ttl_ms;
	struct barge_store *keeper_store; /* the keeper's own handle */
	pthread_t keeper;
	bool keeper_started, quit;
	pthread_mutex_t mu; /* runs[] (its growth) and every run's lease fields */
	pthread_cond_t cv;
};

static struct run *run_find(struct barge_controller *c, const char *name)
{
	for (size_t i = 0; i < c->n_runs; i++)
		if (!strcmp(c->runs[i].name, name))
			return &c->runs[i];
	return NULL;
}

/* The run of job name, made when missing.  Pointers stay valid until the next run_get. */
static struct run *run_get(struct barge_controller *c, const char *name)
{
	struct run *run = run_find(c, name);

	if (run)
		return run;
	pthread_mutex_lock(&c->mu);
	c->runs = barge_xrealloc(c->runs, (c->n_runs + 1) * sizeof *c->runs);
	memset(&c->runs[c->n_runs], 0, sizeof *c->runs);
	c->runs[c->n_runs].name = barge_xstrdup(name);
	c->runs[c->n_runs].seen = (enum barge_stage)-1;
	run = &c->runs[c->n_runs++];
	pthread_mutex_unlock(&c->mu);
	return run;
}

/* ---- leases ---- */

/*
 * A controller works on a job only while it holds the job's lease.  It takes the lease when it
 * first has something to do for the job (an action, or a live job without a worker), and the
 * keeper thread renews every lease it holds each third of the TTL, on its own store handle, so a
 * pass that waits for a worker to stop does not let the others expire.  A renewal that finds
 * another holder, or that has failed for two thirds of the TTL, marks the lease lost; the next
 * pass stops that job's worker without recording anything more for it.
 */
static bool lease_held(struct barge_controller *c, struct run *run)
{
	bool held;

	pthread_mutex_lock(&c->mu);
	held = run->leased && !run->lease_lost;
	pthread_mutex_unlock(&c->mu);
	return held;
}

static void lease_set(struct barge_controller *c, struct run *run, bool leased)
{
	pthread_mutex_lock(&c->mu);
	run->leased = leased;
	run->lease_lost = false;
	run->lease_ok_at = barge_clock_s();
	pthread_mutex_unlock(&c->mu);
}

/* Hold job name's lease: already held, or acquired now.  Quiet when another holds it. */
static bool lease_take(struct barge_controller *c, struct run *run)
{
	struct barge_err err = {0};
	int rc;

	if (lease_held(c, run))
		return true;
	rc = barge_store_lease_acquire(c->store, run->name, c->owner, c->lease_ttl_ms, &err);
	if (rc == 0) {
		lease_set(c, run, true);
		barge_log(BARGE_LOG_DEBUG, run->name, "lease taken by %s", c->owner);
		return true;
	}
	if (rc != BARGE_ESTORE_LOCKED && rc != BARGE_ENOTFOUND)
		barge_log(BARGE_LOG_WARN, run->name, "cannot take its lease: %s", err.msg);
	return false;
}

static void lease_drop(struct barge_controller *c, struct run *run, bool release)
{
	struct barge_err err = {0};

	if (release && run->leased)
		barge_store_lease_release(c->store, run->name, c->owner, &err);
	lease_set(c, run, false);
}

static void *keeper_main(void *arg)
{
	struct barge_controller *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->quit) {
		struct timespec ts;
		char **names;
		int *rcs;
		size_t n = 0;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += c->lease_ttl_ms / 3000;
		ts.tv_nsec += (long)(c->lease_ttl_ms / 3 % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		if (c->quit)
			break;
		names = barge_xcalloc(c->n_runs + 1, sizeof *names);
		rcs = barge_xcalloc(c->n_runs + 1, sizeof *rcs);
		for (size_t i = 0; i < c->n_runs; i++)
			if (c->runs[i].leased && !c->runs[i].lease_lost)
				names[n++] = barge_xstrdup(c->runs[i].name);
		pthread_mutex_unlock(&c->mu);
		for (size_t i = 0; i < n; i++) {
			struct barge_err err = {0};

			rcs[i] = barge_store_lease_renew(c->keeper_store, names[i], c->owner,
							 c->lease_ttl_ms, &err);
			if (rcs[i])
				barge_log(BARGE_LOG_WARN, names[i], "lease renewal: %s", err.msg);
		}
		pthread_mutex_lock(&c->mu);
		for (size_t i = 0; i < n; i++) {
			struct run *run = run_find(c, names[i]);
			double now = barge_clock_s();

			if (run && run->leased && !run->lease_lost) {
				if (rcs[i] == 0)
					run->lease_ok_at = now;
				else if (rcs[i] == BARGE_ESTORE_LOCKED || rcs[i] == BARGE_ENOTFOUND ||
					 now - run->lease_ok_at > (double)c->lease_ttl_ms * 2 / 3000)
					run->lease_lost = true;
			}
			free(names[i]);
		}
		free(names);
		free(rcs);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* A job from a record's spec (when no files are given, and for jobs whose file is gone). */
static struct barge_job *job_from_record(const struct barge_record *r, struct barge_err *err)
{
	struct barge_job *job = NULL;

	if (!r->spec_json) {
		barge_err_set(err, BARGE_ESTORE, "job %s: the store holds no spec for it", r->name);
		return NULL;
	}
	if (barge_job_from_json(r->spec_json, &job, err))
		return NULL;
	return job;
}

/* ---- writing records: compare-and-swap, retried over a fresh copy ---- */

static void copy_acted(struct barge_record *dst, const struct barge_record *src)
{
	struct barge_record tmp;

	barge_record_copy(&tmp, src);
	free(dst->acted_spec_json);
	dst->acted_spec_json = tmp.acted_spec_json;
	tmp.acted_spec_json = NULL;
	dst->acted_generation = tmp.acted_generation;
	dst->stage = tmp.stage;
	dst->paused_from = tmp.paused_from;
	free(dst->status);
	dst->status = tmp.status;
	tmp.status = NULL;
	dst->progress = tmp.progress;
	dst->lag_seconds = tmp.lag_seconds;
	free(dst->error.code);
	free(dst->error.message);
	free(dst->error.position);
	free(dst->error.statement);
	dst->error = tmp.error;
	memset(&tmp.error, 0, sizeof tmp.error);
	free(dst->webhook.last_failure);
	dst->webhook = tmp.webhook;
	tmp.webhook.last_failure = NULL;
	barge_record_dispose(&tmp);
}

/* Save r's acted half (and, with spec, its desired half from the file). */
static int save(struct barge_controller *c, struct barge_record *r, const struct barge_job *spec,
		struct barge_err *err)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		struct barge_record fresh;
		int rc;

		if (spec)
			barge_record_set_spec(r, spec);
		rc = barge_store_put(c->store, r, err);
		if (rc != BARGE_ESTORE_LOCKED)
			return rc;
		/* someone (apply, pause...) wrote the desired half meanwhile: keep theirs */
		barge_err_clear(err);
		rc = barge_store_get(c->store, r->name, &fresh, err);
		if (rc == BARGE_ENOTFOUND && r->version == 0)
			continue;
		if (rc)
			return rc;
		copy_acted(&fresh, r);
		barge_record_dispose(r);
		*r = fresh;
	}
	return barge_err_set(err, BARGE_ESTORE_LOCKED, "job %s: its record keeps changing", r->name);
}

/* ---- webhooks ---- */

static void post(struct barge_controller *c, struct run *run, unsigned kind,
		 const struct barge_record *r, const char *previous)
{
	struct barge_webhook_event ev = {0};
	char *base;

	if (!run->job || !run->job->n_notify)
		return;
	if (!c->notifier)
		c->notifier = barge_notifier_new(NULL);
	ev.kind = kind;
	ev.job = r->name;
	ev.stage = barge_stage_name(r->stage);
	ev.previous_stage = previous;
	if (r->error.code) {
		ev.error_code = barge_err_code(r->error.code);
		ev.error_message = r->error.message;
		ev.error_position = r->error.position;
		ev.error_sql = r->error.statement;
	}
	ev.lag_seconds = (int64_t)r->lag_seconds;
	ev.lag_over = run->lag_over;
	ev.rows_done = r->progress.rows_done;
	ev.rows_estimated = r->progress.rows_total;
	base = barge_job_base_dir(run->job);
	barge_notifier_post(c->notifier, run->job->notify, run->job->n_notify, base, &ev);
	free(base);
}

/* A stage event when the record's stage is not the one last posted. */
static void note_stage(struct barge_controller *c, struct run *run, const struct barge_record *r)
{
	if (run->seen == r->stage)
		return;
	post(c, run, r->stage == BARGE_STAGE_FINISHED ? BARGE_NOTIFY_FINISH : BARGE_NOTIFY_STAGE, r,
	     (int)run->seen >= 0 ? barge_stage_name(run->seen) : NULL);
	run->seen = r->stage;
}

/* ---- workers ---- */

static int start_worker(struct barge_controller *c, struct run *run, const struct barge_job *job,
			bool replace_conflicts, struct barge_err *err)
{
	struct barge_worker_opts o = {0};

	if (job != run->job) {
		barge_job_free(run->job);
		run->job = barge_job_dup(job);
	}
	o.replace_conflicts = replace_conflicts || c->opts.replace_conflicts;
	o.skip_ddl_at = c->opts.skip_ddl_at;
	/* the precheck runs when a job starts or restarts, not when it resumes */
	o.skip_precheck = !run->need_precheck;
	run->retry_at = 0;
	return barge_worker_start(run->job, &o, &run->w, err);
}

static void stop_worker(struct run *run)
{
	if (!run->w)
		return;
	barge_worker_request_stop(run->w);
	if (!barge_worker_wait(run->w, STOP_WAIT_MS))
		barge_log(BARGE_LOG_WARN, run->name, "the worker did not stop within %d s",
			  STOP_WAIT_MS / 1000);
	barge_worker_free(run->w);
	run->w = NULL;
}

/* Remove the job's checkpoints from its target (a deleted job starts from scratch). */
static void forget_checkpoints(const struct barge_job *job)
{
	struct barge_db *tgt = NULL;
	struct barge_err err = {0};
	char *base = barge_job_base_dir(job);

	if (barge_db_connect(&job->target, BARGE_DB_TARGET, base, NULL, &tgt, &err) == 0 &&
	    barge_ckpt_forget_job(tgt, job->target.meta_schema, job->name, &err) == 0)
		barge_log(BARGE_LOG_INFO, job->name, "checkpoints removed from the target");
	else
		barge_log(BARGE_LOG_WARN, job->name, "could not remove its checkpoints: %s", err.msg);
	barge_db_close(tgt);
	free(base);
}

/* Copy the job's webhook health into the record; whether it changed. */
static bool sync_webhooks(struct barge_controller *c, struct run *run, struct barge_record *r)
{
	struct barge_webhook_health h;
	struct barge_record_webhook was = r->webhook;
	bool changed;

	if (!run->job || !run->job->n_notify || !c->notifier)
		return false;
	barge_notifier_health(c->notifier, r->name, &h);
	if (!h.delivered && !h.failed)
		return false;
	r->webhook.last = h.last_failure > h.last_success ? BARGE_DELIVERY_FAILED
							   : BARGE_DELIVERY_OK;
	r->webhook.failures = h.failed;
	r->webhook.last_at_ms = (int64_t)(h.last_failure > h.last_success ? h.last_failure
									  : h.last_success) * 1000;
	changed = was.last != r->webhook.last || was.failures != r->webhook.failures ||
		  was.last_at_ms != r->webhook.last_at_ms ||
		  !was.last_failure != !h.last_error[0] ||
		  (was.last_failure && strcmp(was.last_failure, h.last_error));
	if (changed) {
		free(r->webhook.last_failure);
		r->webhook.last_failure = h.last_error[0] ? barge_xstrdup(h.last_error) : NULL;
	}
	return changed;
}

/* Copy a worker's status into the record; handle its end. */
static void sync_status(struct barge_controller *c, struct run *run, struct barge_record *r)
{
	struct barge_worker_status st;
	char pos[300];

	barge_worker_status_get(run->w, &st);
	/* a worker just started has not checked anything yet: it is Prechecking, never New again
	 * (New would read as a job never started, and be started once more) */
	r->stage = st.stage == BARGE_STAGE_NEW ? BARGE_STAGE_PRECHECKING : st.stage;
	if (st.prechecked)
		run->need_precheck = false; /* a retry resumes; it does not check again */
	r->progress.rows_done = st.rows_done;
	r->progress.rows_total = st.rows_estimated;
	r->progress.bytes_done = st.bytes_done;
	r->progress.rate = st.rows_per_sec;
	r->progress.eta_seconds = st.eta_seconds;
	r->lag_seconds = st.stage == BARGE_STAGE_SYNCING ? (double)st.lag_seconds : -1;
	free(r->status);
	r->status = NULL;
	if (st.stage == BARGE_STAGE_SYNCING) {
		barge_position_format(&st.applied, pos, sizeof pos);
		r->status = barge_xasprintf("applied up to %s%s", pos,
					    st.safe_mode ? " (safe mode)" : "");
	}
	if (st.last_error.code) {
		barge_position_format(&st.last_error_position, pos, sizeof pos);
		barge_record_set_error(r, &st.last_error,
				       st.last_error_position.binlog_name[0] ? pos : NULL,
				       st.last_error_sql, barge_store_now_ms());
	} else if (st.stage != BARGE_STAGE_FAILED) {
		barge_record_set_error(r, NULL, NULL, NULL, 0);
	}
	if (!st.running) {
		bool retry = st.stage == BARGE_STAGE_FAILED && barge_err_retryable(&st.last_error) &&
			     (!c->opts.max_retries || run->retries < c->opts.max_retries);

		barge_worker_free(run->w);
		run->w = NULL;
		if (st.stage != BARGE_STAGE_FAILED)
			run->retries = 0;
		if (retry) {
			run->retries++;
			run->backoff = run->backoff ? run->backoff * 2 : 1;
			if (run->backoff > BACKOFF_MAX_S)
				run->backoff = BACKOFF_MAX_S;
			run->retry_at = barge_clock_s() + run->backoff;
			r->stage = r->stage == BARGE_STAGE_FAILED ? BARGE_STAGE_PRECHECKING : r->stage;
			free(r->status);
			r->status = barge_xasprintf("retrying in %us: %s", run->backoff,
						    st.last_error.msg);
			barge_log(BARGE_LOG_WARN, run->name, "%s", r->status);
		}
	}
	/* webhooks for what changed */
	note_stage(c, run, r);
	if (st.last_error.code && st.last_error.code != run->seen_error) {
		post(c, run, BARGE_NOTIFY_ERROR, r, NULL);
		run->seen_error = st.last_error.code;
	}
	for (size_t i = 0; run->job && i < run->job->n_notify; i++) {
		uint64_t limit = run->job->notify[i].lag_threshold_ms;
		bool over = limit && st.lag_seconds >= 0 && (uint64_t)st.lag_seconds * 1000 > limit;

		if (limit && over != run->lag_over) {
			run->lag_over = over;
			post(c, run, BARGE_NOTIFY_LAG, r, NULL);
			break;
		}
	}
	sync_webhooks(c, run, r);
	barge_worker_status_dispose(&st);
}

/* ---- actions ---- */

static const struct barge_job *desired_job(const struct barge_action *a, struct barge_job **owned,
					   struct barge_err *err)
{
	*owned = NULL;
	if (a->desired)
		return a->desired;
	if (a->record) {
		*owned = job_from_record(a->record, err);
		return *owned;
	}
	return NULL;
}

/* Carry out one action; *did says whether it was this controller's to carry out. */
static int act(struct barge_controller *c, const struct barge_action *a, bool *did,
	       struct barge_err *err)
{
	struct run *run = run_get(c, a->job);
	struct barge_record r;
	struct barge_job *owned = NULL;
	const struct barge_job *job;
	int rc = 0;

	*did = false;
	if (a->kind == BARGE_ACTION_NOTHING)
		return 0;
	/* a recorded job is acted on by the controller holding its lease */
	if (a->record && !lease_take(c, run)) {
		barge_log(BARGE_LOG_DEBUG, a->job, "%s left to the controller holding its lease",
			  barge_action_name(a->kind));
		return 0;
	}
	*did = true;
	job = desired_job(a, &owned, err);
	if (!job && a->kind != BARGE_ACTION_DELETE)
		return err->code ? err->code : BARGE_EINVAL;
	if (a->record)
		barge_record_copy(&r, a->record);
	else
		barge_record_init(&r, a->job);
	barge_log(BARGE_LOG_INFO, a->job, "%s: %s", barge_action_name(a->kind), a->reason);
	switch (a->kind) {
	case BARGE_ACTION_CREATE:
		r.stage = BARGE_STAGE_NEW;
		rc = save(c, &r, job, err);
		if (rc == 0)
			lease_take(c, run);
		break;
	case BARGE_ACTION_START:
	case BARGE_ACTION_RESUME:
	case BARGE_ACTION_RESTART: {
		bool restart = a->kind == BARGE_ACTION_RESTART;

		stop_worker(run);
		if (a->kind != BARGE_ACTION_RESUME)
			r.acted_generation = r.desired_generation > job->restart_generation
						     ? r.desired_generation : job->restart_generation;
		free(r.acted_spec_json);
		r.acted_spec_json = r.spec_json ? barge_xstrdup(r.spec_json) : NULL;
		if (restart)
			barge_record_set_error(&r, NULL, NULL, NULL, 0);
		if (restart && job->state == BARGE_DESIRED_PAUSED) {
			r.stage = BARGE_STAGE_PAUSED;
			r.paused_from = BARGE_STAGE_PRECHECKING;
		} else {
			run->backoff = 0;
			run->need_precheck = a->kind != BARGE_ACTION_RESUME || run->need_precheck;
			rc = start_worker(c, run, job, restart, err);
			r.stage = BARGE_STAGE_PRECHECKING;
		}
		if (rc == 0)
			rc = save(c, &r, a->desired, err);
		break;
	}
	case BARGE_ACTION_PAUSE:
		stop_worker(run);
		run->retry_at = 0;
		if (r.stage != BARGE_STAGE_PAUSED)
			r.paused_from = r.stage;
		r.stage = BARGE_STAGE_PAUSED;
		rc = save(c, &r, a->desired, err);
		break;
	case BARGE_ACTION_UPDATE_LIVE:
	case BARGE_ACTION_UPDATE_RESTART: {
		bool live = run->w || barge_stage_is_live(r.stage);
		struct barge_err save_err = {0};

		if (a->desired)
			barge_record_set_spec(&r, a->desired);
		if (live && a->kind == BARGE_ACTION_UPDATE_RESTART) {
			barge_log(BARGE_LOG_INFO, a->job, "restarting its worker for the new spec");
			stop_worker(run);
			run->need_precheck = true;
			rc = start_worker(c, run, job, false, err);
			if (rc == 0)
				r.stage = BARGE_STAGE_PRECHECKING;
		} else if (run->w && run->job) {
			/* live fields: notify and precheck.ignore are the controller's, taken at
			 * once; incremental.workers and batch are the apply threads', which a
			 * syncing worker takes by stopping at a safe point and resuming from its
			 * checkpoints; full.threads is taken when the full phase next starts */
			bool apply = r.stage == BARGE_STAGE_SYNCING &&
				     (run->job->incremental.workers != job->incremental.workers ||
				      run->job->incremental.batch != job->incremental.batch);

			if (apply) {
				barge_log(BARGE_LOG_INFO, a->job, "apply threads %u → %u, batch %u → %u: "
					  "resuming its worker with them",
					  run->job->incremental.workers, job->incremental.workers,
					  run->job->incremental.batch, job->incremental.batch);
				stop_worker(run);
				rc = start_worker(c, run, job, false, err);
			} else {
				barge_job_free(run->job);
				run->job = barge_job_dup(job);
			}
		}
		/* the new spec is recorded even when its worker could not start */
		if (live && rc == 0) {
			free(r.acted_spec_json);
			r.acted_spec_json = r.spec_json ? barge_xstrdup(r.spec_json) : NULL;
		}
		if (save(c, &r, a->desired, &save_err) && rc == 0) {
			*err = save_err;
			rc = err->code;
		}
		break;
	}
	case BARGE_ACTION_DELETE:
		stop_worker(run);
		run->retry_at = 0;
		if (job)
			forget_checkpoints(job);
		else if (run->job)
			forget_checkpoints(run->job);
		r.stage = BARGE_STAGE_DELETED;
		post(c, run, BARGE_NOTIFY_STAGE, &r, barge_stage_name(a->record ? a->record->stage
										   : BARGE_STAGE_NEW));
		rc = barge_store_delete(c->store, a->job, 0, err);
		if (rc == BARGE_ENOTFOUND) {
			barge_err_clear(err);
			rc = 0;
		}
		if (rc == 0)
			lease_drop(c, run, false); /* it went with the record */
		break;
	default:
		break;
	}
	/* a stage the action set itself (no worker reports it): a pause, or a restart of a job
	 * whose file says paused */
	if (rc == 0 && r.stage == BARGE_STAGE_PAUSED &&
	    (a->kind == BARGE_ACTION_PAUSE || a->kind == BARGE_ACTION_RESTART)) {
		if (!run->job)
			run->job = barge_job_dup(job);
		note_stage(c, run, &r);
	}
	barge_record_dispose(&r);
	barge_job_free(owned);
	return rc;
}

/* ---- the pass ---- */

int barge_controller_open(const struct barge_controller_opts *opts, struct barge_controller **out,
			  struct barge_err *err)
{
	struct barge_controller *c = barge_xcalloc(1, sizeof *c);
	int rc;

	pthread_condattr_t ca;
	char host[256] = "";

	c->opts = *opts;
	c->lease_ttl_ms = opts->lease_ttl_ms > 0 ? opts->lease_ttl_ms : LEASE_TTL_DEFAULT_MS;
	gethostname(host, sizeof host - 1);
	snprintf(c->owner, sizeof c->owner, "%s:%ld", host[0] ? host : "localhost", (long)getpid());
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = barge_store_open(opts->store_url, &c->store, err);
	if (rc == 0)
		rc = barge_store_lock(c->store, err);
	/* a dir: store has one controller at a time (its lock), so whatever lease a killed one
	 * left is this one's: they share one owner name, and the jobs resume at once */
	if (rc == 0 && strcmp(c->store->ops->scheme, "dir") == 0)
		snprintf(c->owner, sizeof c->owner, "the controller holding %s's lock", c->store->url);
	if (rc == 0)
		rc = barge_store_open(opts->store_url, &c->keeper_store, err);
	if (rc == 0 && pthread_create(&c->keeper, NULL, keeper_main, c) != 0)
		rc = barge_err_set(err, BARGE_ENOMEM, "cannot start the lease keeper thread");
	if (rc) {
		barge_controller_free(c);
		return rc;
	}
	c->keeper_started = true;
	barge_log(BARGE_LOG_INFO, NULL, "controller %s (leases of %lld ms)", c->owner,
		  (long long)c->lease_ttl_ms);
	*out = c;
	return 0;
}

int barge_controller_pass(struct barge_controller *c, bool *busy, struct barge_err *err)
{
	struct barge_record *recs = NULL;
	size_t n = 0;
	struct barge_plan plan = {0};
	int rc = 0, load_rc = 0;
	bool acted = false;

	/* jobs whose lease another controller holds now: stop their workers, record nothing */
	for (size_t i = 0; i < c->n_runs; i++) {
		struct run *run = &c->runs[i];
		bool lost;

		pthread_mutex_lock(&c->mu);
		lost = run->leased && run->lease_lost;
		pthread_mutex_unlock(&c->mu);
		if (!lost)
			continue;
		barge_log(BARGE_LOG_WARN, run->name, "its lease was lost (another controller may "
			  "hold it now): stopping its worker");
		stop_worker(run);
		run->retry_at = 0;
		run->seen = (enum barge_stage)-1;
		lease_set(c, run, false);
	}

	if (c->opts.n_paths) {
		struct barge_jobset *set = NULL;
		struct barge_diags diags = {0};

		load_rc = barge_jobset_load(c->opts.paths, c->opts.n_paths, &set, &diags, err);
		if (load_rc == 0) {
			barge_jobset_free(c->set);
			c->set = set;
		} else {
			for (size_t i = 0; i < diags.count; i++) {
				char *line = barge_diag_format(&diags.items[i]);

				barge_log(BARGE_LOG_ERROR, NULL, "%s", line);
				free(line);
			}
			barge_log(BARGE_LOG_ERROR, NULL, "the job files do not load; the jobs stay "
				  "as they are until they do");
		}
		barge_diags_dispose(&diags);
	}
	rc = barge_store_list(c->store, &recs, &n, err);
	if (rc == 0 && (!c->opts.n_paths || c->set))
		rc = barge_plan_compute_jobset(c->opts.n_paths ? c->set : NULL, recs, n, &plan, err);
	for (size_t i = 0; rc == 0 && i < plan.count; i++) {
		struct barge_err e = {0};
		bool did = false;

		if (act(c, &plan.actions[i], &did, &e))
			barge_log(BARGE_LOG_ERROR, plan.actions[i].job, "%s: %s",
				  barge_action_name(plan.actions[i].kind), e.msg);
		acted |= did;
	}
	barge_plan_dispose(&plan);
	barge_records_free(recs, n);
	recs = NULL;
	n = 0;

	/* status of every worker, and jobs left without one */
	if (rc == 0)
		rc = barge_store_list(c->store, &recs, &n, err);
	c->failed = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct barge_record *r = &recs[i];
		struct run *run = run_get(c, r->name);
		struct barge_err e = {0};

		if (!run->w && barge_stage_is_live(r->stage) &&
		    (run->retry_at == 0 || barge_clock_s() >= run->retry_at) &&
		    lease_take(c, run)) {
			struct barge_job *job = NULL;
			const struct barge_job *j = c->set && c->opts.n_paths
							    ? barge_jobset_find(c->set, r->name) : NULL;

			if (!j)
				j = job = job_from_record(r, &e);
			if (j) {
				barge_log(BARGE_LOG_INFO, r->name, "%s: starting its worker (%s)",
					  barge_stage_name(r->stage),
					  run->retry_at ? "retry"
					  : r->lease_owner && strcmp(r->lease_owner, c->owner)
						  ? "taken over: resuming from its checkpoints"
						  : "it has none: resuming");
				if (start_worker(c, run, j, false, &e))
					barge_log(BARGE_LOG_ERROR, r->name, "%s", e.msg);
			}
			barge_job_free(job);
		}
		if (run->w && lease_held(c, run)) {
			sync_status(c, run, r);
			if (save(c, r, NULL, &e))
				barge_log(BARGE_LOG_ERROR, r->name, "record: %s", e.msg);
		} else if (lease_held(c, run) && sync_webhooks(c, run, r)) {
			/* deliveries go on after a worker ends (its Failed or Finished event) */
			if (save(c, r, NULL, &e))
				barge_log(BARGE_LOG_ERROR, r->name, "record: %s", e.msg);
		}
		if (r->stage == BARGE_STAGE_FAILED)
			c->failed++;
	}
	barge_records_free(recs, n);
	if (busy) {
		*busy = acted; /* what was done this pass may call for more (create, then start) */
		for (size_t i = 0; i < c->n_runs; i++)
			if (c->runs[i].w || c->runs[i].retry_at > 0)
				*busy = true;
	}
	if (rc == 0 && load_rc)
		rc = load_rc;
	return rc;
}

struct barge_store *barge_controller_store(struct barge_controller *c)
{
	return c->store;
}

size_t barge_controller_failed(struct barge_controller *c)
{
	return c->failed;
}

void barge_controller_stop(struct barge_controller *c)
{
	struct barge_record *recs = NULL;
	size_t n = 0;
	struct barge_err err = {0};

	for (size_t i = 0; i < c->n_runs; i++)
		if (c->runs[i].w)
			barge_worker_request_stop(c->runs[i].w);
	for (size_t i = 0; i < c->n_runs; i++)
		if (c->runs[i].w)
			barge_worker_wait(c->runs[i].w, STOP_WAIT_MS);
	/* record where they stopped; the stage stays live, so the next controller resumes */
	if (barge_store_list(c->store, &recs, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct run *run = run_get(c, recs[i].name);

			if (!run->w)
				continue;
			sync_status(c, run, &recs[i]);
			save(c, &recs[i], NULL, &err);
		}
	}
	barge_records_free(recs, n);
	/* hand the jobs over at once rather than when the leases expire */
	for (size_t i = 0; i < c->n_runs; i++)
		if (lease_held(c, &c->runs[i]))
			lease_drop(c, &c->runs[i], true);
	if (c->notifier)
		barge_notifier_drain(c->notifier, 10000);
}

void barge_controller_free(struct barge_controller *c)
{
	if (!c)
		return;
	if (c->keeper_started) {
		pthread_mutex_lock(&c->mu);
		c->quit = true;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->keeper, NULL);
	}
	barge_store_close(c->keeper_store);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	for (size_t i = 0; i < c->n_runs; i++) {
		barge_worker_free(c->runs[i].w);
		barge_job_free(c->runs[i].job);
		free(c->runs[i].name);
	}
	free(c->runs);
	barge_notifier_free(c->notifier);
	barge_jobset_free(c->set);
	barge_store_close(c->store);
	free(c);
}
