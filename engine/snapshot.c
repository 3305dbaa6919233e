/*
 * snapshot.c — readers at one point in time and its binlog position (see snapshot.h).
 */
#include "engine/snapshot.h"

#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/buf.h"
#include "engine/checkpoint.h"
#include "engine/log.h"

int barge_source_position(struct barge_db *src, struct barge_position *out,
			  struct barge_err *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char *gtid = NULL;
	int rc;

	rc = barge_db_query(src, "SHOW MASTER STATUS", &res, err);
	if (rc && err && err->db_errno == ER_PARSE_ERROR)
		rc = barge_db_query(src, "SHOW BINARY LOG STATUS", &res, err); /* MySQL 8.4+ */
	if (rc)
		return barge_err_wrap(err, "read the source's binlog position");
	row = mysql_fetch_row(res);
	if (!row || !row[0]) {
		mysql_free_result(res);
		return barge_err_set(err, BARGE_ESRC_QUERY,
				     "%s: the binary log is not enabled (SHOW MASTER STATUS is "
				     "empty); set log_bin and binlog_format=ROW on the source",
				     src->where);
	}
	if (mysql_num_fields(res) >= 5 && row[4] && *row[4])
		gtid = barge_xstrdup(row[4]); /* MySQL: Executed_Gtid_Set */
	barge_position_set(out, row[0], strtoull(row[1] ? row[1] : "0", NULL, 10), NULL);
	mysql_free_result(res);
	if (!gtid && barge_db_is_mariadb(src)) {
		rc = barge_db_query_value(src, "SELECT @@GLOBAL.gtid_binlog_pos", &gtid, NULL, err);
		if (rc)
			return barge_err_wrap(err, "read the source's GTID position");
	}
	if (gtid) {
		/* MySQL prints long sets over several lines */
		for (char *p = gtid; *p; p++)
			if (*p == '\n')
				*p = ' ';
		barge_position_set(out, out->binlog_name, out->binlog_pos, gtid);
		free(gtid);
	}
	return 0;
}

static int open_readers(const struct barge_endpoint *ep, const char *base_dir, size_t n,
			bool binary_results, struct barge_snapshot *s, struct barge_err *err)
{
	struct barge_db_opts opts = {.binary_results = binary_results};

	s->readers = barge_xcalloc(n, sizeof *s->readers);
	s->pos = barge_xcalloc(n, sizeof *s->pos);
	for (size_t i = 0; i < n; i++) {
		int rc = barge_db_connect(ep, BARGE_DB_SOURCE, base_dir, &opts, &s->readers[i], err);

		if (rc)
			return barge_err_wrap(err, "open snapshot reader %zu", i + 1);
		s->n = i + 1;
		rc = barge_db_exec(s->readers[i],
				   "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err);
		if (rc)
			return rc;
	}
	return 0;
}

static int start_transactions(struct barge_snapshot *s, struct barge_err *err)
{
	for (size_t i = 0; i < s->n; i++) {
		int rc = barge_db_exec(s->readers[i], "START TRANSACTION WITH CONSISTENT SNAPSHOT, "
						      "READ ONLY", err);

		if (rc)
			return rc;
	}
	return 0;
}

/* A MariaDB reader's own snapshot position. */
static int reader_snapshot_position(struct barge_db *r, struct barge_position *p,
				    struct barge_err *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char file[256] = "";
	uint64_t pos = 0;
	int rc = barge_db_query(r, "SHOW STATUS LIKE 'binlog_snapshot_%'", &res, err);

	if (rc)
		return rc;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (!row[0] || !row[1])
			continue;
		if (strcmp(row[0], "Binlog_snapshot_file") == 0)
			snprintf(file, sizeof file, "%s", row[1]);
		else if (strcmp(row[0], "Binlog_snapshot_position") == 0)
			pos = strtoull(row[1], NULL, 10);
	}
	mysql_free_result(res);
	if (!file[0])
		return barge_err_set(err, BARGE_ESRC_QUERY, "%s: no binlog snapshot position "
				     "(is log_bin on?)", r->where);
	barge_position_set(p, file, pos, NULL);
	return 0;
}

static int lock_tables_sql(struct barge_buf *b, const struct barge_table_info *t, size_t n)
{
	barge_buf_puts(b, "LOCK TABLES ");
	for (size_t i = 0; i < n; i++) {
		if (i)
			barge_buf_puts(b, ", ");
		barge_buf_append_qname(b, t[i].schema, t[i].name);
		barge_buf_puts(b, " READ");
	}
	return 0;
}

