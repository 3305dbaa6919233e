/*
 * load.c — one chunk from a source result into LOAD DATA LOCAL INFILE (see load.h).
 */
#include "engine/load.h"

#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"

#define LOAD_BUFFER_TARGET (256 * 1024) /* format rows until this much is pending */

struct stream {
	struct barge_db *src;
	MYSQL_RES *res;
	unsigned ncols;
	uint64_t limit;      /* stop after this many rows in this statement (0 = all) */
	uint64_t rows;       /* rows handed over in this statement */
	uint64_t bytes;
	bool eof;            /* the source result is exhausted */
	bool failed;         /* fetching from the source failed (its error is on src) */
	bool stopped;
	struct barge_buf pending;
	size_t off;
	const struct barge_load_chunk *c;
};

void barge_load_escape(struct barge_buf *b, const char *v, unsigned long len)
{
	unsigned long start = 0;

	if (!v) {
		barge_buf_append(b, "\\N", 2);
		return;
	}
	for (unsigned long i = 0; i < len; i++) {
		const char *esc;

		switch (v[i]) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\0': esc = "\\0"; break;
		default: continue;
		}
		barge_buf_append(b, v + start, i - start);
		barge_buf_append(b, esc, 2);
		start = i + 1;
	}
	barge_buf_append(b, v + start, len - start);
}

/* Format rows into s->pending until it holds enough or the source has no more. */
static void refill(struct stream *s)
{
	barge_buf_reset(&s->pending);
	s->off = 0;
	while (!s->eof && s->pending.len < LOAD_BUFFER_TARGET) {
		MYSQL_ROW row;
		unsigned long *len;
		size_t before = s->pending.len;

		if (s->c->stop && atomic_load(s->c->stop)) {
			s->stopped = true;
			return;
		}
		if (s->limit && s->rows >= s->limit)
			return;
		row = mysql_fetch_row(s->res);
		if (!row) {
			s->eof = true;
			s->failed = mysql_errno(s->src->conn) != 0;
			return;
		}
		len = mysql_fetch_lengths(s->res);
		for (unsigned i = 0; i < s->ncols; i++) {
			if (i)
				barge_buf_putc(&s->pending, '\t');
			barge_load_escape(&s->pending, row[i], len[i]);
		}
		barge_buf_putc(&s->pending, '\n');
		s->rows++;
		s->bytes += s->pending.len - before;
		if (s->c->rows_done)
			atomic_fetch_add_explicit(s->c->rows_done, 1, memory_order_relaxed);
		if (s->c->bytes_done)
			atomic_fetch_add_explicit(s->c->bytes_done, s->pending.len - before,
						  memory_order_relaxed);
	}
}

static int infile_init(void **ptr, const char *filename, void *userdata)
{
	(void)filename;
	*ptr = userdata;
	return 0;
}

static int infile_read(void *ptr, char *buf, unsigned int buf_len)
{
	struct stream *s = ptr;
	size_t n;

	if (s->off >= s->pending.len)
		refill(s);
	if (s->failed || s->stopped)
		return -1;
	n = s->pending.len - s->off;
	if (n > buf_len)
		n = buf_len;
	if (n == 0)
		return 0;
	memcpy(buf, s->pending.data + s->off, n);
	s->off += n;
	return (int)n;
}

static void infile_end(void *ptr)
{
	(void)ptr;
}

static int infile_error(void *ptr, char *msg, unsigned int len)
{
	struct stream *s = ptr;

	if (s->stopped)
		snprintf(msg, len, "the copy was stopped");
	else
		snprintf(msg, len, "reading the source failed: %s", mysql_error(s->src->conn));
	return s->stopped ? 1 : 2;
}

