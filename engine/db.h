/*
 * db.h — connections to the source and the target, and the mapping of their errors.
 *
 * Every statement barge sends goes through a struct barge_db, which knows whether it talks to
 * the source or the target, so that a failure becomes the right catalogue error: "Failed to
 * connect to the source database using given parameters. ..." for a refused source login, a
 * retryable BARGE_ETGT_LOST for a target that went away mid-statement, BARGE_EDUP_KEY for a
 * duplicate entry, BARGE_ETGT_FULL for a full disk, and so on.  Server messages are appended
 * with their error number; passwords never are (they are resolved, used and wiped inside
 * barge_db_connect).
 */
#ifndef BARGE_ENGINE_DB_H
#define BARGE_ENGINE_DB_H

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/error.h"
#include "engine/job.h"

enum barge_db_role { BARGE_DB_SOURCE, BARGE_DB_TARGET };

enum barge_flavor {
	BARGE_FLAVOR_MYSQL,
	BARGE_FLAVOR_MARIADB,
	BARGE_FLAVOR_TIDB,
	BARGE_FLAVOR_AURORA, /* Aurora MySQL: MySQL with @@aurora_version */
};

struct barge_db_opts {
	unsigned connect_timeout_s; /* default 10 */
	unsigned read_timeout_s;    /* default 0: none (long reads of big tables) */
	unsigned write_timeout_s;   /* default 0 */
	bool local_infile;          /* allow LOAD DATA LOCAL INFILE (target loads) */
	bool binary_results;        /* character_set_results=binary: strings as stored bytes */
};

struct barge_db {
	MYSQL *conn;
	enum barge_db_role role;
	enum barge_flavor flavor;
	char version[128];          /* SELECT VERSION() */
	unsigned long server_version; /* mysql_get_server_version: 100611 for 10.6.11 */
	bool rds;                   /* Amazon RDS (basedir under /rdsdbbin) */
	char where[300];            /* "source 127.0.0.1:3306" for messages */
};

/*
 * Connect to an endpoint.  base_dir resolves relative TLS paths and ${file:...} references.
 * Returns 0 and sets *out (close with barge_db_close), or BARGE_ESRC_CONNECT /
 * BARGE_ESRC_UNAVAILABLE / BARGE_ETGT_CONNECT / BARGE_ETLS / BARGE_ESECRET with the server's
 * error appended (db_errno set, so retryability is known).
 */
int barge_db_connect(const struct barge_endpoint *ep, enum barge_db_role role,
		     const char *base_dir, const struct barge_db_opts *opts, struct barge_db **out,
		     struct barge_err *err);

void barge_db_close(struct barge_db *db);

/*
 * Fill err from the connection's last error, with context (what was being done).  Returns the
 * code chosen for it.  Use after any failed mysql_* call on db->conn.
 */
int barge_db_fail(struct barge_db *db, struct barge_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Run one statement, discarding any result.  0 or a mapped error (the statement is quoted
 * in the message, cut at 300 bytes). */
int barge_db_exec(struct barge_db *db, const char *sql, struct barge_err *err);
int barge_db_execf(struct barge_db *db, struct barge_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Run a query and store its whole result (*out; mysql_free_result it). */
int barge_db_query(struct barge_db *db, const char *sql, MYSQL_RES **out, struct barge_err *err);

/*
 * The first column of the first row as a heap string (*out; NULL for SQL NULL or no row,
 * with *found false for no row).  found may be NULL.
 */
int barge_db_query_value(struct barge_db *db, const char *sql, char **out, bool *found,
			 struct barge_err *err);

/* "mysql", "mariadb", "tidb", "aurora". */
const char *barge_flavor_name(enum barge_flavor f);

/* Whether db runs MariaDB (binlog and GTID formats differ from MySQL's). */
static inline bool barge_db_is_mariadb(const struct barge_db *db)
{
	return db->flavor == BARGE_FLAVOR_MARIADB;
}

#endif
