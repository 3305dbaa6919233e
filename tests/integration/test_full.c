/*
 * test_full.c — the full phase against real servers: every type round-trips, odd names, empty
 * and keyless tables, duplicates on the target, routes, both snapshot methods, big values,
 * kill -9 and resume, and the messages for a lost source and a wrong target password.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness.h"
#include "tests/test.h"

/* Run `barge run --once path` with the seed users' passwords; returns the exit status. */
static int run_barge(const char *path, char **out)
{
	const struct th_servers *s = th_servers();
	char e1[128], e2[128];
	const char *env[] = {e1, e2, NULL};

	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", s->target.tgt_password);
	return th_run(out, env, "'%s' run --once --progress 1 '%s'", th_barge_bin(), path);
}

static void must_run(const char *path)
{
	char *out = NULL;
	int rc = run_barge(path, &out);

	if (rc != 0)
		TEST_FAILF("barge exited %d:\n%s", rc, out);
	free(out);
}

static void drop_on_target(const char *db)
{
	MYSQL *c = th_connect(&th_servers()->target, NULL);
	char q[600];
	size_t o = 0;

	for (const char *p = db; *p && o < sizeof q - 3; p++) {
		if (*p == '`')
			q[o++] = '`';
		q[o++] = *p;
	}
	q[o] = '\0';
	th_exec(c, "DROP DATABASE IF EXISTS `%s`", q);
	mysql_close(c);
}

TEST(every_type_round_trips)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;

	th_fresh_db(&s->source, "full_types");
	drop_on_target("full_types");
	c = th_connect(&s->source, "full_types");
	th_exec(c,
		"CREATE TABLE t ("
		" id INT PRIMARY KEY,"
		" ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,"
		" mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,"
		" bi BIGINT, biu BIGINT UNSIGNED,"
		" d DECIMAL(65,30), d2 DECIMAL(10,0), f FLOAT, db DOUBLE,"
		" b1 BIT(1), b64 BIT(64), b10 BIT(10),"
		" dt DATE, dtm0 DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6),"
		" ts0 TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL,"
		" tm0 TIME, tm6 TIME(6), y YEAR,"
		" c CHAR(10), vc VARCHAR(100), tx TEXT, mb4 VARCHAR(20) CHARACTER SET utf8mb4,"
		" l1 VARCHAR(20) CHARACTER SET latin1, vb VARCHAR(20) COLLATE utf8mb4_bin,"
		" bn BINARY(8), vbn VARBINARY(20), bl BLOB, lbl LONGBLOB,"
		" e ENUM('a','b','c'), st SET('x','y','z'),"
		" j JSON, g GEOMETRY, p POINT,"
		" gen_v INT AS (i + 1) VIRTUAL, gen_s VARCHAR(30) AS (CONCAT(vc, '!')) STORED)");
	th_exec(c, "SET SESSION sql_mode = ''");
	th_exec(c,
		"INSERT INTO t (id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, d, d2, f, db, b1, b64,"
		" b10, dt, dtm0, dtm3, dtm6, ts0, ts6, tm0, tm6, y, c, vc, tx, mb4, l1, vb, bn, vbn,"
		" bl, lbl, e, st, j, g, p) VALUES"
		" (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,"
		"  -9223372036854775808, 18446744073709551615,"
		"  '-12345678901234567890123456789012345.123456789012345678901234567890',"
		"  9999999999, 1.0000001, 1.7976931348623157e308, b'1',"
		"  b'1111111111111111111111111111111111111111111111111111111111111111', b'1010101010',"
		"  '1000-01-01', '1000-01-01 00:00:00', '2024-02-29 23:59:59.999',"
		"  '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999',"
		"  '-838:59:59', '838:59:59.000000', 1901, 'abc', 'héllo wörld', 'long text\\n\\ttab',"
		"  '😀 emoji 𝄞', _latin1 X'E9E8F4FF', 'CaSe', X'0001020300FFFE00', X'00FF00',"
		"  X'0000FFFE5C5C0A0D09', X'01', 'b', 'x,z', '{\"k\": [1, 2.5, \"s\"], \"n\": null}',"
		"  ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), ST_GeomFromText('POINT(1.5 -2.25)')),"
		" (2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3.40282e38, 5e-324, b'0', b'0', b'0',"
		"  '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000',"
		"  '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', NULL, '00:00:00',"
		"  '-00:00:00.000001', 0, '', '', '', '', '', '', X'', X'', X'', X'', '', '',"
		"  '[]', NULL, NULL),"
		" (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
		"  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
		"  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
		" (4, 127, 1, 32767, 1, 8388607, 1, 2147483647, 1, 9223372036854775807, 1,"
		"  '0.000000000000000000000000000001', -9999999999, -1.17549e-38, -0.1, b'1',"
		"  b'1000000000000000000000000000000000000000000000000000000000000000', b'0000000001',"
		"  '2024-12-31', '2024-12-31 12:00:00', '2024-12-31 12:00:00.001',"
		"  '2024-12-31 12:00:00.000001', '2024-06-30 12:34:56', '2024-06-30 12:34:56.123456',"
		"  '-00:00:01', '-838:59:58.999999', 2155, 'x', 'quote'' and \\\\ backslash',"
		"  REPEAT('long', 10000), 'ℌ', 'plain', 'x', X'FF', X'5C27', REPEAT(X'00', 3000),"
		"  REPEAT(X'AB', 100000), 'c', '', '\"just a string\"', NULL, NULL)");
	mysql_close(c);
	must_run(th_write_job("full-types", "full", NULL,
			   "  objects: {allow: [{schema: full_types}]}\n"
			   "  full: {threads: 2, chunkRows: 1}\n"));
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_types", "t", &s->target, "full_types", "t"),
		      4);
}

