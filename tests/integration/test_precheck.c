/*
 * test_precheck.c — `barge check` against real servers: for each item that MariaDB can
 * exercise, its Pass and its non-Pass state (a user without REPLICATION SLAVE, binlog_format
 * STATEMENT, a keyless table, a target table with other columns, a server id in use by a live
 * stream, ...), an ignored item reported Skipped, the exit status and --json output, and that no
 * password reaches the output.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/binlog_io.h"
#include "engine/db.h"
#include "tests/integration/harness.h"
#include "tests/test.h"

#define PC_PASSWORD "pc-Secret-pw-4711"

struct endpoint_opt {
	const struct th_server *server; /* NULL: the shared source / target */
	const char *user;               /* NULL: the seed's user */
	const char *password;           /* NULL: the seed's user's password */
};

/* Write a job file and return its path (static storage).  spec_extra is YAML under spec:. */
static const char *write_job(const char *name, const char *mode, struct endpoint_opt src,
			     struct endpoint_opt tgt, const char *spec_extra)
{
	const struct th_servers *s = th_servers();
	static char path[1024];
	const struct th_server *ss = src.server ? src.server : &s->source;
	const struct th_server *ts = tgt.server ? tgt.server : &s->target;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.yaml", th_tmpdir(), name);
	f = fopen(path, "w");
	if (!f)
		TEST_FAILF("cannot write %s", path);
	fprintf(f,
		"apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: %s}\nspec:\n"
		"  mode: %s\n"
		"  source: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_SRC}\","
		" serverId: 777001}\n"
		"  target: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_TGT}\"%s}\n"
		"%s",
		name, mode, ss->port, src.user ? src.user : ss->src_user, ts->port,
		tgt.user ? tgt.user : ts->tgt_user,
		spec_extra && strstr(spec_extra, "#tidb") ? ", dialect: tidb" : "",
		spec_extra ? spec_extra : "");
	fclose(f);
	(void)src.password;
	return path;
}

/* Run `barge check --json path`; returns the exit status, *doc the parsed output. */
static int check_json(const char *path, struct endpoint_opt src, struct endpoint_opt tgt,
		      json_t **doc, char **raw)
{
	const struct th_servers *s = th_servers();
	char e1[160], e2[160];
	const char *env[] = {e1, e2, NULL};
	char *out = NULL;
	json_error_t jerr;
	int rc;

	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s",
		 src.password ? src.password : s->source.src_password);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s",
		 tgt.password ? tgt.password : s->target.tgt_password);
	rc = th_run(&out, env, "'%s' check --json '%s' 2>/dev/null", th_barge_bin(), path);
	*doc = json_loads(out, 0, &jerr);
	if (!*doc)
		TEST_FAILF("barge check exited %d with output that is not JSON (%s):\n%s", rc,
			   jerr.text, out);
	if (raw)
		*raw = out;
	else
		free(out);
	return rc;
}

static const char *state(json_t *doc, const char *id)
{
	return json_string_value(json_object_get(th_check_item(doc, id), "state"));
}

static const char *message(json_t *doc, const char *id)
{
	return json_string_value(json_object_get(th_check_item(doc, id), "message"));
}

static const char *instruction(json_t *doc, const char *id)
{
	const char *s = json_string_value(json_object_get(th_check_item(doc, id), "instruction"));

	return s ? s : "";
}

static const struct endpoint_opt DEF = {NULL, NULL, NULL};

/* A database with one keyed table on the source and none on the target. */
static void keyed_db(const char *db)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;

	th_fresh_db(&s->source, db);
	c = th_connect(&s->target, NULL);
	th_exec(c, "DROP DATABASE IF EXISTS `%s`", db);
	mysql_close(c);
	c = th_connect(&s->source, db);
	th_exec(c, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)) CHARSET utf8mb4 "
		   "COLLATE utf8mb4_bin");
	th_exec(c, "INSERT INTO t VALUES (1, 'a'), (2, 'b')");
	mysql_close(c);
}

static char *allow(const char *db)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "  objects: {allow: [{schema: %s}]}\n", db);
	return buf;
}

