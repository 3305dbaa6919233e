/*
 * checkpoint.c — barge's progress in the target's meta schema (see checkpoint.h).
 */
#include "engine/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"

/* Kept identical to schemas/checkpoint.sql (a unit test compares them). */
static const char ddl[] =
	"-- barge's checkpoint tables, created on the target in the job's meta schema (default\n"
	"-- barge_meta; `{meta}` below).  Every row here is written in the same target transaction as the\n"
	"-- data it describes, so after any crash the data and its checkpoint agree.  See\n"
	"-- docs/checkpoints.md for the semantics.\n"
	"\n"
	"-- One row per job: which phase it is in and where the incremental phase starts.\n"
	"CREATE TABLE IF NOT EXISTS `{meta}`.`jobs` (\n"
	"  `job`             VARCHAR(64)  NOT NULL,\n"
	"  `full_done`       TINYINT      NOT NULL DEFAULT 0,   -- every table of the full phase is copied\n"
	"  `snapshot_method` VARCHAR(32)  NULL,                 -- flush | lock-tables | consistent-snapshot\n"
	"  `start_file`      VARCHAR(255) NULL,                 -- incremental start: the earliest snapshot\n"
	"  `start_pos`       BIGINT UNSIGNED NULL,              --   position of any table's chunks\n"
	"  `start_gtid`      TEXT         NULL,\n"
	"  `safe_exit_file`  VARCHAR(255) NULL,                 -- safe mode stays on until this position\n"
	"  `safe_exit_pos`   BIGINT UNSIGNED NULL,              --   is passed (written on abrupt stops)\n"
	"  `running`         TINYINT      NOT NULL DEFAULT 0,   -- an incremental run is under way\n"
	"  `updated_at`      TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),\n"
	"  PRIMARY KEY (`job`)\n"
	") DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n"
	"\n"
	"-- One row per source table of a job.\n"
	"CREATE TABLE IF NOT EXISTS `{meta}`.`tables` (\n"
	"  `job`          VARCHAR(64)  NOT NULL,\n"
	"  `src_schema`   VARCHAR(64)  NOT NULL,\n"
	"  `src_table`    VARCHAR(64)  NOT NULL,\n"
	"  `tgt_schema`   VARCHAR(64)  NOT NULL,\n"
	"  `tgt_table`    VARCHAR(64)  NOT NULL,\n"
	"  `keyless`      TINYINT      NOT NULL,                -- no primary or not-null unique key\n"
	"  `done`         TINYINT      NOT NULL DEFAULT 0,      -- every chunk copied, indexes built\n"
	"  `deferred_indexes` MEDIUMTEXT NULL,                  -- ALTER TABLE clauses run after the copy\n"
	"  `rows_copied`  BIGINT UNSIGNED NOT NULL DEFAULT 0,\n"
	"  `first_file`   VARCHAR(255) NULL,                    -- earliest snapshot of its chunks: its\n"
	"  `first_pos`    BIGINT UNSIGNED NULL,                 --   binlog changes from here on are not\n"
	"  `first_gtid`   TEXT         NULL,                    --   all in the target yet\n"
	"  `last_file`    VARCHAR(255) NULL,                    -- latest snapshot of its chunks: replay\n"
	"  `last_pos`     BIGINT UNSIGNED NULL,                 --   between first and last runs in safe\n"
	"  `last_gtid`    TEXT         NULL,                    --   mode (idempotent for keyed tables)\n"
	"  PRIMARY KEY (`job`, `src_schema`, `src_table`)\n"
	") DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n"
	"\n"
	"-- One row per chunk (a key range) of the full phase.\n"
	"CREATE TABLE IF NOT EXISTS `{meta}`.`chunks` (\n"
	"  `job`         VARCHAR(64)  NOT NULL,\n"
	"  `src_schema`  VARCHAR(64)  NOT NULL,\n"
	"  `src_table`   VARCHAR(64)  NOT NULL,\n"
	"  `chunk`       INT UNSIGNED NOT NULL,\n"
	"  `lower_key`   MEDIUMTEXT   NULL,                     -- exclusive; NULL = from the start\n"
	"  `upper_key`   MEDIUMTEXT   NULL,                     -- inclusive; NULL = to the end\n"
	"  `done`        TINYINT      NOT NULL DEFAULT 0,\n"
	"  `rows_copied` BIGINT UNSIGNED NOT NULL DEFAULT 0,\n"
	"  `bytes`       BIGINT UNSIGNED NOT NULL DEFAULT 0,\n"
	"  `snap_file`   VARCHAR(255) NULL,                     -- the snapshot the rows were read at\n"
	"  `snap_pos`    BIGINT UNSIGNED NULL,\n"
	"  `snap_gtid`   TEXT         NULL,\n"
	"  PRIMARY KEY (`job`, `src_schema`, `src_table`, `chunk`)\n"
	") DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n"
	"\n"
	"-- One row per incremental apply worker: the last binlog transaction it committed.\n"
	"CREATE TABLE IF NOT EXISTS `{meta}`.`positions` (\n"
	"  `job`         VARCHAR(64)  NOT NULL,\n"
	"  `worker`      INT UNSIGNED NOT NULL,\n"
	"  `binlog_file` VARCHAR(255) NOT NULL,\n"
	"  `binlog_pos`  BIGINT UNSIGNED NOT NULL,\n"
	"  `gtid`        TEXT         NULL,\n"
	"  `updated_at`  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),\n"
	"  PRIMARY KEY (`job`, `worker`)\n"
	") DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n";

