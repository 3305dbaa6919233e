/*
 * stubs.c — commands whose engine parts have not landed yet.  Each says so plainly and fails,
 * so that no pipeline mistakes a stub for success.  A command moves out of this file into its
 * own cmd_<verb>.c when it is implemented.
 */
#include "cmd/commands.h"
#include "cmd/output.h"

static int not_yet(int argc, char **argv)
{
	const struct command *c = command_find(argv[0]);

	if (wants_help(argc, argv)) {
		print_command_usage(c);
		out_printf("\nThis command is not implemented yet.\n");
		return BARGE_EXIT_OK;
	}
	err_printf("barge %s: not implemented yet; this version can only validate job files "
		   "(barge validate)\n",
		   argv[0]);
	return BARGE_EXIT_ERROR;
}

int cmd_plan(int argc, char **argv) { return not_yet(argc, argv); }
int cmd_apply(int argc, char **argv) { return not_yet(argc, argv); }
int cmd_status(int argc, char **argv) { return not_yet(argc, argv); }
int cmd_pause(int argc, char **argv) { return not_yet(argc, argv); }
int cmd_resume(int argc, char **argv) { return not_yet(argc, argv); }
int cmd_restart(int argc, char **argv) { return not_yet(argc, argv); }
int cmd_delete(int argc, char **argv) { return not_yet(argc, argv); }
