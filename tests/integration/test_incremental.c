/*
 * test_incremental.c — the incremental phase against real servers: changes of every kind and
 * type follow the full phase without a gap or a double; kill -9 under writes; DDL in the
 * stream; shards merged by routes; filters; a duplicate key stops the job and a restart
 * replaces; a lost target is waited for; a purged binlog gets the seed's message.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/binlog_io.h"
#include "engine/db.h"
#include "engine/jobset.h"
#include "tests/integration/harness.h"
#include "tests/test.h"

/* A log file's text ("" while it does not exist). */
static char *slurp(const char *path)
{
	char *text = test_read_file(path, NULL);

	return text ? text : strdup("");
}

/* Start `barge run --progress 1 [EXTRA...] PATH` in the background, its output appended to
 * LOG.  extra is NULL-terminated, or NULL. */
static pid_t start_barge(const char *path, const char *log, const char *const *extra)
{
	const struct th_servers *s = th_servers();
	static char e1[128], e2[128];
	const char *args[16] = {"run", "--progress", "1"}, *env[] = {e1, e2, NULL};
	size_t n = 3;

	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", s->target.tgt_password);
	for (; extra && *extra && n < 14; extra++)
		args[n++] = *extra;
	args[n++] = path;
	args[n] = NULL;
	return th_start_barge(log, env, args);
}

