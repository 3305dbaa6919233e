/*
 * test_jobs.c — job files: every key, defaults, durations, hashes, and every kind of mistake
 * with its exact message (engine/yaml, engine/jobset, engine/job).
 *
 * Invalid cases are data: tests/data/jobs/invalid/NAME.yaml with NAME.expect listing the exact
 * diagnostics ("line:col: message", one per line, in order); tests/data/jobs/invalid-sets/CASE/
 * holds several files loaded together, with CASE/expect ("file:line:col: message").
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/jobset.h"
#include "engine/store.h"
#include "tests/test.h"

/* Load paths and return every diagnostic joined by newlines, with prefix stripped from files. */
static char *diagnostics(const char *const *paths, size_t n, const char *strip, int *rc)
{
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	struct barge_jobset *set = NULL;
	struct barge_buf out;

	barge_buf_init(&out, BARGE_BUF_NOCAP);
	*rc = barge_jobset_load(paths, n, &set, &diags, &err);
	for (size_t i = 0; i < diags.count; i++) {
		char *line = barge_diag_format(&diags.items[i]);
		const char *p = line, *hit;

		/* drop every occurrence of the directory prefix, so expectations are portable */
		while (strip && (hit = strstr(p, strip)) != NULL) {
			barge_buf_append(&out, p, (size_t)(hit - p));
			p = hit + strlen(strip);
		}
		barge_buf_appendf(&out, "%s\n", p);
		free(line);
	}
	barge_jobset_free(set);
	barge_diags_dispose(&diags);
	return barge_buf_detach(&out);
}

TEST(invalid_files_give_their_exact_messages)
{
	DIR *d = opendir(BARGE_TEST_DATA "/jobs/invalid");
	struct dirent *e;
	int cases = 0;

	ASSERT_TRUE(d != NULL);
	while ((e = readdir(d)) != NULL) {
		char path[1024], expect_path[1024], prefix[1100];
		size_t len = strlen(e->d_name);
		char *expect, *got;
		const char *paths[1];
		int rc;

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof path, "%s/jobs/invalid/%s", BARGE_TEST_DATA, e->d_name);
		snprintf(expect_path, sizeof expect_path, "%.*s.expect", (int)strlen(path) - 5, path);
		snprintf(prefix, sizeof prefix, "%s:", path);
		expect = test_read_file(expect_path, NULL);
		if (!expect)
			TEST_FAILF("%s has no .expect file", path);
		paths[0] = path;
		got = diagnostics(paths, 1, prefix, &rc);
		if (rc != BARGE_ECONFIG || strcmp(got, expect) != 0)
			TEST_FAILF("%s (rc %d):\n  got:\n%s  expected:\n%s", e->d_name, rc, got, expect);
		free(expect);
		free(got);
		cases++;
	}
	closedir(d);
	fprintf(stderr, "  %d invalid files checked\n", cases);
	ASSERT_TRUE(cases >= 25);
}

TEST(invalid_sets_are_rejected_whole)
{
	static const char *const sets[] = {"duplicate-names", "too-many-jobs"};

	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
		char dir[1024], expect_path[1100], prefix[1100];
		const char *paths[1];
		char *expect, *got;
		int rc;

		snprintf(dir, sizeof dir, "%s/jobs/invalid-sets/%s", BARGE_TEST_DATA, sets[i]);
		snprintf(expect_path, sizeof expect_path, "%s/expect", dir);
		snprintf(prefix, sizeof prefix, "%s/", dir);
		expect = test_read_file(expect_path, NULL);
		ASSERT_TRUE(expect != NULL);
		paths[0] = dir;
		got = diagnostics(paths, 1, prefix, &rc);
		ASSERT_EQ_INT(rc, BARGE_ECONFIG);
		ASSERT_EQ_STR(got, expect);
		free(expect);
		free(got);
	}
}

static struct barge_jobset *load_ok(const char *rel)
{
	char path[1024];
	const char *paths[1] = {path};
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	struct barge_jobset *set = NULL;