TEST(healthy_job_passes)
{
	json_t *doc;
	int rc;

	keyed_db("pc_ok");
	rc = check_json(write_job("pc_ok", "all", DEF, DEF, allow("pc_ok")), DEF, DEF, &doc,
			NULL);
	ASSERT_EQ_INT(rc, 0);
	ASSERT_TRUE(json_is_true(json_object_get(doc, "ok")));
	static const char *const pass[] = {
		"source-connect", "target-connect", "source-version", "source-privileges",
		"target-privileges", "binlog-enabled", "binlog-format", "binlog-row-image",
		"binlog-row-value-options", "binlog-retention", "binlog-start-position",
		"source-connection-limit", "target-connection-limit", "table-keys",
		"tidb-charsets", "target-tables", NULL};
	for (size_t i = 0; pass[i]; i++) {
		if (strcmp(state(doc, pass[i]), "pass") != 0)
			TEST_FAILF("%s: %s: %s", pass[i], state(doc, pass[i]), message(doc, pass[i]));
	}
	ASSERT_CONTAINS(message(doc, "source-version"), "MariaDB");
	/* SHOW SLAVE HOSTS needs REPLICATION MASTER ADMIN on MariaDB 10.5+, beyond the seed's
	 * grants: the item says it cannot check rather than passing */
	ASSERT_EQ_STR(state(doc, "server-id"), "warning");
	ASSERT_CONTAINS(message(doc, "server-id"), "cannot be checked");
	/* free space cannot be measured on a MariaDB target */
	ASSERT_EQ_STR(state(doc, "target-storage"), "warning");
	ASSERT_CONTAINS(message(doc, "target-storage"), "cannot be checked");
	json_decref(doc);
}

TEST(text_output_and_exit_status)
{
	const struct th_servers *s = th_servers();
	char e1[160], e2[160];
	const char *env[] = {e1, e2, NULL};
	char *out = NULL;

	keyed_db("pc_text");
	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", s->target.tgt_password);
	ASSERT_EQ_INT(th_run(&out, env, "'%s' check '%s'", th_barge_bin(),
			     write_job("pc_text", "full", DEF, DEF, allow("pc_text"))),
		      0);
	ASSERT_CONTAINS(out, "job pc_text:");
	ASSERT_CONTAINS(out, "Pass");
	ASSERT_CONTAINS(out, "binlog-format");
	ASSERT_CONTAINS(out, "0 failed");
	free(out);
}

TEST(source_user_without_replication_privileges)
{
	const struct th_servers *s = th_servers();
	MYSQL *c = th_connect(&s->source, NULL);
	struct endpoint_opt src = {NULL, "pc_norepl", PC_PASSWORD};
	json_t *doc;
	char *raw = NULL;

	keyed_db("pc_priv");
	th_exec(c, "DROP USER IF EXISTS 'pc_norepl'@'%%'");
	th_exec(c, "CREATE USER 'pc_norepl'@'%%' IDENTIFIED BY '" PC_PASSWORD "'");
	th_exec(c, "GRANT SELECT, LOCK TABLES ON *.* TO 'pc_norepl'@'%%'");
	ASSERT_EQ_INT(check_json(write_job("pc_priv", "all", src, DEF, allow("pc_priv")), src,
				 DEF, &doc, &raw),
		      1);
	ASSERT_EQ_STR(state(doc, "source-privileges"), "failed");
	ASSERT_CONTAINS(message(doc, "source-privileges"), "REPLICATION SLAVE");
	ASSERT_CONTAINS(message(doc, "source-privileges"), "REPLICATION CLIENT");
	ASSERT_CONTAINS(instruction(doc, "source-privileges"),
			"GRANT SELECT,LOCK TABLES,REPLICATION SLAVE,REPLICATION CLIENT ON *.* TO "
			"'pc_norepl'@'%'");
	ASSERT_NOT_CONTAINS(raw, PC_PASSWORD);
	ASSERT_FALSE(json_is_true(json_object_get(doc, "ok")));
	json_decref(doc);
	free(raw);

	/* a full-only job needs no replication privileges */
	ASSERT_EQ_INT(check_json(write_job("pc_priv", "full", src, DEF, allow("pc_priv")), src,
				 DEF, &doc, NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "source-privileges"), "pass");
	json_decref(doc);

	/* database-level SELECT on another database does not cover the job's */
	th_exec(c, "REVOKE SELECT ON *.* FROM 'pc_norepl'@'%%'");
	th_exec(c, "GRANT SELECT ON `other\\_db`.* TO 'pc_norepl'@'%%'");
	ASSERT_EQ_INT(check_json(write_job("pc_priv", "full", src, DEF, allow("pc_priv")), src,
				 DEF, &doc, NULL),
		      1);
	ASSERT_EQ_STR(state(doc, "source-privileges"), "failed");
	ASSERT_CONTAINS(message(doc, "source-privileges"), "sees no table");
	json_decref(doc);
	th_exec(c, "DROP USER 'pc_norepl'@'%%'");
	mysql_close(c);
}

