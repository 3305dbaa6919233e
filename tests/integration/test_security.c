/*
 * test_security.c — issue 8 against real servers: names built to break SQL (backticks, quotes,
 * semicolons, comment openers, backslashes, spaces, unicode, reserved words) survive a full copy
 * and replication without touching anything else on the target; passwords, the webhook secret
 * and a token in the webhook URL never reach an output, a payload, a log or the store, whose
 * files are owner-only; a webhook receiver with a self-signed certificate is refused.
 *
 * The secret values are never printed, even by a failing assertion: failures name the output
 * and the secret's length.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/harness.h"
#include "tests/support/http_receiver.h"
#include "tests/test.h"

/* ---- helpers ---- */

/* name as a backtick-quoted identifier, into a static ring of buffers */
static const char *qi(const char *name)
{
	static char ring[32][400];
	static unsigned next;
	char *out = ring[next++ % 32];
	size_t o = 0;

	out[o++] = '`';
	for (const char *p = name; *p && o < sizeof ring[0] - 4; p++) {
		if (*p == '`')
			out[o++] = '`';
		out[o++] = *p;
	}
	out[o++] = '`';
	out[o] = '\0';
	return out;
}

/* name as a YAML double-quoted scalar, into a static ring of buffers */
static const char *yq(const char *name)
{
	static char ring[4][400];
	static unsigned next;
	char *out = ring[next++ % 4];
	size_t o = 0;

	out[o++] = '"';
	for (const char *p = name; *p && o < sizeof ring[0] - 4; p++) {
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static char *slurp(const char *path)
{
	char *text = test_read_file(path, NULL);

	return text ? text : strdup("");
}

/* Start `barge run --progress 1 PATH` in the background (the environment is inherited), its
 * output appended to log. */
static pid_t start_barge(const char *path, const char *log)
{
	const char *args[] = {"run", "--progress", "1", path, NULL};

	return th_start_barge(log, NULL, args);
}

static int stop_barge(pid_t pid)
{
	int status = 0;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Wait until the job's binlog stream is open (its log says so). */
static void wait_following(pid_t pid, const char *log)
{
	for (int i = 0; i < 900; i++) {
		int status;
		char *text;
		bool open;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			text = slurp(log);
			TEST_FAILF("barge exited before following the binlog:\n%s", text);
		}
		text = slurp(log);
		open = strstr(text, "following the binlog") != NULL;
		free(text);
		if (open)
			return;
		usleep(100000);
	}
	TEST_FAILF("barge did not start following the binlog within 90 s:\n%s", slurp(log));
}

/* CHECKSUM TABLE db.t on c: the checksum as a heap string, NULL when the table is missing. */
static char *checksum(MYSQL *c, const char *db, const char *t)
{
	char q[1000];
	MYSQL_RES *r;
	MYSQL_ROW row;
	char *v = NULL;

	snprintf(q, sizeof q, "CHECKSUM TABLE %s.%s", qi(db), qi(t));
	if (mysql_query(c, q) || !(r = mysql_store_result(c)))
		return NULL;
	row = mysql_fetch_row(r);
	if (row && row[1])
		v = strdup(row[1]);
	mysql_free_result(r);
	return v;
}

/* Wait up to 90 s until every (db, table) pair has the same checksum on both sides. */
static void wait_same(const char *const (*tables)[2])
{
	const struct th_servers *s = th_servers();
	MYSQL *a = th_connect(&s->source, NULL), *b = th_connect(&s->target, NULL);

	for (int i = 0; i < 900; i++) {
		bool same = true;

		for (size_t k = 0; tables[k][0] && same; k++) {
			char *x = checksum(a, tables[k][0], tables[k][1]);
			char *y = checksum(b, tables[k][0], tables[k][1]);

			if (!x)
				TEST_FAILF("source: CHECKSUM TABLE %s.%s: %s", tables[k][0], tables[k][1],
					   mysql_error(a));
			same = y && !strcmp(x, y);
			free(x);
			free(y);
		}
		if (same) {
			mysql_close(a);
			mysql_close(b);
			return;
		}
		usleep(100000);
	}
	TEST_FAILF("the target did not catch up with the source within 90 s");
}

/* Every user table of the target as "schema\ttable\n" lines, sorted (a heap string). */
static char *target_tables(void)
{
	MYSQL *c = th_connect(&th_servers()->target, NULL);
	char *v = th_query_value(
		c, "SELECT IFNULL(GROUP_CONCAT(CONCAT(s.SCHEMA_NAME, '\\t', IFNULL(t.TABLE_NAME, ''))"
		   " ORDER BY s.SCHEMA_NAME, t.TABLE_NAME SEPARATOR '\\n'), '') FROM"
		   " information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t"
		   " ON t.TABLE_SCHEMA = s.SCHEMA_NAME WHERE s.SCHEMA_NAME NOT IN"
		   " ('mysql', 'information_schema', 'performance_schema', 'sys')");

	mysql_close(c);
	return v;
}

static bool has_line(const char *lines, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = lines; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !memcmp(p, line, n))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

/* Forget what an earlier run of this binary left of job in the target's barge_meta (servers
 * started by hand are reused), so the job starts with a full copy. */
static void forget_job(MYSQL *t, const char *job)
{
	static const char *const tables[] = {"jobs", "positions", "chunks", "tables"};
	char q[300];

	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		snprintf(q, sizeof q, "DELETE FROM barge_meta.%s WHERE job = '%s'", tables[i], job);
		/* a missing table (a fresh target) is fine; any other error is not */
		if (mysql_query(t, q) && mysql_errno(t) != 1146 && mysql_errno(t) != 1049)
			TEST_FAILF("%s: %s", q, mysql_error(t));
	}
}

/* ---- 1. hostile names ---- */

/* Every character class of issue 8 in one schema name; a second schema that is an injection. */
#define S1 "sec`db;--'\"/*#\\ 名 select"
#define S2 "sec2`; DROP DATABASE sec_canary; --x"
#define T1 "t`ab;le'\"--/* #\\ ключ"
#define T2 "select"
#define T3 "x'); DROP TABLE sec_canary.keep; --x"
#define T4 "key"
#define T5 "new tab`le;--'\"#"

TEST(hostile_names_are_copied_and_replicated)
{
	const struct th_servers *s = th_servers();
	const char *const tables[][2] = {{S1, T1}, {S1, T2}, {S1, T3}, {S2, T4}, {S1, T5},
					 {NULL, NULL}};
	char log[600], spec[1200], *before, *after, *out = NULL;
	const char *path;
	MYSQL *c, *t;
	pid_t pid;
	int rc;

	th_barge_bin();
	snprintf(log, sizeof log, "%s/sec-names.log", th_tmpdir());
	c = th_connect(&s->source, NULL);
	t = th_connect(&s->target, NULL);
	for (int side = 0; side < 2; side++) {
		MYSQL *x = side ? t : c;

		th_exec(x, "DROP DATABASE IF EXISTS %s", qi(S1));
		th_exec(x, "DROP DATABASE IF EXISTS %s", qi(S2));
	}
	/* the canary: a target database barge has no business with */
	forget_job(t, "sec-names");
	th_exec(t, "DROP DATABASE IF EXISTS sec_canary");
	th_exec(t, "CREATE DATABASE sec_canary");
	th_exec(t, "CREATE TABLE sec_canary.keep (id INT PRIMARY KEY, v VARCHAR(20))");
	th_exec(t, "INSERT INTO sec_canary.keep VALUES (1, 'alive')");

	th_exec(c, "CREATE DATABASE %s", qi(S1));
	th_exec(c, "CREATE DATABASE %s", qi(S2));
	th_exec(c,
		"CREATE TABLE %s.%s (%s INT NOT NULL, %s VARCHAR(40), %s VARCHAR(40), %s TEXT,"
		" %s INT, %s VARCHAR(40), %s VARBINARY(40), %s TEXT, %s INT, %s VARCHAR(10),"
		" PRIMARY KEY (%s), KEY %s (%s))",
		qi(S1), qi(T1), qi("i`d;--"), qi("sel ect"), qi("'q'"), qi("\"dq\""), qi("/*c*/"),
		qi("#h"), qi("b\\s"), qi("名前"), qi("order"), qi("from"), qi("i`d;--"),
		qi("idx`;--"), qi("sel ect"));
	th_exec(c, "CREATE TABLE %s.%s (%s INT PRIMARY KEY, %s VARCHAR(40), %s TEXT)", qi(S1),
		qi(T2), qi("from"), qi("where"), qi("group"));
	th_exec(c, "CREATE TABLE %s.%s (%s INT, %s VARCHAR(40))", qi(S1), qi(T3), qi("a';--"),
		qi("b\\\"`"));
	th_exec(c, "CREATE TABLE %s.%s (%s VARCHAR(40) NOT NULL, %s INT, UNIQUE KEY %s (%s))",
		qi(S2), qi(T4), qi("u`'\";"), qi("v -- x"), qi("uk`"), qi("u`'\";"));
	for (int i = 1; i <= 20; i++) {
		th_exec(c,
			"INSERT INTO %s.%s VALUES (%d, 'v`%d'';--', '\\\\''\"%d', '/* %d */', %d,"
			" '# %d', X'00275C60%02X', 'ü %d', %d, 'x')",
			qi(S1), qi(T1), i, i, i, i, i, i, i, i, i);
		th_exec(c, "INSERT INTO %s.%s VALUES (%d, 'w\\\\%d', NULL)", qi(S1), qi(T2), i, i);
		th_exec(c, "INSERT INTO %s.%s VALUES (%d, 'k''%d')", qi(S1), qi(T3), i % 4, i);
		th_exec(c, "INSERT INTO %s.%s VALUES ('u`''\"%d', %d)", qi(S2), qi(T4), i, i);
	}

	before = target_tables();
	snprintf(spec, sizeof spec,
		 "  objects: {allow: [{schema: %s}, {schema: %s}]}\n"
		 "  full: {threads: 2, chunkRows: 3}\n"
		 "  incremental: {workers: 2, batch: 5}\n",
		 yq(S1), yq(S2));
	path = th_write_job("sec-names", "all", NULL, spec);
	{
		char e1[128], e2[128];

		snprintf(e1, sizeof e1, "%s", s->source.src_password);
		snprintf(e2, sizeof e2, "%s", s->target.tgt_password);
		setenv("BARGE_T_SRC", e1, 1);
		setenv("BARGE_T_TGT", e2, 1);
	}
	pid = start_barge(path, log);
	wait_following(pid, log);

	/* the incremental phase: every kind of row change, an ALTER and a CREATE */
	th_exec(c, "INSERT INTO %s.%s (%s, %s, %s) VALUES (100, 'new'';--`', '\\\\')", qi(S1),
		qi(T1), qi("i`d;--"), qi("sel ect"), qi("'q'"));
	th_exec(c, "UPDATE %s.%s SET %s = CONCAT(%s, '`'';'), %s = NULL WHERE %s %% 3 = 0", qi(S1),
		qi(T1), qi("sel ect"), qi("sel ect"), qi("#h"), qi("i`d;--"));
	th_exec(c, "UPDATE %s.%s SET %s = %s + 1000 WHERE %s BETWEEN 5 AND 7", qi(S1), qi(T1),
		qi("i`d;--"), qi("i`d;--"), qi("i`d;--"));
	th_exec(c, "DELETE FROM %s.%s WHERE %s %% 4 = 0", qi(S1), qi(T1), qi("i`d;--"));
	th_exec(c, "UPDATE %s.%s SET %s = 'g\"r''p' WHERE %s < 5", qi(S1), qi(T2), qi("group"),
		qi("from"));
	th_exec(c, "DELETE FROM %s.%s WHERE %s > 15", qi(S1), qi(T2), qi("from"));
	th_exec(c, "UPDATE %s.%s SET %s = 'upd' WHERE %s = 1 LIMIT 2", qi(S1), qi(T3),
		qi("b\\\"`"), qi("a';--"));
	th_exec(c, "DELETE FROM %s.%s WHERE %s = 2 LIMIT 1", qi(S1), qi(T3), qi("a';--"));
	th_exec(c, "UPDATE %s.%s SET %s = CONCAT(%s, '--') WHERE %s < 5", qi(S2), qi(T4),
		qi("u`'\";"), qi("u`'\";"), qi("v -- x"));
	th_exec(c, "DELETE FROM %s.%s WHERE %s > 17", qi(S2), qi(T4), qi("v -- x"));
	th_exec(c, "ALTER TABLE %s.%s ADD COLUMN %s VARCHAR(20) DEFAULT 'd''`x'", qi(S1), qi(T1),
		qi("new`col;--'\"/*"));
	th_exec(c, "UPDATE %s.%s SET %s = 'set''`' WHERE %s < 10", qi(S1), qi(T1),
		qi("new`col;--'\"/*"), qi("i`d;--"));
	th_exec(c, "INSERT INTO %s.%s (%s, %s) VALUES (200, 'after alter')", qi(S1), qi(T1),
		qi("i`d;--"), qi("new`col;--'\"/*"));
	th_exec(c, "CREATE TABLE %s.%s (%s INT PRIMARY KEY, %s VARCHAR(20))", qi(S1), qi(T5),
		qi("k`;"), qi("v'\"\\"));
	th_exec(c, "INSERT INTO %s.%s VALUES (1, '`;--'), (2, '\\\\'), (3, NULL)", qi(S1), qi(T5));

	wait_same(tables);
	rc = stop_barge(pid);
	if (rc != 0)
		TEST_FAILF("barge exited %d:\n%s", rc, slurp(log));

	ASSERT_EQ_INT(th_compare_tables(&s->source, S1, T1, &s->target, S1, T1), 16);
	ASSERT_EQ_INT(th_compare_tables(&s->source, S1, T2, &s->target, S1, T2), 15);
	ASSERT_EQ_INT(th_compare_tables(&s->source, S1, T3, &s->target, S1, T3), 19);
	ASSERT_EQ_INT(th_compare_tables(&s->source, S2, T4, &s->target, S2, T4), 17);
	ASSERT_EQ_INT(th_compare_tables(&s->source, S1, T5, &s->target, S1, T5), 3);
	/* the ALTER arrived as a column, not as something else */
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE"
				      " TABLE_SCHEMA = 'sec`db;--''\"/*#\\\\ 名 select' AND"
				      " COLUMN_NAME = 'new`col;--''\"/*'"),
		      1);

	/* the canary survives, and nothing but the migrated tables and barge_meta appeared */
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM sec_canary.keep WHERE v = 'alive'"), 1);
	after = target_tables();
	for (const char *p = before; *p;) {
		const char *e = strchr(p, '\n');
		char line[600];

		snprintf(line, sizeof line, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
		if (!has_line(after, line))
			TEST_FAILF("the target lost %s", line);
		p = e ? e + 1 : p + strlen(p);
	}
	for (const char *p = after; *p;) {
		const char *e = strchr(p, '\n');
		char line[600];
		bool expected;

		snprintf(line, sizeof line, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
		expected = has_line(before, line) || strncmp(line, "barge_meta\t", 11) == 0;
		for (size_t k = 0; !expected && tables[k][0]; k++) {
			char want[600];

			snprintf(want, sizeof want, "%s\t%s", tables[k][0], tables[k][1]);
			expected = !strcmp(line, want);
		}
		if (!expected)
			TEST_FAILF("the target has an unexpected table: %s", line);
		p = e ? e + 1 : p + strlen(p);
	}
	/* barge's own log shows no SQL error */
	out = slurp(log);
	ASSERT_NOT_CONTAINS(out, "You have an error in your SQL syntax");
	free(out);
	free(before);
	free(after);
	mysql_close(c);
	mysql_close(t);
}

/* ---- 2. secrets never leak ---- */

/* Distinctive values, set in this process's environment (th_run and barge inherit it). */
static const char *const secret_names[] = {"source password", "target password",
					   "wrong source password", "wrong target password",
					   "webhook secret", "webhook URL token"};
static const char *secrets[] = {"Src-7f3Kq9xLm2@zzP", "Tgt-Hw4pR8nT1%yyQ", "BadSrc-Lq2Vz8Rk5#",
				"BadTgt-Mn6Xc4Wd1^", "HookSig-Jq5Vb2Nc8Ke", "tok-Ux6Wd3Ma9PeRb"};
#define N_SECRETS (sizeof secrets / sizeof secrets[0])

/* what holds text, which must be non-empty and free of every secret value (never printed) */
static void assert_clean(const char *what, const char *text, size_t len)
{
	if (!text || len == 0)
		TEST_FAILF("%s is empty, so looking for secrets in it proves nothing", what);
	for (size_t i = 0; i < N_SECRETS; i++) {
		size_t n = strlen(secrets[i]);

		for (size_t k = 0; k + n <= len; k++)
			if (!memcmp(text + k, secrets[i], n))
				TEST_FAILF("%s contains the %s (<secret>, %zu characters) at byte %zu",
					   what, secret_names[i], n, k);
	}
}

#define ASSERT_CLEAN(what, text) assert_clean((what), (text), (text) ? strlen(text) : 0)

/* Run barge with args; asserts the exit status, checks the output is clean, returns it. */
static char *barge_clean(int want_rc, const char *what, const char *fmt, const char *arg)
{
	char *out = NULL, args[1400];
	int rc;

	snprintf(args, sizeof args, fmt, arg);
	rc = th_run(&out, NULL, "'%s' %s", th_barge_bin(), args);
	ASSERT_CLEAN(what, out);
	if (rc != want_rc)
		TEST_FAILF("barge %s exited %d, expected %d:\n%s", what, rc, want_rc, out);
	return out;
}

/* Every regular file under dir: owner-only, and clean; directories 0700.  Returns the count. */
static int check_store_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	int files = 0;

	if (!d)
		TEST_FAILF("cannot open %s: %s", dir, strerror(errno));
	ASSERT_EQ_INT(stat(dir, &sb), 0);
	if ((sb.st_mode & 07777) != 0700)
		TEST_FAILF("store directory %s has mode %04o, expected 0700", dir,
			   (unsigned)(sb.st_mode & 07777));
	while ((e = readdir(d)) != NULL) {
		char path[1200];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		ASSERT_EQ_INT(lstat(path, &sb), 0);
		if (S_ISDIR(sb.st_mode)) {
			files += check_store_tree(path);
		} else if (S_ISREG(sb.st_mode)) {
			size_t len = 0;
			char *text = test_read_file(path, &len);

			if ((sb.st_mode & 07777) != 0600)
				TEST_FAILF("store file %s has mode %04o, expected 0600", path,
					   (unsigned)(sb.st_mode & 07777));
			if (len)
				assert_clean(path, text, len);
			free(text);
			files++;
		} else {
			TEST_FAILF("unexpected non-regular file in the store: %s", path);
		}
	}
	closedir(d);
	return files;
}