const char *barge_ckpt_ddl(void)
{
	return ddl;
}

/* ---- positions ---- */

/* The numeric extension of a binlog file name ("mysql-bin.000012" → 12), or -1. */
static long long file_index(const char *name, size_t *base_len)
{
	const char *dot = strrchr(name, '.');
	char *end;
	long long v;

	if (!dot || !dot[1])
		return -1;
	v = strtoll(dot + 1, &end, 10);
	if (*end)
		return -1;
	*base_len = (size_t)(dot - name);
	return v;
}

int barge_position_cmp(const struct barge_position *a, const struct barge_position *b)
{
	size_t la = 0, lb = 0;
	long long ia = file_index(a->binlog_name, &la), ib = file_index(b->binlog_name, &lb);
	int c;

	if (!a->binlog_name[0] || !b->binlog_name[0])
		return (a->binlog_name[0] != 0) - (b->binlog_name[0] != 0);
	if (ia >= 0 && ib >= 0 && la == lb && strncmp(a->binlog_name, b->binlog_name, la) == 0)
		c = (ia > ib) - (ia < ib);
	else
		c = strcmp(a->binlog_name, b->binlog_name);
	if (c)
		return c;
	return (a->binlog_pos > b->binlog_pos) - (a->binlog_pos < b->binlog_pos);
}

void barge_position_set(struct barge_position *p, const char *file, uint64_t pos,
			const char *gtid)
{
	char *old_gtid = p->gtid_set;

	if (file != p->binlog_name)
		snprintf(p->binlog_name, sizeof p->binlog_name, "%s", file ? file : "");
	p->binlog_pos = pos;
	p->gtid_set = gtid && *gtid ? barge_xstrdup(gtid) : NULL;
	free(old_gtid); /* after the copy: gtid may point into it */
}

void barge_position_copy(struct barge_position *dst, const struct barge_position *src)
{
	if (dst == src)
		return;
	barge_position_set(dst, src->binlog_name, src->binlog_pos, src->gtid_set);
}

void barge_position_dispose(struct barge_position *p)
{
	free(p->gtid_set);
	p->gtid_set = NULL;
	p->binlog_name[0] = '\0';
	p->binlog_pos = 0;
}

void barge_position_format(const struct barge_position *p, char *out, size_t n)
{
	if (!p->binlog_name[0])
		snprintf(out, n, "%s", p->gtid_set ? p->gtid_set : "(unknown)");
	else
		snprintf(out, n, "%s:%llu", p->binlog_name, (unsigned long long)p->binlog_pos);
}

/* ---- helpers ---- */

int barge_ckpt_append_str(struct barge_buf *b, struct barge_db *db, const char *s)
{
	(void)db;
	if (!s)
		return barge_buf_puts(b, "NULL");
	return barge_buf_append_literal(b, s, strlen(s));
}

/* `meta`.`name` */
static void table_name(struct barge_buf *b, const char *meta, const char *name)
{
	barge_buf_append_qname(b, meta, name);
}

static void where_job(struct barge_buf *b, struct barge_db *db, const char *job)
{
	barge_buf_puts(b, " WHERE `job` = ");
	barge_ckpt_append_str(b, db, job);
}

