/*
 * incremental.h — the incremental phase: follow the source's binlog and apply every change to
 * the target, with exactly-once checkpoints (docs/incremental.md).
 */
#ifndef BARGE_ENGINE_INCREMENTAL_H
#define BARGE_ENGINE_INCREMENTAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/db.h"
#include "engine/job.h"
#include "engine/worker.h"

/*
 * Run the incremental phase of job until *stop is set or an error stops it.  src and tgt are
 * open control connections.  Progress (applied position, lag, safe mode, counters) is written
 * to *st under *lock.  Returns BARGE_ECANCELLED after a requested stop, or an error.
 */
int barge_incremental_run(const struct barge_job *job, const char *base_dir,
			  const struct barge_worker_opts *opts, struct barge_db *src,
			  struct barge_db *tgt, atomic_bool *stop, pthread_mutex_t *lock,
			  struct barge_worker_status *st, struct barge_err *err);

#endif