TEST(target_user_without_privileges)
{
	const struct th_servers *s = th_servers();
	MYSQL *c = th_connect(&s->target, NULL);
	struct endpoint_opt tgt = {NULL, "pc_tgt_ro", PC_PASSWORD};
	json_t *doc;
	char *raw = NULL;

	keyed_db("pc_tpriv");
	th_exec(c, "DROP USER IF EXISTS 'pc_tgt_ro'@'%%'");
	th_exec(c, "CREATE USER 'pc_tgt_ro'@'%%' IDENTIFIED BY '" PC_PASSWORD "'");
	th_exec(c, "GRANT SELECT, INSERT ON *.* TO 'pc_tgt_ro'@'%%'");
	ASSERT_EQ_INT(check_json(write_job("pc_tpriv", "full", DEF, tgt, allow("pc_tpriv")), DEF,
				 tgt, &doc, &raw),
		      1);
	ASSERT_EQ_STR(state(doc, "target-privileges"), "failed");
	ASSERT_CONTAINS(message(doc, "target-privileges"), "CREATE");
	ASSERT_CONTAINS(message(doc, "target-privileges"), "DROP");
	ASSERT_CONTAINS(instruction(doc, "target-privileges"),
			"GRANT CREATE,SELECT,INSERT,UPDATE,DELETE,ALTER,DROP,INDEX ON *.* TO "
			"'pc_tgt_ro'@'%'");
	ASSERT_NOT_CONTAINS(raw, PC_PASSWORD);
	json_decref(doc);
	free(raw);
	th_exec(c, "DROP USER 'pc_tgt_ro'@'%%'");
	mysql_close(c);
}

TEST(wrong_password_fails_connect_without_leaking_it)
{
	struct endpoint_opt src = {NULL, NULL, PC_PASSWORD};
	json_t *doc;
	char *raw = NULL;

	keyed_db("pc_pw");
	ASSERT_EQ_INT(check_json(write_job("pc_pw", "all", src, DEF, allow("pc_pw")), src, DEF,
				 &doc, &raw),
		      1);
	ASSERT_EQ_STR(state(doc, "source-connect"), "failed");
	ASSERT_CONTAINS(message(doc, "source-connect"),
			"Failed to connect to the source database using given parameters");
	ASSERT_EQ_STR(state(doc, "binlog-format"), "failed");
	ASSERT_CONTAINS(message(doc, "binlog-format"), "no connection to the source");
	ASSERT_EQ_STR(state(doc, "target-connect"), "pass");
	ASSERT_NOT_CONTAINS(raw, PC_PASSWORD);
	json_decref(doc);
	free(raw);
}

/* SET GLOBAL var = value on the source, run a check of a mode-all job, restore. */
static json_t *check_with_global(const char *db, const char *set, const char *restore)
{
	MYSQL *c = th_connect(&th_servers()->source, NULL);
	json_t *doc;

	th_exec(c, "%s", set);
	check_json(write_job(db, "all", DEF, DEF, allow(db)), DEF, DEF, &doc, NULL);
	th_exec(c, "%s", restore);
	mysql_close(c);
	return doc;
}

TEST(binlog_format_statement_fails)
{
	json_t *doc;

	keyed_db("pc_fmt");
	doc = check_with_global("pc_fmt", "SET GLOBAL binlog_format = 'STATEMENT'",
				"SET GLOBAL binlog_format = 'ROW'");
	ASSERT_EQ_STR(state(doc, "binlog-format"), "failed");
	ASSERT_CONTAINS(message(doc, "binlog-format"), "STATEMENT");
	ASSERT_CONTAINS(instruction(doc, "binlog-format"), "SET GLOBAL binlog_format = 'ROW'");
	json_decref(doc);
}