static void where_table(struct barge_buf *b, struct barge_db *db, const char *job,
			const char *schema, const char *table)
{
	where_job(b, db, job);
	barge_buf_puts(b, " AND `src_schema` = ");
	barge_ckpt_append_str(b, db, schema);
	barge_buf_puts(b, " AND `src_table` = ");
	barge_ckpt_append_str(b, db, table);
}

static int run(struct barge_db *db, struct barge_buf *b, struct barge_err *err)
{
	int rc = barge_db_exec(db, barge_buf_cstr(b), err);

	barge_buf_dispose(b);
	return rc;
}

static char *dup_field(MYSQL_ROW row, unsigned long *len, int i)
{
	return row[i] ? barge_xstrndup(row[i], len[i]) : NULL;
}

static uint64_t u64_field(MYSQL_ROW row, int i)
{
	return row[i] ? strtoull(row[i], NULL, 10) : 0;
}

static void pos_fields(struct barge_position *p, MYSQL_ROW row, int i)
{
	barge_position_set(p, row[i] ? row[i] : "", u64_field(row, i + 1), row[i + 2]);
}

/* ---- jobs ---- */

int barge_ckpt_init(struct barge_db *tgt, const char *meta, struct barge_err *err)
{
	struct barge_buf b;
	const char *p = ddl;
	int rc;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "CREATE DATABASE IF NOT EXISTS ");
	barge_buf_append_ident(&b, meta);
	rc = run(tgt, &b, err);
	if (rc)
		return barge_err_wrap(err, "create the meta schema %s", meta);
	/* each CREATE TABLE of the DDL, with the meta schema's quoted name for {meta} */
	while ((p = strstr(p, "CREATE TABLE")) != NULL) {
		const char *end = strstr(p, ";\n");
		struct barge_buf q, ident;
		const char *s;

		barge_buf_init(&q, BARGE_BUF_NOCAP);
		barge_buf_init(&ident, BARGE_BUF_NOCAP);
		barge_buf_append_ident(&ident, meta);
		for (s = p; s < end; s++) {
			if (strncmp(s, "`{meta}`", 8) == 0) {
				barge_buf_puts(&q, barge_buf_cstr(&ident));
				s += 7;
			} else if (strncmp(s, "--", 2) == 0) {
				while (s < end && *s != '\n')
					s++;
				barge_buf_putc(&q, '\n');
			} else {
				barge_buf_putc(&q, *s);
			}
		}
		barge_buf_dispose(&ident);
		rc = run(tgt, &q, err);
		if (rc)
			return barge_err_wrap(err, "create the checkpoint tables in %s", meta);
		p = end;
	}
	return 0;
}

int barge_ckpt_job_load(struct barge_db *tgt, const char *meta, const char *job,
			struct barge_ckpt_job *out, struct barge_err *err)
{
	struct barge_buf b;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	memset(out, 0, sizeof *out);
	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "SELECT `full_done`, `snapshot_method`, `start_file`, `start_pos`, "
			   "`start_gtid`, `safe_exit_file`, `safe_exit_pos`, NULL, `running` FROM ");
	table_name(&b, meta, "jobs");
	where_job(&b, tgt, job);
	rc = barge_db_query(tgt, barge_buf_cstr(&b), &res, err);
	barge_buf_dispose(&b);
	if (rc)
		return rc;
	row = mysql_fetch_row(res);
	if (row) {
		out->exists = true;
		out->full_done = u64_field(row, 0) != 0;
		snprintf(out->method, sizeof out->method, "%s", row[1] ? row[1] : "");
		pos_fields(&out->start, row, 2);
		pos_fields(&out->safe_exit, row, 5);
		out->running = u64_field(row, 8) != 0;
	}
	mysql_free_result(res);
	return 0;
}

void barge_ckpt_job_dispose(struct barge_ckpt_job *j)
{
	barge_position_dispose(&j->start);
	barge_position_dispose(&j->safe_exit);
}

int barge_ckpt_job_begin(struct barge_db *tgt, const char *meta, const char *job,
			 struct barge_err *err)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "INSERT IGNORE INTO ");
	table_name(&b, meta, "jobs");
	barge_buf_puts(&b, " (`job`) VALUES (");
	barge_ckpt_append_str(&b, tgt, job);
	barge_buf_puts(&b, ")");
	return run(tgt, &b, err);
}

