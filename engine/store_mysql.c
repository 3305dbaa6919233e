/*
 * store_mysql.c — the mysql://user@host:port/db store: one row per job in a table of a MySQL,
 * MariaDB or TiDB database, shared by several controllers on several machines (see store.h).
 *
 *   DB.store_records    one row per job (schemas/store.sql): the record's JSON document in
 *                       `record`, and beside it the columns the database itself must compare
 *                       and stamp: version, created_ms, updated_ms, lease_owner,
 *                       lease_expires_ms.  The columns are authoritative; the document's copies
 *                       of them are written as zero.
 *
 * put is a compare-and-swap: INSERT for version 0 (a duplicate key means someone created the job
 * first), else UPDATE ... WHERE name = ? AND version = ?; a row not matched means the record
 * changed or went since it was read.  The lease calls are one conditional UPDATE each, with the
 * expiry judged by the database's clock (NOW(3)), so controllers whose clocks disagree still
 * agree on who holds a job.  Only when the UPDATE matches nothing is the row read again, to
 * name the holder or tell a missing job from a taken lease.
 *
 * Controllers share this store through the leases: lock claims nothing.  The password comes
 * from $BARGE_STORE_PASSWORD (never the URL) and stays registered for redaction while the
 * store is open.  Names are checked job names, quoted with mysql_real_escape_string; lease
 * owners may hold any bytes and go in as hex literals.
 */
#include <errmsg.h>
#include <inttypes.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/log.h"
#include "engine/store.h"

#define RECORD_MAX (16u * 1024 * 1024)
#define TABLE "`store_records`"
#define COLUMNS "name, version, record, created_ms, updated_ms, lease_owner, lease_expires_ms"
/* Unix milliseconds by the database's clock (the session's time zone is UTC, so exact) */
#define NOW_MS "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"
#define PASSWORD_ENV "BARGE_STORE_PASSWORD"

/* Kept identical to schemas/store.sql (a unit test compares them). */
static const char ddl[] =
	"-- barge's recorded state for the mysql:// store (engine/store_mysql.c), in the database\n"
	"-- the store URL names.  barge creates the database and the table when they are missing;\n"
	"-- this file is for operators who create them by hand.  Several controllers share the\n"
	"-- table: put is a compare-and-swap on `version`, and a job's lease says which\n"
	"-- controller works on it, its expiry judged by the database's clock.  See\n"
	"-- docs/control-plane.md.\n"
	"\n"
	"-- One row per job.  `record` is the record's JSON document (engine/store.c); the\n"
	"-- columns beside it are authoritative for what they hold, and the document's copies\n"
	"-- of them are left zero.\n"
	"CREATE TABLE IF NOT EXISTS `store_records` (\n"
	"  `name`             VARCHAR(64)     NOT NULL,           -- the job name (ASCII)\n"
	"  `version`          BIGINT UNSIGNED NOT NULL,           -- compare-and-swap counter\n"
	"  `record`           LONGTEXT        NOT NULL,           -- the rest, as JSON\n"
	"  `created_ms`       BIGINT          NOT NULL,           -- Unix milliseconds by\n"
	"  `updated_ms`       BIGINT          NOT NULL,           --   the database's clock\n"
	"  `lease_owner`      VARBINARY(255)  NULL,               -- NULL = no lease\n"
	"  `lease_expires_ms` BIGINT          NOT NULL DEFAULT 0, -- the database's clock\n"
	"  PRIMARY KEY (`name`)\n"
	") DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n";

const char *barge_store_mysql_ddl(void)
{
	return ddl;
}

struct mysql_store {
	struct barge_store base;
	MYSQL *conn;
	char *label;    /* "store mysql://user@host:port/db", for messages */
	char *password; /* NULL when $BARGE_STORE_PASSWORD is unset; wiped on close */
};

static struct mysql_store *mysql_of(struct barge_store *s)
{
	return (struct mysql_store *)s;
}

