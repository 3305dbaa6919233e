/*
 * cmd_run.c — `barge run [--once] PATH...`: run every job of the files.
 *
 * Each job's worker runs in parallel; progress is logged every few seconds; SIGINT/SIGTERM ask
 * the workers to stop at a safe point (checkpoints are in the target, so a later run resumes).
 * With --once the command ends when every job has ended (full-only jobs finish; jobs with an
 * incremental phase run until stopped); without it, jobs with an incremental phase are
 * followed until a signal.  Exit 0 when every job finished or was stopped cleanly, 1 otherwise.
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
		   "  --once              run each job of PATH... once and exit when all are done\n"
		   "  --replace-conflicts the seed's Restart: rows that conflict on the target are\n"
		   "                      replaced by the source's until the source's current position\n"
		   "  --skip-ddl FILE:POS skip the DDL statement at this binlog position (one that\n"
		   "                      stopped the job and was applied by hand)\n"
		   "  --log-level LEVEL   debug, info (default), warn or error\n"
		   "  --progress SECONDS  how often to log progress (default 5)\n");
}

static void log_progress(const struct barge_job *job, const struct barge_worker_status *st)
{
	if (st->stage == BARGE_STAGE_LOADING || st->stage == BARGE_STAGE_DUMPING) {
		double pct = st->rows_estimated ? 100.0 * (double)st->rows_done /
							  (double)st->rows_estimated
						: 0.0;

		barge_log(BARGE_LOG_INFO, job->name,
			  "%s: %llu of ~%llu rows (%.0f%%), %.1f MiB, %.0f rows/s, ETA %llds",
			  barge_stage_name(st->stage), (unsigned long long)st->rows_done,
			  (unsigned long long)st->rows_estimated, pct > 100 ? 100 : pct,
			  (double)st->bytes_done / 1048576.0, st->rows_per_sec,
			  (long long)st->eta_seconds);
	} else if (st->stage == BARGE_STAGE_SYNCING) {
		char pos[300];

		barge_position_format(&st->applied, pos, sizeof pos);
		barge_log(BARGE_LOG_INFO, job->name, "Syncing: applied up to %s, lag %llds", pos,
			  (long long)st->lag_seconds);
	}
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"once", no_argument, NULL, 'o'},
		{"replace-conflicts", no_argument, NULL, 'r'},
		{"skip-ddl", required_argument, NULL, 's'},
		{"log-level", required_argument, NULL, 'l'},
		{"progress", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	struct barge_jobset *set = NULL;
	struct barge_worker **workers = NULL;
	struct barge_worker_opts wopts = {0};
	int once = 0, level = BARGE_LOG_INFO, progress_s = 5, opt, status = BARGE_EXIT_OK;
	time_t last_progress;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': once = 1; break;
		case 'r': wopts.replace_conflicts = true; break;
		case 's': wopts.skip_ddl_at = optarg; break;
		case 'l':
			level = out_log_level_parse(optarg);
			if (level < 0) {
				err_printf("barge run: --log-level must be debug, info, warn or error\n");
				return BARGE_EXIT_ERROR;
			}
			break;
		case 'p': progress_s = atoi(optarg) > 0 ? atoi(optarg) : 5; break;
		case 'h': usage(); return BARGE_EXIT_OK;
		default: return BARGE_EXIT_ERROR;
		}
	}
	(void)once; /* the store-driven controller is `barge run` without paths */
	if (optind >= argc) {
		err_printf("barge run: give the job files or directories to run\n");
		return BARGE_EXIT_ERROR;
	}
	out_log_init((enum barge_log_level)level);
	if (barge_jobset_load((const char *const *)argv + optind, (size_t)(argc - optind), &set,
			      &diags, &err) != 0) {
		for (size_t i = 0; i < diags.count; i++) {
			char *line = barge_diag_format(&diags.items[i]);

			err_printf("%s\n", line);
			free(line);
		}
		barge_diags_dispose(&diags);
		return out_error(&err);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	workers = calloc(set->count + 1, sizeof *workers);
	for (size_t i = 0; i < set->count; i++) {
		if (set->jobs[i]->state == BARGE_DESIRED_PAUSED) {
			barge_log(BARGE_LOG_INFO, set->jobs[i]->name, "paused in its file; not run");
			continue;
		}
		if (barge_worker_start(set->jobs[i], &wopts, &workers[i], &err) != 0) {
			out_error(&err);
			status = BARGE_EXIT_ERROR;
		}
	}
	last_progress = time(NULL);
	for (;;) {
		bool all_done = true, stopping = stop_requested;

		for (size_t i = 0; i < set->count; i++) {
			if (!workers[i])
				continue;
			if (stopping)
				barge_worker_request_stop(workers[i]);
			if (!barge_worker_wait(workers[i], 0))
				all_done = false;
		}
		if (all_done)
			break;
		if (time(NULL) - last_progress >= progress_s) {
			last_progress = time(NULL);
			for (size_t i = 0; i < set->count; i++) {
				struct barge_worker_status st;

				if (!workers[i])
					continue;
				barge_worker_status_get(workers[i], &st);
				log_progress(set->jobs[i], &st);
				barge_worker_status_dispose(&st);
			}
		}
		usleep(100 * 1000);
	}
	for (size_t i = 0; i < set->count; i++) {
		struct barge_worker_status st;

		if (!workers[i])
			continue;
		barge_worker_status_get(workers[i], &st);
		if (st.stage == BARGE_STAGE_FINISHED) {
			out_printf("%s: finished: %llu rows copied\n", set->jobs[i]->name,
				   (unsigned long long)st.rows_done);
		} else if (st.last_error.code && st.stage == BARGE_STAGE_FAILED) {
			char pos[300];

			out_error(&st.last_error);
			barge_position_format(&st.last_error_position, pos, sizeof pos);
			if (st.last_error_position.binlog_name[0])
				err_printf("  at binlog position %s\n", pos);
			if (st.last_error_sql)
				err_printf("  statement: %s\n", st.last_error_sql);
			status = BARGE_EXIT_ERROR;
		} else if (st.stage == BARGE_STAGE_SYNCING && stop_requested) {
			char pos[300];

			barge_position_format(&st.applied, pos, sizeof pos);
			out_printf("%s: stopped cleanly; applied up to %s\n", set->jobs[i]->name, pos);
		} else if (0) {
			out_error(&st.last_error);
			status = BARGE_EXIT_ERROR;
		} else {
			err_printf("barge run: job %s stopped in stage %s\n", set->jobs[i]->name,
				   barge_stage_name(st.stage));
			status = BARGE_EXIT_ERROR;
		}
		barge_worker_status_dispose(&st);
		barge_worker_free(workers[i]);
	}
	free(workers);
	barge_jobset_free(set);
	return status;
}