/* Wait up to 30 s for barge to end by itself (what: why it should); its exit status. */
static int wait_exit(pid_t pid, const char *log, const char *what)
{
	int status = 0;

	for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) != pid; i++)
		usleep(100000);
	if (kill(pid, 0) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		TEST_FAILF("barge did not stop on %s:\n%s", what, slurp(log));
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* SIGTERM and wait: the exit status. */
static int stop_barge(pid_t pid)
{
	int status = 0;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void kill_barge(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}


/* How many times needle occurs in the file at path. */
static size_t count_in_log(const char *path, const char *needle)
{
	char *text = slurp(path);
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

static void log_path(char *out, size_t n, const char *job)
{
	snprintf(out, n, "%s/%s.log", th_tmpdir(), job);
}

/* Wait until the job's incremental phase is under way (its run flag set in the target). */
static void wait_syncing(const char *job, pid_t pid, const char *log)
{
	MYSQL *c = th_connect(&th_servers()->target, NULL);

	for (int i = 0; i < 600; i++) {
		int status;
		char *v;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			char *text = slurp(log);

			TEST_FAILF("barge exited before syncing:\n%s", text);
		}
		v = th_query_value(c, "SELECT IF(COUNT(*) > 0, 'yes', 'no') FROM information_schema."
				      "TABLES WHERE TABLE_SCHEMA = 'barge_meta' AND TABLE_NAME = 'jobs'");
		if (v && !strcmp(v, "yes")) {
			free(v);
			v = th_query_value(c, "SELECT running FROM barge_meta.jobs WHERE job = '%s'",
					   job);
			if (v && !strcmp(v, "1")) {
				free(v);
				/* the stream is open once the log says so */
				for (int k = 0; k < 100; k++) {
					char *text = slurp(log);
					bool open = strstr(text, "following the binlog") != NULL;

					free(text);
					if (open)
						break;
					usleep(50000);
				}
				mysql_close(c);
				return;
			}
		}
		free(v);
		usleep(100000);
	}
	TEST_FAILF("job %s did not start syncing within 60 s", job);
}

/* Wait until source and target tables have the same checksum (up to 90 s). */
static void wait_same(const char *sdb, const char *tdb, const char *const *tables)
{
	const struct th_servers *s = th_servers();
	/* the target's database may not exist yet: names are qualified, errors mean "not yet" */
	MYSQL *a = th_connect(&s->source, NULL), *b = th_connect(&s->target, NULL);

	for (int i = 0; i < 900; i++) {
		bool same = true;

		for (const char *const *t = tables; *t && same; t++) {
			MYSQL_RES *r1, *r2;
			MYSQL_ROW x, y;
			char q[300];

			snprintf(q, sizeof q, "CHECKSUM TABLE `%s`.`%s`", sdb, *t);
			if (mysql_query(a, q) || !(r1 = mysql_store_result(a)))
				TEST_FAILF("source: %s", mysql_error(a));
			snprintf(q, sizeof q, "CHECKSUM TABLE `%s`.`%s`", tdb, *t);
			if (mysql_query(b, q) || !(r2 = mysql_store_result(b))) {
				mysql_free_result(r1);
				same = false;
				break;
			}
			x = mysql_fetch_row(r1);
			y = mysql_fetch_row(r2);
			same = x && y && x[1] && y[1] && !strcmp(x[1], y[1]);
			mysql_free_result(r1);
			mysql_free_result(r2);
		}
		if (same) {
			mysql_close(a);
			mysql_close(b);
			return;
		}
		usleep(100000);
	}
	TEST_FAILF("the target did not catch up with the source within 90 s (%s)", tables[0]);
}

static void drop_on_target(const char *db)
{
	MYSQL *c = th_connect(&th_servers()->target, NULL);

	th_exec(c, "DROP DATABASE IF EXISTS `%s`", db);
	mysql_close(c);
}

static const char *const all_types_ddl =
	"CREATE TABLE t (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, "
	"su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, "
	"de DECIMAL(65,30), d2 DECIMAL(10,2), fl FLOAT, db DOUBLE, b1 BIT(1), b64 BIT(64), "
	"dt DATE, tm TIME(6), tn TIME, dtt DATETIME(6), ts TIMESTAMP(3) NULL, yr YEAR, "
	"c CHAR(10), vc VARCHAR(100), tx TEXT, lt VARCHAR(20) CHARACTER SET latin1, "
	"bn BINARY(4), vb VARBINARY(20), bl BLOB, en ENUM('a','b','c'), st SET('x','y','z'), "
	"js JSON, g GEOMETRY, n1 INT NULL, gen INT AS (id * 2) VIRTUAL)";

TEST(changes_of_every_kind_follow_the_full_phase)
{
	const struct th_servers *s = th_servers();
	const char *tables[] = {"t", "comp", "nokey", NULL};
	char log[512];
	const char *path;
	MYSQL *c;
	pid_t pid;
	int rc;

	log_path(log, sizeof log, "inc-basic");
	th_fresh_db(&s->source, "inc_basic");
	drop_on_target("inc_basic");
	c = th_connect(&s->source, "inc_basic");
	th_exec(c, "SET NAMES binary");
	th_exec(c, "%s", all_types_ddl);
	for (int i = 1; i <= 20; i++)
		th_exec(c, "INSERT INTO t (id, ti, tu, si, su, mi, mu, bi, bu, de, d2, fl, db, b1, b64, "
			   "dt, tm, tn, dtt, ts, yr, c, vc, tx, lt, bn, vb, bl, en, st, js, g, n1) "
			   "VALUES (%d, -128, 255, -32768, 65535, -8388608, 16777215, "
			   "-9223372036854775807, 18446744073709551615, "
			   "'-12345678901234567890123456789012345.123456789012345678901234567891', "
			   "-0.01, 1.5e-3, -2.2250738585072014e-308, b'1', "
			   "b'1010101010101010101010101010101010101010101010101010101010101010', "
			   "'0000-00-00', '-838:59:59.000000', '12:34:56', "
			   "'2038-01-19 03:14:07.999999', '1970-01-01 00:00:01.001', 2155, 'ab', "
			   "'h\xe2\x82\xacllo \xf0\x9f\x98\x80', REPEAT('t', 5000), 'caf\xe9', "
			   "X'00FF0001', X'00', X'DEADBEEF00', 'c', 'x,z', "
			   "'{\"a\": [1, 2.5, null, \"s\"]}', ST_GeomFromText('POINT(1 2)'), NULL)",
			i);
	th_exec(c, "CREATE TABLE comp (a VARCHAR(20) NOT NULL, b INT NOT NULL, v INT, "
		   "PRIMARY KEY (a, b))");
	th_exec(c, "INSERT INTO comp SELECT CONCAT('k', seq %% 7), seq, seq FROM seq_1_to_200");
	th_exec(c, "CREATE TABLE nokey (a INT, b VARCHAR(10))");
	th_exec(c, "INSERT INTO nokey SELECT seq %% 3, 'x' FROM seq_1_to_30");
	path = th_write_job("inc-basic", "all", NULL,
			 "  objects: {allow: [{schema: inc_basic}]}\n"
			 "  incremental: {workers: 4, batch: 50}\n");
	pid = start_barge(path, log, NULL);
	wait_syncing("inc-basic", pid, log);

	/* inserts, updates (values, NULLs, keys), deletes, on every type */
	for (int i = 21; i <= 60; i++)
		th_exec(c, "INSERT INTO t (id, ti, tu, si, su, mi, mu, bi, bu, de, d2, fl, db, b1, "
			   "b64, dt, tm, tn, dtt, ts, yr, c, vc, tx, lt, bn, vb, bl, en, st, js, g, n1) "
			   "SELECT %d, ti, tu, si, su, mi, mu, bi, bu, de, d2, fl, db, "
			   "b1, b64, dt, tm, tn, dtt, ts, yr, c, vc, tx, lt, bn, vb, bl, en, st, js, "
			   "g, n1 FROM t WHERE id = 1", i);
	th_exec(c, "UPDATE t SET ti = 127, tu = 0, bu = 0, de = 0.5, fl = -1.25, db = 1e300, "
		   "b1 = b'0', dt = '2024-02-29', tm = '00:00:00.5', ts = NULL, vc = '', tx = NULL, "
		   "bn = X'01020304', en = 'a', st = '', js = '[]', n1 = 7 WHERE id %% 3 = 0");
	/* a value of its own per row: the rows of one statement are joined into one UPDATE by
	 * CASE, which must give each row its own */
	th_exec(c, "UPDATE t SET b64 = b'1' << (id %% 64), bi = -id, mu = id, "
		   "dtt = '2001-02-03 04:05:06.000007' + INTERVAL id SECOND, yr = 1901 + id, "
		   "tn = SEC_TO_TIME(id), lt = CONCAT('\xe9', id), vb = UNHEX(HEX(id)), "
		   "bl = REPEAT(CHAR(id), id), g = POINT(id, -id), c = CONCAT('c', id), "
		   "d2 = id / 4, su = id * 7 WHERE id %% 2 = 1");
	th_exec(c, "UPDATE t SET id = id + 1000 WHERE id BETWEEN 40 AND 45");
	th_exec(c, "DELETE FROM t WHERE id %% 5 = 0");
	th_exec(c, "UPDATE comp SET v = v * 2 WHERE b %% 2 = 0");
	th_exec(c, "UPDATE comp SET a = CONCAT(a, '-moved') WHERE b %% 10 = 1");
	th_exec(c, "DELETE FROM comp WHERE b > 180");
	th_exec(c, "BEGIN");
	th_exec(c, "INSERT INTO comp VALUES ('txn', 1, 1), ('txn', 2, 2)");
	th_exec(c, "UPDATE comp SET v = 100 WHERE a = 'txn' AND b = 1");
	th_exec(c, "DELETE FROM comp WHERE a = 'txn' AND b = 2");
	th_exec(c, "COMMIT");
	th_exec(c, "INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (NULL, NULL)");
	th_exec(c, "DELETE FROM nokey WHERE a = 2 LIMIT 1");
	th_exec(c, "UPDATE nokey SET b = 'y' WHERE a = 0 LIMIT 2");
	mysql_close(c);

	wait_same("inc_basic", "inc_basic", tables);
	rc = stop_barge(pid);
	{
		char *text = slurp(log);

		if (rc != 0)
			TEST_FAILF("barge exited %d:\n%s", rc, text);
		ASSERT_TRUE(strstr(text, "stopped cleanly") != NULL);
		free(text);
	}
	ASSERT_EQ_INT(th_compare_tables(&s->source, "inc_basic", "t", &s->target, "inc_basic", "t"),
		      48);
	ASSERT_TRUE(th_compare_tables(&s->source, "inc_basic", "comp", &s->target, "inc_basic",
				      "comp") > 150);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "inc_basic", "nokey", &s->target, "inc_basic",
					"nokey"),
		      32);
	c = th_connect(&s->target, NULL);
	/* a clean stop: every worker at the same position, no run under way, no safe mode */
	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(DISTINCT binlog_file, binlog_pos) FROM "
				      "barge_meta.positions WHERE job = 'inc-basic'"),
		      1);
	ASSERT_EQ_INT(th_query_int(c, "SELECT COUNT(*) FROM barge_meta.positions WHERE job = "
				      "'inc-basic'"),
		      4);
	ASSERT_EQ_INT(th_query_int(c, "SELECT running + (safe_exit_file IS NOT NULL) FROM "
				      "barge_meta.jobs WHERE job = 'inc-basic'"),
		      0);
	mysql_close(c);
}

