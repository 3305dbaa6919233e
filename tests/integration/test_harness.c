/*
 * test_harness.c — the integration harness itself: both servers answer, the source writes a
 * ROW/FULL binlog, and the users have exactly the privileges the seed document lists.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/integration/harness.h"
#include "tests/test.h"

TEST(source_has_row_binlog_with_full_image)
{
	const struct th_servers *s = th_servers();
	MYSQL *c = th_connect(&s->source, NULL);
	char *v;

	ASSERT_EQ_INT(th_query_int(c, "SELECT @@log_bin"), 1);
	v = th_query_value(c, "SELECT @@binlog_format");
	ASSERT_EQ_STR(v, "ROW");
	free(v);
	v = th_query_value(c, "SELECT @@binlog_row_image");
	ASSERT_EQ_STR(v, "FULL");
	free(v);
	ASSERT_TRUE(th_query_int(c, "SELECT @@server_id") > 0);
	mysql_close(c);
}

TEST(target_answers_and_differs_from_source)
{
	const struct th_servers *s = th_servers();
	MYSQL *src = th_connect(&s->source, NULL), *tgt = th_connect(&s->target, NULL);

	ASSERT_NE_INT(s->source.port, s->target.port);
	ASSERT_NE_INT(th_query_int(src, "SELECT @@server_id"), th_query_int(tgt, "SELECT @@server_id"));
	ASSERT_EQ_INT(th_query_int(tgt, "SELECT @@log_bin"), 0);
	mysql_close(src);
	mysql_close(tgt);
}

TEST(seed_users_have_the_listed_privileges)
{
	const struct th_servers *s = th_servers();
	char err[512];
	MYSQL *c = th_try_connect(&s->source, s->source.src_user, s->source.src_password, NULL,
				  err, sizeof err);
	char *grants;

	ASSERT_TRUE(c != NULL);
	grants = th_query_value(c, "SHOW GRANTS");
	ASSERT_CONTAINS(grants, "SELECT");
	ASSERT_CONTAINS(grants, "LOCK TABLES");
	ASSERT_CONTAINS(grants, "REPLICATION SLAVE");
	ASSERT_NOT_CONTAINS(grants, "RELOAD");
	free(grants);
	mysql_close(c);

	c = th_try_connect(&s->target, s->target.tgt_user, s->target.tgt_password, NULL, err,
			   sizeof err);
	ASSERT_TRUE(c != NULL);
	grants = th_query_value(c, "SHOW GRANTS");
	ASSERT_CONTAINS(grants, "CREATE");
	ASSERT_CONTAINS(grants, "ALTER");
	ASSERT_CONTAINS(grants, "INDEX");
	ASSERT_NOT_CONTAINS(grants, "SUPER");
	free(grants);
	mysql_close(c);
}

TEST(wrong_password_is_refused)
{
	const struct th_servers *s = th_servers();
	char err[512];
	MYSQL *c = th_try_connect(&s->target, s->target.tgt_user, "wrong-password", NULL, err,
				  sizeof err);

	ASSERT_TRUE(c == NULL);
	ASSERT_CONTAINS(err, "Access denied");
}

TEST(rows_written_on_source_reach_its_binlog)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;
	char *before, *after;

	th_fresh_db(&s->source, "harness_binlog");
	c = th_connect(&s->source, "harness_binlog");
	th_exec(c, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))");
	before = th_query_value(c, "SELECT @@gtid_binlog_pos");
	th_exec(c, "INSERT INTO t VALUES (1, 'a'), (2, NULL)");
	after = th_query_value(c, "SELECT @@gtid_binlog_pos");
	ASSERT_TRUE(strcmp(before, after) != 0);
	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(*) FROM t"), 2);
	free(before);
	free(after);
	mysql_close(c);
}

TEST(compare_tables_counts_equal_rows)
{
	const struct th_servers *s = th_servers();
	MYSQL *a, *b;

	th_fresh_db(&s->source, "harness_cmp");
	th_fresh_db(&s->target, "harness_cmp");
	a = th_connect(&s->source, "harness_cmp");
	b = th_connect(&s->target, "harness_cmp");
	th_exec(a, "CREATE TABLE t (id INT PRIMARY KEY, v VARBINARY(10))");
	th_exec(b, "CREATE TABLE t (id INT PRIMARY KEY, v VARBINARY(10))");
	th_exec(a, "INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, '')");
	th_exec(b, "INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, '')");
	ASSERT_EQ_INT(th_compare_tables(&s->source, "harness_cmp", "t", &s->target, "harness_cmp",
					"t"),
		      3);
	mysql_close(a);
	mysql_close(b);
}

TEST_MAIN()