	snprintf(path, sizeof path, "%s/%s", BARGE_TEST_DATA, rel);
	if (barge_jobset_load(paths, 1, &set, &diags, &err) != 0) {
		for (size_t i = 0; i < diags.count; i++)
			fprintf(stderr, "  %s\n", barge_diag_format(&diags.items[i]));
		TEST_FAILF("%s did not load: %s", rel, err.msg);
	}
	barge_diags_dispose(&diags);
	return set;
}

TEST(defaults_are_applied)
{
	struct barge_jobset *set = load_ok("jobs/valid/minimal.yaml");
	const struct barge_job *j;

	ASSERT_EQ_INT(set->count, 1);
	j = set->jobs[0];
	ASSERT_EQ_STR(j->name, "minimal");
	ASSERT_EQ_INT(j->state, BARGE_DESIRED_RUNNING);
	ASSERT_EQ_INT(j->restart_generation, 0);
	ASSERT_EQ_INT(j->mode, BARGE_MODE_FULL);
	ASSERT_EQ_INT(j->source.port, 3306);
	ASSERT_EQ_INT(j->target.port, 3306);
	ASSERT_TRUE(j->target.password == NULL);
	ASSERT_EQ_STR(j->source.password, "${env:SRC_PASSWORD}");
	ASSERT_EQ_INT(j->target.dialect, BARGE_DIALECT_MYSQL);
	ASSERT_EQ_STR(j->target.meta_schema, "barge_meta");
	ASSERT_TRUE(j->source.tls.verify);
	ASSERT_FALSE(j->source.tls.enabled);
	ASSERT_TRUE(j->source.server_id >= 1000000000u && j->source.server_id < 2000000000u);
	ASSERT_EQ_INT(j->full.threads, 4);
	ASSERT_EQ_INT(j->full.chunk_rows, 100000);
	ASSERT_EQ_INT(j->full.on_duplicate, BARGE_ONDUP_REPLACE);
	ASSERT_EQ_INT(j->incremental.workers, 8);
	ASSERT_EQ_INT(j->incremental.batch, 256);
	ASSERT_EQ_INT(j->incremental.safe_mode, BARGE_SAFE_AUTO);
	ASSERT_EQ_INT(j->n_allow + j->n_block + j->n_routes + j->n_filters + j->n_notify, 0);
	ASSERT_EQ_INT(strlen(j->spec_hash), 64);
	barge_jobset_free(set);
}

