/*
 * cmd_errors.c — `barge errors [--json]`: print the error catalogue (engine/error.h), as the
 * Markdown page docs/errors.md is made of, or as a JSON array for tools.
 *
 * Exit 0; 1 on a bad option.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/output.h"
#include "engine/error.h"

static void usage(void)
{
	print_command_usage(command_find("errors"));
	out_printf("\nEvery error barge reports comes from this catalogue: its name (as status,\n"
		   "--json and webhooks show it), number, class, side (user, upstream, downstream,\n"
		   "notify, internal), whether barge retries it by itself, its message and what to "
		   "do.\n\noptions:\n"
		   "  --json    print a JSON array, one object per entry:\n"
		   "            {name, number, class, side, retryable, message, action}\n"
		   "\nWithout --json the output is the Markdown page docs/errors.md.\n"
		   "\nExit status: 0.\n");
}

static void print_json(void)
{
	int count = 0;
	const struct barge_errinfo *all = barge_errinfo_all(&count);
	json_t *arr = json_array();
	char *text;

	for (int i = 0; i < count; i++)
		json_array_append_new(
			arr, json_pack("{s:s, s:i, s:s, s:s, s:b, s:s, s:s}", "name", all[i].name,
				       "number", -all[i].code, "class", all[i].cls, "side",
				       barge_err_side_name(all[i].side), "retryable",
				       all[i].retryable, "message", all[i].message, "action",
				       all[i].action));
	text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		abort();
	out_printf("%s\n", text);
	free(text);
	json_decref(arr);
}

int cmd_errors(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	char *md;
	int opt;

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
			err_printf("usage: barge errors [--json]\n");
			return BARGE_EXIT_ERROR;
		}
	}
	if (optind < argc) {
		err_printf("barge errors: unexpected argument \"%s\"\nusage: barge errors [--json]\n",
			   argv[optind]);
		return BARGE_EXIT_ERROR;
	}
	if (json) {
		print_json();
		return BARGE_EXIT_OK;
	}
	md = barge_err_catalogue_markdown();
	out_printf("%s", md);
	free(md);
	return BARGE_EXIT_OK;
}
