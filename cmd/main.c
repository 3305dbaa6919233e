/*
 * main.c — barge's entry point: finds the command and runs it.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/output.h"

const struct command barge_commands[] = {
	{"validate", cmd_validate, "PATH...",
	 "check job files without connecting (schema and semantics; file:line:col errors)"},
	{"check", cmd_check, "[--json] JOBFILE...", "precheck a job against its live source and target"},
	{"plan", cmd_plan, "[--store URL] PATH...",
	 "show what apply would change; exit 2 when the files differ from the store"},
	{"apply", cmd_apply, "[--store URL] PATH...", "record the job files as the desired state"},
	{"run", cmd_run, "[--store URL] [--once] [PATH...]",
	 "run the controller: reconcile the store (and files) until stopped"},
	{"status", cmd_status, "[--store URL] [--json] [--watch] [JOB]",
	 "show each job's stage, progress, lag and last error"},
	{"pause", cmd_pause, "[--store URL] JOB", "pause a running job"},
	{"resume", cmd_resume, "[--store URL] JOB", "resume a paused job"},
	{"restart", cmd_restart, "[--store URL] JOB",
	 "restart a failed or running job (conflicting target rows are replaced)"},
	{"delete", cmd_delete, "[--store URL] JOB", "delete a job in any stage"},
	{"binlog", cmd_binlog, "decode [--json] FILE | --from JOB.yaml",
	 "decode a binlog file or stream to text (like mysqlbinlog -v)"},
	{"errors", cmd_errors, "[--json]",
	 "print the error catalogue: codes, retryability, messages and what to do"},
	{"version", cmd_version, "", "print barge's version"},
	{"help", cmd_help, "[COMMAND]", "show this help, or a command's"},
	{NULL, NULL, NULL, NULL},
};

const struct command *command_find(const char *name)
{
	for (const struct command *c = barge_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

void print_command_usage(const struct command *c)
{
	out_printf("usage: barge %s%s%s\n\n%s\n", c->name, c->args[0] ? " " : "", c->args,
		   c->summary);
}

static void print_usage(void)
{
	out_printf("barge %s — migrate a live MySQL-compatible database into TiDB or MySQL,\n"
		   "driven by YAML job files.\n\nusage: barge COMMAND [OPTIONS] [ARGS]\n\n"
		   "commands:\n",
		   BARGE_VERSION);
	for (const struct command *c = barge_commands; c->name; c++)
		out_printf("  %-9s %s\n", c->name, c->summary);
	out_printf("\nRun 'barge COMMAND --help' for a command's options.\n"
		   "Exit status: 0 success, 1 error (invalid input included), "
		   "2 plan found changes.\n");
}

int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2 || wants_help(argc, argv)) {
		print_usage();
		return BARGE_EXIT_OK;
	}
	c = command_find(argv[1]);
	if (!c) {
		err_printf("barge help: unknown command \"%s\"; run 'barge help' for the list\n",
			   argv[1]);
		return BARGE_EXIT_ERROR;
	}
	print_command_usage(c);
	return BARGE_EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		print_command_usage(command_find("version"));
		return BARGE_EXIT_OK;
	}
	out_printf("barge %s\n", BARGE_VERSION);
	return BARGE_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_usage();
		return BARGE_EXIT_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_usage();
		return BARGE_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	c = command_find(argv[1]);
	if (!c) {
		err_printf("barge: unknown command \"%s\"; run 'barge help' for the list\n", argv[1]);
		return BARGE_EXIT_ERROR;
	}
	return c->run(argc - 1, argv + 1);
}