TEST(odd_identifiers_work_everywhere)
{
	const struct th_servers *s = th_servers();
	const char *db = "we`ird db;--'\" 名";
	MYSQL *c;

	th_fresh_db(&s->source, db);
	drop_on_target(db);
	c = th_connect(&s->source, NULL);
	th_exec(c, "CREATE TABLE `we``ird db;--'\" 名`.`tab le'\"``;-- /*` ("
		   " `sel ect` INT NOT NULL, ```` VARCHAR(10), `名前` TEXT, `order` INT,"
		   " PRIMARY KEY (`sel ect`))");
	th_exec(c, "INSERT INTO `we``ird db;--'\" 名`.`tab le'\"``;-- /*` VALUES"
		   " (1, '`', 'ü', 1), (2, ';--', '/*', 2), (3, NULL, '', 3)");
	mysql_close(c);
	must_run(th_write_job("full-names", "full", NULL,
			   "  objects: {allow: [{schema: \"we`ird db;--'\\\" 名\"}]}\n"
			   "  full: {chunkRows: 1}\n"));
	ASSERT_EQ_INT(th_compare_tables(&s->source, db, "tab le'\"`;-- /*", &s->target, db,
					"tab le'\"`;-- /*"),
		      3);
}

TEST(empty_and_keyless_tables)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;

	th_fresh_db(&s->source, "full_shapes");
	drop_on_target("full_shapes");
	c = th_connect(&s->source, "full_shapes");
	th_exec(c, "CREATE TABLE empty_t (id INT PRIMARY KEY, v INT)");
	th_exec(c, "CREATE TABLE nokey (a INT, b VARCHAR(10))");
	th_exec(c, "INSERT INTO nokey SELECT seq %% 3, 'same' FROM seq_1_to_2500");
	th_exec(c, "CREATE TABLE uniq (u VARCHAR(20) NOT NULL, v INT, UNIQUE KEY (u))");
	th_exec(c, "INSERT INTO uniq SELECT CONCAT('k', seq), seq FROM seq_1_to_700");
	th_exec(c, "CREATE TABLE nullable_uniq (u INT NULL, UNIQUE KEY (u))");
	th_exec(c, "INSERT INTO nullable_uniq VALUES (NULL), (NULL), (1)");
	mysql_close(c);
	must_run(th_write_job("full-shapes", "full", NULL,
			   "  objects: {allow: [{schema: full_shapes}]}\n"
			   "  full: {threads: 3, chunkRows: 100}\n"));
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_shapes", "empty_t", &s->target,
					"full_shapes", "empty_t"),
		      0);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_shapes", "nokey", &s->target,
					"full_shapes", "nokey"),
		      2500);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_shapes", "uniq", &s->target,
					"full_shapes", "uniq"),
		      700);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_shapes", "nullable_uniq", &s->target,
					"full_shapes", "nullable_uniq"),
		      3);
}