/* barge status and status --json: clean, naming job (and showing error when not NULL) */
static void check_status(const char *job, const char *error)
{
	char *out = barge_clean(0, "status", "status%s", "");

	ASSERT_CONTAINS(out, job);
	if (error)
		ASSERT_CONTAINS(out, error);
	free(out);
	out = barge_clean(0, "status --json", "status --json%s", "");
	ASSERT_CONTAINS(out, job);
	if (error)
		ASSERT_CONTAINS(out, error);
	free(out);
}

/* A job file jobs/NAME.yaml for users sec_src / sec_tgt with passwords from the environment
 * variables SEC_SRC / SEC_TGT (or the ones given), notifying the receiver. */
static const char *secret_job(const char *name, const char *src_env, const char *tgt_env)
{
	const struct th_servers *s = th_servers();
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.yaml", th_tmpdir(), name);
	f = fopen(path, "w");
	if (!f)
		TEST_FAILF("cannot write %s", path);
	fprintf(f,
		"apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: %s}\nspec:\n"
		"  mode: full\n"
		"  source: {host: 127.0.0.1, port: %u, user: sec_src, password: \"${env:%s}\"}\n"
		"  target: {host: 127.0.0.1, port: %u, user: sec_tgt, password: \"${env:%s}\"}\n"
		"  objects: {allow: [{schema: sec_leak}]}\n"
		"  notify:\n"
		"    - {url: \"${env:SEC_HOOK_URL}\", format: json, secret: \"${env:SEC_HOOK_SECRET}\"}\n"
		"    - {url: \"${env:SEC_HOOK_URL}\", format: slack, events: [error]}\n",
		name, s->source.port, src_env, s->target.port, tgt_env);
	fclose(f);
	return path;
}

