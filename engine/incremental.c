/*
 * incremental.c — the incremental phase (see incremental.h).
 */
#include "engine/incremental.h"

int barge_incremental_run(const struct barge_job *job, const char *base_dir,
			  const struct barge_worker_opts *opts, struct barge_db *src,
			  struct barge_db *tgt, atomic_bool *stop, pthread_mutex_t *lock,
			  struct barge_worker_status *st, struct barge_err *err)
{
	(void)base_dir;
	(void)opts;
	(void)src;
	(void)tgt;
	(void)stop;
	(void)lock;
	(void)st;
	return barge_err_set(err, BARGE_EUNSUPPORTED,
			     "job %s: the incremental phase (mode %s) is not available in this "
			     "version; use mode: full",
			     job->name, barge_mode_name(job->mode));
}