/* Prepare a source table and a target table holding conflicting rows. */
static void conflict_setup(const char *db)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;

	th_fresh_db(&s->source, db);
	th_fresh_db(&s->target, db);
	c = th_connect(&s->source, db);
	th_exec(c, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))");
	th_exec(c, "INSERT INTO t VALUES (1, 'src1'), (2, 'src2'), (3, 'src3')");
	mysql_close(c);
	c = th_connect(&s->target, db);
	th_exec(c, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))");
	th_exec(c, "INSERT INTO t VALUES (2, 'old2'), (9, 'keep9')");
	mysql_close(c);
}

TEST(existing_rows_are_replaced_by_default)
{
	MYSQL *c;
	char *v;

	conflict_setup("full_dup_replace");
	must_run(th_write_job("full-dup-replace", "full", NULL,
			   "  objects: {allow: [{schema: full_dup_replace}]}\n"));
	c = th_connect(&th_servers()->target, "full_dup_replace");
	v = th_query_value(c, "SELECT v FROM t WHERE id = 2");
	ASSERT_EQ_STR(v, "src2");
	free(v);
	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(*) FROM t"), 4);
	mysql_close(c);
}

TEST(existing_rows_are_kept_with_ignore)
{
	MYSQL *c;
	char *v;

	conflict_setup("full_dup_ignore");
	must_run(th_write_job("full-dup-ignore", "full", NULL,
			   "  objects: {allow: [{schema: full_dup_ignore}]}\n"
			   "  full: {onDuplicate: ignore}\n"));
	c = th_connect(&th_servers()->target, "full_dup_ignore");
	v = th_query_value(c, "SELECT v FROM t WHERE id = 2");
	ASSERT_EQ_STR(v, "old2");
	free(v);
	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(*) FROM t"), 4);
	mysql_close(c);
}

TEST(existing_rows_stop_the_job_with_error)
{
	MYSQL *c;
	char *out = NULL;

	conflict_setup("full_dup_error");
	ASSERT_EQ_INT(run_barge(th_write_job("full-dup-error", "full", NULL,
					  "  objects: {allow: [{schema: full_dup_error}]}\n"
					  "  full: {onDuplicate: error}\n"),
				&out),
		      1);
	ASSERT_CONTAINS(out, "already exist in the target with the same key (onDuplicate: error)");
	ASSERT_CONTAINS(out, "what to do: Make sure the source data is right");
	free(out);
	c = th_connect(&th_servers()->target, "full_dup_error");
	/* nothing of the failed chunk was committed */
	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(*) FROM t"), 2);
	mysql_close(c);
}

TEST(routes_rename_and_merge_shards)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;

	th_fresh_db(&s->source, "full_shard_1");
	th_fresh_db(&s->source, "full_shard_2");
	drop_on_target("full_merged");
	c = th_connect(&s->source, "full_shard_1");
	th_exec(c, "CREATE TABLE full_shard_1.orders_1 (id INT PRIMARY KEY, v INT)");
	th_exec(c, "CREATE TABLE full_shard_2.orders_2 (id INT PRIMARY KEY, v INT)");
	th_exec(c, "INSERT INTO full_shard_1.orders_1 SELECT seq, seq FROM seq_1_to_500");
	th_exec(c, "INSERT INTO full_shard_2.orders_2 SELECT seq, seq FROM seq_501_to_900");
	mysql_close(c);
	must_run(th_write_job("full-shards", "full", NULL,
			   "  objects: {allow: [{schema: \"~^full_shard_[0-9]+$\"}]}\n"
			   "  routes:\n"
			   "    - from: {schema: \"~^full_shard_[0-9]+$\", table: \"~^orders_\"}\n"
			   "      to: {schema: full_merged, table: orders}\n"
			   "  full: {threads: 2, chunkRows: 64}\n"));
	c = th_connect(&s->target, "full_merged");
	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(*) FROM orders"), 900);
	ASSERT_EQ_INT(th_query_int(c, "SELECT SUM(v) FROM orders"), 900 * 901 / 2);
	mysql_close(c);
}

