/*
 * cmd_run.c — `barge run [PATH...]`: the controller (engine/reconcile.h).
 *
 * With paths, the job files are read again on every pass and recorded in the store, which
 * then follows them (GitOps); without, the store's own desired state is followed (`barge
 * apply` wrote it).  A pass runs every second; progress is logged every few seconds.
 * SIGINT/SIGTERM stop every worker at a safe point (checkpoints are in the target; the next
 * controller resumes).  With --once the command ends when no worker runs any more: full-only
 * jobs have finished, and jobs with an incremental phase have failed or been paused (they run
 * until stopped otherwise).  Exit 0 when no job is Failed, 1 otherwise.
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "cmd/output.h"
#include "engine/checkpoint.h"
#include "engine/reconcile.h"
#include "engine/store.h"
#include "engine/jobset.h"
#include "engine/worker.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(void)
{
	print_command_usage(command_find("run"));
	out_printf("\noptions:\n"
		   "  --once              exit when no job runs any more (full jobs finished,\n"
		   "                      others failed or paused)\n"
		   "  --store URL         dir:PATH or mysql://user@host:port/db (default $BARGE_STORE,\n"
		   "                      else dir:$XDG_STATE_HOME/barge or ~/.local/state/barge)\n"
		   "  --replace-conflicts the seed's Restart: rows that conflict on the target are\n"
		   "                      replaced by the source's until the source's current position\n"
		   "  --skip-ddl FILE:POS skip the DDL statement at this binlog position (one that\n"
		   "                      stopped the job and was applied by hand)\n"
		   "  --lease-ttl DURATION how long a job stays with this controller without a\n"
		   "                      renewal before another may take it over (default 30s)\n"
		   "  --log-level LEVEL   debug, info (default), warn or error\n"
		   "  --progress SECONDS  how often to log progress (default 5)\n");
}

static void log_progress(const struct barge_record *r)
{
	if (r->stage == BARGE_STAGE_LOADING || r->stage == BARGE_STAGE_DUMPING) {
		double pct = r->progress.rows_total ? 100.0 * (double)r->progress.rows_done /
							    (double)r->progress.rows_total
						    : 0.0;

		barge_log(BARGE_LOG_INFO, r->name,
			  "%s: %llu of ~%llu rows (%.0f%%), %.1f MiB, %.0f rows/s, ETA %llds",
			  barge_stage_name(r->stage), (unsigned long long)r->progress.rows_done,
			  (unsigned long long)r->progress.rows_total, pct > 100 ? 100 : pct,
			  (double)r->progress.bytes_done / 1048576.0, r->progress.rate,
			  (long long)r->progress.eta_seconds);
	} else if (r->stage == BARGE_STAGE_SYNCING) {
		barge_log(BARGE_LOG_INFO, r->name, "Syncing: %s, lag %.0fs",
			  r->status ? r->status : "", r->lag_seconds);
	}
}

/* What each job came to, for the end of `run --once` and of a stopped controller. */
static void report(struct barge_store *s, const char *const *paths, size_t n_paths)
{
	struct barge_record *recs = NULL;
	struct barge_jobset *set = NULL;
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	size_t n = 0;

	if (n_paths)
		barge_jobset_load(paths, n_paths, &set, &diags, &err);
	barge_diags_dispose(&diags);
	if (barge_store_list(s, &recs, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			const struct barge_record *r = &recs[i];

			if (set && !barge_jobset_find(set, r->name))
				continue;
			if (r->stage == BARGE_STAGE_FINISHED)
				out_printf("%s: finished: %llu rows copied\n", r->name,
					   (unsigned long long)r->progress.rows_done);
			else if (r->stage == BARGE_STAGE_FAILED) {
				struct barge_err e = {0};

				/* the catalogue's words (the seed's), the detail, what to do */
				e.code = barge_err_code(r->error.code);
				if (!e.code)
					e.code = BARGE_EINVAL;
				snprintf(e.msg, sizeof e.msg, "%s",
					 r->error.message ? r->error.message : "");
				err_printf("%s: Failed\n", r->name);
				out_error(&e);
				if (r->error.position)
					err_printf("  at binlog position %s\n", r->error.position);
				if (r->error.statement)
					err_printf("  statement: %s\n", r->error.statement);
				err_printf("  fix the cause, then: barge restart %s\n", r->name);
			} else {
				out_printf("%s: %s%s%s\n", r->name, barge_stage_name(r->stage),
					   r->status ? ": " : "", r->status ? r->status : "");
			}
		}
	}
	barge_records_free(recs, n);
	barge_jobset_free(set);
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"once", no_argument, NULL, 'o'},
		{"store", required_argument, NULL, 'S'},
		{"replace-conflicts", no_argument, NULL, 'r'},
		{"skip-ddl", required_argument, NULL, 's'},
		{"log-level", required_argument, NULL, 'l'},
		{"progress", required_argument, NULL, 'p'},
		{"lease-ttl", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct barge_controller_opts copts = {0};
	struct barge_controller *ctl = NULL;
	struct barge_err err = {0};
	int once = 0, level = BARGE_LOG_INFO, progress_s = 5, opt, status = BARGE_EXIT_OK;
	time_t last_progress;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': once = 1; break;
		case 'S': copts.store_url = optarg; break;
		case 'r': copts.replace_conflicts = true; break;
		case 's': copts.skip_ddl_at = optarg; break;
		case 'l':
			level = out_log_level_parse(optarg);
			if (level < 0) {
				err_printf("barge run: --log-level must be debug, info, warn or error\n");
				return BARGE_EXIT_ERROR;
			}
			break;
		case 'p': progress_s = atoi(optarg) > 0 ? atoi(optarg) : 5; break;
		case 'L': {
			uint64_t ms = 0;

			if (barge_duration_parse(optarg, &ms) != 0 || ms < 1000) {
				err_printf("barge run: --lease-ttl must be a duration of at least 1s, "
					   "like 10s or 1m\n");
				return BARGE_EXIT_ERROR;
			}
			copts.lease_ttl_ms = (int64_t)ms;
			break;
		}
		case 'h': usage(); return BARGE_EXIT_OK;
		default: return BARGE_EXIT_ERROR;
		}
	}
	out_log_init((enum barge_log_level)level);
	/* a batch run gives up on a retryable error after a few tries; a controller never does */
	copts.max_retries = once ? 3 : 0;
	copts.paths = (const char *const *)argv + optind;
	copts.n_paths = (size_t)(argc - optind);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (barge_controller_open(&copts, &ctl, &err))
		return out_error(&err);
	last_progress = time(NULL);
	while (!stop_requested) {
		bool busy = false;
		int rc = barge_controller_pass(ctl, &busy, &err);

		if (rc && copts.n_paths && err.code == BARGE_ECONFIG && once) {
			status = out_error(&err);
			break;
		}
		if (rc) {
			barge_log(BARGE_LOG_ERROR, NULL, "%s", err.msg);
			barge_err_clear(&err);
		}
		if (once && !busy)
			break;
		if (time(NULL) - last_progress >= progress_s) {
			struct barge_record *recs = NULL;
			size_t n = 0;

			last_progress = time(NULL);
			if (barge_store_list(barge_controller_store(ctl), &recs, &n, &err) == 0)
				for (size_t i = 0; i < n; i++)
					log_progress(&recs[i]);
			barge_err_clear(&err);
			barge_records_free(recs, n);
		}
		for (int i = 0; i < 10 && !stop_requested; i++)
			usleep(100 * 1000);
	}
	barge_controller_stop(ctl);
	report(barge_controller_store(ctl), copts.paths, copts.n_paths);
	if (barge_controller_failed(ctl))
		status = BARGE_EXIT_ERROR;
	barge_controller_free(ctl);
	return status;
}