/* ---- a workload that keeps writing while barge is killed ---- */

struct workload {
	const char *db;
	atomic_bool stop;
	long ops;
	pthread_t thread;
};

static void *workload_main(void *arg)
{
	struct workload *w = arg;
	MYSQL *c = th_connect(&th_servers()->source, w->db);
	unsigned seed = 12345;

	while (!atomic_load(&w->stop)) {
		int k = (int)(rand_r(&seed) % 2000), op = (int)(rand_r(&seed) % 10);

		if (op < 4)
			th_exec(c, "INSERT INTO keyed VALUES (%d, %d, 'i') ON DUPLICATE KEY UPDATE "
				   "v = v + 1", k, k);
		else if (op < 6)
			th_exec(c, "UPDATE keyed SET v = v + 7, s = 'u' WHERE id = %d", k);
		else if (op < 7)
			th_exec(c, "DELETE FROM keyed WHERE id = %d", k);
		else if (op < 8)
			th_exec(c, "UPDATE keyed SET id = %d WHERE id = %d AND NOT EXISTS "
				   "(SELECT 1 FROM (SELECT id FROM keyed WHERE id = %d) x)",
				k + 2000, k, k + 2000);
		else if (op < 9)
			th_exec(c, "INSERT INTO nokey VALUES (%d, 'w')", k % 50);
		else {
			th_exec(c, "BEGIN");
			th_exec(c, "INSERT INTO keyed VALUES (%d, 0, 't') ON DUPLICATE KEY UPDATE "
				   "v = v - 1", k + 5000);
			th_exec(c, "DELETE FROM nokey WHERE a = %d LIMIT 1", k % 50);
			th_exec(c, "COMMIT");
		}
		w->ops++;
	}
	mysql_close(c);
	return NULL;
}

TEST(kill_9_under_writes_loses_and_doubles_nothing)
{
	const struct th_servers *s = th_servers();
	const char *tables[] = {"keyed", "nokey", NULL};
	struct workload wl = {.db = "inc_kill"};
	char log[512];
	const char *path;
	MYSQL *c;
	pid_t pid;
	int kills = 0;

	log_path(log, sizeof log, "inc-kill");
	th_fresh_db(&s->source, "inc_kill");
	drop_on_target("inc_kill");
	c = th_connect(&s->source, "inc_kill");
	th_exec(c, "CREATE TABLE keyed (id INT PRIMARY KEY, v INT, s CHAR(1))");
	th_exec(c, "INSERT INTO keyed SELECT seq, seq, 'f' FROM seq_1_to_20000");
	th_exec(c, "CREATE TABLE nokey (a INT, b VARCHAR(10))");
	th_exec(c, "INSERT INTO nokey SELECT seq %% 50, 'f' FROM seq_1_to_2000");
	mysql_close(c);
	path = th_write_job("inc-kill", "all", NULL,
			 "  objects: {allow: [{schema: inc_kill}]}\n"
			 "  full: {threads: 2, chunkRows: 3000}\n"
			 "  incremental: {workers: 3, batch: 20}\n");
	atomic_store(&wl.stop, false);
	pthread_create(&wl.thread, NULL, workload_main, &wl);
	srand((unsigned)time(NULL));
	for (int round = 0; round < 12; round++) {
		size_t streams = count_in_log(log, "following the binlog");

		pid = start_barge(path, log, NULL);
		/* the last rounds kill it while it follows the binlog, however slow it starts */
		for (int i = 0; round >= 9 && i < 600 &&
				count_in_log(log, "following the binlog") == streams; i++)
			usleep(100000);
		usleep((useconds_t)(200000 + rand() % 900000));
		kill_barge(pid);
		kills++;
	}
	atomic_store(&wl.stop, true);
	pthread_join(wl.thread, NULL);
	fprintf(stderr, "  %d kills under %ld source writes\n", kills, wl.ops);
	pid = start_barge(path, log, NULL);
	wait_syncing("inc-kill", pid, log);
	wait_same("inc_kill", "inc_kill", tables);
	ASSERT_EQ_INT(stop_barge(pid), 0);
	ASSERT_TRUE(th_compare_tables(&s->source, "inc_kill", "keyed", &s->target, "inc_kill",
				      "keyed") > 15000);
	/* rows without keys: neither lost nor doubled */
	ASSERT_TRUE(th_compare_tables(&s->source, "inc_kill", "nokey", &s->target, "inc_kill",
				      "nokey") > 1000);
	{
		char *text = slurp(log);

		/* at least one run found the previous one had stopped abruptly */
		ASSERT_TRUE(strstr(text, "did not stop cleanly: safe mode until") != NULL);
		free(text);
	}
}