TEST(snapshot_by_flush_or_lock_tables)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;
	char *out = NULL;
	char e1[128], e2[128];
	const char *env[] = {e1, e2, NULL};

	th_fresh_db(&s->source, "full_snap");
	drop_on_target("full_snap");
	c = th_connect(&s->source, "full_snap");
	th_exec(c, "CREATE TABLE t (id INT PRIMARY KEY)");
	th_exec(c, "INSERT INTO t SELECT seq FROM seq_1_to_100");
	mysql_close(c);
	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", s->target.tgt_password);
	/* the seed's grants have no RELOAD: LOCK TABLES it is */
	ASSERT_EQ_INT(th_run(&out, env, "'%s' run --once '%s'", th_barge_bin(),
			     th_write_job("full-snap-lock", "full", NULL,
				       "  objects: {allow: [{schema: full_snap}]}\n")),
		      0);
	ASSERT_CONTAINS(out, "snapshot taken by lock-tables at mysql-bin.");
	ASSERT_CONTAINS(out, "writes were blocked for");
	free(out);
	drop_on_target("full_snap");
	ASSERT_EQ_INT(th_run(&out, env, "'%s' run --once '%s'", th_barge_bin(),
			     th_write_job("full-snap-flush", "full", s->source.src_reload_user,
				       "  objects: {allow: [{schema: full_snap}]}\n")),
		      0);
	ASSERT_CONTAINS(out, "snapshot taken by flush at mysql-bin.");
	free(out);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_snap", "t", &s->target, "full_snap", "t"),
		      100);
	c = th_connect(&s->target, NULL);
	out = th_query_value(c, "SELECT snapshot_method FROM barge_meta.jobs WHERE job = "
				"'full-snap-flush'");
	ASSERT_EQ_STR(out, "flush");
	free(out);
	mysql_close(c);
}

TEST(a_16_mib_value_is_copied)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;

	th_fresh_db(&s->source, "full_big");
	drop_on_target("full_big");
	c = th_connect(&s->source, "full_big");
	th_exec(c, "CREATE TABLE t (id INT PRIMARY KEY, b LONGBLOB)");
	th_exec(c, "INSERT INTO t VALUES (1, REPEAT(X'00FF5C0A09', 3355444)), (2, 'small')");
	mysql_close(c);
	must_run(th_write_job("full-big", "full", NULL, "  objects: {allow: [{schema: full_big}]}\n"));
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_big", "t", &s->target, "full_big", "t"), 2);
}

