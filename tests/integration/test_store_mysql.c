/*
 * test_store_mysql.c — the mysql:// store (engine/store_mysql.c) against the target server:
 * the whole contract of tests/unit/store_suite.h, one case per function, each in a database of
 * its own that the store creates; then what only a shared store shows: two controllers (two
 * handles, two connections) sharing a job through its lease, expiry by the database's clock,
 * quoting of hostile owners, and a password that comes from $BARGE_STORE_PASSWORD and never
 * reaches a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/buf.h"
#include "engine/log.h"
#include "engine/store.h"
#include "tests/integration/harness.h"
#include "tests/test.h"
#include "tests/unit/store_suite.h"

/*
 * The URL of an empty store in database db on the target, as the admin user (the password in
 * the environment, where the store takes it from).  The database is dropped first, so the
 * store's open creates it and its table.  Caller frees.
 */
static char *fresh_store(const char *db)
{
	const struct th_server *t = &th_servers()->target;
	MYSQL *c = th_connect(t, NULL);

	th_exec(c, "DROP DATABASE IF EXISTS `%s`", db);
	mysql_close(c);
	setenv("BARGE_STORE_PASSWORD", t->admin_password, 1);
	return barge_xasprintf("mysql://%s@127.0.0.1:%u/%s", t->admin_user, t->port, db);
}

/* ---- the contract ---- */

TEST(suite_empty)
{
	char *url = fresh_store("store_suite_empty");

	store_suite_empty(url);
	free(url);
}

TEST(suite_round_trip)
{
	char *url = fresh_store("store_suite_round_trip");

	store_suite_round_trip(url);
	free(url);
}

TEST(suite_compare_and_swap)
{
	char *url = fresh_store("store_suite_cas");

	store_suite_compare_and_swap(url);
	free(url);
}

TEST(suite_list_sorted)
{
	char *url = fresh_store("store_suite_list");

	store_suite_list_sorted(url);
	free(url);
}

TEST(suite_delete)
{
	char *url = fresh_store("store_suite_delete");

	store_suite_delete(url);
	free(url);
}

TEST(suite_leases)
{
	char *url = fresh_store("store_suite_leases");

	store_suite_leases(url);
	free(url);
}

TEST(suite_lease_expiry)
{
	char *url = fresh_store("store_suite_lease_expiry");

	store_suite_lease_expiry(url);
	free(url);
}

TEST(suite_bad_names)
{
	char *url = fresh_store("store_suite_bad_names");

	store_suite_bad_names(url);
	free(url);
}

TEST(suite_concurrent_writers)
{
	char *url = fresh_store("store_suite_concurrent");

	store_suite_concurrent_writers(url);
	free(url);
}

TEST(suite_is_complete)
{
	/* every case of store_suite.h has its suite_NAME TEST above */
	for (size_t i = 0; i < sizeof store_suite_cases / sizeof store_suite_cases[0]; i++) {
		char want[128];
		bool found = false;

		snprintf(want, sizeof want, "suite_%s", store_suite_cases[i].name);
		for (const struct test_case *tc = test_cases_; tc && !found; tc = tc->next)
			found = strcmp(tc->name, want) == 0;
		if (!found)
			TEST_FAILF("store_suite.h case %s has no TEST(%s) here",
				   store_suite_cases[i].name, want);
	}
}

/* ---- what a shared store adds ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

TEST(open_creates_the_database_and_table)
{
	const struct th_server *t = &th_servers()->target;
	char *url = fresh_store("store_created");
	struct barge_store *s = store_suite_open(url), *again;
	MYSQL *c = th_connect(t, NULL);

	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
				      "TABLE_SCHEMA = 'store_created' AND "
				      "TABLE_NAME = 'store_records'"),
		      7);
	store_suite_put_new(s, "orders");
	/* a second controller opens the existing store and sees the job; lock claims nothing */
	again = store_suite_open(url);
	{
		struct barge_err err = {0};
		struct barge_record r;

		ASSERT_OK(barge_store_lock(s, &err));
		ASSERT_OK(barge_store_lock(again, &err));
		ASSERT_OK(barge_store_get(again, "orders", &r, &err));
		ASSERT_EQ_UINT(r.version, 1);
		barge_record_dispose(&r);
	}
	/* the columns hold version and lease; the document leaves them zero */
	ASSERT_EQ_INT(th_query_int(c, "SELECT version FROM store_created.store_records"), 1);
	{
		char *doc = th_query_value(c, "SELECT record FROM store_created.store_records");

		ASSERT_CONTAINS(doc, "\"lease\": null");
		ASSERT_CONTAINS(doc, "\"version\": 0");
		free(doc);
	}
	barge_store_close(again);
	barge_store_close(s);
	mysql_close(c);
	free(url);
}

