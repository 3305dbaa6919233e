/*
 * cmd_validate.c — `barge validate PATH...`: check job files without connecting anywhere.
 *
 * Prints every problem as "file:line:col: message" on stderr (one per line, sorted by file and
 * line), then a summary.  Exit 0 when the whole set is valid, 1 otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/output.h"
#include "engine/jobset.h"

int cmd_validate(int argc, char **argv)
{
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	struct barge_jobset *set = NULL;
	int first = 1;

	if (wants_help(argc, argv)) {
		print_command_usage(command_find("validate"));
		out_printf("\nReads every *.yaml / *.yml file under the given files and directories "
			   "(recursively;\nhidden files skipped) and checks keys, types, values, "
			   "names and rules.\nNothing is resolved or connected: secrets stay "
			   "references.\n\nExit status: 0 valid, 1 invalid.\n");
		return BARGE_EXIT_OK;
	}
	if (argc > 1 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (argc <= first) {
		err_printf("barge validate: give at least one job file or directory\n"
			   "usage: barge validate PATH...\n");
		return BARGE_EXIT_ERROR;
	}
	if (barge_jobset_load((const char *const *)argv + first, (size_t)(argc - first), &set,
			      &diags, &err) != 0) {
		for (size_t i = 0; i < diags.count; i++) {
			char *line = barge_diag_format(&diags.items[i]);

			err_printf("%s\n", line);
			free(line);
		}
		err_printf("barge validate: %s\n", err.msg);
		barge_diags_dispose(&diags);
		return BARGE_EXIT_ERROR;
	}
	out_printf("%zu job%s in %zu file%s %s valid\n", set->count, set->count == 1 ? "" : "s",
		   set->n_files, set->n_files == 1 ? "" : "s", set->count == 1 ? "is" : "are");
	barge_jobset_free(set);
	barge_diags_dispose(&diags);
	return BARGE_EXIT_OK;
}