int barge_load_sql(struct barge_buf *b, const struct barge_table_info *t,
		   enum barge_on_duplicate on_dup, bool tidb)
{
	barge_buf_puts(b, "LOAD DATA LOCAL INFILE 'barge-stream' ");
	if (on_dup == BARGE_ONDUP_REPLACE)
		barge_buf_puts(b, "REPLACE ");
	else if (on_dup == BARGE_ONDUP_IGNORE)
		barge_buf_puts(b, "IGNORE ");
	barge_buf_puts(b, "INTO TABLE ");
	barge_buf_append_qname(b, t->to_schema, t->to_name);
	/* bytes go in as the source stored them; TiDB ignores the clause and wants UTF-8 */
	if (!tidb)
		barge_buf_puts(b, " CHARACTER SET binary");
	barge_buf_puts(b, " FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY "
			  "'\\n' (");
	barge_dump_column_list(b, t);
	return barge_buf_putc(b, ')');
}

/* Records / Deleted / Skipped / Warnings from mysql_info(). */
static void load_info(MYSQL *conn, uint64_t *skipped, uint64_t *warnings)
{
	const char *info = mysql_info(conn);
	const char *p;

	*skipped = 0;
	*warnings = mysql_warning_count(conn);
	if (info && (p = strstr(info, "Skipped: ")) != NULL)
		*skipped = strtoull(p + 9, NULL, 10);
}

/*
 * Whether a "Data truncated for column 'x'" warning is about an ENUM or SET column.  The
 * source can hold the empty "error value" of an ENUM, which any server stores back only with
 * this warning; the stored value is the same.
 */
static bool enum_warning(const struct barge_table_info *t, const char *msg)
{
	const char *q = msg ? strchr(msg, '\'') : NULL;

	if (!q)
		return false;
	for (size_t i = 0; i < t->n_cols; i++) {
		size_t len = strlen(t->cols[i].name);

		if ((t->cols[i].kind == BARGE_COL_ENUM || t->cols[i].kind == BARGE_COL_SET) &&
		    strncmp(q + 1, t->cols[i].name, len) == 0 && q[1 + len] == '\'')
			return true;
	}
	return false;
}

/* Fail with the first warnings' text, except duplicate-key ones when they are expected. */
static int check_warnings(struct barge_db *tgt, const struct barge_load_chunk *c,
			  uint64_t skipped, struct barge_err *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct barge_buf msg;
	unsigned bad = 0;
	int rc = barge_db_query(tgt, "SHOW WARNINGS LIMIT 20", &res, err);

	if (rc)
		return rc;
	barge_buf_init(&msg, 2048);
	while ((row = mysql_fetch_row(res)) != NULL) {
		unsigned code = row[1] ? (unsigned)atoi(row[1]) : 0;

		if (code == ER_DUP_ENTRY && c->on_duplicate == BARGE_ONDUP_IGNORE)
			continue;
		if (code == WARN_DATA_TRUNCATED && enum_warning(c->table, row[2]))
			continue;
		if (bad++ < 3)
			barge_buf_appendf(&msg, "%s%s (%u)", bad > 1 ? "; " : "", row[2] ? row[2] : "",
					  code);
	}
	mysql_free_result(res);
	if (c->on_duplicate == BARGE_ONDUP_ERROR && skipped) {
		rc = barge_err_set_db(err, BARGE_EDUP_KEY, ER_DUP_ENTRY, "23000",
				      "%s: load into %s.%s: %llu row%s of chunk %u already exist in the "
				      "target with the same key (onDuplicate: error)%s%s",
				      tgt->where, c->table->to_schema, c->table->to_name,
				      (unsigned long long)skipped, skipped == 1 ? "" : "s", c->chunk,
				      msg.len ? ": " : "", barge_buf_cstr(&msg));
	} else if (bad) {
		rc = barge_err_set(err, BARGE_ETGT_QUERY,
				   "%s: load into %s.%s: the target did not take %u value%s exactly: %s",
				   tgt->where, c->table->to_schema, c->table->to_name, bad,
				   bad == 1 ? "" : "s", barge_buf_cstr(&msg));
	}
	barge_buf_dispose(&msg);
	return rc;
}