/*
 * Transactions that share rows but go to different workers (each goes by its first row's key)
 * keep their order: sixteen rows, each transaction writes the row it is routed by, a second
 * one, swaps their unique values (through NULL) and now and then deletes and inserts one again.
 * A transaction applied before an earlier one that touched the same row would leave the older
 * value, or fail on the unique key.  The workers also join each batch into multi-row statements
 * (engine/merge.c), which must keep the same order.
 */
TEST(transactions_sharing_rows_across_workers_keep_their_order)
{
	const struct th_servers *s = th_servers();
	const char *tables[] = {"h", NULL};
	char log[512];
	const char *path;
	MYSQL *c;
	pid_t pid;

	log_path(log, sizeof log, "inc-order");
	th_fresh_db(&s->source, "inc_order");
	drop_on_target("inc_order");
	/* a run before this one (ctest --repeat) would be resumed, with its own transactions */
	th_forget_job(&s->target, "inc-order");
	c = th_connect(&s->source, "inc_order");
	th_exec(c, "CREATE TABLE h (id INT PRIMARY KEY, u INT UNIQUE, v INT)");
	th_exec(c, "INSERT INTO h SELECT seq, seq, 0 FROM seq_1_to_16");
	th_exec(c, "CREATE PROCEDURE churn(n INT) BEGIN "
		   "DECLARE i INT DEFAULT 0; DECLARE a, b, ua, ub INT; "
		   "WHILE i < n DO "
		   "  SET a = 1 + FLOOR(RAND() * 16), b = 1 + FLOOR(RAND() * 16); "
		   "  START TRANSACTION; "
		   "  UPDATE h SET v = i WHERE id = a; "
		   "  IF a <> b THEN "
		   "    SELECT u INTO ua FROM h WHERE id = a; SELECT u INTO ub FROM h WHERE id = b; "
		   "    UPDATE h SET u = NULL WHERE id = a; UPDATE h SET u = ua WHERE id = b; "
		   "    UPDATE h SET u = ub WHERE id = a; "
		   "  END IF; "
		   "  UPDATE h SET v = (v * 3 + i) MOD 1000003 WHERE id = b; "
		   "  IF i %% 7 = 0 THEN "
		   "    SELECT u INTO ua FROM h WHERE id = b; "
		   "    DELETE FROM h WHERE id = b; INSERT INTO h VALUES (b, ua, i); "
		   "  END IF; "
		   "  COMMIT; "
		   "  SET i = i + 1; "
		   "END WHILE; END");
	path = th_write_job("inc-order", "all", NULL,
			 "  objects: {allow: [{schema: inc_order}]}\n"
			 "  incremental: {workers: 8, batch: 12}\n");
	pid = start_barge(path, log, NULL);
	wait_syncing("inc-order", pid, log);
	th_exec(c, "CALL churn(4000)");
	wait_same("inc_order", "inc_order", tables);
	ASSERT_EQ_INT(stop_barge(pid), 0);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "inc_order", "h", &s->target, "inc_order", "h"),
		      16);
	{
		char *text = slurp(log);

		/* every transaction went through the workers */
		ASSERT_CONTAINS(text, "this run applied 4000 transactions");
		free(text);
	}
	mysql_close(c);
}