TEST(every_key_is_read)
{
	struct barge_jobset *set = load_ok("jobs/valid/everything.yaml");
	const struct barge_job *j = set->jobs[0];
	char *dir;

	ASSERT_EQ_STR(j->name, "everything_1");
	ASSERT_EQ_INT(j->state, BARGE_DESIRED_PAUSED);
	ASSERT_EQ_INT(j->restart_generation, 3);
	ASSERT_EQ_INT(j->mode, BARGE_MODE_INCREMENTAL);
	ASSERT_EQ_INT(j->source.port, 3307);
	ASSERT_EQ_STR(j->source.password, "${file:secrets/src-password}");
	ASSERT_EQ_STR(j->source.tls.ca, "ca.pem");
	ASSERT_EQ_STR(j->source.tls.cert, "client.pem");
	ASSERT_EQ_STR(j->source.tls.key, "client.key");
	ASSERT_FALSE(j->source.tls.verify);
	ASSERT_EQ_INT(j->source.server_id, 4242);
	ASSERT_EQ_INT(j->target.dialect, BARGE_DIALECT_TIDB);
	ASSERT_EQ_STR(j->target.meta_schema, "barge_meta_orders");
	ASSERT_EQ_STR(j->target.tls.ca, "tidb-ca.pem");
	ASSERT_TRUE(j->target.tls.verify);
	ASSERT_EQ_INT(j->n_allow, 2);
	ASSERT_EQ_STR(j->allow[1].table, "~^orders_");
	ASSERT_TRUE(j->allow[0].table == NULL);
	ASSERT_EQ_INT(j->allow[1].loc.line, 29);
	ASSERT_EQ_INT(j->n_block, 1);
	ASSERT_EQ_STR(j->routes[0].to_table, "orders");
	ASSERT_EQ_INT(j->filters[0].ignore, (1 << 7) | (1 << 8));
	ASSERT_EQ_STR(j->filters[1].sql_patterns[0], "^ALTER TABLE .* DROP COLUMN");
	ASSERT_EQ_INT(j->full.threads, 8);
	ASSERT_EQ_INT(j->full.chunk_rows, 50000);
	ASSERT_EQ_INT(j->full.on_duplicate, BARGE_ONDUP_IGNORE);
	ASSERT_EQ_STR(j->incremental.start.binlog_name, "mysql-bin.000003");
	ASSERT_EQ_INT(j->incremental.start.binlog_pos, 4);
	ASSERT_EQ_INT(j->incremental.workers, 4);
	ASSERT_EQ_INT(j->incremental.batch, 100);
	ASSERT_EQ_INT(j->incremental.safe_mode, BARGE_SAFE_ALWAYS);
	ASSERT_EQ_INT(j->n_notify, 2);
	ASSERT_EQ_INT(j->notify[0].format, BARGE_NOTIFY_SLACK);
	ASSERT_EQ_INT(j->notify[0].events, BARGE_NOTIFY_STAGE | BARGE_NOTIFY_ERROR | BARGE_NOTIFY_LAG);
	ASSERT_EQ_STR(j->notify[0].secret, "${env:HOOK_SECRET}");
	ASSERT_EQ_INT(j->notify[0].lag_threshold_ms, 90000);
	ASSERT_EQ_INT(j->notify[1].events, BARGE_NOTIFY_ALL);
	ASSERT_EQ_INT(j->notify[1].lag_threshold_ms, 30000);
	ASSERT_EQ_INT(j->n_precheck_ignore, 1);
	ASSERT_EQ_STR(j->precheck_ignore[0], "table-keys");
	dir = barge_job_base_dir(j);
	ASSERT_CONTAINS(dir, "tests/data/jobs/valid");
	free(dir);
	barge_jobset_free(set);
}

TEST(multi_document_files_skip_empty_documents_and_sort_by_name)
{
	struct barge_jobset *set = load_ok("jobs/valid/two-documents.yaml");

	ASSERT_EQ_INT(set->count, 2);
	ASSERT_EQ_STR(set->jobs[0]->name, "first");
	ASSERT_EQ_STR(set->jobs[1]->name, "second");
	ASSERT_EQ_STR(set->jobs[1]->incremental.start.gtid, "0-1-100");
	ASSERT_TRUE(barge_jobset_find(set, "second") == set->jobs[1]);
	ASSERT_TRUE(barge_jobset_find(set, "third") == NULL);
	barge_jobset_free(set);
}

static struct barge_jobset *load_text(const char *text, char *hash_out)
{
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	struct barge_jobset *set = NULL;

	if (barge_jobset_load_buffer("inline.yaml", text, strlen(text), &set, &diags, &err) != 0) {
		for (size_t i = 0; i < diags.count; i++)
			fprintf(stderr, "  %s\n", barge_diag_format(&diags.items[i]));
		TEST_FAILF("inline job did not load: %s", err.msg);
	}
	barge_diags_dispose(&diags);
	if (hash_out)
		memcpy(hash_out, set->jobs[0]->spec_hash, 65);
	return set;
}

