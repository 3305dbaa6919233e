/*
 * test_binlog_live.c — the decoder against a live MariaDB: a workload over every column type
 * is decoded by barge (from the file and from a replication stream) and by mariadb-binlog
 * --verbose, and the row images are compared value by value; the decoded values written back
 * as SQL rebuild the table exactly.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/binlog.h"
#include "engine/binlog_io.h"
#include "engine/buf.h"
#include "engine/rowimage.h"
#include "tests/integration/harness.h"
#include "tests/test.h"

#define TYPES_TABLE                                                                              \
	"(id INT PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED," \
	" mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT,"              \
	" biu BIGINT UNSIGNED, de DECIMAL(65,30), d2 DECIMAL(10,2), f FLOAT, db DOUBLE,"         \
	" b1 BIT(1), b64 BIT(64), b10 BIT(10), dt DATE, dtm0 DATETIME, dtm3 DATETIME(3),"        \
	" dtm6 DATETIME(6), ts0 TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL, tm0 TIME, tm2 TIME(2),"   \
	" tm6 TIME(6), y YEAR, c CHAR(10), vc VARCHAR(300), tx TEXT, mb4 VARCHAR(20),"           \
	" l1 VARCHAR(20) CHARACTER SET latin1, vb VARCHAR(20) COLLATE utf8mb4_bin,"              \
	" bn BINARY(6), vbn VARBINARY(20), bl BLOB, e ENUM('a','b','c'), st SET('x','y','z'),"   \
	" j JSON, g GEOMETRY, p POINT)"

static const char *const workload[] = {
	"INSERT INTO t VALUES (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648,"
	" 4294967295, -9223372036854775808, 18446744073709551615,"
	" '-12345678901234567890123456789012345.123456789012345678901234567890', 12345678.90,"
	" 1.0000001, -1.7976931348623157e308, b'1', b'1111111111111111111111111111111111111111111111111111111111111111',"
	" b'1010101010', '1000-01-01', '1000-01-01 00:00:00', '2024-02-29 23:59:59.999',"
	" '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999',"
	" '-838:59:59', '-12:34:56.78', '838:59:58.999999', 1901, 'abc', 'héllo wörld',"
	" 'long\\ntext\\twith\\\\escapes', '😀 𝄞', _latin1 X'E9E8F4FF', 'CaSe', X'0001FF000A27',"
	" X'00FF005C', X'0000FFFE5C5C0A0D0927', 'b', 'x,z', '{\"k\": [1, 2.5, \"s\"]}',"
	" ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), ST_GeomFromText('POINT(1.5 -2.25)'))",
	"INSERT INTO t VALUES (2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3.40282e38, 5e-324, b'0',"
	" b'0', b'0', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000',"
	" '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', NULL, '00:00:00', '-00:00:00.01',"
	" '-00:00:00.000001', 0, '', '', '', '', '', '', X'', X'', X'', '', '', '[]', NULL, NULL)",
	"INSERT INTO t (id) VALUES (3)",
	"UPDATE t SET vc = 'changed', tiu = 7, j = '{\"x\": null}' WHERE id = 1",
	"UPDATE t SET id = 20, ts6 = '2001-09-09 01:46:40.5' WHERE id = 2",
	"DELETE FROM t WHERE id = 3",
};

/* The "###   @N=value" lines of a decode, in order, with mariadb-binlog's padding trimmed. */
static char **value_lines(const char *out, size_t *n)
{
	char **lines = NULL;
	const char *p = out;

	*n = 0;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > 6 && strncmp(p, "###   ", 6) == 0) {
			while (len && p[len - 1] == ' ')
				len--;
			lines = realloc(lines, (*n + 1) * sizeof *lines);
			lines[(*n)++] = strndup(p + 6, len - 6);
		}
		p = nl ? nl + 1 : NULL;
	}
	return lines;
}

/*
 * One value as canonical bytes: quoted strings unescaped (mariadb-binlog: \xHH and \'; barge:
 * also \\), mariadb-binlog's "DATE with colons" and "signed (unsigned)" forms reduced.
 */