/* ---- statements ---- */

/*
 * Fill err from the connection's last error.  A deadlock, a lock wait timeout or TiDB's write
 * conflict is a lost race like a changed version: BARGE_ESTORE_LOCKED, read again and retry.
 */
static int fail(struct mysql_store *m, struct barge_err *err, const char *what)
{
	unsigned e = mysql_errno(m->conn);
	int code = e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT || e == 9007
			   ? BARGE_ESTORE_LOCKED
			   : BARGE_ESTORE;

	return barge_err_set_db(err, code, e, mysql_sqlstate(m->conn), "%s: %s: %s (%u)",
				m->label, what, mysql_error(m->conn), e);
}

/* Run a statement that returns no rows; *affected (may be NULL) gets the rows it matched. */
static int run(struct mysql_store *m, const struct barge_buf *q, const char *what,
	       uint64_t *affected, struct barge_err *err)
{
	if (mysql_real_query(m->conn, barge_buf_cstr(q), q->len) != 0)
		return fail(m, err, what);
	if (affected)
		*affected = mysql_affected_rows(m->conn);
	return 0;
}

static int run_text(struct mysql_store *m, const char *sql, const char *what,
		    struct barge_err *err)
{
	if (mysql_real_query(m->conn, sql, strlen(sql)) != 0)
		return fail(m, err, what);
	return 0;
}

static int query(struct mysql_store *m, const struct barge_buf *q, const char *what,
		 MYSQL_RES **out, struct barge_err *err)
{
	MYSQL_RES *res;

	if (mysql_real_query(m->conn, barge_buf_cstr(q), q->len) != 0)
		return fail(m, err, what);
	res = mysql_store_result(m->conn);
	if (!res)
		return fail(m, err, what);
	*out = res;
	return 0;
}

/* Undo an open transaction after a failure; its own failure adds nothing worth saying. */
static void rollback(struct mysql_store *m)
{
	mysql_real_query(m->conn, "ROLLBACK", 8);
}

/* A single-quoted string literal of s, escaped for the connection's character set and mode. */
static void put_str(struct mysql_store *m, struct barge_buf *b, const char *s, size_t n)
{
	char *esc = barge_xmalloc(2 * n + 1);
	unsigned long len = mysql_real_escape_string(m->conn, esc, s, (unsigned long)n);

	barge_buf_putc(b, '\'');
	barge_buf_append(b, esc, len);
	barge_buf_putc(b, '\'');
	free(esc);
}

/* WHERE name = 'NAME' */
static void put_where_name(struct mysql_store *m, struct barge_buf *b, const char *name)
{
	barge_buf_puts(b, " WHERE name = ");
	put_str(m, b, name, strlen(name));
}

