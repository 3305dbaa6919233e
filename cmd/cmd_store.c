/*
 * cmd_store.c — the commands over the store: plan, apply, status, pause, resume, restart,
 * delete.  Each takes --store URL (else $BARGE_STORE, else dir: under the user's state
 * directory).  They write only the desired half of records; `barge run` acts on it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/commands.h"
#include "cmd/output.h"
#include "engine/jobset.h"
#include "engine/plan.h"
#include "engine/store.h"

struct common {
	const char *store;
	bool json, watch, verbose;
};

/* Parse --store, --json, --watch, --verbose; returns optind or -1 (error) / -2 (help shown). */
static int parse_common(int argc, char **argv, struct common *o, const char *extra_help)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"watch", no_argument, NULL, 'w'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': o->store = optarg; break;
		case 'j': o->json = true; break;
		case 'w': o->watch = true; break;
		case 'v': o->verbose = true; break;
		case 'h':
			print_command_usage(command_find(argv[0]));
			out_printf("\noptions:\n"
				   "  --store URL   dir:PATH or mysql://user@host:port/db (default: "
				   "$BARGE_STORE,\n"
				   "                else dir:$XDG_STATE_HOME/barge or "
				   "~/.local/state/barge)\n%s",
				   extra_help ? extra_help : "");
			return -2;
		default:
			return -1;
		}
	}
	return optind;
}

static int open_store(const struct common *o, struct barge_store **s, struct barge_err *err)
{
	return barge_store_open(o->store, s, err);
}

static int load_files(char **paths, size_t n, struct barge_jobset **set, struct barge_err *err)
{
	struct barge_diags diags = {0};
	int rc = barge_jobset_load((const char *const *)paths, n, set, &diags, err);

	for (size_t i = 0; i < diags.count; i++) {
		char *line = barge_diag_format(&diags.items[i]);

		err_printf("%s\n", line);
		free(line);
	}
	barge_diags_dispose(&diags);
	return rc;
}

/* ---- plan ---- */

int cmd_plan(int argc, char **argv)
{
	struct common o = {0};
	struct barge_err err = {0};
	struct barge_store *s = NULL;
	struct barge_jobset *set = NULL;
	struct barge_record *recs = NULL;
	struct barge_plan plan = {0};
	size_t n = 0;
	int i = parse_common(argc, argv, &o,
			     "  -v, --verbose unchanged jobs too\n\n"
			     "exit status: 0 no changes, 2 changes (drift), 1 error\n");
	int status;

	if (i < 0)
		return i == -2 ? BARGE_EXIT_OK : BARGE_EXIT_ERROR;
	if (i < argc && load_files(argv + i, (size_t)(argc - i), &set, &err))
		return out_error(&err);
	if (open_store(&o, &s, &err) || barge_store_list(s, &recs, &n, &err) ||
	    barge_plan_compute_jobset(i < argc ? set : NULL, recs, n, &plan, &err)) {
		status = out_error(&err);
	} else {
		char *text = barge_plan_render(&plan, o.verbose);

		out_printf("%s", text);
		free(text);
		status = plan.has_drift ? BARGE_EXIT_DRIFT : BARGE_EXIT_OK;
	}
	barge_plan_dispose(&plan);
	barge_records_free(recs, n);
	barge_store_close(s);
	barge_jobset_free(set);
	return status;
}

/* ---- apply ---- */