TEST(ddl_in_the_stream_is_applied_in_order)
{
	const struct th_servers *s = th_servers();
	const char *tables[] = {"a", "later", "renamed", NULL};
	char log[512];
	const char *path;
	MYSQL *c, *t;
	pid_t pid;

	log_path(log, sizeof log, "inc-ddl");
	th_fresh_db(&s->source, "inc_ddl");
	drop_on_target("inc_ddl");
	drop_on_target("inc_ddl_new");
	c = th_connect(&s->source, "inc_ddl");
	th_exec(c, "DROP DATABASE IF EXISTS inc_ddl_new");
	th_exec(c, "CREATE TABLE a (id INT PRIMARY KEY, v INT)");
	th_exec(c, "INSERT INTO a VALUES (1, 1), (2, 2)");
	th_exec(c, "CREATE TABLE gone (id INT PRIMARY KEY)");
	th_exec(c, "CREATE TABLE trunc (id INT PRIMARY KEY)");
	th_exec(c, "INSERT INTO trunc VALUES (1), (2)");
	path = th_write_job("inc-ddl", "all", NULL,
			 "  objects: {allow: [{schema: inc_ddl}, {schema: inc_ddl_new}]}\n");
	pid = start_barge(path, log, NULL);
	wait_syncing("inc-ddl", pid, log);
	th_exec(c, "ALTER TABLE a ADD COLUMN w VARCHAR(10) DEFAULT 'd' AFTER id");
	th_exec(c, "INSERT INTO a VALUES (3, 'x', 3)");
	th_exec(c, "UPDATE a SET w = 'y' WHERE id = 1");
	th_exec(c, "CREATE TABLE later (id INT PRIMARY KEY, s TEXT)");
	th_exec(c, "INSERT INTO later VALUES (1, 'new table')");
	th_exec(c, "CREATE TABLE tmp_r (id INT PRIMARY KEY)");
	th_exec(c, "INSERT INTO tmp_r VALUES (5)");
	th_exec(c, "RENAME TABLE tmp_r TO renamed");
	th_exec(c, "INSERT INTO renamed VALUES (6)");
	th_exec(c, "ALTER TABLE a DROP COLUMN v, ADD INDEX iw (w)");
	th_exec(c, "INSERT INTO a VALUES (4, 'z')");
	th_exec(c, "DROP TABLE gone");
	th_exec(c, "TRUNCATE TABLE trunc");
	th_exec(c, "CREATE DATABASE inc_ddl_new");
	th_exec(c, "CREATE TABLE inc_ddl_new.n (id INT PRIMARY KEY)");
	th_exec(c, "INSERT INTO inc_ddl_new.n VALUES (42)");
	wait_same("inc_ddl", "inc_ddl", tables);
	{
		const char *n[] = {"n", NULL};

		wait_same("inc_ddl_new", "inc_ddl_new", n);
	}
	ASSERT_EQ_INT(stop_barge(pid), 0);
	t = th_connect(&s->target, "inc_ddl");
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
				      "TABLE_SCHEMA = 'inc_ddl' AND TABLE_NAME IN ('gone', 'tmp_r')"),
		      0);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM trunc"), 0);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE "
				      "TABLE_SCHEMA = 'inc_ddl' AND TABLE_NAME = 'a' AND "
				      "INDEX_NAME = 'iw'"),
		      1);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "inc_ddl", "a", &s->target, "inc_ddl", "a"), 4);
	mysql_close(t);
	mysql_close(c);
}

TEST(tables_listed_one_by_one_do_not_pick_up_new_tables)
{
	const struct th_servers *s = th_servers();
	const char *tables[] = {"listed", NULL};
	char log[512];
	const char *path;
	MYSQL *c, *t;
	pid_t pid;

	log_path(log, sizeof log, "inc-listed");
	th_fresh_db(&s->source, "inc_listed");
	drop_on_target("inc_listed");
	c = th_connect(&s->source, "inc_listed");
	th_exec(c, "CREATE TABLE listed (id INT PRIMARY KEY)");
	th_exec(c, "CREATE TABLE other (id INT PRIMARY KEY)");
	path = th_write_job("inc-listed", "all", NULL,
			 "  objects: {allow: [{schema: inc_listed, table: listed}]}\n");
	pid = start_barge(path, log, NULL);
	wait_syncing("inc-listed", pid, log);
	th_exec(c, "CREATE TABLE newer (id INT PRIMARY KEY)");
	th_exec(c, "INSERT INTO newer VALUES (1)");
	th_exec(c, "INSERT INTO other VALUES (1)");
	th_exec(c, "INSERT INTO listed VALUES (1), (2)");
	wait_same("inc_listed", "inc_listed", tables);
	ASSERT_EQ_INT(stop_barge(pid), 0);
	t = th_connect(&s->target, "inc_listed");
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
				      "TABLE_SCHEMA = 'inc_listed'"),
		      1);
	mysql_close(t);
	mysql_close(c);
}

TEST(routes_merge_shards_and_filters_drop_events)
{
	const struct th_servers *s = th_servers();
	char log[512];
	const char *path;
	MYSQL *c, *t;
	pid_t pid;

	log_path(log, sizeof log, "inc-shards");
	th_fresh_db(&s->source, "inc_shard_1");
	th_fresh_db(&s->source, "inc_shard_2");
	drop_on_target("inc_merged");
	c = th_connect(&s->source, NULL);
	th_exec(c, "CREATE TABLE inc_shard_1.orders_1 (id INT PRIMARY KEY, v INT)");
	th_exec(c, "CREATE TABLE inc_shard_2.orders_2 (id INT PRIMARY KEY, v INT)");
	th_exec(c, "INSERT INTO inc_shard_1.orders_1 VALUES (1, 1)");
	th_exec(c, "INSERT INTO inc_shard_2.orders_2 VALUES (2, 2)");
	path = th_write_job("inc-shards", "all", NULL,
			 "  objects: {allow: [{schema: \"~^inc_shard_[0-9]+$\"}]}\n"
			 "  routes:\n"
			 "    - from: {schema: \"~^inc_shard_[0-9]+$\", table: \"~^orders_[0-9]+$\"}\n"
			 "      to: {schema: inc_merged, table: orders}\n"
			 "  filters:\n"
			 "    - {schema: inc_shard_2, table: \"*\", ignore: [delete]}\n");
	pid = start_barge(path, log, NULL);
	wait_syncing("inc-shards", pid, log);
	th_exec(c, "INSERT INTO inc_shard_1.orders_1 VALUES (11, 11)");
	th_exec(c, "INSERT INTO inc_shard_2.orders_2 VALUES (12, 12)");
	th_exec(c, "UPDATE inc_shard_1.orders_1 SET v = 100 WHERE id = 1");
	th_exec(c, "DELETE FROM inc_shard_2.orders_2 WHERE id = 2"); /* filtered */
	th_exec(c, "TRUNCATE TABLE inc_shard_1.orders_1");           /* not applied: merged */
	th_exec(c, "INSERT INTO inc_shard_1.orders_1 VALUES (21, 21)");
	t = th_connect(&s->target, "inc_merged");
	for (int i = 0; i < 300; i++) {
		if (th_query_int(t, "SELECT COUNT(*) FROM orders WHERE id = 21") == 1)
			break;
		usleep(100000);
	}
	ASSERT_EQ_INT(stop_barge(pid), 0);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM orders"), 5);
	ASSERT_EQ_INT(th_query_int(t, "SELECT SUM(id) FROM orders"), 1 + 2 + 11 + 12 + 21);
	ASSERT_EQ_INT(th_query_int(t, "SELECT v FROM orders WHERE id = 1"), 100);
	{
		char *text = slurp(log);

		ASSERT_TRUE(strstr(text, "not applied: truncate table of a routed table") != NULL);
		free(text);
	}
	mysql_close(t);
	mysql_close(c);
}