TEST(hash_ignores_key_order_and_explicit_defaults_but_not_changes)
{
	char a[65], b[65], c[65];
	const char *one = "apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: h}\n"
			  "spec: {mode: full, source: {host: s, user: u}, target: {host: t, user: u}}\n";
	const char *two = "kind: MigrationJob\napiVersion: barge/v1\nmetadata: {name: h}\n"
			  "spec:\n  target: {user: u, host: t, port: 3306}\n  mode: full\n"
			  "  full: {threads: 4}\n  source: {host: s, user: u}\n";
	const char *three = "apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: h}\n"
			    "spec: {mode: full, source: {host: s, user: u}, target: {host: t, user: u},"
			    " full: {threads: 5}}\n";

	barge_jobset_free(load_text(one, a));
	barge_jobset_free(load_text(two, b));
	barge_jobset_free(load_text(three, c));
	ASSERT_EQ_STR(a, b);
	ASSERT_TRUE(strcmp(a, c) != 0);
}

TEST(durations_parse)
{
	uint64_t ms;

	ASSERT_OK(barge_duration_parse("500ms", &ms));
	ASSERT_EQ_UINT(ms, 500);
	ASSERT_OK(barge_duration_parse("30s", &ms));
	ASSERT_EQ_UINT(ms, 30000);
	ASSERT_OK(barge_duration_parse("5m", &ms));
	ASSERT_EQ_UINT(ms, 300000);
	ASSERT_OK(barge_duration_parse("1h", &ms));
	ASSERT_EQ_UINT(ms, 3600000);
	ASSERT_OK(barge_duration_parse("1h30m", &ms));
	ASSERT_EQ_UINT(ms, 5400000);
	ASSERT_OK(barge_duration_parse("45", &ms));
	ASSERT_EQ_UINT(ms, 45000);
	ASSERT_EQ_INT(barge_duration_parse("", &ms), BARGE_ECONFIG);
	ASSERT_EQ_INT(barge_duration_parse("s", &ms), BARGE_ECONFIG);
	ASSERT_EQ_INT(barge_duration_parse("10x", &ms), BARGE_ECONFIG);
	ASSERT_EQ_INT(barge_duration_parse("1h30", &ms), BARGE_ECONFIG);
	ASSERT_EQ_INT(barge_duration_parse("-5s", &ms), BARGE_ECONFIG);
	ASSERT_EQ_INT(barge_duration_parse("99999999999999999999h", &ms), BARGE_ECONFIG);
}

TEST(job_names_follow_the_seed_rules)
{
	ASSERT_TRUE(barge_job_name_valid("orders-to-tidb"));
	ASSERT_TRUE(barge_job_name_valid("A_1-b"));
	ASSERT_TRUE(barge_job_name_valid("a2345678901234567890123456789012345678901234567890123456789"));
	ASSERT_FALSE(barge_job_name_valid("a12345678901234567890123456789012345678901234567890123456789"));
	ASSERT_FALSE(barge_job_name_valid("1abc"));
	ASSERT_FALSE(barge_job_name_valid("_abc"));
	ASSERT_FALSE(barge_job_name_valid("a b"));
	ASSERT_FALSE(barge_job_name_valid("a.b"));
	ASSERT_FALSE(barge_job_name_valid("ä"));
	ASSERT_FALSE(barge_job_name_valid(""));
}

TEST(a_bad_document_keeps_the_whole_set_from_loading)
{
	const char *text = "apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: good}\n"
			   "spec: {mode: full, source: {host: s, user: u}, target: {host: t, user: u}}\n"
			   "---\napiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: bad}\n"
			   "spec: {mode: fulll, source: {host: s, user: u}, target: {host: t, user: u}}\n";
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	struct barge_jobset *set = (void *)1;

	ASSERT_EQ_INT(barge_jobset_load_buffer("x.yaml", text, strlen(text), &set, &diags, &err),
		      BARGE_ECONFIG);
	ASSERT_TRUE(set == (void *)1); /* untouched */
	ASSERT_EQ_INT(diags.count, 1);
	ASSERT_EQ_STR(err.msg, "1 error in 1 file");
	barge_diags_dispose(&diags);
}

