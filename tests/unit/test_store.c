/*
 * test_store.c — the store (engine/store, store_dir): the interface contract of store_suite.h
 * run against dir:, then what is particular to dir: (file modes, atomic files, the controller
 * lock, damaged files), store URLs, the default store and the record's JSON form.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/buf.h"
#include "engine/store.h"
#include "tests/test.h"
#include "tests/unit/store_suite.h"

/* ---- scratch directories, removed when the test ends (even after a failure) ---- */

static char scratch_root[512];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_scratch(void)
{
	if (scratch_root[0])
		nftw(scratch_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A directory of our own for this run's stores, which do not exist until opened. */
static const char *scratch(void)
{
	const char *tmp = getenv("TMPDIR");

	if (!scratch_root[0]) {
		snprintf(scratch_root, sizeof scratch_root, "%s/barge-store-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(scratch_root))
			TEST_FAILF("mkdtemp %s failed", scratch_root);
		atexit(remove_scratch);
	}
	return scratch_root;
}

/* The directory of the store store_url() gave last (each call gives a fresh one). */
static char current_store[600];

static char *store_url(void)
{
	static int serial;

	snprintf(current_store, sizeof current_store, "%s/store-%d", scratch(), ++serial);
	return barge_xasprintf("dir:%s", current_store);
}

static char *store_file(const char *name)
{
	return barge_xasprintf("%s/%s", current_store, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* One case of store_suite.h against a fresh dir: store.  (CTest finds cases by their TEST line,
 * so each has its own.) */
static void run_suite(void (*fn)(const char *url))
{
	char *url = store_url();

	fn(url);
	free(url);
}

TEST(dir_empty)
{
	run_suite(store_suite_empty);
}

TEST(dir_round_trip)
{
	run_suite(store_suite_round_trip);
}

TEST(dir_compare_and_swap)
{
	run_suite(store_suite_compare_and_swap);
}

TEST(dir_list_sorted)
{
	run_suite(store_suite_list_sorted);
}

TEST(dir_delete)
{
	run_suite(store_suite_delete);
}

TEST(dir_leases)
{
	run_suite(store_suite_leases);
}

TEST(dir_lease_expiry)
{
	run_suite(store_suite_lease_expiry);
}

TEST(dir_bad_names)
{
	run_suite(store_suite_bad_names);
}

TEST(dir_concurrent_writers)
{
	run_suite(store_suite_concurrent_writers);
}

TEST(dir_suite_is_complete)
{
	/* every case of store_suite.h has its TEST above */
	ASSERT_EQ_UINT(sizeof store_suite_cases / sizeof store_suite_cases[0], 9);
}

/* ---- dir: in particular ---- */

TEST(dir_files_are_private_and_written_whole)
{
	char *url = barge_xasprintf("dir:%s/deep/er/store", scratch());
	char *dir = barge_xasprintf("%s/deep/er/store", scratch());
	char *file = barge_xasprintf("%s/orders.json", dir);
	struct barge_store *s = store_suite_open(url);
	struct barge_record r;
	struct barge_err err = {0};
	struct stat st;
	json_error_t jerr;
	json_t *doc;
	DIR *d;
	struct dirent *e;

	ASSERT_OK(stat(dir, &st));
	ASSERT_EQ_UINT(st.st_mode & 0777, 0700);
	store_suite_fill(&r, "orders");
	ASSERT_OK(barge_store_put(s, &r, &err));
	ASSERT_OK(barge_store_put(s, &r, &err));
	ASSERT_OK(stat(file, &st));
	ASSERT_EQ_UINT(st.st_mode & 0777, 0600);

	/* the file is a readable JSON document with the spec embedded, not escaped */
	doc = json_load_file(file, 0, &jerr);
	ASSERT_TRUE(doc != NULL);
	ASSERT_EQ_STR(json_string_value(json_object_get(doc, "name")), "orders");
	ASSERT_EQ_INT(json_integer_value(json_object_get(doc, "version")), 2);
	ASSERT_EQ_INT(json_integer_value(json_object_get(json_object_get(doc, "spec"),
							 "workers")),
		      8);
	ASSERT_EQ_STR(json_string_value(json_object_get(doc, "stage")), "Paused");
	json_decref(doc);

	/* nothing but the record and the write lock: no temporary file left behind */
	d = opendir(dir);
	ASSERT_TRUE(d != NULL);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "orders.json") && strcmp(e->d_name, ".write.lock"))
			TEST_FAILF("unexpected file %s in the store", e->d_name);
	closedir(d);
	barge_record_dispose(&r);
	barge_store_close(s);
	free(url);
	free(dir);
	free(file);
}

TEST(dir_second_controller_is_refused_with_the_holder)
{
	char *url = store_url(), pid[64];
	struct barge_store *a = store_suite_open(url), *b = store_suite_open(url);
	struct barge_err err = {0};
	char host[256] = "";

	ASSERT_OK(barge_store_lock(a, &err));
	ASSERT_OK(barge_store_lock(a, &err)); /* holding it already */
	ASSERT_EQ_INT(barge_store_lock(b, &err), BARGE_ESTORE_LOCKED);
	snprintf(pid, sizeof pid, "pid %ld on host ", (long)getpid());
	gethostname(host, sizeof host - 1);
	ASSERT_CONTAINS(err.msg, "is in use by another barge controller");
	ASSERT_CONTAINS(err.msg, url);
	ASSERT_CONTAINS(err.msg, pid);
	ASSERT_CONTAINS(err.msg, host);
	ASSERT_CONTAINS(err.msg, "since 20");

	/* others still read and write through compare-and-swap */
	store_suite_put_new(b, "orders");

	/* when the first controller goes, the second may take over */
	barge_store_close(a);
	ASSERT_OK(barge_store_lock(b, &err));
	barge_store_close(b);
	free(url);
}

TEST(dir_damaged_records_are_named)
{
	char *url = store_url(), *bad, *odd;
	struct barge_store *s = store_suite_open(url);
	struct barge_record *recs = NULL, r;
	struct barge_err err = {0};
	size_t n = 0;

	store_suite_put_new(s, "good");
	/* files that are not records are left alone */
	odd = store_file("README.md");
	write_file(odd, "notes\n");
	free(odd);
	odd = store_file("not a job.json");
	write_file(odd, "{}");
	free(odd);
	odd = store_file(".good.json.tmp");
	write_file(odd, "{half");
	free(odd);
	ASSERT_OK(barge_store_list(s, &recs, &n, &err));
	ASSERT_EQ_UINT(n, 1);
	barge_records_free(recs, n);

	bad = store_file("broken.json");
	write_file(bad, "{\"format\": 1, \"name\": \"broken\"");
	ASSERT_EQ_INT(barge_store_list(s, &recs, &n, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, bad);
	ASSERT_EQ_INT(barge_store_get(s, "broken", &r, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, bad);

	write_file(bad, "{\"format\": 1, \"name\": \"other\"}");
	ASSERT_EQ_INT(barge_store_get(s, "broken", &r, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "key \"version\" missing");

	write_file(bad, "{\"format\": 2}");
	ASSERT_EQ_INT(barge_store_get(s, "broken", &r, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "record format 2 is not 1");
	free(bad);
	barge_store_close(s);
	free(url);
}

TEST(dir_record_of_another_job_is_refused)
{
	char *url = store_url(), *from, *to;
	struct barge_store *s = store_suite_open(url);
	struct barge_record r;
	struct barge_err err = {0};

	store_suite_put_new(s, "a");
	from = store_file("a.json");
	to = store_file("b.json");
	ASSERT_OK(rename(from, to));
	ASSERT_EQ_INT(barge_store_get(s, "b", &r, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "holds the record of job a");
	free(from);
	free(to);
	barge_store_close(s);
	free(url);
}

TEST(dir_path_that_is_a_file_is_refused)
{
	char *path = barge_xasprintf("%s/plain", scratch()), *url;
	struct barge_store *s = NULL;
	struct barge_err err = {0};

	write_file(path, "x");
	url = barge_xasprintf("dir:%s", path);
	ASSERT_EQ_INT(barge_store_open(url, &s, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "not a directory");
	free(url);
	url = barge_xasprintf("dir:%s/below", path);
	ASSERT_EQ_INT(barge_store_open(url, &s, &err), BARGE_ESTORE);
	ASSERT_TRUE(s == NULL);
	free(url);
	free(path);
}

/* ---- URLs ---- */

TEST(store_urls_parse)
{
	struct barge_store_url u;
	struct barge_err err = {0};

	ASSERT_OK(barge_store_url_parse("dir:/var/lib/barge", &u, &err));
	ASSERT_EQ_INT(u.kind, BARGE_STORE_DIR);
	ASSERT_EQ_STR(u.path, "/var/lib/barge");
	barge_store_url_dispose(&u);
	ASSERT_OK(barge_store_url_parse("dir:state", &u, &err));
	ASSERT_EQ_STR(u.path, "state");
	barge_store_url_dispose(&u);

	ASSERT_OK(barge_store_url_parse("mysql://barge@tidb.example.com:4000/barge_state", &u,
					&err));
	ASSERT_EQ_INT(u.kind, BARGE_STORE_MYSQL);
	ASSERT_EQ_STR(u.user, "barge");
	ASSERT_EQ_STR(u.host, "tidb.example.com");
	ASSERT_EQ_UINT(u.port, 4000);
	ASSERT_EQ_STR(u.database, "barge_state");
	barge_store_url_dispose(&u);

	ASSERT_OK(barge_store_url_parse("mysql://root@db/state", &u, &err));
	ASSERT_EQ_UINT(u.port, 3306);
	ASSERT_EQ_STR(u.host, "db");
	barge_store_url_dispose(&u);

	ASSERT_OK(barge_store_url_parse("mysql://root@[::1]:4000/state", &u, &err));
	ASSERT_EQ_STR(u.host, "::1");
	ASSERT_EQ_UINT(u.port, 4000);
	barge_store_url_dispose(&u);
}

TEST(bad_store_urls_say_what_is_wrong)
{
	static const struct {
		const char *url, *message;
	} cases[] = {
		{"", "the store URL is empty"},
		{"dir:", "names no directory"},
		{"/var/lib/barge", "expected dir:PATH or mysql://user@host:port/db"},
		{"file:/x", "expected dir:PATH"},
		{"mysql://tidb:4000/db", "no user"},
		{"mysql://@tidb:4000/db", "no user"},
		{"mysql://root:secret@tidb:4000/db", "a password does not belong in the URL"},
		{"mysql://root@tidb:4000", "no database"},
		{"mysql://root@tidb:4000/", "the database must be one plain name"},
		{"mysql://root@tidb/db/x", "the database must be one plain name"},
		{"mysql://root@tidb/db?tls=1", "the database must be one plain name"},
		{"mysql://root@:4000/db", "no host"},
		{"mysql://root@tidb:0/db", "the port must be 1-65535"},
		{"mysql://root@tidb:65536/db", "the port must be 1-65535"},
		{"mysql://root@tidb:40x/db", "the port must be 1-65535"},
		{"mysql://root@tidb:/db", "the port must be 1-65535"},
		{"mysql://root@[::1/db", "unclosed ["},
		{"mysql://root@[::1]x/db", "unexpected text after ]"},
	};
	struct barge_store_url u;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct barge_err err = {0};

		if (barge_store_url_parse(cases[i].url, &u, &err) != BARGE_EUSAGE)
			TEST_FAILF("\"%s\" was accepted", cases[i].url);
		ASSERT_CONTAINS(err.msg, cases[i].message);
		ASSERT_NOT_CONTAINS(err.msg, "secret");
	}
}

TEST(mysql_store_failure_names_the_store_not_the_password)
{
	struct barge_store *s = NULL;
	struct barge_err err = {0};

	/* nothing listens on port 1: the connection is refused at once */
	setenv("BARGE_STORE_PASSWORD", "Sup3r-Secret-Store-Pw", 1);
	ASSERT_EQ_INT(barge_store_open("mysql://barge@127.0.0.1:1/state", &s, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "store mysql://barge@127.0.0.1:1/state: connect as barge");
	ASSERT_NOT_CONTAINS(err.msg, "Sup3r-Secret-Store-Pw");
	ASSERT_TRUE(s == NULL);
	unsetenv("BARGE_STORE_PASSWORD");
	ASSERT_EQ_INT(barge_store_open("nope", &s, &err), BARGE_EUSAGE);
}

TEST(mysql_ddl_is_schemas_store_sql)
{
	ASSERT_TEXT_IS_FILE(barge_store_mysql_ddl(), BARGE_SOURCE_DIR "/schemas/store.sql");
}

TEST(default_store_follows_the_environment)
{
	char *url = NULL;
	struct barge_err err = {0};

	setenv("BARGE_STORE", "dir:/srv/barge", 1);
	setenv("XDG_STATE_HOME", "/home/u/.state", 1);
	setenv("HOME", "/home/u", 1);
	ASSERT_OK(barge_store_default_url(&url, &err));
	ASSERT_EQ_STR(url, "dir:/srv/barge");
	free(url);

	setenv("BARGE_STORE", "", 1);
	ASSERT_OK(barge_store_default_url(&url, &err));
	ASSERT_EQ_STR(url, "dir:/home/u/.state/barge");
	free(url);

	unsetenv("BARGE_STORE");
	setenv("XDG_STATE_HOME", "relative/state", 1); /* invalid by the XDG spec: ignored */
	ASSERT_OK(barge_store_default_url(&url, &err));
	ASSERT_EQ_STR(url, "dir:/home/u/.local/state/barge");
	free(url);

	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/v/", 1);
	ASSERT_OK(barge_store_default_url(&url, &err));
	ASSERT_EQ_STR(url, "dir:/home/v/.local/state/barge");
	free(url);

	unsetenv("HOME"); /* falls back on the password database */
	ASSERT_OK(barge_store_default_url(&url, &err));
	ASSERT_TRUE(strncmp(url, "dir:/", 5) == 0);
	ASSERT_CONTAINS(url, ".local/state/barge");
	free(url);
}

TEST(open_without_a_url_uses_the_default)
{
	char *url = store_url();
	struct barge_store *s = NULL;
	struct barge_err err = {0};

	setenv("BARGE_STORE", url, 1);
	ASSERT_OK(barge_store_open(NULL, &s, &err));
	ASSERT_EQ_STR(s->url, url);
	barge_store_close(s);
	unsetenv("BARGE_STORE");
	free(url);
}

/* ---- the record's document ---- */

TEST(record_json_round_trips_and_cleans_bad_utf8)
{
	struct barge_record r, back;
	struct barge_err err = {0};
	char *text = NULL;

	store_suite_fill(&r, "orders");
	r.version = 12;
	r.created_ms = 1;
	r.updated_ms = 2;
	r.lease_owner = barge_xstrdup("host-a:123");
	r.lease_expires_ms = 99;
	free(r.error.statement);
	r.error.statement = barge_xstrdup("INSERT INTO t VALUES (X'ff', '\xff\xfe caf\xc3\xa9')");
	ASSERT_OK(barge_record_to_json_text(&r, &text, &err));
	ASSERT_OK(barge_record_from_json_text(text, strlen(text), &back, &err));
	free(r.error.statement);
	r.error.statement = barge_xstrdup("INSERT INTO t VALUES (X'ff', '?? caf\xc3\xa9')");
	store_suite_assert_same(&r, &back);
	ASSERT_EQ_UINT(back.version, 12);
	ASSERT_EQ_INT(back.created_ms, 1);
	ASSERT_EQ_INT(back.updated_ms, 2);
	ASSERT_EQ_STR(back.lease_owner, "host-a:123");
	ASSERT_EQ_INT(back.lease_expires_ms, 99);
	ASSERT_EQ_STR(back.error.code, "DUP_KEY");

	/* a copy is deep */
	barge_record_dispose(&r);
	barge_record_copy(&r, &back);
	barge_record_dispose(&back);
	ASSERT_EQ_STR(r.error.code, "DUP_KEY");
	ASSERT_EQ_STR(r.lease_owner, "host-a:123");
	barge_record_dispose(&r);
	free(text);
}

TEST(record_json_rejects_what_is_not_a_record)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		{"[]", "not a JSON object"},
		{"{", "not a JSON object"},
		{"{\"format\": 1, \"name\": \"../x\"}", "\"../x\" is not a job name"},
		{"{\"format\": 1, \"name\": 5}", "key \"name\" is not a string"},
	};
	struct barge_record r, ok;
	char *text = NULL;
	json_t *doc;
	struct barge_err err = {0};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ASSERT_EQ_INT(barge_record_from_json_text(cases[i].text, strlen(cases[i].text), &r,
							  &err),
			      BARGE_ESTORE);
		ASSERT_CONTAINS(err.msg, cases[i].message);
	}

	/* one wrong field in an otherwise good record */
	barge_record_init(&ok, "orders");
	ASSERT_OK(barge_record_to_json_text(&ok, &text, &err));
	barge_record_dispose(&ok);
	doc = json_loads(text, 0, NULL);
	free(text);
	json_object_set_new(doc, "stage", json_string("Running"));
	text = json_dumps(doc, 0);
	ASSERT_EQ_INT(barge_record_from_json_text(text, strlen(text), &r, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "unknown stage \"Running\"");
	free(text);
	json_object_set_new(doc, "stage", json_string("Syncing"));
	json_object_set_new(doc, "version", json_integer(-1));
	text = json_dumps(doc, 0);
	ASSERT_EQ_INT(barge_record_from_json_text(text, strlen(text), &r, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "key \"version\" is negative");
	free(text);
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "desiredState", json_string("stopped"));
	text = json_dumps(doc, 0);
	ASSERT_EQ_INT(barge_record_from_json_text(text, strlen(text), &r, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "unknown state \"stopped\"");
	free(text);
	json_object_set_new(doc, "desiredState", json_string("paused"));
	text = json_dumps(doc, 0);
	ASSERT_OK(barge_record_from_json_text(text, strlen(text), &r, &err));
	ASSERT_EQ_INT(r.desired_state, BARGE_DESIRED_PAUSED);
	ASSERT_EQ_INT(r.stage, BARGE_STAGE_SYNCING);
	barge_record_dispose(&r);
	free(text);
	json_decref(doc);
}

TEST_MAIN()