TEST(secrets_never_leak)
{
	const struct th_servers *s = th_servers();
	static const int ok[] = {200};
	struct http_receiver *rx;
	char store[600], url[300], storeenv[700];
	const char *good, *badsrc, *badtgt;
	char *out;
	MYSQL *c, *t;
	size_t got;

	th_barge_bin();
	snprintf(store, sizeof store, "%s/secstore", th_tmpdir());
	snprintf(storeenv, sizeof storeenv, "dir:%s", store);
	setenv("BARGE_STORE", storeenv, 1);
	setenv("SEC_SRC", secrets[0], 1);
	setenv("SEC_TGT", secrets[1], 1);
	setenv("SEC_BAD_SRC", secrets[2], 1);
	setenv("SEC_BAD_TGT", secrets[3], 1);
	setenv("SEC_HOOK_SECRET", secrets[4], 1);
	rx = http_receiver_start(ok, 1);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/hooks/%s", http_receiver_port(rx),
		 secrets[5]);
	setenv("SEC_HOOK_URL", url, 1);

	c = th_connect(&s->source, NULL);
	t = th_connect(&s->target, NULL);
	th_exec(c, "DROP USER IF EXISTS sec_src");
	th_exec(c, "CREATE USER sec_src IDENTIFIED BY '%s'", secrets[0]);
	th_exec(c, "GRANT SELECT, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO "
		   "sec_src");
	th_exec(t, "DROP USER IF EXISTS sec_tgt");
	th_exec(t, "CREATE USER sec_tgt IDENTIFIED BY '%s'", secrets[1]);
	th_exec(t, "GRANT CREATE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, INDEX ON *.* TO "
		   "sec_tgt");
	th_fresh_db(&s->source, "sec_leak");
	th_exec(t, "DROP DATABASE IF EXISTS sec_leak");
	forget_job(t, "sec-good");
	forget_job(t, "sec-badsrc");
	forget_job(t, "sec-badtgt");
	th_exec(c, "CREATE TABLE sec_leak.t (id INT PRIMARY KEY, v VARCHAR(20))");
	th_exec(c, "INSERT INTO sec_leak.t VALUES (1, 'a'), (2, 'b'), (3, 'c')");

	good = secret_job("sec-good", "SEC_SRC", "SEC_TGT");
	/* plan (drift: exit 2) and check, before anything ran */
	out = barge_clean(2, "plan", "plan '%s'", good);
	ASSERT_CONTAINS(out, "sec-good");
	free(out);
	out = barge_clean(0, "check", "check '%s'", good);
	ASSERT_CONTAINS(out, "sec-good");
	free(out);
	out = barge_clean(0, "check --json", "check --json '%s'", good);
	free(out);

	/* a successful run: its log, then status */
	out = barge_clean(0, "run (success)", "run --once --progress 1 '%s'", good);
	free(out);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "sec_leak", "t", &s->target, "sec_leak", "t"),
		      3);
	check_status("sec-good", NULL);
	ASSERT_TRUE(check_store_tree(store) >= 1);

	/* wrong passwords, source and target, by run and by check */
	badsrc = secret_job("sec-badsrc", "SEC_BAD_SRC", "SEC_TGT");
	out = barge_clean(1, "run (wrong source password)", "run --once '%s'", badsrc);
	ASSERT_CONTAINS(out, "Access denied for user 'sec_src'");
	free(out);
	check_status("sec-badsrc", "Access denied");
	out = barge_clean(1, "check (wrong source password)", "check '%s'", badsrc);
	free(out);
	badtgt = secret_job("sec-badtgt", "SEC_SRC", "SEC_BAD_TGT");
	out = barge_clean(1, "run (wrong target password)", "run --once '%s'", badtgt);
	ASSERT_CONTAINS(out, "Access denied for user 'sec_tgt'");
	free(out);
	check_status("sec-badtgt", "Access denied");
	out = barge_clean(1, "check --json (wrong target password)", "check --json '%s'", badtgt);
	free(out);

	out = barge_clean(0, "plan (after the runs)", "plan '%s'", good);
	free(out);

	/* the webhook payloads: stage changes of the good job, errors of the bad ones */
	got = http_receiver_wait(rx, 4, 15000);
	if (got < 4)
		TEST_FAILF("only %zu webhook deliveries arrived", got);
	{
		bool signed_seen = false, error_seen = false;

		for (size_t i = 0; i < got; i++) {
			const struct http_request *req = http_receiver_request(rx, i);
			char sig[128], what[64];

			snprintf(what, sizeof what, "webhook request %zu body", i);
			assert_clean(what, req->body, req->body_len);
			/* the request line carries the URL, token and all, as it must; the
			 * header lines after it must not */
			ASSERT_TRUE(strstr(req->path, secrets[5]) != NULL);
			snprintf(what, sizeof what, "webhook request %zu header lines", i);
			ASSERT_TRUE(req->headers && strchr(req->headers, '\n'));
			ASSERT_CLEAN(what, strchr(req->headers, '\n') + 1);
			http_request_header(req, "X-Barge-Signature", sig, sizeof sig);
			signed_seen |= strncmp(sig, "sha256=", 7) == 0;
			error_seen |= strstr(req->body, "Access denied") != NULL;
		}
		ASSERT_TRUE(signed_seen);
		ASSERT_TRUE(error_seen);
	}
	http_receiver_stop(rx);

	/* the store: owner-only, and no secret in any file */
	ASSERT_TRUE(check_store_tree(store) >= 3);

	th_exec(c, "DROP USER sec_src");
	th_exec(t, "DROP USER sec_tgt");
	mysql_close(c);
	mysql_close(t);
	unsetenv("BARGE_STORE");
}

