/*
 * plan.h — what it takes to make the recorded state match the desired one: a pure function.
 *
 * barge_plan_compute() looks at the desired jobs (the job files, or — when no files are given —
 * the desired half of each record) and at the store's records, and lists actions, each with the
 * job's name and a reason a person can read.  It reads no file, store or clock, so the whole
 * decision table is tested from data (the .plan files in tests/data/plan/).  `barge plan`
 * renders the list, `barge apply` records the desired half of each action, and the reconciler
 * executes the rest; after a pass it plans again until nothing is left.
 *
 * Per job, in this order:
 *
 *   no record (or one in stage Deleted)    create
 *   record, job file gone                  delete ("job file removed")
 *   a delete was requested, not yet done   delete
 *   the spec differs                       update-in-place | update-needs-restart (below)
 *   restartGeneration > the one acted on   restart (not for a job that never started: start)
 *   New and spec.state running             start
 *   live stage and spec.state paused       pause
 *   Paused and spec.state running          resume (to the stage it was paused from)
 *   Failed, no newer restartGeneration     nothing, flagged for attention: "failed: <error>;
 *                                          bump restartGeneration or run barge restart"
 *   otherwise                              nothing (one action, with the stage as reason)
 *
 * The spec comparison uses barge_job_to_json() (state and restartGeneration are handled above,
 * the name is the key).  While a worker runs (a live stage) the spec is compared with the one
 * it runs with (the record's acted spec), otherwise with the one recorded, so a spec applied
 * but not yet picked up by the controller still shows.  Fields a running worker takes live:
 * notify, incremental.workers, incremental.batch, full.threads, precheck.ignore.  Every other
 * field (source, target, mode, objects, routes, filters, incremental.start, full.chunkRows,
 * full.onDuplicate, incremental.safeMode, and any field this table does not know) needs the
 * worker restarted from its checkpoints.  A job that never started takes everything in place.
 *
 * When a pause or restart of the same job follows an update-needs-restart, that pause or
 * restart is what applies the new spec; the executor does not restart the worker twice.
 */
#ifndef BARGE_ENGINE_PLAN_H
#define BARGE_ENGINE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/error.h"
#include "engine/job.h"
#include "engine/jobset.h"
#include "engine/store.h"

enum barge_action_kind {
	BARGE_ACTION_NOTHING,
	BARGE_ACTION_CREATE,         /* record a new job */
	BARGE_ACTION_START,          /* first start of a New job; the generation asked for counts
				      * as acted on */
	BARGE_ACTION_PAUSE,          /* stop the worker, stage Paused, paused_from = the stage */
	BARGE_ACTION_RESUME,         /* start the worker again where it was paused */
	BARGE_ACTION_RESTART,        /* stop the worker, record the generation as acted on, then
				      * Prechecking with conflicting rows replaced (or, when
				      * spec.state is paused, Paused with paused_from
				      * Prechecking, so resume restarts) */
	BARGE_ACTION_UPDATE_LIVE,    /* record the spec; a running worker takes it as it runs */
	BARGE_ACTION_UPDATE_RESTART, /* record the spec; a running worker is restarted for it */
	BARGE_ACTION_DELETE,         /* stop the worker, stage Deleted */
};

struct barge_action {
	enum barge_action_kind kind;
	char *job;        /* the job's name (owned) */
	char *reason;     /* one line for people (owned) */
	bool attention;   /* a nothing that still needs a person (a Failed job) */
	/* borrowed from the inputs, for the executor: */
	const struct barge_job *desired;   /* the job file's spec; NULL when none */
	const struct barge_record *record; /* NULL for a job never recorded */
};

struct barge_plan {
	struct barge_action *actions; /* by job name; a job's spec update before its state action */
	size_t count;
	bool has_drift; /* some action is not nothing: `barge plan` exits 2 */
};

/*
 * Plan desired × recorded.  desired is n_desired jobs from the files, or NULL when no files were
 * given (then each record's own desired half is the target, and no job counts as removed).
 * A non-NULL desired with n_desired 0 means the files define no job at all: every job is to be
 * deleted.  Names must be unique on each side.
 *
 * Returns 0 and fills out (barge_plan_dispose; it borrows from desired and records, which must
 * outlive it), or BARGE_EINVAL for a repeated name, BARGE_ESTORE for a record whose spec is
 * not JSON.  Every job on either side gets at least one action.
 */
int barge_plan_compute(const struct barge_job *const *desired, size_t n_desired,
		       const struct barge_record *records, size_t n_records,
		       struct barge_plan *out, struct barge_err *err);

/*
 * barge_plan_compute() over a loaded job set, or NULL for "no files given".  (A set without
 * jobs may have a NULL jobs array; this passes it on as "no job", not as "no files".)
 */
int barge_plan_compute_jobset(const struct barge_jobset *set, const struct barge_record *records,
			      size_t n_records, struct barge_plan *out, struct barge_err *err);

void barge_plan_dispose(struct barge_plan *plan);

/* "nothing", "create", "start", "pause", "resume", "restart", "update-in-place",
 * "update-needs-restart", "delete".  Static storage. */
const char *barge_action_name(enum barge_action_kind kind);

/* The kind for a name; -1 when unknown. */
int barge_action_parse(const char *name);

/*
 * The marker `barge plan` puts before a line: '+' create or start, '~' update-in-place, pause
 * or resume, '!' restart, update-needs-restart and failed jobs, '-' delete, ' ' nothing.
 */
char barge_action_marker(const struct barge_action *a);

/* Whether a spec field (a top-level key of barge_job_to_json()) is taken by a running worker. */
bool barge_plan_field_is_live(const char *key);

/*
 * The plan as text for `barge plan`: one line per action (marker, job, action, reason, in
 * aligned columns), nothing-actions only when verbose (a Failed job always), then a summary
 * ("Plan: 1 create, 1 delete; 2 jobs unchanged." or "No changes: 3 jobs as recorded.").
 * Returns a heap string the caller frees.
 */
char *barge_plan_render(const struct barge_plan *plan, bool verbose);

#endif