static void canon(const char *v, bool mariadb, struct barge_buf *out)
{
	size_t len = strlen(v);

	if (len >= 2 && v[0] == '\'' && v[len - 1] == '\'') {
		for (size_t i = 1; i + 1 < len; i++) {
			if (v[i] == '\\' && v[i + 1] == 'x' && i + 3 < len && isxdigit((unsigned char)v[i + 2]) &&
			    isxdigit((unsigned char)v[i + 3])) {
				char hex[3] = {v[i + 2], v[i + 3], 0};

				barge_buf_putc(out, (char)strtol(hex, NULL, 16));
				i += 3;
			} else if (v[i] == '\\' && i + 2 < len &&
				   (v[i + 1] == '\'' || (!mariadb && v[i + 1] == '\\'))) {
				/* (mariadb-binlog does not escape a backslash, so one before the
				 * closing quote is itself) */
				barge_buf_putc(out, v[++i]);
			} else {
				barge_buf_putc(out, v[i]);
			}
		}
		/* DATE: mariadb-binlog writes 2024:02:29 */
		if (out->len == 10 && out->data[4] == ':' && out->data[7] == ':')
			out->data[4] = out->data[7] = '-';
		return;
	}
	/* "-6 (250)": the signed form is the one both print */
	barge_buf_append(out, v, strcspn(v, " "));
}

/*
 * mariadb-binlog prints a FLOAT with 6 significant digits (1.0000001 reads "1"); barge prints
 * as many as the value needs to read back exactly.  Numbers that agree to 6 digits are the
 * same value seen through that printf.
 */
static bool same_float(const char *ours, const char *theirs)
{
	char *e1, *e2;
	double a = strtod(ours, &e1), b = strtod(theirs, &e2);
	char pa[64], pb[64];

	if (*e1 || *e2 || e1 == ours || e2 == theirs)
		return false;
	snprintf(pa, sizeof pa, "%.6g", a);
	snprintf(pb, sizeof pb, "%.6g", b);
	return strcmp(pa, pb) == 0;
}

static void compare_decodes(const char *barge_out, const char *maria_out)
{
	size_t nb, nm;
	char **b = value_lines(barge_out, &nb), **m = value_lines(maria_out, &nm);
	size_t j = 0;

	ASSERT_TRUE(nb > 100);
	for (size_t i = 0; i < nb; i++) {
		struct barge_buf cb, cm;
		const char *eq_b = strchr(b[i], '=');

		/* mariadb-binlog leaves out values it cannot print (some binary columns): match
		 * columns by their @N */
		while (j < nm && strncmp(m[j], b[i], (size_t)(eq_b - b[i] + 1)) != 0)
			j++;
		if (j >= nm)
			continue;
		barge_buf_init(&cb, BARGE_BUF_NOCAP);
		barge_buf_init(&cm, BARGE_BUF_NOCAP);
		canon(eq_b + 1, false, &cb);
		canon(strchr(m[j], '=') + 1, true, &cm);
		/* mariadb-binlog adds 1900 to every YEAR byte, the zero year too; barge writes
		 * the zero year as 0 (YEAR 0000), the value it is */
		if (!strcmp(barge_buf_cstr(&cb), "0") && !strcmp(barge_buf_cstr(&cm), "1900"))
			barge_buf_puts(&cb, "");
		else if ((cb.len != cm.len ||
			  memcmp(barge_buf_cstr(&cb), barge_buf_cstr(&cm), cb.len) != 0) &&
			 !same_float(barge_buf_cstr(&cb), barge_buf_cstr(&cm)))
			TEST_FAILF("value %zu differs:\n    barge:         %s\n    mariadb-binlog: %s",
				   i, b[i], m[j]);
		barge_buf_dispose(&cb);
		barge_buf_dispose(&cm);
		j++;
	}
	for (size_t i = 0; i < nb; i++)
		free(b[i]);
	for (size_t i = 0; i < nm; i++)
		free(m[i]);
	free(b);
	free(m);
}