TEST(binlog_row_image_minimal_fails)
{
	json_t *doc;

	keyed_db("pc_img");
	doc = check_with_global("pc_img", "SET GLOBAL binlog_row_image = 'MINIMAL'",
				"SET GLOBAL binlog_row_image = 'FULL'");
	ASSERT_EQ_STR(state(doc, "binlog-row-image"), "failed");
	ASSERT_CONTAINS(message(doc, "binlog-row-image"), "MINIMAL");
	json_decref(doc);
}

TEST(short_binlog_retention_warns)
{
	json_t *doc;

	keyed_db("pc_ret");
	doc = check_with_global("pc_ret", "SET GLOBAL binlog_expire_logs_seconds = 3600",
				"SET GLOBAL expire_logs_days = 2");
	ASSERT_EQ_STR(state(doc, "binlog-retention"), "warning");
	ASSERT_CONTAINS(message(doc, "binlog-retention"), "1.0 hours");
	ASSERT_CONTAINS(instruction(doc, "binlog-retention"), "binlog_expire_logs_seconds");
	ASSERT_CONTAINS(instruction(doc, "binlog-retention"), "expire_logs_days");
	json_decref(doc);
}

TEST(source_without_binlog_fails)
{
	const struct th_servers *s = th_servers();
	/* the target server runs with --skip-log-bin: use it as a source */
	struct endpoint_opt src = {&s->target, s->target.admin_user, s->target.admin_password};
	json_t *doc;

	keyed_db("pc_nobin");
	ASSERT_EQ_INT(check_json(write_job("pc_nobin", "all", src, DEF, allow("pc_nobin")), src,
				 DEF, &doc, NULL),
		      1);
	ASSERT_EQ_STR(state(doc, "binlog-enabled"), "failed");
	ASSERT_CONTAINS(message(doc, "binlog-enabled"), "log_bin is OFF");
	json_decref(doc);
}

TEST(start_binlog_purged_fails)
{
	MYSQL *c = th_connect(&th_servers()->source, NULL);
	char *file = NULL, extra[512];
	json_t *doc;

	keyed_db("pc_start");
	{
		MYSQL_RES *res;
		MYSQL_ROW row;

		if (mysql_query(c, "SHOW MASTER STATUS") || !(res = mysql_store_result(c)))
			TEST_FAILF("SHOW MASTER STATUS: %s", mysql_error(c));
		row = mysql_fetch_row(res);
		ASSERT_TRUE(row != NULL);
		file = strdup(row[0]);
		mysql_free_result(res);
	}
	snprintf(extra, sizeof extra,
		 "%s  incremental: {start: {binlogName: %s, binlogPos: 4}}\n", allow("pc_start"),
		 file);
	ASSERT_EQ_INT(check_json(write_job("pc_start", "incremental", DEF, DEF, extra), DEF, DEF,
				 &doc, NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "binlog-start-position"), "pass");
	json_decref(doc);

	snprintf(extra, sizeof extra,
		 "%s  incremental: {start: {binlogName: mysql-bin.999999, binlogPos: 4}}\n",
		 allow("pc_start"));
	ASSERT_EQ_INT(check_json(write_job("pc_start", "incremental", DEF, DEF, extra), DEF, DEF,
				 &doc, NULL),
		      1);
	ASSERT_EQ_STR(state(doc, "binlog-start-position"), "failed");
	ASSERT_CONTAINS(message(doc, "binlog-start-position"),
			"The required binary log for migration no longer exists on the source "
			"database. Please make sure binary log files are kept for long enough time "
			"for migration to succeed.");
	json_decref(doc);
	free(file);
	mysql_close(c);
}

