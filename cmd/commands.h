/*
 * commands.h — the table of barge's commands.  Each cmd_<verb>.c defines one entry point that
 * parses its own options (every command answers --help) and returns an exit status
 * (output.h).  Only cmd/ prints or exits.
 */
#ifndef BARGE_CMD_COMMANDS_H
#define BARGE_CMD_COMMANDS_H

struct command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
	const char *args;                  /* "PATH..." */
	const char *summary;               /* one line for `barge help` */
};

int cmd_validate(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_binlog(int argc, char **argv);
int cmd_errors(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);

extern const struct command barge_commands[];

/* The entry for name, or NULL. */
const struct command *command_find(const char *name);

/* True when argv holds -h or --help before any "--". */
int wants_help(int argc, char **argv);
/* Print a command's usage line and summary. */
void print_command_usage(const struct command *c);

#endif