static void append_pos_values(struct barge_buf *b, struct barge_db *db,
			      const struct barge_position *p)
{
	barge_ckpt_append_str(b, db, p && p->binlog_name[0] ? p->binlog_name : NULL);
	barge_buf_appendf(b, ", %llu, ", (unsigned long long)(p ? p->binlog_pos : 0));
	barge_ckpt_append_str(b, db, p ? p->gtid_set : NULL);
}

int barge_ckpt_full_done(struct barge_db *tgt, const char *meta, const char *job,
			 const char *method, const struct barge_position *fallback,
			 struct barge_err *err)
{
	struct barge_ckpt_table *tables = NULL;
	size_t n = 0;
	struct barge_position start = {0};
	struct barge_buf b;
	int rc = barge_ckpt_tables_load(tgt, meta, job, &tables, &n, err);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!tables[i].first.binlog_name[0])
			continue;
		if (!start.binlog_name[0] || barge_position_cmp(&tables[i].first, &start) < 0)
			barge_position_copy(&start, &tables[i].first);
	}
	if (!start.binlog_name[0] && fallback)
		barge_position_copy(&start, fallback);
	barge_ckpt_tables_free(tables, n);
	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "UPDATE ");
	table_name(&b, meta, "jobs");
	barge_buf_puts(&b, " SET `full_done` = 1, `snapshot_method` = ");
	barge_ckpt_append_str(&b, tgt, method);
	barge_buf_puts(&b, ", `start_file` = ");
	barge_ckpt_append_str(&b, tgt, start.binlog_name[0] ? start.binlog_name : NULL);
	barge_buf_appendf(&b, ", `start_pos` = %llu, `start_gtid` = ",
			  (unsigned long long)start.binlog_pos);
	barge_ckpt_append_str(&b, tgt, start.gtid_set);
	where_job(&b, tgt, job);
	barge_position_dispose(&start);
	return run(tgt, &b, err);
}

int barge_ckpt_set_safe_exit(struct barge_db *tgt, const char *meta, const char *job,
			     const struct barge_position *p, struct barge_err *err)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "UPDATE ");
	table_name(&b, meta, "jobs");
	barge_buf_puts(&b, " SET `safe_exit_file` = ");
	barge_ckpt_append_str(&b, tgt, p && p->binlog_name[0] ? p->binlog_name : NULL);
	barge_buf_appendf(&b, ", `safe_exit_pos` = %s",
			  p && p->binlog_name[0] ? "" : "NULL");
	if (p && p->binlog_name[0])
		barge_buf_appendf(&b, "%llu", (unsigned long long)p->binlog_pos);
	where_job(&b, tgt, job);
	return run(tgt, &b, err);
}

int barge_ckpt_set_running(struct barge_db *tgt, const char *meta, const char *job, bool running,
			   struct barge_err *err)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "UPDATE ");
	table_name(&b, meta, "jobs");
	barge_buf_appendf(&b, " SET `running` = %d", running ? 1 : 0);
	where_job(&b, tgt, job);
	return run(tgt, &b, err);
}

int barge_ckpt_set_start(struct barge_db *tgt, const char *meta, const char *job,
			 const struct barge_position *p, struct barge_err *err)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "UPDATE ");
	table_name(&b, meta, "jobs");
	barge_buf_puts(&b, " SET `start_file` = ");
	barge_ckpt_append_str(&b, tgt, p->binlog_name[0] ? p->binlog_name : NULL);
	barge_buf_appendf(&b, ", `start_pos` = %llu, `start_gtid` = ",
			  (unsigned long long)p->binlog_pos);
	barge_ckpt_append_str(&b, tgt, p->gtid_set);
	where_job(&b, tgt, job);
	return run(tgt, &b, err);
}

/* ---- tables and chunks ---- */