TEST(a_user_with_row_privileges_uses_a_store_made_for_it)
{
	const struct th_server *t = &th_servers()->target;
	char *url = fresh_store("store_dml"), *dml_url;
	struct barge_store *s = store_suite_open(url); /* the admin creates database and table */
	struct barge_err err = {0};
	MYSQL *c = th_connect(t, NULL);

	barge_store_close(s);
	th_exec(c, "DROP USER IF EXISTS 'store_dml'@'%%'");
	th_exec(c, "CREATE USER 'store_dml'@'%%' IDENTIFIED BY 'Dml-Store-Pw-1'");
	th_exec(c, "GRANT SELECT, INSERT, UPDATE, DELETE ON store_dml.* TO 'store_dml'@'%%'");
	setenv("BARGE_STORE_PASSWORD", "Dml-Store-Pw-1", 1);
	dml_url = barge_xasprintf("mysql://store_dml@127.0.0.1:%u/store_dml", t->port);
	s = store_suite_open(dml_url);
	ASSERT_EQ_UINT(store_suite_put_new(s, "orders"), 1);
	ASSERT_OK(barge_store_lease_acquire(s, "orders", "ctl-a", 1000, &err));
	barge_store_close(s);
	/* a database it may not use or create: the refusal names the store and says why */
	free(dml_url);
	dml_url = barge_xasprintf("mysql://store_dml@127.0.0.1:%u/store_dml_missing", t->port);
	ASSERT_EQ_INT(barge_store_open(dml_url, &s, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "/store_dml_missing: ");
	ASSERT_CONTAINS(err.msg, "Access denied");
	ASSERT_NOT_CONTAINS(err.msg, "Dml-Store-Pw-1");
	th_exec(c, "DROP USER 'store_dml'@'%%'");
	mysql_close(c);
	free(dml_url);
	free(url);
}

TEST(two_controllers_share_a_job_through_its_lease)
{
	char *url = fresh_store("store_two_controllers");
	struct barge_store *c1 = store_suite_open(url), *c2 = store_suite_open(url);
	struct barge_record r1, r2;
	struct barge_err err = {0};
	int64_t started;
	int tries = 0;

	store_suite_put_new(c1, "orders");
	ASSERT_OK(barge_store_get(c1, "orders", &r1, &err));

	/* controller 1 takes the job; controller 2 is refused and told who has it */
	ASSERT_OK(barge_store_lease_acquire(c1, "orders", "ctl-host1-4242", 1500, &err));
	ASSERT_EQ_INT(barge_store_lease_acquire(c2, "orders", "ctl-host2-777", 1500, &err),
		      BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "job orders is leased to ctl-host1-4242 for");
	ASSERT_EQ_INT(barge_store_lease_renew(c2, "orders", "ctl-host2-777", 1500, &err),
		      BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "ctl-host1-4242");
	ASSERT_OK(barge_store_get(c2, "orders", &r2, &err));
	ASSERT_EQ_STR(r2.lease_owner, "ctl-host1-4242");
	barge_record_dispose(&r2);
	ASSERT_OK(barge_store_lease_renew(c1, "orders", "ctl-host1-4242", 1500, &err));

	/* controller 1 dies: nobody renews, and once the lease expires controller 2 takes over */
	started = barge_store_now_ms();
	while (barge_store_lease_acquire(c2, "orders", "ctl-host2-777", 60000, &err) != 0) {
		ASSERT_EQ_INT(err.code, BARGE_ESTORE_LOCKED);
		ASSERT_CONTAINS(err.msg, "ctl-host1-4242");
		ASSERT_TRUE(++tries < 100);
		sleep_ms(100);
	}
	ASSERT_TRUE(barge_store_now_ms() - started >= 1000); /* not before it expired */
	ASSERT_EQ_INT(barge_store_lease_acquire(c1, "orders", "ctl-host1-4242", 1500, &err),
		      BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "ctl-host2-777");
	ASSERT_EQ_INT(barge_store_lease_renew(c1, "orders", "ctl-host1-4242", 1500, &err),
		      BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "leased to ctl-host2-777");

	/* none of that moved the version: controller 1's copy can still be written */
	ASSERT_EQ_UINT(r1.version, 1);
	r1.stage = BARGE_STAGE_PRECHECKING;
	ASSERT_OK(barge_store_put(c1, &r1, &err));
	ASSERT_EQ_UINT(r1.version, 2);
	ASSERT_EQ_STR(r1.lease_owner, "ctl-host2-777");

	/* a release by the old holder leaves the new one's lease alone */
	ASSERT_OK(barge_store_lease_release(c1, "orders", "ctl-host1-4242", &err));
	ASSERT_OK(barge_store_lease_renew(c2, "orders", "ctl-host2-777", 60000, &err));
	ASSERT_OK(barge_store_lease_release(c2, "orders", "ctl-host2-777", &err));
	ASSERT_OK(barge_store_lease_acquire(c1, "orders", "ctl-host1-4242", 1500, &err));
	ASSERT_EQ_INT(barge_store_lease_release(c1, "gone", "ctl-host1-4242", &err),
		      BARGE_ENOTFOUND);
	ASSERT_EQ_INT(barge_store_lease_renew(c1, "gone", "ctl-host1-4242", 10, &err),
		      BARGE_ENOTFOUND);
	barge_record_dispose(&r1);
	barge_store_close(c1);
	barge_store_close(c2);
	free(url);
}

TEST(lease_expiry_follows_the_database_clock)
{
	const struct th_server *t = &th_servers()->target;
	char *url = fresh_store("store_db_clock");
	struct barge_store *s = store_suite_open(url);
	struct barge_record r;
	struct barge_err err = {0};
	MYSQL *c = th_connect(t, "store_db_clock");
	long long db_now;

	store_suite_put_new(s, "orders");
	ASSERT_OK(barge_store_lease_acquire(s, "orders", "ctl-a", 30000, &err));
	db_now = th_query_int(c, "SELECT CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)");
	ASSERT_OK(barge_store_get(s, "orders", &r, &err));
	ASSERT_TRUE(r.lease_expires_ms > db_now + 25000 && r.lease_expires_ms <= db_now + 30000);
	barge_record_dispose(&r);

	/* a lease the database's clock has passed is free, whatever ours says */
	th_exec(c, "UPDATE store_records SET lease_expires_ms = "
		   "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) - 1");
	ASSERT_OK(barge_store_lease_acquire(s, "orders", "ctl-b", 30000, &err));
	/* and one it has not passed is taken, even when it ends a moment from now */
	th_exec(c, "UPDATE store_records SET lease_expires_ms = "
		   "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) + 5000");
	ASSERT_EQ_INT(barge_store_lease_acquire(s, "orders", "ctl-a", 30000, &err),
		      BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "leased to ctl-b");
	mysql_close(c);
	barge_store_close(s);
	free(url);
}

TEST(hostile_owners_and_values_are_quoted)
{
	static const char *const owners[] = {
		"ctl'; DROP TABLE store_records; --", "back\\slash\\", "quote\"s`tick",
		"new\nline \xff\xfe bytes", "%s%n"};
	const struct th_server *t = &th_servers()->target;
	char *url = fresh_store("store_quoting");
	struct barge_store *s = store_suite_open(url);
	struct barge_record r;
	struct barge_err err = {0};
	MYSQL *c = th_connect(t, "store_quoting");

	store_suite_put_new(s, "orders");
	for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++) {
		ASSERT_OK(barge_store_lease_acquire(s, "orders", owners[i], 60000, &err));
		ASSERT_OK(barge_store_get(s, "orders", &r, &err));
		ASSERT_EQ_STR(r.lease_owner, owners[i]);
		barge_record_dispose(&r);
		ASSERT_EQ_INT(barge_store_lease_acquire(s, "orders", "other", 60000, &err),
			      BARGE_ESTORE_LOCKED);
		ASSERT_OK(barge_store_lease_release(s, "orders", owners[i], &err));
	}
	ASSERT_OK(barge_store_get(s, "orders", &r, &err));
	free(r.status);
	r.status = barge_xstrdup("it's \\'; DROP TABLE store_records; -- \"x\"");
	ASSERT_OK(barge_store_put(s, &r, &err));
	barge_record_dispose(&r);
	ASSERT_OK(barge_store_get(s, "orders", &r, &err));
	ASSERT_EQ_STR(r.status, "it's \\'; DROP TABLE store_records; -- \"x\"");
	barge_record_dispose(&r);
	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(*) FROM store_records"), 1);
	mysql_close(c);
	barge_store_close(s);
	free(url);
}

