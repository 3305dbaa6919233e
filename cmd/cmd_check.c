/*
 * cmd_check.c — `barge check [--json] JOBFILE...`: precheck every job of the files against its
 * live source and target (engine/precheck.h) and print each item's state, what was found and
 * what to do.
 *
 * Exit 0 when no item of any job Failed (Warnings and Skipped items included), 1 otherwise or
 * when the files do not load.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/output.h"
#include "engine/jobset.h"
#include "engine/precheck.h"

static void usage(void)
{
	print_command_usage(command_find("check"));
	out_printf("\noptions:\n"
		   "  --json    print one JSON document: every job's items and a summary\n"
		   "\nitems (ids for spec.precheck.ignore; \"all\" skips every item):\n");
	for (size_t i = 0; barge_precheck_item_ids[i]; i++) {
		const char *title = barge_precheck_item_title(barge_precheck_item_ids[i]);

		if (title)
			out_printf("  %-25s %s\n", barge_precheck_item_ids[i], title);
	}
	out_printf("\nExit status: 0 when nothing Failed (warnings allowed), 1 otherwise.\n");
}

static const char *state_id(enum barge_check_state s)
{
	switch (s) {
	case BARGE_CHECK_PASS: return "pass";
	case BARGE_CHECK_WARNING: return "warning";
	case BARGE_CHECK_FAILED: return "failed";
	case BARGE_CHECK_SKIPPED: return "skipped";
	}
	return "?";
}

static void print_text(const struct barge_precheck_report *r)
{
	out_printf("job %s:\n", r->job);
	for (size_t i = 0; i < r->count; i++) {
		const struct barge_check_result *it = &r->items[i];

		out_printf("  %-7s  %-25s %s\n", barge_check_state_name(it->state), it->id,
			   it->message ? it->message : "");
		if (it->instruction)
			out_printf("  %-7s  %-25s -> %s\n", "", "", it->instruction);
	}
	out_printf("  %zu passed, %zu warning%s, %zu failed, %zu skipped\n", r->n_pass,
		   r->n_warning, r->n_warning == 1 ? "" : "s", r->n_failed, r->n_skipped);
}

static json_t *report_json(const struct barge_precheck_report *r)
{
	json_t *items = json_array();

	for (size_t i = 0; i < r->count; i++) {
		const struct barge_check_result *it = &r->items[i];

		json_array_append_new(
			items, json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", it->id, "title",
					 it->title, "state", state_id(it->state), "message",
					 it->message ? it->message : "", "instruction",
					 it->instruction ? json_string(it->instruction)
							 : json_null()));
	}
	return json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I}}", "job", r->job, "items", items,
			 "summary", "passed", (json_int_t)r->n_pass, "warning",
			 (json_int_t)r->n_warning, "failed", (json_int_t)r->n_failed, "skipped",
			 (json_int_t)r->n_skipped);
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	struct barge_jobset *set = NULL;
	json_t *jobs = NULL;
	bool json = false;
	size_t failed = 0;
	int opt, status = BARGE_EXIT_OK;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage();
			return BARGE_EXIT_OK;
		default:
			err_printf("usage: barge check [--json] JOBFILE...\n");
			return BARGE_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		err_printf("barge check: give at least one job file or directory\n"
			   "usage: barge check [--json] JOBFILE...\n");
		return BARGE_EXIT_ERROR;
	}
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
	barge_diags_dispose(&diags);
	if (json)
		jobs = json_array();
	for (size_t i = 0; i < set->count; i++) {
		struct barge_precheck_report r = {0};

		barge_err_clear(&err);
		if (barge_precheck_run(set->jobs[i], &r, &err) != 0) {
			barge_err_wrap(&err, "job %s", set->jobs[i]->name);
			status = out_error(&err);
			failed++;
			continue;
		}
		failed += r.n_failed > 0;
		if (json)
			json_array_append_new(jobs, report_json(&r));
		else
			print_text(&r);
		barge_precheck_report_dispose(&r);
	}
	if (json) {
		json_t *doc = json_pack("{s:o, s:b}", "jobs", jobs, "ok", failed == 0);
		char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		out_printf("%s\n", text);
		free(text);
		json_decref(doc);
	} else if (set->count > 1) {
		out_printf("%zu of %zu jobs failed the precheck\n", failed, set->count);
	}
	if (failed)
		status = BARGE_EXIT_ERROR;
	barge_jobset_free(set);
	return status;
}