/* Run the workload in a fresh database, in a binlog file of its own; return its path. */
static char *workload_binlog(const char *db)
{
	const struct th_servers *s = th_servers();
	MYSQL *c;
	char *file, *path;

	th_fresh_db(&s->source, db);
	c = th_connect(&s->source, db);
	th_exec(c, "CREATE TABLE t " TYPES_TABLE);
	th_exec(c, "FLUSH BINARY LOGS");
	file = th_query_value(c, "SHOW MASTER STATUS");
	th_exec(c, "SET SESSION time_zone = '+00:00', sql_mode = ''");
	for (size_t i = 0; i < sizeof workload / sizeof workload[0]; i++)
		th_exec(c, "%s", workload[i]);
	th_exec(c, "FLUSH BINARY LOGS");
	mysql_close(c);
	if (asprintf(&path, "%s/data/%s", s->source.dir, file) < 0)
		abort();
	free(file);
	return path;
}

TEST(barge_and_mariadb_binlog_read_the_same_values)
{
	char *path = workload_binlog("live_decode"), *ours = NULL, *theirs = NULL;

	ASSERT_EQ_INT(th_run(&ours, NULL, "'%s' binlog decode '%s'", th_barge_bin(), path), 0);
	ASSERT_EQ_INT(th_run(&theirs, NULL, "mariadb-binlog --base64-output=decode-rows --verbose '%s'",
			     path),
		      0);
	ASSERT_CONTAINS(ours, "### INSERT INTO `live_decode`.`t`");
	ASSERT_CONTAINS(ours, "### UPDATE `live_decode`.`t`");
	ASSERT_CONTAINS(ours, "### DELETE FROM `live_decode`.`t`");
	compare_decodes(ours, theirs);
	free(ours);
	free(theirs);
	free(path);
}

TEST(a_stream_decodes_like_the_file)
{
	const struct th_servers *s = th_servers();
	char *path = workload_binlog("live_stream"), *file_out = NULL, *stream_out = NULL;
	const char *base = strrchr(path, '/') + 1;
	char env[128];
	const char *envp[] = {env, NULL};
	size_t nf, ns;
	char **f, **st;

	snprintf(env, sizeof env, "BARGE_T_PW=%s", s->source.src_password);
	ASSERT_EQ_INT(th_run(&file_out, NULL, "'%s' binlog decode '%s'", th_barge_bin(), path), 0);
	ASSERT_EQ_INT(th_run(&stream_out, envp,
			     "'%s' binlog decode --from 127.0.0.1:%u --user %s --password-env "
			     "BARGE_T_PW --server-id 777 --start %s:4",
			     th_barge_bin(), s->source.port, s->source.src_user, base),
		      0);
	f = value_lines(file_out, &nf);
	st = value_lines(stream_out, &ns);
	/* the stream runs on into later files; it starts with the same rows */
	ASSERT_TRUE(nf > 100);
	ASSERT_TRUE(ns >= nf);
	for (size_t i = 0; i < nf; i++)
		ASSERT_EQ_STR(st[i], f[i]);
	for (size_t i = 0; i < nf; i++)
		free(f[i]);
	for (size_t i = 0; i < ns; i++)
		free(st[i]);
	free(f);
	free(st);
	free(file_out);
	free(stream_out);
	free(path);
}

TEST(a_purged_start_position_is_the_seed_error)
{
	const struct th_servers *s = th_servers();
	char env[128];
	const char *envp[] = {env, NULL};
	char *out = NULL;

	snprintf(env, sizeof env, "BARGE_T_PW=%s", s->source.src_password);
	ASSERT_EQ_INT(th_run(&out, envp,
			     "'%s' binlog decode --from 127.0.0.1:%u --user %s --password-env "
			     "BARGE_T_PW --server-id 778 --start mysql-bin.999999:4",
			     th_barge_bin(), s->source.port, s->source.src_user),
		      1);
	ASSERT_CONTAINS(out, "The required binary log for migration no longer exists on the source "
			     "database. Please make sure binary log files are kept for long enough "
			     "time for migration to succeed.");
	ASSERT_NOT_CONTAINS(out, s->source.src_password);
	free(out);
}