TEST(server_id_in_use_fails)
{
	const struct th_servers *s = th_servers();
	struct barge_endpoint ep = {0};
	struct barge_db *db = NULL;
	struct barge_binlog_stream *stream = NULL;
	struct barge_stream_opts so = {.server_id = 777001, .non_blocking = false};
	struct barge_err err = {0};
	char pw[160];
	struct endpoint_opt admin = {NULL, s->source.admin_user, s->source.admin_password};
	json_t *doc;

	keyed_db("pc_sid");
	snprintf(pw, sizeof pw, "%s", s->source.src_password);
	setenv("BARGE_T_PC_SID", pw, 1);
	ep.host = "127.0.0.1";
	ep.port = s->source.port;
	ep.user = (char *)s->source.src_user;
	ep.password = "${env:BARGE_T_PC_SID}";

	/* SHOW SLAVE HOSTS needs REPLICATION MASTER ADMIN on MariaDB 10.5+: check as admin */
	ASSERT_EQ_INT(check_json(write_job("pc_sid", "all", admin, DEF, allow("pc_sid")), admin,
				 DEF, &doc, NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "server-id"), "pass");
	json_decref(doc);
	ASSERT_OK(barge_db_connect(&ep, BARGE_DB_SOURCE, th_tmpdir(), NULL, &db, &err));
	ASSERT_OK(barge_binlog_stream_open(db, &so, &stream, &err));
	ASSERT_EQ_INT(check_json(write_job("pc_sid", "all", admin, DEF, allow("pc_sid")), admin,
				 DEF, &doc, NULL),
		      1);
	ASSERT_EQ_STR(state(doc, "server-id"), "failed");
	ASSERT_CONTAINS(message(doc, "server-id"),
			"The replica server id is already used by another replica of the source.");
	ASSERT_CONTAINS(message(doc, "server-id"), "777001");
	ASSERT_CONTAINS(instruction(doc, "server-id"), "serverId");
	json_decref(doc);

	barge_binlog_stream_close(stream);
	barge_db_close(db);
}

TEST(connection_limit_reached_fails)
{
	MYSQL *c = th_connect(&th_servers()->source, NULL);
	long long max = th_query_int(c, "SELECT @@global.max_connections");
	char extra[512];
	json_t *doc;

	keyed_db("pc_conn");
	ASSERT_EQ_INT(check_json(write_job("pc_conn", "full", DEF, DEF, allow("pc_conn")), DEF,
				 DEF, &doc, NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "source-connection-limit"), "pass");
	json_decref(doc);
	/* MariaDB's smallest max_connections is 10; 16 dump threads need 17 */
	snprintf(extra, sizeof extra, "%s  full: {threads: 16}\n", allow("pc_conn"));
	th_exec(c, "SET GLOBAL max_connections = 10");
	check_json(write_job("pc_conn", "full", DEF, DEF, extra), DEF, DEF, &doc, NULL);
	th_exec(c, "SET GLOBAL max_connections = %lld", max);
	mysql_close(c);
	ASSERT_EQ_STR(state(doc, "source-connection-limit"), "failed");
	ASSERT_CONTAINS(message(doc, "source-connection-limit"), "barge needs 17");
	ASSERT_CONTAINS(instruction(doc, "source-connection-limit"), "max_connections");
	json_decref(doc);
}

TEST(table_without_key_warns_and_can_be_ignored)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;
	json_t *doc;
	char extra[512];

	keyed_db("pc_keys");
	c = th_connect(&s->source, "pc_keys");
	th_exec(c, "CREATE TABLE nokey (a INT, b VARCHAR(10))");
	th_exec(c, "CREATE TABLE nullable_uk (a INT NULL, UNIQUE KEY (a))");
	mysql_close(c);
	ASSERT_EQ_INT(check_json(write_job("pc_keys", "all", DEF, DEF, allow("pc_keys")), DEF,
				 DEF, &doc, NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "table-keys"), "warning");
	ASSERT_CONTAINS(message(doc, "table-keys"), "pc_keys.nokey");
	ASSERT_CONTAINS(message(doc, "table-keys"), "pc_keys.nullable_uk");
	ASSERT_NOT_CONTAINS(message(doc, "table-keys"), "pc_keys.t");
	ASSERT_CONTAINS(message(doc, "table-keys"),
			"some data might be duplicated in the downstream cluster");
	json_decref(doc);

	snprintf(extra, sizeof extra, "%s  precheck: {ignore: [table-keys, target-storage]}\n",
		 allow("pc_keys"));
	ASSERT_EQ_INT(check_json(write_job("pc_keys", "all", DEF, DEF, extra), DEF, DEF, &doc,
				 NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "table-keys"), "skipped");
	ASSERT_EQ_STR(state(doc, "target-storage"), "skipped");
	ASSERT_EQ_INT((int)json_integer_value(json_object_get(
			      json_object_get(json_array_get(json_object_get(doc, "jobs"), 0),
					      "summary"),
			      "skipped")),
		      2);
	json_decref(doc);
}