TEST(a_duplicate_key_stops_the_job_and_restart_replaces)
{
	const struct th_servers *s = th_servers();
	const char *tables[] = {"d", NULL};
	char log[512];
	const char *path;
	MYSQL *c, *t;
	pid_t pid;

	log_path(log, sizeof log, "inc-dup");
	th_fresh_db(&s->source, "inc_dup");
	drop_on_target("inc_dup");
	c = th_connect(&s->source, "inc_dup");
	th_exec(c, "CREATE TABLE d (id INT PRIMARY KEY, v VARCHAR(20))");
	th_exec(c, "INSERT INTO d VALUES (1, 'one')");
	/* one worker, so that the row after the conflict waits behind it */
	path = th_write_job("inc-dup", "all", NULL,
			 "  objects: {allow: [{schema: inc_dup}]}\n"
			 "  incremental: {workers: 1}\n");
	pid = start_barge(path, log, (const char *const[]){"--once", NULL});
	wait_syncing("inc-dup", pid, log);
	t = th_connect(&s->target, "inc_dup");
	th_exec(t, "INSERT INTO d VALUES (7, 'target only')");
	/* one transaction of two rows: applied as one two-row INSERT, then, on its failure, row by
	 * row, so that the error names the row's own statement */
	th_exec(c, "INSERT INTO d VALUES (7, 'source'), (8, 'after')");
	/* the job stops by itself with the error, the position and the statement */
	ASSERT_EQ_INT(wait_exit(pid, log, "the duplicate key"), 1);
	{
		char *text = slurp(log);

		ASSERT_CONTAINS(text, "Duplicate entry '7'");
		ASSERT_CONTAINS(text, "at binlog position");
		ASSERT_CONTAINS(text, "statement: INSERT INTO `inc_dup`.`d` (`id`, `v`) VALUES "
				      "(7, _utf8mb4'source')");
		ASSERT_NOT_CONTAINS(text, "'after'");
		free(text);
	}
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM d WHERE id = 8"), 0);
	/* the seed's Restart: the source's row replaces the target's, and the job goes on */
	{
		char *out = NULL;

		ASSERT_EQ_INT(th_run(&out, NULL, "'%s' restart inc-dup", th_barge_bin()), 0);
		free(out);
		ASSERT_EQ_INT(th_run(&out, NULL, "'%s' plan '%s'", th_barge_bin(), path), 2);
		ASSERT_TRUE(strstr(out, "restart") != NULL);
		free(out);
	}
	pid = start_barge(path, log, NULL);
	wait_same("inc_dup", "inc_dup", tables);
	th_exec(c, "INSERT INTO d VALUES (9, 'later')");
	wait_same("inc_dup", "inc_dup", tables);
	ASSERT_EQ_INT(stop_barge(pid), 0);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "inc_dup", "d", &s->target, "inc_dup", "d"), 4);
	mysql_close(t);
	mysql_close(c);
}

TEST(a_ddl_the_target_refuses_stops_the_job_and_can_be_skipped)
{
	const struct th_servers *s = th_servers();
	char log[512], skip[300], *text, *at, *end;
	const char *path;
	MYSQL *c, *t;
	pid_t pid;

	log_path(log, sizeof log, "inc-ddlfail");
	th_fresh_db(&s->source, "inc_ddlfail");
	drop_on_target("inc_ddlfail");
	c = th_connect(&s->source, "inc_ddlfail");
	th_exec(c, "CREATE TABLE s (id INT PRIMARY KEY, v VARCHAR(10))");
	path = th_write_job("inc-ddlfail", "all", NULL, "  objects: {allow: [{schema: inc_ddlfail}]}\n");
	pid = start_barge(path, log, (const char *const[]){"--once", NULL});
	wait_syncing("inc-ddlfail", pid, log);
	/* the target's table drifted: the column the index is on is gone there */
	t = th_connect(&s->target, "inc_ddlfail");
	th_exec(t, "ALTER TABLE s DROP COLUMN v");
	th_exec(c, "CREATE INDEX ix ON s (v)");
	th_exec(c, "INSERT INTO s VALUES (1, 'after')");
	ASSERT_EQ_INT(wait_exit(pid, log, "the DDL"), 1);
	text = slurp(log);
	ASSERT_TRUE(strstr(text, "statement: CREATE INDEX") != NULL);
	at = strstr(text, "--skip-ddl ");
	ASSERT_TRUE(at != NULL);
	at += strlen("--skip-ddl ");
	end = at + strcspn(at, " )\n");
	snprintf(skip, sizeof skip, "%.*s", (int)(end - at), at);
	free(text);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM s"), 0);
	/* the user applies an equivalent change by hand, skips the statement and restarts */
	th_exec(t, "ALTER TABLE s ADD COLUMN v VARCHAR(10), ADD INDEX ix (v)");
	{
		char *out = NULL;

		ASSERT_EQ_INT(th_run(&out, NULL, "'%s' restart inc-ddlfail", th_barge_bin()), 0);
		free(out);
	}
	pid = start_barge(path, log, (const char *const[]){"--skip-ddl", skip, NULL});
	for (int i = 0; i < 300 && th_query_int(t, "SELECT COUNT(*) FROM s") == 0; i++)
		usleep(100000);
	ASSERT_EQ_INT(stop_barge(pid), 0);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM s WHERE v = 'after'"), 1);
	text = slurp(log);
	ASSERT_TRUE(strstr(text, "skipped as asked") != NULL);
	free(text);
	mysql_close(t);
	mysql_close(c);
}