/* Decoded values written back as SQL literals rebuild every row exactly. */
TEST(decoded_values_as_sql_rebuild_the_table)
{
	const struct th_servers *s = th_servers();
	char *path = workload_binlog("live_sql");
	MYSQL *src = th_connect(&s->source, "live_sql"), *tgt;
	struct barge_binlog b;
	struct barge_binlog_file *f = NULL;
	struct barge_err err = {0};
	const uint8_t *data;
	size_t len;
	uint64_t off;
	char *create = NULL, *charsets[64] = {0};
	int unsignedness[64] = {0}, rows = 0;
	MYSQL_RES *res;
	MYSQL_ROW row;

	/* the column facts the apply side takes from the source's schema */
	ASSERT_OK(mysql_query(src, "SELECT COLUMN_TYPE LIKE '%unsigned%', CHARACTER_SET_NAME FROM "
				   "information_schema.COLUMNS WHERE TABLE_SCHEMA = 'live_sql' AND "
				   "TABLE_NAME = 't' ORDER BY ORDINAL_POSITION"));
	res = mysql_store_result(src);
	for (int i = 0; (row = mysql_fetch_row(res)) != NULL && i < 64; i++) {
		unsignedness[i] = atoi(row[0]);
		charsets[i] = row[1] ? strdup(row[1]) : NULL;
	}
	mysql_free_result(res);
	ASSERT_OK(mysql_query(src, "SHOW CREATE TABLE t"));
	res = mysql_store_result(src);
	row = mysql_fetch_row(res);
	create = strdup(row[1]);
	mysql_free_result(res);
	th_fresh_db(&s->target, "live_sql");
	tgt = th_connect(&s->target, "live_sql");
	th_exec(tgt, "%s", create);
	th_exec(tgt, "SET SESSION time_zone = '+00:00', sql_mode = ''");

	barge_binlog_init(&b);
	ASSERT_OK(barge_binlog_file_open(path, &f, &err));
	while (barge_binlog_file_next(f, &data, &len, &off, &err) == 1) {
		struct barge_event ev;
		struct barge_rows it;
		struct barge_value before[64], after[64];

		ASSERT_OK(barge_binlog_decode(&b, data, len, off, false, &ev, &err));
		if (!barge_ev_is_rows(ev.type) || barge_ev_rows_kind(ev.type) != 'i')
			continue;
		ASSERT_OK(barge_rows_begin(&b, &ev, &it, &err));
		while (barge_rows_next(&it, before, after, &err) == 1) {
			struct barge_buf q;

			barge_buf_init(&q, BARGE_BUF_NOCAP);
			barge_buf_puts(&q, "INSERT INTO t VALUES (");
			for (size_t i = 0; i < it.map->ncols; i++) {
				if (i)
					barge_buf_puts(&q, ", ");
				ASSERT_OK(barge_value_append_sql(&q, &after[i],
								 unsignedness[i] ? BARGE_SQL_UNSIGNED : 0,
								 charsets[i]));
			}
			barge_buf_putc(&q, ')');
			th_exec(tgt, "%s", q.data);
			barge_buf_dispose(&q);
			rows++;
		}
	}
	barge_binlog_file_close(f);
	barge_binlog_dispose(&b);
	ASSERT_EQ_INT(rows, 3);
	/* the source's rows as they were inserted: undo the later updates and delete */
	th_fresh_db(&s->source, "live_sql_orig");
	th_exec(src, "CREATE TABLE live_sql_orig.t LIKE t");
	th_exec(src, "SET SESSION time_zone = '+00:00', sql_mode = ''");
	for (size_t i = 0; i < 3; i++) {
		char *stmt = strdup(workload[i]);

		th_exec(src, "USE live_sql_orig");
		th_exec(src, "%s", stmt);
		free(stmt);
	}
	ASSERT_EQ_INT(th_compare_tables(&s->source, "live_sql_orig", "t", &s->target, "live_sql", "t"),
		      3);
	for (int i = 0; i < 64; i++)
		free(charsets[i]);
	free(create);
	mysql_close(src);
	mysql_close(tgt);
	free(path);
}

TEST_MAIN()