TEST(literal_passwords_are_never_echoed)
{
	const char *text = "apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: p}\n"
			   "spec: {mode: full, source: {host: s, user: u, password: Tr0ub4dor&3},"
			   " target: {host: t, user: u}}\n";
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	struct barge_jobset *set = NULL;

	ASSERT_EQ_INT(barge_jobset_load_buffer("x.yaml", text, strlen(text), &set, &diags, &err),
		      BARGE_ECONFIG);
	ASSERT_EQ_INT(diags.count, 1);
	ASSERT_NOT_CONTAINS(diags.items[0].message, "Tr0ub4dor");
	barge_diags_dispose(&diags);
}

TEST(unreadable_paths_are_io_errors)
{
	const char *paths[] = {"/nonexistent/jobs"};
	char *got;
	int rc;

	got = diagnostics(paths, 1, NULL, &rc);
	ASSERT_EQ_INT(rc, BARGE_EIO);
	ASSERT_EQ_STR(got, "/nonexistent/jobs: cannot read: No such file or directory\n");
	free(got);
}

TEST(job_copies_own_their_file_name)
{
	struct barge_jobset *set = load_ok("jobs/valid/everything.yaml");
	struct barge_job *copy = barge_job_dup(set->jobs[0]);

	barge_jobset_free(set);
	ASSERT_CONTAINS(copy->loc.file, "everything.yaml");
	ASSERT_CONTAINS(copy->allow[1].loc.file, "everything.yaml");
	ASSERT_EQ_STR(copy->routes[0].from.table, "~^orders_[0-9]+$");
	barge_job_free(copy);
}

/* What the store records (barge_record_set_spec) turns back into the same job: same canonical
 * form, same hash, and its file, so relative paths resolve as before. */
static void assert_round_trip(const struct barge_job *j)
{
	struct barge_record r;
	struct barge_job *back = NULL;
	struct barge_err err = {0};
	json_t *a, *b;
	char *ta, *tb, *dir_a, *dir_b;

	barge_record_init(&r, j->name);
	barge_record_set_spec(&r, j);
	ASSERT_CONTAINS(r.spec_json, "\"file\":");
	ASSERT_EQ_INT(barge_job_from_json(r.spec_json, &back, &err), 0);
	a = barge_job_to_json(j);
	b = barge_job_to_json(back);
	ta = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
	tb = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
	ASSERT_EQ_STR(tb, ta);
	ASSERT_EQ_STR(back->spec_hash, j->spec_hash);
	dir_a = barge_job_base_dir(j);
	dir_b = barge_job_base_dir(back);
	ASSERT_TRUE(dir_b[0] == '/');
	ASSERT_CONTAINS(dir_b, dir_a[0] == '/' ? dir_a : "tests/data/jobs/valid");
	free(dir_a);
	free(dir_b);
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
	barge_job_free(back);
	barge_record_dispose(&r);
}

TEST(recorded_specs_load_back_as_the_same_job)
{
	const char *files[] = {"jobs/valid/everything.yaml", "jobs/valid/minimal.yaml",
			       "jobs/valid/two-documents.yaml"};

	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		struct barge_jobset *set = load_ok(files[f]);

		ASSERT_TRUE(set->count > 0);
		for (size_t i = 0; i < set->count; i++)
			assert_round_trip(set->jobs[i]);
		barge_jobset_free(set);
	}
}

TEST(recorded_specs_that_are_not_barges_are_refused_by_key)
{
	struct barge_job *job = (struct barge_job *)1;
	struct barge_err err = {0};

	ASSERT_EQ_INT(barge_job_from_json("[1]", &job, &err), BARGE_ESTORE);
	ASSERT_TRUE(job == NULL);
	barge_err_clear(&err);
	ASSERT_EQ_INT(barge_job_from_json("{\"name\":\"a\",\"state\":\"running\"}", &job, &err),
		      BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "\"restartGeneration\"");
	barge_err_clear(&err);
	ASSERT_EQ_INT(barge_job_from_json("{\"name\":\"a\",\"state\":\"sleeping\"}", &job, &err),
		      BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "\"state\"");
	barge_err_clear(&err);
}

TEST_MAIN()