/* Take the lock with sql, start every reader's transaction, read the position, unlock. */
static int locked_snapshot(struct barge_db *ctl, const char *lock_sql, struct barge_snapshot *s,
			   struct barge_err *err)
{
	struct barge_position p = {0};
	double t0;
	int rc;

	t0 = (barge_clock_s() * 1000.0);
	rc = barge_db_exec(ctl, lock_sql, err);
	if (rc)
		return rc;
	rc = start_transactions(s, err);
	if (rc == 0)
		rc = barge_source_position(ctl, &p, err);
	if (barge_db_exec(ctl, "UNLOCK TABLES", rc ? NULL : err) != 0 && rc == 0)
		rc = err ? err->code : BARGE_ESRC_QUERY;
	s->lock_ms = (barge_clock_s() * 1000.0) - t0;
	if (rc == 0)
		for (size_t i = 0; i < s->n; i++)
			barge_position_copy(&s->pos[i], &p);
	barge_position_dispose(&p);
	return rc;
}

int barge_snapshot_open(const struct barge_endpoint *ep, const char *base_dir,
			struct barge_db *ctl, const struct barge_table_info *tables,
			size_t n_tables, size_t n_readers, bool binary_results,
			struct barge_snapshot *out, struct barge_err *err)
{
	struct barge_snapshot s;
	struct barge_err flush_err = {0}, lock_err = {0};
	struct barge_buf lock;
	int rc;

	memset(&s, 0, sizeof s);
	if (n_readers == 0)
		n_readers = 1;
	rc = open_readers(ep, base_dir, n_readers, binary_results, &s, err);
	if (rc)
		goto done;
	/* never wait for ever on a lock behind a long transaction */
	barge_db_exec(ctl, "SET SESSION lock_wait_timeout = 60", NULL);

	rc = locked_snapshot(ctl, "FLUSH TABLES WITH READ LOCK", &s, &flush_err);
	if (rc == 0) {
		snprintf(s.method, sizeof s.method, "flush");
		goto done;
	}
	if (n_tables > 0) {
		barge_buf_init(&lock, BARGE_BUF_NOCAP);
		lock_tables_sql(&lock, tables, n_tables);
		/* a reader that started its transaction for the failed attempt starts again */
		for (size_t i = 0; i < s.n; i++)
			barge_db_exec(s.readers[i], "ROLLBACK", NULL);
		rc = locked_snapshot(ctl, barge_buf_cstr(&lock), &s, &lock_err);
		barge_buf_dispose(&lock);
		if (rc == 0) {
			snprintf(s.method, sizeof s.method, "lock-tables");
			goto done;
		}
	}
	if (barge_db_is_mariadb(ctl)) {
		for (size_t i = 0; i < s.n; i++)
			barge_db_exec(s.readers[i], "ROLLBACK", NULL);
		rc = start_transactions(&s, err);
		for (size_t i = 0; rc == 0 && i < s.n; i++)
			rc = reader_snapshot_position(s.readers[i], &s.pos[i], err);
		if (rc == 0) {
			snprintf(s.method, sizeof s.method, "consistent-snapshot");
			goto done;
		}
		goto done;
	}
	rc = barge_err_set(err, BARGE_ESRC_QUERY,
			   "no consistent snapshot method works for this account: FLUSH TABLES "
			   "WITH READ LOCK failed (%s) and LOCK TABLES failed (%s); grant RELOAD, "
			   "or LOCK TABLES on the selected tables",
			   flush_err.msg, n_tables ? lock_err.msg : "no tables");
done:
	if (rc) {
		barge_snapshot_close(&s);
		return rc;
	}
	{
		char where[300];

		barge_position_format(&s.pos[0], where, sizeof where);
		barge_log(BARGE_LOG_INFO, NULL,
			  "snapshot taken by %s at %s%s%s with %zu reader%s; writes were blocked "
			  "for %.1f ms",
			  s.method, where, s.pos[0].gtid_set ? " gtid " : "",
			  s.pos[0].gtid_set ? s.pos[0].gtid_set : "", s.n, s.n == 1 ? "" : "s",
			  s.lock_ms);
	}
	*out = s;
	return 0;
}

void barge_snapshot_close(struct barge_snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		barge_db_close(s->readers[i]);
	for (size_t i = 0; s->pos && i < s->n; i++)
		barge_position_dispose(&s->pos[i]);
	free(s->readers);
	free(s->pos);
	memset(s, 0, sizeof *s);
}
