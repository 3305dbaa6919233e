/*
 * test_errors_doc.c — docs/errors.md is the error catalogue (engine/error.h) as
 * barge_err_catalogue_markdown() renders it, and `barge errors` prints the same page and, with
 * --json, the same entries.  When the catalogue changes, regenerate the page with
 * `barge errors > docs/errors.md`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "engine/error.h"
#include "tests/test.h"

#define ERRORS_MD BARGE_SOURCE_DIR "/docs/errors.md"

/* The table row of the entry named name ("| `NAME` | ..."), up to its newline (heap). */
static char *row_of(const char *md, const char *name)
{
	char start[64];
	const char *p, *end;

	snprintf(start, sizeof start, "\n| `%s` |", name);
	p = strstr(md, start);
	if (!p)
		TEST_FAILF("no row for %s", name);
	p++;
	end = strchr(p, '\n');
	return strndup(p, end ? (size_t)(end - p) : strlen(p));
}

/* Run the barge under test with args; stdout into *out (heap); returns the exit status. */
static int run_barge(const char *args, char **out)
{
	const char *bin = getenv("BARGE_BIN");
	char cmd[2048], chunk[4096];
	size_t len = 0, n;
	FILE *p, *mem;
	int status;

	if (!bin)
		TEST_SKIP("BARGE_BIN is not set (run under ctest)");
	snprintf(cmd, sizeof cmd, "'%s' %s", bin, args);
	p = popen(cmd, "r");
	if (!p)
		TEST_FAILF("popen %s failed", cmd);
	mem = open_memstream(out, &len);
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		fwrite(chunk, 1, n, mem);
	fclose(mem);
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(docs_errors_md_is_the_generated_catalogue)
{
	char *md = barge_err_catalogue_markdown();

	/* on a difference: barge errors > docs/errors.md */
	ASSERT_TEXT_IS_FILE(md, ERRORS_MD);
	free(md);
}

TEST(every_entry_has_one_row_with_its_side_and_retryability)
{
	char *md = barge_err_catalogue_markdown(), *row;
	int count = 0, rows = 0;
	const struct barge_errinfo *all = barge_errinfo_all(&count);

	for (const char *p = strstr(md, "\n| `"); p; p = strstr(p + 1, "\n| `"))
		rows++;
	ASSERT_EQ_INT(rows, count);
	for (int i = 0; i < count; i++) {
		row = row_of(md, all[i].name);
		ASSERT_CONTAINS(row, all[i].message);
		ASSERT_CONTAINS(row, all[i].action);
		free(row);
	}
	row = row_of(md, "SRC_CONNECT");
	ASSERT_EQ_STR(row, "| `SRC_CONNECT` | 30 | connection | upstream | no | Failed to connect "
			   "to the source database using given parameters. Please make sure the "
			   "source database is up and can be connected using the given parameters. | "
			   "Check the source host, port, user, password and TLS settings, then "
			   "restart the job. |");
	free(row);
	row = row_of(md, "TGT_LOST");
	ASSERT_CONTAINS(row, "| 41 | connection | downstream | yes |");
	free(row);
	free(md);
}

TEST(barge_errors_prints_the_page_and_json)
{
	char *out = NULL;
	json_t *doc, *e;
	json_error_t jerr;
	int count = 0;
	const struct barge_errinfo *all = barge_errinfo_all(&count);
	size_t i;

	ASSERT_EQ_INT(run_barge("errors", &out), 0);
	ASSERT_TEXT_IS_FILE(out, ERRORS_MD);
	free(out);
	ASSERT_EQ_INT(run_barge("errors --json", &out), 0);
	doc = json_loads(out, 0, &jerr);
	if (!doc)
		TEST_FAILF("barge errors --json is not JSON (%s):\n%s", jerr.text, out);
	ASSERT_EQ_INT(json_array_size(doc), count);
	json_array_foreach(doc, i, e) {
		ASSERT_EQ_STR(json_string_value(json_object_get(e, "name")), all[i].name);
		ASSERT_EQ_INT(json_integer_value(json_object_get(e, "number")), -all[i].code);
		ASSERT_EQ_STR(json_string_value(json_object_get(e, "side")),
			      barge_err_side_name(all[i].side));
		ASSERT_EQ_INT(json_is_true(json_object_get(e, "retryable")), all[i].retryable);
		ASSERT_EQ_STR(json_string_value(json_object_get(e, "message")), all[i].message);
		ASSERT_EQ_STR(json_string_value(json_object_get(e, "action")), all[i].action);
	}
	json_decref(doc);
	free(out);
	ASSERT_EQ_INT(run_barge("errors --bogus 2>/dev/null", &out), 1);
	free(out);
}

TEST_MAIN()