int barge_ckpt_tables_load(struct barge_db *tgt, const char *meta, const char *job,
			   struct barge_ckpt_table **out, size_t *n, struct barge_err *err)
{
	struct barge_buf b;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct barge_ckpt_table *t;
	size_t count = 0;
	int rc;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "SELECT `src_schema`, `src_table`, `tgt_schema`, `tgt_table`, `keyless`, "
			   "`done`, `rows_copied`, `first_file`, `first_pos`, `first_gtid`, "
			   "`last_file`, `last_pos`, `last_gtid`, `deferred_indexes` FROM ");
	table_name(&b, meta, "tables");
	where_job(&b, tgt, job);
	barge_buf_puts(&b, " ORDER BY `src_schema`, `src_table`");
	rc = barge_db_query(tgt, barge_buf_cstr(&b), &res, err);
	barge_buf_dispose(&b);
	if (rc)
		return rc;
	t = barge_xcalloc(mysql_num_rows(res) + 1, sizeof *t);
	while ((row = mysql_fetch_row(res)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(res);
		struct barge_ckpt_table *x = &t[count++];

		x->src_schema = dup_field(row, len, 0);
		x->src_table = dup_field(row, len, 1);
		x->tgt_schema = dup_field(row, len, 2);
		x->tgt_table = dup_field(row, len, 3);
		x->keyless = u64_field(row, 4) != 0;
		x->done = u64_field(row, 5) != 0;
		x->rows_copied = u64_field(row, 6);
		pos_fields(&x->first, row, 7);
		pos_fields(&x->last, row, 10);
		x->deferred_indexes = dup_field(row, len, 13);
	}
	mysql_free_result(res);
	*out = t;
	*n = count;
	return 0;
}

void barge_ckpt_tables_free(struct barge_ckpt_table *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].src_schema);
		free(t[i].src_table);
		free(t[i].tgt_schema);
		free(t[i].tgt_table);
		free(t[i].deferred_indexes);
		barge_position_dispose(&t[i].first);
		barge_position_dispose(&t[i].last);
	}
	free(t);
}

int barge_ckpt_chunks_load(struct barge_db *tgt, const char *meta, const char *job,
			   struct barge_ckpt_chunk **out, size_t *n, struct barge_err *err)
{
	struct barge_buf b;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct barge_ckpt_chunk *c;
	size_t count = 0;
	int rc;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "SELECT `src_schema`, `src_table`, `chunk`, `lower_key`, `upper_key`, "
			   "`done`, `rows_copied`, `bytes` FROM ");
	table_name(&b, meta, "chunks");
	where_job(&b, tgt, job);
	barge_buf_puts(&b, " ORDER BY `src_schema`, `src_table`, `chunk`");
	rc = barge_db_query(tgt, barge_buf_cstr(&b), &res, err);
	barge_buf_dispose(&b);
	if (rc)
		return rc;
	c = barge_xcalloc(mysql_num_rows(res) + 1, sizeof *c);
	while ((row = mysql_fetch_row(res)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(res);
		struct barge_ckpt_chunk *x = &c[count++];

		x->src_schema = dup_field(row, len, 0);
		x->src_table = dup_field(row, len, 1);
		x->chunk = (uint32_t)u64_field(row, 2);
		x->lower = dup_field(row, len, 3);
		x->upper = dup_field(row, len, 4);
		x->done = u64_field(row, 5) != 0;
		x->rows = u64_field(row, 6);
		x->bytes = u64_field(row, 7);
	}
	mysql_free_result(res);
	*out = c;
	*n = count;
	return 0;
}

void barge_ckpt_chunks_free(struct barge_ckpt_chunk *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].src_schema);
		free(c[i].src_table);
		free(c[i].lower);
		free(c[i].upper);
	}
	free(c);
}

int barge_ckpt_table_begin(struct barge_db *tgt, const char *meta, const char *job,
			   const char *src_schema, const char *src_table, const char *tgt_schema,
			   const char *tgt_table, bool keyless, struct barge_err *err)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "INSERT IGNORE INTO ");
	table_name(&b, meta, "tables");
	barge_buf_puts(&b, " (`job`, `src_schema`, `src_table`, `tgt_schema`, `tgt_table`, "
			   "`keyless`) VALUES (");
	barge_ckpt_append_str(&b, tgt, job);
	barge_buf_puts(&b, ", ");
	barge_ckpt_append_str(&b, tgt, src_schema);
	barge_buf_puts(&b, ", ");
	barge_ckpt_append_str(&b, tgt, src_table);
	barge_buf_puts(&b, ", ");
	barge_ckpt_append_str(&b, tgt, tgt_schema);
	barge_buf_puts(&b, ", ");
	barge_ckpt_append_str(&b, tgt, tgt_table);
	barge_buf_appendf(&b, ", %d)", keyless ? 1 : 0);
	return run(tgt, &b, err);
}