/* ---- 3. webhook TLS is verified ---- */

static unsigned free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len))
		TEST_FAILF("cannot find a free port: %s", strerror(errno));
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool port_open(unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

TEST(webhook_to_a_self_signed_receiver_fails_verification)
{
	const struct th_servers *s = th_servers();
	char dir[600], log[700], url[200], spec[600], *out = NULL;
	const char *path;
	unsigned port = free_port();
	pid_t tls, pid;
	bool seen = false;
	MYSQL *t;

	th_barge_bin();
	snprintf(dir, sizeof dir, "%s/tls", th_tmpdir());
	mkdir(dir, 0700);
	if (th_run(&out, NULL,
		   "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
		   "-addext subjectAltName=IP:127.0.0.1 -keyout '%s/key.pem' -out '%s/cert.pem'",
		   dir, dir) != 0)
		TEST_FAILF("openssl req failed:\n%s", out);
	free(out);
	tls = fork();
	if (tls == 0) {
		char cert[700], key[700], p[16];
		int fd = open("/dev/null", O_RDWR);

		snprintf(cert, sizeof cert, "%s/cert.pem", dir);
		snprintf(key, sizeof key, "%s/key.pem", dir);
		snprintf(p, sizeof p, "%u", port);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("openssl", "openssl", "s_server", "-quiet", "-accept", p, "-cert", cert,
		       "-key", key, "-www", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port_open(port); i++)
		usleep(100000);
	if (!port_open(port)) {
		kill(tls, SIGKILL);
		waitpid(tls, NULL, 0);
		TEST_FAILF("openssl s_server did not listen on %u", port);
	}

	th_fresh_db(&s->source, "sec_tls");
	t = th_connect(&s->target, NULL);
	th_exec(t, "DROP DATABASE IF EXISTS sec_tls");
	forget_job(t, "sec-tls");
	mysql_close(t);
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hook", port);
	snprintf(spec, sizeof spec,
		 "  objects: {allow: [{schema: sec_tls}]}\n"
		 "  notify: [{url: \"%s\", events: [stage]}]\n", url);
	path = th_write_job("sec-tls", "all", NULL, spec);
	setenv("BARGE_T_SRC", s->source.src_password, 1);
	setenv("BARGE_T_TGT", s->target.tgt_password, 1);
	snprintf(log, sizeof log, "%s/sec-tls.log", th_tmpdir());
	pid = start_barge(path, log);
	/* the stage changes are posted; each delivery fails verification */
	for (int i = 0; i < 600 && !seen; i++) {
		if (th_run(&out, NULL, "'%s' status sec-tls", th_barge_bin()) == 0)
			seen = strstr(out, "webhooks:") && strstr(out, "certificate");
		if (!seen) {
			free(out);
			out = NULL;
			usleep(100000);
		}
	}
	stop_barge(pid);
	kill(tls, SIGTERM);
	waitpid(tls, NULL, 0);
	if (!seen)
		TEST_FAILF("status never showed a certificate failure:\n%s\nlog:\n%s", out,
			   slurp(log));
	ASSERT_CONTAINS(out, "127.0.0.1");
	ASSERT_CONTAINS(out, "gave up after 1 attempt");
	free(out);
	/* JSON says the same */
	ASSERT_EQ_INT(th_run(&out, NULL, "'%s' status --json sec-tls", th_barge_bin()), 0);
	ASSERT_CONTAINS(out, "certificate");
	free(out);
}

TEST_MAIN()