int cmd_apply(int argc, char **argv)
{
	struct common o = {0};
	struct barge_err err = {0};
	struct barge_store *s = NULL;
	struct barge_jobset *set = NULL;
	struct barge_record *recs = NULL;
	size_t n = 0, changed = 0, removed = 0;
	int i = parse_common(argc, argv, &o, NULL), status = BARGE_EXIT_OK;

	if (i < 0)
		return i == -2 ? BARGE_EXIT_OK : BARGE_EXIT_ERROR;
	if (i >= argc) {
		err_printf("barge apply: give the job files or directories to record\n");
		return BARGE_EXIT_ERROR;
	}
	if (load_files(argv + i, (size_t)(argc - i), &set, &err))
		return out_error(&err);
	if (open_store(&o, &s, &err) || barge_store_list(s, &recs, &n, &err)) {
		status = out_error(&err);
		goto out;
	}
	for (size_t j = 0; j < set->count; j++) {
		const struct barge_job *job = set->jobs[j];
		struct barge_record r;

		if (barge_store_get(s, job->name, &r, &err) == BARGE_ENOTFOUND) {
			barge_err_clear(&err);
			barge_record_init(&r, job->name);
		} else if (err.code) {
			status = out_error(&err);
			goto out;
		}
		if (!strcmp(r.spec_hash, job->spec_hash) && !r.delete_requested) {
			barge_record_dispose(&r);
			continue;
		}
		barge_record_set_spec(&r, job);
		r.delete_requested = false;
		if (barge_store_put(s, &r, &err)) {
			barge_record_dispose(&r);
			status = out_error(&err);
			goto out;
		}
		out_printf("%s: recorded (spec %.12s)\n", job->name, job->spec_hash);
		changed++;
		barge_record_dispose(&r);
	}
	/* jobs whose files are gone: the controller deletes them */
	for (size_t j = 0; j < n; j++) {
		if (barge_jobset_find(set, recs[j].name) || recs[j].delete_requested)
			continue;
		recs[j].delete_requested = true;
		if (barge_store_put(s, &recs[j], &err)) {
			status = out_error(&err);
			goto out;
		}
		out_printf("%s: its file is gone: to be deleted\n", recs[j].name);
		removed++;
	}
	out_printf("Applied: %zu recorded, %zu to be deleted, %zu unchanged.\n", changed, removed,
		   set->count - changed);
out:
	barge_records_free(recs, n);
	barge_store_close(s);
	barge_jobset_free(set);
	return status;
}

/* ---- status ---- */

static void bar(char *out, size_t n, double fraction)
{
	size_t width = 20, full = (size_t)(fraction * (double)width + 0.5);

	if (full > width)
		full = width;
	snprintf(out, n, "[%.*s%.*s]", (int)full, "####################", (int)(width - full),
		 "....................");
}

static void print_record(const struct barge_record *r)
{
	char line[128];

	out_printf("%-30s %-12s", r->name, barge_stage_name(r->stage));
	if ((r->stage == BARGE_STAGE_LOADING || r->stage == BARGE_STAGE_DUMPING ||
	     r->stage == BARGE_STAGE_FINISHED) && r->progress.rows_done) {
		double f = r->progress.rows_total ? (double)r->progress.rows_done /
						    (double)r->progress.rows_total : 0;

		if (r->stage == BARGE_STAGE_FINISHED)
			f = 1;
		bar(line, sizeof line, f > 1 ? 1 : f);
		out_printf(" %s %3.0f%% %llu rows, %.1f MiB, %.0f rows/s", line, (f > 1 ? 1 : f) * 100,
			   (unsigned long long)r->progress.rows_done,
			   (double)r->progress.bytes_done / 1048576.0, r->progress.rate);
		if (r->progress.eta_seconds >= 0 && r->stage != BARGE_STAGE_FINISHED)
			out_printf(", ETA %llds", (long long)r->progress.eta_seconds);
	}
	if (r->stage == BARGE_STAGE_SYNCING && r->lag_seconds >= 0)
		out_printf(" lag %.0fs", r->lag_seconds);
	if (r->stage == BARGE_STAGE_PAUSED)
		out_printf(" (from %s)", barge_stage_name(r->paused_from));
	if (r->status)
		out_printf(" %s", r->status);
	out_printf("\n");
	if (r->error.code) {
		out_printf("  error %s: %s\n", r->error.code, r->error.message ? r->error.message : "");
		if (r->error.position)
			out_printf("    at binlog position %s\n", r->error.position);
		if (r->error.statement)
			out_printf("    statement: %s\n", r->error.statement);
	}
	if (r->webhook.last == BARGE_DELIVERY_FAILED)
		out_printf("  webhooks: %llu failed deliveries; last: %s\n",
			   (unsigned long long)r->webhook.failures,
			   r->webhook.last_failure ? r->webhook.last_failure : "");
	if (r->lease_owner && r->lease_expires_ms > barge_store_now_ms())
		out_printf("  controller: %s\n", r->lease_owner);
	if (r->desired_state == BARGE_DESIRED_PAUSED && r->stage != BARGE_STAGE_PAUSED)
		out_printf("  (pause requested)\n");
	if (r->delete_requested)
		out_printf("  (delete requested)\n");
}