static int64_t int_field(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

static uint64_t uint_field(const char *s)
{
	return s ? strtoull(s, NULL, 10) : 0;
}

/* A row of COLUMNS into out (initialised here). */
static int row_to_record(struct mysql_store *m, MYSQL_ROW row, const unsigned long *len,
			 struct barge_record *out, struct barge_err *err)
{
	int rc;

	if (!row[0] || !row[2])
		return barge_err_set(err, BARGE_ESTORE, "%s: a row of " TABLE " has no %s",
				     m->label, row[0] ? "record" : "name");
	rc = barge_record_from_json_text(row[2], len[2], out, err);
	if (rc != 0)
		return barge_err_wrap(err, "%s: the record of job %.*s", m->label, (int)len[0],
				      row[0]);
	if (strlen(out->name) != len[0] || memcmp(out->name, row[0], len[0]) != 0) {
		rc = barge_err_set(err, BARGE_ESTORE, "%s: the row of job %.*s holds the record "
				   "of job %s", m->label, (int)len[0], row[0], out->name);
		barge_record_dispose(out);
		return rc;
	}
	out->version = uint_field(row[1]);
	out->created_ms = int_field(row[3]);
	out->updated_ms = int_field(row[4]);
	free(out->lease_owner);
	out->lease_owner = row[5] ? barge_xstrndup(row[5], len[5]) : NULL;
	out->lease_expires_ms = row[5] ? int_field(row[6]) : 0;
	return 0;
}

/*
 * The version of job name into *version, or 0 when there is no such job.  For the messages
 * of a compare-and-swap that matched nothing.
 */
static int current_version(struct mysql_store *m, const char *name, uint64_t *version,
			   struct barge_err *err)
{
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT version FROM " TABLE);
	put_where_name(m, &q, name);
	rc = query(m, &q, "read a version", &res, err);
	if (rc == 0) {
		row = mysql_fetch_row(res);
		*version = row ? uint_field(row[0]) : 0;
		mysql_free_result(res);
	}
	barge_buf_dispose(&q);
	return rc;
}

static int not_found(struct mysql_store *m, const char *name, struct barge_err *err)
{
	return barge_err_set(err, BARGE_ENOTFOUND, "no job named %s in %s", name, m->label);
}

/* ---- opening ---- */

static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static void library_init(void)
{
	/* mysql_init would do it on first use, but not safely from several threads at once */
	mysql_library_init(0, NULL, NULL);
}

/* Use database db, creating it when missing, and create the table when missing. */
static int prepare_schema(struct mysql_store *m, const char *db, struct barge_err *err)
{
	struct barge_buf q;
	const char *p, *end;
	int rc = 0;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	if (mysql_select_db(m->conn, db) != 0) {
		if (mysql_errno(m->conn) != ER_BAD_DB_ERROR) {
			rc = fail(m, err, "use the database");
			goto done;
		}
		barge_buf_puts(&q, "CREATE DATABASE IF NOT EXISTS ");
		barge_buf_append_ident(&q, db);
		rc = run(m, &q, "create the database", NULL, err);
		if (rc != 0)
			goto done;
		if (mysql_select_db(m->conn, db) != 0) {
			rc = fail(m, err, "use the database");
			goto done;
		}
	}
	/* a user with only row privileges can use tables made for it */
	if (mysql_real_query(m->conn, "SELECT 1 FROM " TABLE " LIMIT 0",
			     strlen("SELECT 1 FROM " TABLE " LIMIT 0")) == 0) {
		MYSQL_RES *res = mysql_store_result(m->conn);

		mysql_free_result(res);
		goto done;
	}
	if (mysql_errno(m->conn) != ER_NO_SUCH_TABLE) {
		rc = fail(m, err, "read " TABLE);
		goto done;
	}
	for (p = strstr(ddl, "CREATE TABLE"); p; p = strstr(end, "CREATE TABLE")) {
		end = strstr(p, ";\n");
		barge_buf_reset(&q);
		barge_buf_append(&q, p, (size_t)(end - p));
		rc = run(m, &q, "create " TABLE, NULL, err);
		if (rc != 0)
			goto done;
	}
done:
	barge_buf_dispose(&q);
	return rc;
}

static void mysql_close_store(struct barge_store *s)
{
	struct mysql_store *m = mysql_of(s);

	if (m->conn)
		mysql_close(m->conn);
	if (m->password) {
		barge_redact_remove(m->password);
		barge_free_secret(m->password);
	}
	free(m->label);
	free(m);
}

static int mysql_open_store(const struct barge_store_url *url, struct barge_store **out,
			    struct barge_err *err)
{
	struct mysql_store *m = barge_xcalloc(1, sizeof *m);
	const char *password = getenv(PASSWORD_ENV);
	unsigned timeout = 10, io_timeout = 60;
	bool v6 = strchr(url->host, ':') != NULL;
	int rc = 0;

	pthread_once(&library_once, library_init);
	m->base.ops = &barge_store_mysql_ops;
	m->label = barge_xasprintf("store mysql://%s@%s%s%s:%u/%s", url->user, v6 ? "[" : "",
				   url->host, v6 ? "]" : "", url->port, url->database);
	if (password) {
		m->password = barge_xstrdup(password);
		barge_redact_add(m->password);
	}
	m->conn = mysql_init(NULL);
	if (!m->conn)
		abort();
	mysql_options(m->conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	/* a store that stops answering fails the call instead of hanging the controller */
	mysql_options(m->conn, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
	mysql_options(m->conn, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
	mysql_options(m->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* affected rows count the rows an UPDATE matched, so renewing a lease to the same
	 * expiry still counts as done */
	if (!mysql_real_connect(m->conn, url->host, url->user, m->password, NULL, url->port, NULL,
				CLIENT_FOUND_ROWS)) {
		unsigned e = mysql_errno(m->conn);

		rc = barge_err_set_db(err, BARGE_ESTORE, e, mysql_sqlstate(m->conn),
				      "%s: connect as %s: %s (%u)%s", m->label, url->user,
				      mysql_error(m->conn), e,
				      e == ER_ACCESS_DENIED_ERROR && !m->password
					      ? "; the password is taken from " PASSWORD_ENV
						", which is not set"
					      : "");
		goto done;
	}
	/* UTC, so that NOW(3) converts to Unix time exactly; strict, so nothing is cut short;
	 * no ANSI_QUOTES or NO_BACKSLASH_ESCAPES, whatever the server's default */
	rc = run_text(m,
		      "SET SESSION time_zone = '+00:00', "
		      "sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'",
		      "set up the session", err);
	if (rc == 0)
		rc = prepare_schema(m, url->database, err);
done:
	if (rc != 0) {
		mysql_close_store(&m->base);
		return rc;
	}
	*out = &m->base;
	return 0;
}

/* Controllers share a mysql:// store through leases; there is nothing to claim whole. */
static int mysql_lock(struct barge_store *s, struct barge_err *err)
{
	(void)s;
	(void)err;
	return 0;
}

/* ---- records ---- */

static int mysql_list(struct barge_store *s, struct barge_record **out, size_t *n,
		      struct barge_err *err)
{
	struct mysql_store *m = mysql_of(s);
	struct barge_record *recs = NULL;
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	size_t count = 0;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	/* utf8mb4_bin orders ASCII names as strcmp does */
	barge_buf_puts(&q, "SELECT " COLUMNS " FROM " TABLE " ORDER BY name");
	rc = query(m, &q, "list the jobs", &res, err);
	barge_buf_dispose(&q);
	if (rc != 0)
		return rc;
	recs = barge_xcalloc((size_t)mysql_num_rows(res) + 1, sizeof *recs);
	while ((row = mysql_fetch_row(res)) != NULL) {
		rc = row_to_record(m, row, mysql_fetch_lengths(res), &recs[count], err);
		if (rc != 0)
			break;
		count++;
	}
	mysql_free_result(res);
	if (rc != 0) {
		barge_records_free(recs, count);
		return rc;
	}
	*out = recs;
	*n = count;
	return 0;
}

static int mysql_get(struct barge_store *s, const char *name, struct barge_record *out,
		     struct barge_err *err)
{
	struct mysql_store *m = mysql_of(s);
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT " COLUMNS " FROM " TABLE);
	put_where_name(m, &q, name);
	rc = query(m, &q, "read a job", &res, err);
	barge_buf_dispose(&q);
	if (rc != 0)
		return rc;
	row = mysql_fetch_row(res);
	if (row)
		rc = row_to_record(m, row, mysql_fetch_lengths(res), out, err);
	else
		rc = not_found(m, name, err);
	mysql_free_result(res);
	return rc;
}

/* The message of a put whose compare-and-swap matched nothing. */
static int put_conflict(struct mysql_store *m, const struct barge_record *r,
			struct barge_err *err)
{
	uint64_t now_version = 0;
	int rc = current_version(m, r->name, &now_version, err);

	if (rc != 0)
		return rc;
	if (now_version == 0)
		return barge_err_set(err, BARGE_ESTORE_LOCKED,
				     "store: job %s was deleted since it was read", r->name);
	return barge_err_set(err, BARGE_ESTORE_LOCKED,
			     "store: job %s changed since it was read (version %" PRIu64
			     ", not %" PRIu64 ")",
			     r->name, now_version, r->version);
}

static int mysql_put(struct barge_store *s, struct barge_record *r, struct barge_err *err)
{
	struct mysql_store *m = mysql_of(s);
	struct barge_record doc, stored;
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char *text = NULL;
	uint64_t matched = 0;
	bool in_txn = false;
	int rc;

	/* the document without what the columns hold */
	barge_record_copy(&doc, r);
	free(doc.lease_owner);
	doc.lease_owner = NULL;
	doc.lease_expires_ms = 0;
	doc.version = 0;
	doc.created_ms = doc.updated_ms = 0;
	rc = barge_record_to_json_text(&doc, &text, err);
	barge_record_dispose(&doc);
	barge_buf_init(&q, BARGE_BUF_NOCAP);
	if (rc != 0)
		goto done;
	if (strlen(text) > RECORD_MAX) {
		rc = barge_err_set(err, BARGE_ESTORE, "%s: the record of job %s is larger than %u "
				   "bytes", m->label, r->name, RECORD_MAX);
		goto done;
	}
	/* the write and the read of what it stored, as one */
	rc = run_text(m, "START TRANSACTION", "begin a transaction", err);
	if (rc != 0)
		goto done;
	in_txn = true;
	if (r->version == 0) {
		barge_buf_puts(&q, "INSERT INTO " TABLE " (" COLUMNS ") VALUES (");
		put_str(m, &q, r->name, strlen(r->name));
		barge_buf_puts(&q, ", 1, ");
		put_str(m, &q, text, strlen(text));
		barge_buf_puts(&q, ", ");
		if (r->created_ms > 0)
			barge_buf_append_i64(&q, r->created_ms);
		else
			barge_buf_puts(&q, NOW_MS);
		barge_buf_puts(&q, ", " NOW_MS ", NULL, 0)");
		if (mysql_real_query(m->conn, barge_buf_cstr(&q), q.len) != 0) {
			if (mysql_errno(m->conn) == ER_DUP_ENTRY)
				rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
						   "store: job %s exists already (created since "
						   "it was read)",
						   r->name);
			else
				rc = fail(m, err, "create a job");
			goto done;
		}
	} else {
		barge_buf_puts(&q, "UPDATE " TABLE " SET version = version + 1, record = ");
		put_str(m, &q, text, strlen(text));
		barge_buf_puts(&q, ", updated_ms = " NOW_MS);
		put_where_name(m, &q, r->name);
		barge_buf_appendf(&q, " AND version = %" PRIu64, r->version);
		rc = run(m, &q, "update a job", &matched, err);
		if (rc != 0)
			goto done;
		if (matched == 0) {
			rollback(m);
			in_txn = false;
			rc = put_conflict(m, r, err);
			if (rc == 0) /* unreachable: put_conflict always fails */
				rc = BARGE_ESTORE_LOCKED;
			goto done;
		}
	}
	barge_buf_reset(&q);
	barge_buf_puts(&q, "SELECT version, created_ms, updated_ms, lease_owner, lease_expires_ms "
			   "FROM " TABLE);
	put_where_name(m, &q, r->name);
	rc = query(m, &q, "read the job back", &res, err);
	if (rc != 0)
		goto done;
	row = mysql_fetch_row(res);
	if (!row) {
		mysql_free_result(res);
		rc = barge_err_set(err, BARGE_ESTORE, "%s: job %s is gone right after its write",
				   m->label, r->name);
		goto done;
	}
	barge_record_init(&stored, NULL);
	stored.version = uint_field(row[0]);
	stored.created_ms = int_field(row[1]);
	stored.updated_ms = int_field(row[2]);
	stored.lease_owner = row[3] ? barge_xstrndup(row[3], mysql_fetch_lengths(res)[3]) : NULL;
	stored.lease_expires_ms = row[3] ? int_field(row[4]) : 0;
	mysql_free_result(res);
	rc = run_text(m, "COMMIT", "commit", err);
	in_txn = false;
	if (rc == 0) {
		r->version = stored.version;
		r->created_ms = stored.created_ms;
		r->updated_ms = stored.updated_ms;
		free(r->lease_owner);
		r->lease_owner = stored.lease_owner;
		stored.lease_owner = NULL;
		r->lease_expires_ms = stored.lease_expires_ms;
	}
	barge_record_dispose(&stored);
done:
	if (in_txn)
		rollback(m);
	barge_buf_dispose(&q);
	free(text);
	return rc;
}

static int mysql_del(struct barge_store *s, const char *name, uint64_t version,
		     struct barge_err *err)
{
	struct mysql_store *m = mysql_of(s);
	struct barge_buf q;
	uint64_t matched = 0, now_version = 0;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "DELETE FROM " TABLE);
	put_where_name(m, &q, name);
	if (version != 0)
		barge_buf_appendf(&q, " AND version = %" PRIu64, version);
	rc = run(m, &q, "delete a job", &matched, err);
	if (rc != 0 || matched > 0)
		goto done;
	rc = current_version(m, name, &now_version, err);
	if (rc != 0)
		goto done;
	if (now_version == 0)
		rc = not_found(m, name, err);
	else
		rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
				   "store: job %s changed since it was read (version %" PRIu64
				   ", not %" PRIu64 ")",
				   name, now_version, version);
done:
	barge_buf_dispose(&q);
	return rc;
}

/* ---- leases ---- */

enum lease_op { LEASE_ACQUIRE, LEASE_RENEW, LEASE_RELEASE };

struct lease_state {
	bool found;
	char *owner; /* NULL: nobody holds it */
	int64_t expires_ms, now_ms;
};

/* Who holds job name's lease, and the database's time now. */
static int lease_read(struct mysql_store *m, const char *name, struct lease_state *out,
		      struct barge_err *err)
{
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	memset(out, 0, sizeof *out);
	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT lease_owner, lease_expires_ms, " NOW_MS " FROM " TABLE);
	put_where_name(m, &q, name);
	rc = query(m, &q, "read a lease", &res, err);
	barge_buf_dispose(&q);
	if (rc != 0)
		return rc;
	row = mysql_fetch_row(res);
	if (row) {
		out->found = true;
		out->owner = row[0] ? barge_xstrndup(row[0], mysql_fetch_lengths(res)[0]) : NULL;
		out->expires_ms = int_field(row[1]);
		out->now_ms = int_field(row[2]);
	}
	mysql_free_result(res);
	return 0;
}

/* One conditional UPDATE of job name's lease; *done says whether it matched the row. */
static int lease_update(struct mysql_store *m, enum lease_op op, const char *name,
			const char *owner, int64_t ttl_ms, bool *done, struct barge_err *err)
{
	struct barge_buf q, who;
	uint64_t matched = 0;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_init(&who, BARGE_BUF_NOCAP);
	barge_buf_append_hex(&who, owner, strlen(owner));
	barge_buf_puts(&q, "UPDATE " TABLE " SET ");
	switch (op) {
	case LEASE_ACQUIRE:
		barge_buf_appendf(&q, "lease_owner = %s, lease_expires_ms = " NOW_MS " + %" PRId64,
				  barge_buf_cstr(&who), ttl_ms);
		put_where_name(m, &q, name);
		barge_buf_appendf(&q, " AND (lease_owner IS NULL OR lease_owner = %s OR "
				  "lease_expires_ms <= " NOW_MS ")", barge_buf_cstr(&who));
		break;
	case LEASE_RENEW:
		barge_buf_appendf(&q, "lease_expires_ms = " NOW_MS " + %" PRId64, ttl_ms);
		put_where_name(m, &q, name);
		barge_buf_appendf(&q, " AND lease_owner = %s", barge_buf_cstr(&who));
		break;
	case LEASE_RELEASE:
		barge_buf_puts(&q, "lease_owner = NULL, lease_expires_ms = 0");
		put_where_name(m, &q, name);
		barge_buf_appendf(&q, " AND lease_owner = %s", barge_buf_cstr(&who));
		break;
	}
	rc = run(m, &q, "update a lease", &matched, err);
	if (rc == 0)
		*done = matched > 0;
	barge_buf_dispose(&who);
	barge_buf_dispose(&q);
	return rc;
}

/* A lease goes to the next taker once the database's clock passes its expiry. */
#define LEASE_TRIES 3

static int mysql_lease(struct barge_store *s, enum lease_op op, const char *name,
		       const char *owner, int64_t ttl_ms, struct barge_err *err)
{
	struct mysql_store *m = mysql_of(s);
	struct lease_state st = {0};
	bool done = false, held;
	int rc = 0;

	/* acquire may miss a lease that was released or expired between its UPDATE and the
	 * read that names the holder; it tries again a few times before it gives up */
	for (int i = 0; i < LEASE_TRIES; i++) {
		rc = lease_update(m, op, name, owner, ttl_ms, &done, err);
		if (rc != 0 || done)
			return rc;
		free(st.owner);
		rc = lease_read(m, name, &st, err);
		if (rc != 0)
			goto done;
		if (!st.found) {
			rc = not_found(m, name, err);
			goto done;
		}
		held = st.owner && strcmp(st.owner, owner) != 0 && st.expires_ms > st.now_ms;
		switch (op) {
		case LEASE_RELEASE:
			goto done; /* not ours: nothing to drop */
		case LEASE_RENEW:
			if (!st.owner)
				rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
						   "job %s: the lease of %s was lost", name, owner);
			else if (held)
				rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
						   "job %s is leased to %s for %" PRId64
						   " ms more", name, st.owner,
						   st.expires_ms - st.now_ms);
			else if (strcmp(st.owner, owner) != 0)
				rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
						   "job %s: the lease of %s was lost to %s", name,
						   owner, st.owner);
			else
				continue; /* renewed by another handle of the same owner */
			goto done;
		case LEASE_ACQUIRE:
			if (held) {
				rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
						   "job %s is leased to %s for %" PRId64
						   " ms more", name, st.owner,
						   st.expires_ms - st.now_ms);
				goto done;
			}
			break;
		}
	}
	rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
			   "job %s: its lease kept changing hands while %s tried to take it", name,
			   owner);
done:
	free(st.owner);
	return rc;
}

static int mysql_lease_acquire(struct barge_store *s, const char *name, const char *owner,
			       int64_t ttl_ms, struct barge_err *err)
{
	return mysql_lease(s, LEASE_ACQUIRE, name, owner, ttl_ms, err);
}

static int mysql_lease_renew(struct barge_store *s, const char *name, const char *owner,
			     int64_t ttl_ms, struct barge_err *err)
{
	return mysql_lease(s, LEASE_RENEW, name, owner, ttl_ms, err);
}

static int mysql_lease_release(struct barge_store *s, const char *name, const char *owner,
			       struct barge_err *err)
{
	return mysql_lease(s, LEASE_RELEASE, name, owner, 0, err);
}

const struct barge_store_ops barge_store_mysql_ops = {
	.scheme = "mysql",
	.open = mysql_open_store,
	.lock = mysql_lock,
	.list = mysql_list,
	.get = mysql_get,
	.put = mysql_put,
	.del = mysql_del,
	.lease_acquire = mysql_lease_acquire,
	.lease_renew = mysql_lease_renew,
	.lease_release = mysql_lease_release,
	.close = mysql_close_store,
};