TEST(a_lost_target_is_waited_for_and_resumed)
{
	const struct th_servers *s = th_servers();
	const char *tables[] = {"r", NULL};
	char log[512];
	const char *path;
	MYSQL *c;
	pid_t pid;

	log_path(log, sizeof log, "inc-lost");
	th_fresh_db(&s->source, "inc_lost");
	drop_on_target("inc_lost");
	c = th_connect(&s->source, "inc_lost");
	th_exec(c, "CREATE TABLE r (id INT PRIMARY KEY, v INT)");
	path = th_write_job("inc-lost", "all", NULL, "  objects: {allow: [{schema: inc_lost}]}\n");
	pid = start_barge(path, log, NULL);
	wait_syncing("inc-lost", pid, log);
	th_exec(c, "INSERT INTO r SELECT seq, seq FROM seq_1_to_100");
	th_kill_server(&s->target);
	th_exec(c, "INSERT INTO r SELECT seq, seq FROM seq_101_to_200");
	th_exec(c, "UPDATE r SET v = 0 WHERE id < 50");
	sleep(2);
	th_restart_server(&s->target);
	wait_same("inc_lost", "inc_lost", tables);
	ASSERT_EQ_INT(stop_barge(pid), 0);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "inc_lost", "r", &s->target, "inc_lost", "r"),
		      200);
	{
		char *text = slurp(log);

		ASSERT_TRUE(strstr(text, "reconnecting in") != NULL);
		free(text);
	}
	mysql_close(c);
}

TEST(mode_incremental_starts_at_a_mariadb_gtid_position)
{
	const struct th_servers *s = th_servers();
	const char *tables[] = {"g", NULL};
	char log[512], extra[512], *gtid;
	const char *path;
	MYSQL *c, *t;
	pid_t pid;

	log_path(log, sizeof log, "inc-gtid");
	th_fresh_db(&s->source, "inc_gtid");
	drop_on_target("inc_gtid");
	c = th_connect(&s->source, "inc_gtid");
	th_exec(c, "CREATE TABLE g (id INT PRIMARY KEY, v INT)");
	th_exec(c, "INSERT INTO g VALUES (1, 1)");
	/* the target was seeded by other means up to this GTID */
	t = th_connect(&s->target, NULL);
	th_exec(t, "CREATE DATABASE inc_gtid");
	th_exec(t, "CREATE TABLE inc_gtid.g (id INT PRIMARY KEY, v INT)");
	th_exec(t, "INSERT INTO inc_gtid.g VALUES (1, 1)");
	gtid = th_query_value(c, "SELECT @@GLOBAL.gtid_binlog_pos");
	th_exec(c, "INSERT INTO g VALUES (2, 2)");
	th_exec(c, "UPDATE g SET v = 10 WHERE id = 1");
	snprintf(extra, sizeof extra,
		 "  objects: {allow: [{schema: inc_gtid}]}\n"
		 "  incremental: {start: {gtid: \"%s\"}}\n", gtid);
	free(gtid);
	path = th_write_job("inc-gtid", "incremental", NULL, extra);
	pid = start_barge(path, log, NULL);
	wait_syncing("inc-gtid", pid, log);
	th_exec(c, "INSERT INTO g VALUES (3, 3)");
	wait_same("inc_gtid", "inc_gtid", tables);
	ASSERT_EQ_INT(stop_barge(pid), 0);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "inc_gtid", "g", &s->target, "inc_gtid", "g"), 3);
	/* the positions carry the GTID on */
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM barge_meta.positions WHERE job = "
				      "'inc-gtid' AND gtid LIKE '0-%%'"),
		      th_query_int(t, "SELECT COUNT(*) FROM barge_meta.positions WHERE job = "
				      "'inc-gtid'"));
	mysql_close(t);
	mysql_close(c);
}

TEST(a_purged_binlog_names_the_seed_message)
{
	const struct th_servers *s = th_servers();
	char log[512], *out = NULL;
	const char *path;
	char e1[128], e2[128];
	const char *env[] = {e1, e2, NULL};
	int rc;

	log_path(log, sizeof log, "inc-purged");
	path = th_write_job("inc-purged", "incremental", NULL,
			 "  objects: {allow: [{schema: inc_purged}]}\n"
			 "  incremental: {start: {binlogName: source-bin.000000, binlogPos: 4}}\n");
	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", s->target.tgt_password);
	rc = th_run(&out, env, "timeout 60 '%s' run --once '%s'", th_barge_bin(), path);
	ASSERT_EQ_INT(rc, 1);
	ASSERT_TRUE(strstr(out, "The required binary log for migration no longer exists on the "
				"source database.") != NULL);
	ASSERT_TRUE(strstr(out, s->source.src_password) == NULL);
	free(out);
}

/* A source transaction larger than the target takes in one transaction (here MariaDB's
 * max_binlog_cache_size, error 1197, as TiDB's 8004) is applied in parts, not retried whole. */