static int status_once(const struct common *o, struct barge_store *s, const char *only)
{
	struct barge_err err = {0};
	struct barge_record *recs = NULL;
	size_t n = 0, shown = 0;
	json_t *arr = json_array();

	if (barge_store_list(s, &recs, &n, &err)) {
		json_decref(arr);
		return out_error(&err);
	}
	if (!o->json)
		out_printf("%-30s %-12s %s\n", "JOB", "STAGE", "PROGRESS / LAG / STATUS");
	for (size_t i = 0; i < n; i++) {
		if (only && strcmp(recs[i].name, only))
			continue;
		shown++;
		if (o->json) {
			char *text = NULL;

			if (barge_record_to_json_text(&recs[i], &text, &err) == 0)
				json_array_append_new(arr, json_loads(text, 0, NULL));
			free(text);
		} else {
			print_record(&recs[i]);
		}
	}
	if (o->json) {
		char *text = json_dumps(arr, JSON_INDENT(2) | JSON_SORT_KEYS);

		out_printf("%s\n", text);
		free(text);
	}
	json_decref(arr);
	barge_records_free(recs, n);
	if (only && !shown) {
		err_printf("barge status: no job named %s in the store\n", only);
		return BARGE_EXIT_ERROR;
	}
	return BARGE_EXIT_OK;
}

int cmd_status(int argc, char **argv)
{
	struct common o = {0};
	struct barge_err err = {0};
	struct barge_store *s = NULL;
	int i = parse_common(argc, argv, &o,
			     "  --json        one JSON document: the records\n"
			     "  --watch       refresh every 2 seconds\n");
	int status;

	if (i < 0)
		return i == -2 ? BARGE_EXIT_OK : BARGE_EXIT_ERROR;
	if (open_store(&o, &s, &err))
		return out_error(&err);
	for (;;) {
		if (o.watch && !o.json)
			out_printf("\033[H\033[2J");
		status = status_once(&o, s, i < argc ? argv[i] : NULL);
		if (!o.watch || status)
			break;
		sleep(2);
	}
	barge_store_close(s);
	return status;
}

/* ---- pause, resume, restart, delete ---- */

static int change_one(int argc, char **argv, const char *what)
{
	struct common o = {0};
	struct barge_err err = {0};
	struct barge_store *s = NULL;
	struct barge_record r;
	int i = parse_common(argc, argv, &o, NULL), rc = 0;

	if (i < 0)
		return i == -2 ? BARGE_EXIT_OK : BARGE_EXIT_ERROR;
	if (i + 1 != argc) {
		err_printf("barge %s: give one job name\n", argv[0]);
		return BARGE_EXIT_ERROR;
	}
	if (open_store(&o, &s, &err))
		return out_error(&err);
	for (int attempt = 0; attempt < 5; attempt++) {
		rc = barge_store_get(s, argv[i], &r, &err);
		if (rc)
			break;
		if (!strcmp(what, "pause"))
			r.desired_state = BARGE_DESIRED_PAUSED;
		else if (!strcmp(what, "resume"))
			r.desired_state = BARGE_DESIRED_RUNNING;
		else if (!strcmp(what, "restart"))
			r.desired_generation = (r.desired_generation > r.acted_generation
							? r.desired_generation : r.acted_generation) + 1;
		else
			r.delete_requested = true;
		rc = barge_store_put(s, &r, &err);
		barge_record_dispose(&r);
		if (rc != BARGE_ESTORE_LOCKED)
			break;
		barge_err_clear(&err);
	}
	barge_store_close(s);
	if (rc)
		return out_error(&err);
	out_printf("%s: %s requested; the controller (barge run) acts on it. `barge plan FILES` "
		   "now shows the difference from the job files until they say the same.\n",
		   argv[i], what);
	return BARGE_EXIT_OK;
}

int cmd_pause(int argc, char **argv) { return change_one(argc, argv, "pause"); }
int cmd_resume(int argc, char **argv) { return change_one(argc, argv, "resume"); }
int cmd_restart(int argc, char **argv) { return change_one(argc, argv, "restart"); }
int cmd_delete(int argc, char **argv) { return change_one(argc, argv, "delete"); }