int barge_ckpt_table_reset(struct barge_db *tgt, const char *meta, const char *job,
			   const char *src_schema, const char *src_table, struct barge_err *err)
{
	struct barge_buf b;
	int rc;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "DELETE FROM ");
	table_name(&b, meta, "chunks");
	where_table(&b, tgt, job, src_schema, src_table);
	rc = run(tgt, &b, err);
	if (rc)
		return rc;
	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "UPDATE ");
	table_name(&b, meta, "tables");
	barge_buf_puts(&b, " SET `done` = 0, `rows_copied` = 0, `first_file` = NULL, "
			   "`first_pos` = NULL, `first_gtid` = NULL, `last_file` = NULL, "
			   "`last_pos` = NULL, `last_gtid` = NULL");
	where_table(&b, tgt, job, src_schema, src_table);
	return run(tgt, &b, err);
}

int barge_ckpt_chunk_plan(struct barge_db *tgt, const char *meta, const char *job,
			  const char *src_schema, const char *src_table, uint32_t chunk,
			  const char *lower, const char *upper, struct barge_err *err)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "INSERT IGNORE INTO ");
	table_name(&b, meta, "chunks");
	barge_buf_puts(&b, " (`job`, `src_schema`, `src_table`, `chunk`, `lower_key`, "
			   "`upper_key`) VALUES (");
	barge_ckpt_append_str(&b, tgt, job);
	barge_buf_puts(&b, ", ");
	barge_ckpt_append_str(&b, tgt, src_schema);
	barge_buf_puts(&b, ", ");
	barge_ckpt_append_str(&b, tgt, src_table);
	barge_buf_appendf(&b, ", %u, ", chunk);
	barge_ckpt_append_str(&b, tgt, lower);
	barge_buf_puts(&b, ", ");
	barge_ckpt_append_str(&b, tgt, upper);
	barge_buf_puts(&b, ")");
	return run(tgt, &b, err);
}

int barge_ckpt_chunk_progress_sql(struct barge_buf *sql, struct barge_db *tgt, const char *meta,
				  const char *job, const char *src_schema, const char *src_table,
				  uint32_t chunk, uint64_t rows, uint64_t bytes, bool done,
				  const struct barge_position *snap)
{
	barge_buf_puts(sql, "UPDATE ");
	table_name(sql, meta, "chunks");
	barge_buf_appendf(sql, " SET `rows_copied` = `rows_copied` + %llu, `bytes` = `bytes` + %llu",
			  (unsigned long long)rows, (unsigned long long)bytes);
	if (done)
		barge_buf_puts(sql, ", `done` = 1");
	barge_buf_puts(sql, ", `snap_file` = ");
	barge_ckpt_append_str(sql, tgt, snap->binlog_name[0] ? snap->binlog_name : NULL);
	barge_buf_appendf(sql, ", `snap_pos` = %llu, `snap_gtid` = ",
			  (unsigned long long)snap->binlog_pos);
	barge_ckpt_append_str(sql, tgt, snap->gtid_set);
	where_table(sql, tgt, job, src_schema, src_table);
	barge_buf_appendf(sql, " AND `chunk` = %u;\n", chunk);

	/* the table's first/last snapshot positions widen to include this one */
	barge_buf_puts(sql, "UPDATE ");
	table_name(sql, meta, "tables");
	barge_buf_appendf(sql, " SET `rows_copied` = `rows_copied` + %llu", (unsigned long long)rows);
	if (snap->binlog_name[0]) {
		struct barge_buf f;

		barge_buf_init(&f, BARGE_BUF_NOCAP);
		barge_ckpt_append_str(&f, tgt, snap->binlog_name);
		/* binlog names of one server share a prefix and a zero-padded index, so they
		 * compare as strings */
		barge_buf_appendf(sql,
				  ", `first_gtid` = IF(`first_file` IS NULL OR `first_file` > %1$s OR "
				  "(`first_file` = %1$s AND `first_pos` > %2$llu), ",
				  f.data, (unsigned long long)snap->binlog_pos);
		barge_ckpt_append_str(sql, tgt, snap->gtid_set);
		barge_buf_appendf(sql,
				  ", `first_gtid`), `first_pos` = IF(`first_file` IS NULL OR "
				  "`first_file` > %1$s OR (`first_file` = %1$s AND `first_pos` > "
				  "%2$llu), %2$llu, `first_pos`), `first_file` = IF(`first_file` IS "
				  "NULL OR `first_file` > %1$s, %1$s, `first_file`)",
				  f.data, (unsigned long long)snap->binlog_pos);
		barge_buf_appendf(sql,
				  ", `last_gtid` = IF(`last_file` IS NULL OR `last_file` < %1$s OR "
				  "(`last_file` = %1$s AND `last_pos` < %2$llu), ",
				  f.data, (unsigned long long)snap->binlog_pos);
		barge_ckpt_append_str(sql, tgt, snap->gtid_set);
		barge_buf_appendf(sql,
				  ", `last_gtid`), `last_pos` = IF(`last_file` IS NULL OR "
				  "`last_file` < %1$s OR (`last_file` = %1$s AND `last_pos` < "
				  "%2$llu), %2$llu, `last_pos`), `last_file` = IF(`last_file` IS "
				  "NULL OR `last_file` < %1$s, %1$s, `last_file`)",
				  f.data, (unsigned long long)snap->binlog_pos);
		barge_buf_dispose(&f);
	}
	where_table(sql, tgt, job, src_schema, src_table);
	return barge_buf_puts(sql, ";\n");
}