TEST(target_table_with_other_definition_warns)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;
	json_t *doc;

	keyed_db("pc_tt");
	c = th_connect(&s->target, NULL);
	th_exec(c, "CREATE DATABASE pc_tt");
	th_exec(c, "CREATE TABLE pc_tt.t (id INT(11) PRIMARY KEY, v VARCHAR(20))");
	mysql_close(c);
	ASSERT_EQ_INT(check_json(write_job("pc_tt", "full", DEF, DEF, allow("pc_tt")), DEF, DEF,
				 &doc, NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "target-tables"), "pass");
	ASSERT_CONTAINS(message(doc, "target-tables"), "1 of 1");
	json_decref(doc);

	c = th_connect(&s->target, NULL);
	th_exec(c, "ALTER TABLE pc_tt.t MODIFY v INT");
	mysql_close(c);
	ASSERT_EQ_INT(check_json(write_job("pc_tt", "full", DEF, DEF, allow("pc_tt")), DEF, DEF,
				 &doc, NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "target-tables"), "warning");
	ASSERT_CONTAINS(message(doc, "target-tables"), "pc_tt.t: column v is int");
	json_decref(doc);

	c = th_connect(&s->target, NULL);
	th_exec(c, "ALTER TABLE pc_tt.t DROP COLUMN v");
	mysql_close(c);
	ASSERT_EQ_INT(check_json(write_job("pc_tt", "full", DEF, DEF, allow("pc_tt")), DEF, DEF,
				 &doc, NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "target-tables"), "warning");
	ASSERT_CONTAINS(message(doc, "target-tables"), "source column v is missing");
	json_decref(doc);
}

TEST(tidb_dialect_items)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;
	json_t *doc;
	char extra[512];
	static const char *const tidb_items[] = {"tidb-charsets", "tidb-indexes",
						 "tidb-foreign-keys", "tidb-storage-engines",
						 "tidb-unmigrated-objects", NULL};

	struct endpoint_opt admin = {NULL, s->source.admin_user, s->source.admin_password};

	keyed_db("pc_tidb");
	snprintf(extra, sizeof extra, "%s  #tidb\n", allow("pc_tidb"));
	ASSERT_EQ_INT(check_json(write_job("pc_tidb", "full", DEF, DEF, extra), DEF, DEF, &doc,
				 NULL),
		      0);
	for (size_t i = 0; tidb_items[i]; i++)
		if (strcmp(state(doc, tidb_items[i]), "pass") != 0)
			TEST_FAILF("%s: %s: %s", tidb_items[i], state(doc, tidb_items[i]),
				   message(doc, tidb_items[i]));
	json_decref(doc);

	c = th_connect(&s->source, "pc_tidb");
	th_exec(c, "CREATE TABLE l1 (id INT PRIMARY KEY, s VARCHAR(10)) CHARSET latin1 "
		   "COLLATE latin1_swedish_ci");
	th_exec(c, "CREATE TABLE ft (id INT PRIMARY KEY, body TEXT, FULLTEXT KEY ftx (body)) "
		   "CHARSET utf8mb4 COLLATE utf8mb4_bin");
	th_exec(c, "CREATE TABLE child (id INT PRIMARY KEY, pid INT, "
		   "CONSTRAINT fk_parent FOREIGN KEY (pid) REFERENCES t (id)) ENGINE=InnoDB");
	th_exec(c, "CREATE TABLE my (id INT PRIMARY KEY) ENGINE=MyISAM");
	th_exec(c, "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.v = UPPER(NEW.v)");
	th_exec(c, "CREATE PROCEDURE proc1() SELECT 1");
	mysql_close(c);
	/* information_schema.TRIGGERS shows triggers only to users with TRIGGER: check as admin */
	ASSERT_EQ_INT(check_json(write_job("pc_tidb", "full", admin, DEF, extra), admin, DEF,
				 &doc, NULL),
		      0);
	for (size_t i = 0; tidb_items[i]; i++)
		if (strcmp(state(doc, tidb_items[i]), "warning") != 0)
			TEST_FAILF("%s: %s: %s", tidb_items[i], state(doc, tidb_items[i]),
				   message(doc, tidb_items[i]));
	ASSERT_CONTAINS(message(doc, "tidb-charsets"), "pc_tidb.l1");
	ASSERT_CONTAINS(message(doc, "tidb-charsets"), "latin1_swedish_ci");
	ASSERT_CONTAINS(message(doc, "tidb-indexes"), "pc_tidb.ft (ftx FULLTEXT)");
	ASSERT_CONTAINS(message(doc, "tidb-foreign-keys"), "pc_tidb.child (fk_parent)");
	ASSERT_CONTAINS(message(doc, "tidb-storage-engines"), "pc_tidb.my (MyISAM)");
	ASSERT_CONTAINS(message(doc, "tidb-unmigrated-objects"), "pc_tidb.t (trigger trg)");
	ASSERT_CONTAINS(message(doc, "tidb-unmigrated-objects"), "pc_tidb.proc1 (procedure)");
	json_decref(doc);

	/* without dialect tidb none of this is looked at */
	ASSERT_EQ_INT(check_json(write_job("pc_tidb", "full", DEF, DEF, allow("pc_tidb")), DEF,
				 DEF, &doc, NULL),
		      0);
	ASSERT_EQ_STR(state(doc, "tidb-indexes"), "pass");
	ASSERT_CONTAINS(message(doc, "tidb-indexes"), "not needed");
	json_decref(doc);
}