TEST(password_comes_from_the_environment_and_is_never_shown)
{
	const struct th_server *t = &th_servers()->target;
	char *url = fresh_store("store_password");
	struct barge_store *s = NULL;
	struct barge_err err = {0};
	char line[256];

	/* without the variable: refused, and told where the password comes from */
	unsetenv("BARGE_STORE_PASSWORD");
	ASSERT_EQ_INT(barge_store_open(url, &s, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "BARGE_STORE_PASSWORD");
	ASSERT_CONTAINS(err.msg, "store mysql://");
	ASSERT_TRUE(s == NULL);

	/* a wrong one: refused, and the message does not repeat it */
	setenv("BARGE_STORE_PASSWORD", "Wrong-Store-Pa55word", 1);
	ASSERT_EQ_INT(barge_store_open(url, &s, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "Access denied");
	ASSERT_NOT_CONTAINS(err.msg, "Wrong-Store-Pa55word");
	ASSERT_TRUE(s == NULL);

	/* the right one: registered for redaction while the store is open, and only then */
	setenv("BARGE_STORE_PASSWORD", t->admin_password, 1);
	s = store_suite_open(url);
	snprintf(line, sizeof line, "connect with %s failed", t->admin_password);
	barge_redact(line, sizeof line);
	ASSERT_NOT_CONTAINS(line, t->admin_password);
	barge_store_close(s);
	snprintf(line, sizeof line, "connect with %s failed", t->admin_password);
	barge_redact(line, sizeof line);
	ASSERT_CONTAINS(line, t->admin_password);
	free(url);
}

TEST_MAIN()