/* One LOAD DATA statement over the stream plus the checkpoint, in one transaction. */
static int load_once(struct barge_db *tgt, struct stream *s, const char *load_sql,
		     struct barge_err *err)
{
	const struct barge_load_chunk *c = s->c;
	struct barge_buf ck;
	uint64_t skipped = 0, warnings = 0;
	int rc;

	rc = barge_db_exec(tgt, "START TRANSACTION", err);
	if (rc)
		return rc;
	mysql_set_local_infile_handler(tgt->conn, infile_init, infile_read, infile_end,
				       infile_error, s);
	if (mysql_real_query(tgt->conn, load_sql, strlen(load_sql)) != 0) {
		if (s->stopped)
			rc = barge_err_set(err, BARGE_ECANCELLED, "the copy of %s.%s was stopped",
					   c->table->schema, c->table->name);
		else if (s->failed)
			rc = barge_db_fail(s->src, err, "read %s.%s", c->table->schema,
					   c->table->name);
		else
			rc = barge_db_fail(tgt, err, "load into %s.%s", c->table->to_schema,
					   c->table->to_name);
		goto rollback;
	}
	load_info(tgt->conn, &skipped, &warnings);
	if ((warnings || skipped) && (rc = check_warnings(tgt, c, skipped, err)) != 0)
		goto rollback;
	/* the statement that drained the source finishes the chunk, in the same transaction */
	barge_buf_init(&ck, BARGE_BUF_NOCAP);
	barge_ckpt_chunk_progress_sql(&ck, tgt, c->meta, c->job, c->table->schema,
				      c->table->name, c->chunk, s->rows, s->bytes, s->eof, c->snap);
	barge_buf_puts(&ck, "COMMIT");
	rc = barge_db_exec(tgt, barge_buf_cstr(&ck), err);
	barge_buf_dispose(&ck);
	if (rc)
		goto rollback;
	return 0;
rollback:
	barge_db_exec(tgt, "ROLLBACK", NULL);
	return rc;
}

int barge_load_chunk(struct barge_db *src, struct barge_db *tgt,
		     const struct barge_load_chunk *c, uint64_t *rows, uint64_t *bytes,
		     struct barge_err *err)
{
	struct barge_buf select_sql, load_sql;
	struct stream s;
	uint64_t total_rows = 0, total_bytes = 0;
	int rc;

	memset(&s, 0, sizeof s);
	barge_buf_init(&select_sql, BARGE_BUF_NOCAP);
	barge_buf_init(&load_sql, BARGE_BUF_NOCAP);
	barge_buf_init(&s.pending, BARGE_BUF_NOCAP);
	s.src = src;
	s.c = c;
	rc = barge_dump_select_sql(&select_sql, c->table, c->lower, c->upper, false, err);
	if (rc)
		goto done;
	barge_load_sql(&load_sql, c->table, c->on_duplicate, c->tidb);
	if (mysql_real_query(src->conn, select_sql.data, select_sql.len) != 0) {
		rc = barge_db_fail(src, err, "read %s.%s", c->table->schema, c->table->name);
		goto done;
	}
	s.res = mysql_use_result(src->conn);
	if (!s.res) {
		rc = barge_db_fail(src, err, "read %s.%s", c->table->schema, c->table->name);
		goto done;
	}
	s.ncols = mysql_num_fields(s.res);
	s.limit = c->table->keyless ? c->commit_rows : 0;
	do {
		s.rows = 0;
		s.bytes = 0;
		rc = load_once(tgt, &s, load_sql.data, err);
		if (rc)
			break;
		total_rows += s.rows;
		total_bytes += s.bytes;
		/* a statement that stopped at its limit leaves the rest for the next one */
	} while (!s.eof);
done:
	if (s.res) {
		/* drain what is left so the reader connection stays usable */
		while (mysql_fetch_row(s.res))
			;
		mysql_free_result(s.res);
	}
	barge_buf_dispose(&select_sql);
	barge_buf_dispose(&load_sql);
	barge_buf_dispose(&s.pending);
	if (rc == 0) {
		*rows = total_rows;
		*bytes = total_bytes;
	}
	return rc;
}