/* The precheck runs by itself when a job starts: a Failed item stops it before anything is
 * copied, with the item's instruction in status; precheck.ignore lets the job through. */
TEST(a_starting_job_is_prechecked_and_stopped_by_a_failed_item)
{
	const struct th_servers *s = th_servers();
	MYSQL *c = th_connect(&s->source, NULL), *t = th_connect(&s->target, NULL);
	struct endpoint_opt src = {NULL, "pc_auto", PC_PASSWORD};
	char e1[160], e2[160], *out = NULL;
	const char *env[] = {e1, e2, NULL};
	const char *path;

	keyed_db("pc_auto");
	th_exec(c, "DROP USER IF EXISTS 'pc_auto'@'%%'");
	th_exec(c, "CREATE USER 'pc_auto'@'%%' IDENTIFIED BY '" PC_PASSWORD "'");
	th_exec(c, "GRANT SELECT, LOCK TABLES ON *.* TO 'pc_auto'@'%%'");
	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", PC_PASSWORD);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", s->target.tgt_password);

	/* mode all without REPLICATION SLAVE: stopped in Prechecking, nothing copied */
	path = write_job("pc-auto", "all", src, DEF, allow("pc_auto"));
	ASSERT_EQ_INT(th_run(&out, env, "'%s' run --once '%s'", th_barge_bin(), path), 1);
	ASSERT_CONTAINS(out, "precheck failed");
	ASSERT_CONTAINS(out, "source-privileges");
	ASSERT_NOT_CONTAINS(out, PC_PASSWORD);
	free(out);
	ASSERT_EQ_INT(th_run(&out, env, "'%s' status --json pc-auto", th_barge_bin()), 0);
	ASSERT_CONTAINS(out, "\"code\": \"PRECHECK\"");
	ASSERT_CONTAINS(out, "GRANT SELECT,LOCK TABLES,REPLICATION SLAVE,REPLICATION CLIENT");
	free(out);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM information_schema.SCHEMATA "
				      "WHERE SCHEMA_NAME = 'pc_auto'"), 0);

	/* mode full needs no replication: the precheck passes and the copy is made */
	path = write_job("pc-auto-full", "full", src, DEF, allow("pc_auto"));
	if (th_run(&out, env, "'%s' run --once '%s'", th_barge_bin(), path) != 0)
		TEST_FAILF("the full job did not finish:\n%s", out);
	ASSERT_CONTAINS(out, "precheck:");
	free(out);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "pc_auto", "t", &s->target, "pc_auto", "t"), 2);
	th_exec(c, "DROP USER 'pc_auto'@'%%'");
	mysql_close(c);
	mysql_close(t);
}

TEST_MAIN()