int barge_ckpt_table_defer_indexes(struct barge_db *tgt, const char *meta, const char *job,
				   const char *src_schema, const char *src_table,
				   const char *clauses, struct barge_err *err)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "UPDATE ");
	table_name(&b, meta, "tables");
	barge_buf_puts(&b, " SET `deferred_indexes` = ");
	barge_ckpt_append_str(&b, tgt, clauses);
	where_table(&b, tgt, job, src_schema, src_table);
	return run(tgt, &b, err);
}

int barge_ckpt_table_done(struct barge_db *tgt, const char *meta, const char *job,
			  const char *src_schema, const char *src_table, struct barge_err *err)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "UPDATE ");
	table_name(&b, meta, "tables");
	barge_buf_puts(&b, " SET `done` = 1");
	where_table(&b, tgt, job, src_schema, src_table);
	return run(tgt, &b, err);
}

int barge_ckpt_positions_load(struct barge_db *tgt, const char *meta, const char *job,
			      struct barge_position **out, size_t *n, struct barge_err *err)
{
	struct barge_buf b;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct barge_position *p;
	int rc;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(&b, "SELECT `worker`, `binlog_file`, `binlog_pos`, `gtid` FROM ");
	table_name(&b, meta, "positions");
	where_job(&b, tgt, job);
	barge_buf_puts(&b, " ORDER BY `worker`");
	rc = barge_db_query(tgt, barge_buf_cstr(&b), &res, err);
	barge_buf_dispose(&b);
	if (rc)
		return rc;
	*n = 0;
	p = barge_xcalloc(mysql_num_rows(res) + 1, sizeof *p);
	while ((row = mysql_fetch_row(res)) != NULL)
		pos_fields(&p[(*n)++], row, 1);
	mysql_free_result(res);
	*out = p;
	return 0;
}

int barge_ckpt_position_sql(struct barge_buf *sql, struct barge_db *tgt, const char *meta,
			    const char *job, unsigned worker, const struct barge_position *p)
{
	barge_buf_puts(sql, "INSERT INTO ");
	table_name(sql, meta, "positions");
	barge_buf_puts(sql, " (`job`, `worker`, `binlog_file`, `binlog_pos`, `gtid`) VALUES (");
	barge_ckpt_append_str(sql, tgt, job);
	barge_buf_appendf(sql, ", %u, ", worker);
	append_pos_values(sql, tgt, p);
	barge_buf_puts(sql, ") ON DUPLICATE KEY UPDATE `binlog_file` = VALUES(`binlog_file`), "
			    "`binlog_pos` = VALUES(`binlog_pos`), `gtid` = VALUES(`gtid`)");
	return 0;
}

int barge_ckpt_forget_job(struct barge_db *tgt, const char *meta, const char *job,
			  struct barge_err *err)
{
	static const char *const tables[] = {"chunks", "tables", "positions", "jobs"};

	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		struct barge_buf b;
		int rc;

		barge_buf_init(&b, BARGE_BUF_NOCAP);
		barge_buf_puts(&b, "DELETE FROM ");
		table_name(&b, meta, tables[i]);
		where_job(&b, tgt, job);
		rc = run(tgt, &b, err);
		if (rc)
			return rc;
	}
	return 0;
}