TEST(kill_9_at_any_moment_then_resume_ends_identical)
{
	const struct th_servers *s = th_servers();
	const char *path;
	MYSQL *c;
	int kills = 0, finished = 0;
	char e1[128], e2[128];

	th_fresh_db(&s->source, "full_kill");
	drop_on_target("full_kill");
	c = th_connect(&s->source, "full_kill");
	th_exec(c, "CREATE TABLE keyed (id INT PRIMARY KEY, v VARCHAR(40), pad CHAR(100))");
	th_exec(c, "INSERT INTO keyed SELECT seq, MD5(seq), 'p' FROM seq_1_to_60000");
	th_exec(c, "CREATE TABLE comp (a VARCHAR(10) NOT NULL, b INT NOT NULL, PRIMARY KEY (a, b))");
	th_exec(c, "INSERT INTO comp SELECT CONCAT('k', seq %% 97), seq FROM seq_1_to_30000");
	th_exec(c, "CREATE TABLE nokey (a INT, b VARCHAR(10))");
	th_exec(c, "INSERT INTO nokey SELECT seq %% 5, 'x' FROM seq_1_to_30000");
	mysql_close(c);
	path = th_write_job("full-kill", "full", NULL,
			 "  objects: {allow: [{schema: full_kill}]}\n"
			 "  full: {threads: 2, chunkRows: 2000}\n");
	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", s->target.tgt_password);
	srand((unsigned)time(NULL));
	/* kill at growing delays until a run gets to the end by itself */
	for (int attempt = 0; attempt < 40 && !finished; attempt++) {
		const char *args[] = {"run", "--once", "--log-level", "warn", path, NULL};
		const char *env[] = {e1, e2, NULL};
		pid_t pid = th_start_barge("/dev/null", env, args);
		int status = 0;

		usleep((useconds_t)(30000 + attempt * 15000 + rand() % 20000));
		if (waitpid(pid, &status, WNOHANG) == pid) {
			ASSERT_TRUE(WIFEXITED(status));
			ASSERT_EQ_INT(WEXITSTATUS(status), 0);
			finished = 1;
			break;
		}
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		kills++;
	}
	fprintf(stderr, "  killed %d times before a run finished\n", kills);
	ASSERT_TRUE(kills >= 1);
	if (!finished)
		must_run(path);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_kill", "keyed", &s->target, "full_kill",
					"keyed"),
		      60000);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_kill", "comp", &s->target, "full_kill",
					"comp"),
		      30000);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "full_kill", "nokey", &s->target, "full_kill",
					"nokey"),
		      30000);
	c = th_connect(&s->target, NULL);
	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(*) FROM barge_meta.tables WHERE job = "
				      "'full-kill' AND done = 1"),
		      3);
	mysql_close(c);
}

TEST(unreachable_source_names_the_seed_message)
{
	const struct th_servers *s = th_servers();
	char path[1024];
	char *out = NULL;
	FILE *f;
	const char *env[] = {"BARGE_T_SRC=Sekr1t-src-pw", "BARGE_T_TGT=whatever-pw", NULL};

	snprintf(path, sizeof path, "%s/unreachable.yaml", th_tmpdir());
	f = fopen(path, "w");
	fprintf(f, "apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: unreachable}\n"
		   "spec:\n  mode: full\n"
		   "  source: {host: 127.0.0.1, port: 1, user: u, password: \"${env:BARGE_T_SRC}\"}\n"
		   "  target: {host: 127.0.0.1, port: %u, user: u, password: \"${env:BARGE_T_TGT}\"}\n",
		s->target.port);
	fclose(f);
	ASSERT_EQ_INT(th_run(&out, env, "'%s' run --once '%s'", th_barge_bin(), path), 1);
	ASSERT_CONTAINS(out, "Failed to connect to the source database using given parameters. "
			     "Please make sure the source database is up and can be connected using "
			     "the given parameters.");
	ASSERT_CONTAINS(out, "Can't connect");
	ASSERT_CONTAINS(out, "source 127.0.0.1:1");
	ASSERT_NOT_CONTAINS(out, "Sekr1t-src-pw");
	free(out);
}

TEST(wrong_target_password_names_the_seed_message)
{
	const struct th_servers *s = th_servers();
	char path[1024];
	char *out = NULL;
	FILE *f;
	char e1[128];
	const char *env[] = {e1, "BARGE_T_TGT=Wr0ng-target-pw", NULL};

	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(path, sizeof path, "%s/badpw.yaml", th_tmpdir());
	f = fopen(path, "w");
	fprintf(f, "apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: badpw}\n"
		   "spec:\n  mode: full\n"
		   "  source: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_SRC}\"}\n"
		   "  target: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_TGT}\"}\n",
		s->source.port, s->source.src_user, s->target.port, s->target.tgt_user);
	fclose(f);
	ASSERT_EQ_INT(th_run(&out, env, "'%s' run --once '%s'", th_barge_bin(), path), 1);
	ASSERT_CONTAINS(out, "Failed to connect to the TiDB cluster using the given user and "
			     "password. Please make sure TiDB Cluster is up and can be connected to "
			     "using the given user and password.");
	ASSERT_CONTAINS(out, "Access denied for user 'barge_tgt'");
	ASSERT_NOT_CONTAINS(out, "Wr0ng-target-pw");
	ASSERT_NOT_CONTAINS(out, s->source.src_password);
	free(out);
}

TEST_MAIN()
