/*
 * reconcile.h — the controller: makes the recorded state what the job files (or the store's
 * desired half) ask for, by running plan.c's actions, one worker per job.
 *
 * A pass: read the job files again (when paths were given; a bad file set keeps the jobs as
 * they are and reports the error), record them, plan desired × recorded, act (create, start,
 * pause, resume, restart, update, delete), then copy every worker's status into its record and
 * post webhooks for what changed (stage, error, lag crossing the threshold, finish).  A worker
 * that ends with a retryable error is started again after a backoff (1 s doubling to 60 s); any
 * other error leaves the job Failed until restarted.  A job recorded in a live stage with no
 * worker (the controller was killed) is started again: it resumes from its checkpoints.
 *
 * A controller works on a job only while it holds the job's lease in the store (renewed by a
 * thread of its own every third of the TTL), so several controllers can share a mysql:// store:
 * when one dies, its leases expire and another takes its jobs over, resuming them from their
 * checkpoints.  With the dir: store one controller holds the store's lock as well.  See
 * docs/control-plane.md.
 */
#ifndef BARGE_ENGINE_RECONCILE_H
#define BARGE_ENGINE_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"
#include "engine/worker.h"

struct barge_controller_opts {
	const char *store_url;      /* NULL: barge_store_default_url() */
	const char *const *paths;   /* job files and directories; n_paths 0: the store's own */
	size_t n_paths;
	/* for the workers this controller starts (--skip-ddl); replace_conflicts is per restart */
	const char *skip_ddl_at;
	bool replace_conflicts;     /* every start replaces conflicting rows (run --replace-conflicts) */
	unsigned max_retries;       /* retryable failures in a row before Failed; 0 = no limit */
	int64_t lease_ttl_ms;       /* how long a job's lease lasts unrenewed; 0 = 30 s */
};

struct barge_controller;

/* Open the store and take the controller's lock.  Returns 0 and sets *out, or an error. */
int barge_controller_open(const struct barge_controller_opts *opts, struct barge_controller **out,
			  struct barge_err *err);

/*
 * One pass.  *busy (may be NULL) is set when some worker still runs, is due to run again, or
 * the pass acted (an action may call for another, as create then start).  Returns 0, or the
 * error of loading the files or of the store (the pass still recorded what it could).
 */
int barge_controller_pass(struct barge_controller *c, bool *busy, struct barge_err *err);

/* Ask every worker to stop at a safe point, wait for them, record where they are. */
void barge_controller_stop(struct barge_controller *c);

/* Jobs whose last pass left them Failed (for an exit status). */
size_t barge_controller_failed(struct barge_controller *c);

/* The controller's store (for reading records while it runs). */
struct barge_store *barge_controller_store(struct barge_controller *c);

void barge_controller_free(struct barge_controller *c);

#endif