TEST(a_transaction_too_large_for_the_target_is_applied_in_parts)
{
	const struct th_servers *s = th_servers();
	static struct th_server small;
	char bin[700], log[512], path[700], *text;
	MYSQL *c, *t;
	pid_t pid;
	FILE *f;

	snprintf(bin, sizeof bin, "--log-bin=%s/smalltxn-bin", th_tmpdir());
	th_start_server(&small, "smalltxn", "target", bin, "--max-binlog-cache-size=65536", NULL);
	log_path(log, sizeof log, "inc-split");
	th_fresh_db(&s->source, "inc_split");
	c = th_connect(&s->source, "inc_split");
	th_exec(c, "CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(200))");
	th_exec(c, "INSERT INTO big VALUES (0, 'before')");
	snprintf(path, sizeof path, "%s/inc-split.yaml", th_tmpdir());
	f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fprintf(f, "apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: inc-split}\nspec:\n"
		"  mode: all\n"
		"  source: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_SRC}\"}\n"
		"  target: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_SMALL}\"}\n"
		"  objects: {allow: [{schema: inc_split}]}\n",
		s->source.port, s->source.src_user, small.port, small.tgt_user);
	fclose(f);
	setenv("BARGE_T_SMALL", small.tgt_password, 1);
	pid = start_barge(path, log, NULL);
	for (int i = 0; i < 300; i++) {
		text = slurp(log);
		bool open = strstr(text, "following the binlog") != NULL;

		free(text);
		if (open)
			break;
		usleep(100000);
	}
	/* ~640 KB in one transaction, ten times what the target's binlog cache takes */
	th_exec(c, "BEGIN");
	th_exec(c, "INSERT INTO big SELECT seq, REPEAT('x', 200) FROM seq_1_to_3000");
	th_exec(c, "UPDATE big SET pad = 'updated' WHERE id %% 10 = 0");
	th_exec(c, "COMMIT");
	th_exec(c, "INSERT INTO big VALUES (3001, 'after')");
	t = th_connect(&small, NULL);
	for (int i = 0; i < 600; i++) {
		char *v = th_query_value(t, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
					    "TABLE_SCHEMA = 'inc_split' AND TABLE_NAME = 'big'");
		bool there = v && strcmp(v, "1") == 0;

		free(v);
		if (there && th_query_int(t, "SELECT COUNT(*) FROM inc_split.big") == 3002)
			break;
		usleep(100000);
	}
	ASSERT_EQ_INT(stop_barge(pid), 0);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "inc_split", "big", &small, "inc_split", "big"),
		      3002);
	text = slurp(log);
	ASSERT_CONTAINS(text, "is too large for the target: applying it in parts");
	ASSERT_NOT_CONTAINS(text, "Failed");
	free(text);
	mysql_close(t);
	mysql_close(c);
}

/* Another replica connecting with the job's serverId: the job stops with the catalogue's
 * SERVER_ID error naming the fix, instead of the two replicas pushing each other off. */
TEST(another_replica_with_the_same_server_id_stops_the_job)
{
	const struct th_servers *s = th_servers();
	struct barge_endpoint ep = {0};
	struct barge_db *db = NULL;
	struct barge_binlog_stream *stream = NULL;
	struct barge_stream_opts so = {.non_blocking = false};
	struct barge_err err = {0};
	char log[512], *text = NULL;
	const char *path;
	MYSQL *c;
	pid_t pid;
	bool stopped = false;

	log_path(log, sizeof log, "inc-sid");
	th_fresh_db(&s->source, "inc_sid");
	drop_on_target("inc_sid");
	c = th_connect(&s->source, "inc_sid");
	th_exec(c, "CREATE TABLE r (id INT PRIMARY KEY)");
	path = th_write_job("inc-sid", "all", NULL,
			    "  objects: {allow: [{schema: inc_sid}]}\n");
	{
		/* the serverId the job gets by default (derived from its name) */
		struct barge_jobset *set = NULL;
		struct barge_diags diags = {0};

		ASSERT_OK(barge_jobset_load(&path, 1, &set, &diags, &err));
		so.server_id = set->jobs[0]->source.server_id;
		ASSERT_TRUE(so.server_id != 0);
		barge_jobset_free(set);
		barge_diags_dispose(&diags);
	}
	pid = start_barge(path, log, NULL);
	wait_syncing("inc-sid", pid, log);
	th_exec(c, "INSERT INTO r VALUES (1)");

	setenv("BARGE_T_SID", s->source.src_password, 1);
	ep.host = "127.0.0.1";
	ep.port = s->source.port;
	ep.user = (char *)s->source.src_user;
	ep.password = "${env:BARGE_T_SID}";
	ASSERT_OK(barge_db_connect(&ep, BARGE_DB_SOURCE, th_tmpdir(), NULL, &db, &err));
	ASSERT_OK(barge_binlog_stream_open(db, &so, &stream, &err));
	for (int i = 0; i < 150 && !stopped; i++) {
		text = NULL;
		th_run(&text, NULL, "'%s' status --json inc-sid", th_barge_bin());
		stopped = strstr(text, "\"code\": \"SERVER_ID\"") &&
			  strstr(text, "\"stage\": \"Failed\"");
		free(text);
		usleep(100000);
	}
	barge_binlog_stream_close(stream);
	barge_db_close(db);
	text = slurp(log);
	if (!stopped)
		TEST_FAILF("the job did not stop on the duplicate server id:\n%s", text);
	ASSERT_CONTAINS(text, "server_id is already connected");
	ASSERT_NOT_CONTAINS(text, "retrying in");
	free(text);
	text = NULL;
	th_run(&text, NULL, "'%s' errors --json", th_barge_bin());
	ASSERT_CONTAINS(text, "Give the job a different spec.source.serverId.");
	free(text);
	stop_barge(pid);
	mysql_close(c);
}

TEST_MAIN()
