/*
 * db.c — connections to source and target and the mapping of their errors (see db.h).
 */
#include "engine/db.h"

#include <errmsg.h>
#include <errno.h>
#include <fcntl.h>
#include <mysqld_error.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/buf.h"
#include "engine/log.h"
#include "engine/secret.h"

const char *barge_flavor_name(enum barge_flavor f)
{
	switch (f) {
	case BARGE_FLAVOR_MYSQL: return "mysql";
	case BARGE_FLAVOR_MARIADB: return "mariadb";
	case BARGE_FLAVOR_TIDB: return "tidb";
	case BARGE_FLAVOR_AURORA: return "aurora";
	}
	return "?";
}

static bool connection_lost(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == 2055 /* lost, extended */ ||
	       e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR || e == ER_SERVER_SHUTDOWN ||
	       e == 1927 /* connection killed */ || e == ER_CON_COUNT_ERROR;
}

static bool disk_full(unsigned e, const char *msg)
{
	if (e == ER_DISK_FULL || e == ER_RECORD_FILE_FULL || e == 1021 || e == 1114)
		return true;
	/* "Error writing file ... (Errcode: 28 "No space left on device")" and TiKV's
	 * out-of-space answers */
	return msg && (strstr(msg, "No space left on device") || strstr(msg, "Errcode: 28") ||
		       strstr(msg, "disk full") || strstr(msg, "space is not enough"));
}

/* The catalogue code for a failure of a statement on db (not of connecting). */
static int code_for(const struct barge_db *db, unsigned e, const char *msg)
{
	if (db->role == BARGE_DB_SOURCE) {
		if (connection_lost(e))
			return BARGE_ESRC_LOST;
		if (e == 1236) /* ER_MASTER_FATAL_ERROR_READING_BINLOG */
			return BARGE_EBINLOG_PURGED;
		return BARGE_ESRC_QUERY;
	}
	if (connection_lost(e))
		return BARGE_ETGT_LOST;
	if (e == ER_DUP_ENTRY || e == 1586 /* ER_DUP_ENTRY_WITH_KEY_NAME */)
		return BARGE_EDUP_KEY;
	if (disk_full(e, msg))
		return BARGE_ETGT_FULL;
	/* TiDB's "Transaction is too large"; MySQL's and MariaDB's binlog cache of one
	 * transaction exceeding max_binlog_cache_size (ER_TRANS_CACHE_FULL) */
	if (e == 8004 || e == 1197)
		return BARGE_ETGT_TXN_TOO_LARGE;
	if (barge_errno_retryable(e, msg))
		return BARGE_ETGT_RETRY;
	return BARGE_ETGT_QUERY;
}

int barge_db_fail(struct barge_db *db, struct barge_err *err, const char *fmt, ...)
{
	char what[1024];
	unsigned e = mysql_errno(db->conn);
	const char *msg = mysql_error(db->conn);
	int code = code_for(db, e, msg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return barge_err_set_db(err, code, e, mysql_sqlstate(db->conn), "%s: %s: %s (%u)",
				db->where, what, msg, e);
}

static void statement_excerpt(const char *sql, char *out, size_t n)
{
	size_t len = strlen(sql);

	if (len < n) {
		memcpy(out, sql, len + 1);
		return;
	}
	snprintf(out, n, "%.*s...", (int)(n - 4), sql);
}

int barge_db_exec(struct barge_db *db, const char *sql, struct barge_err *err)
{
	MYSQL_RES *res;
	char excerpt[304];

	if (mysql_real_query(db->conn, sql, strlen(sql)) != 0) {
		statement_excerpt(sql, excerpt, sizeof excerpt);
		return barge_db_fail(db, err, "%s", excerpt);
	}
	/* drain any result set (and further results of multi-statements, any of which may be
	 * the one that failed) */
	for (;;) {
		int more;

		res = mysql_store_result(db->conn);
		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(db->conn) != 0) {
			statement_excerpt(sql, excerpt, sizeof excerpt);
			return barge_db_fail(db, err, "%s", excerpt);
		}
		more = mysql_next_result(db->conn);
		if (more < 0)
			return 0;
		if (more > 0) {
			statement_excerpt(sql, excerpt, sizeof excerpt);
			return barge_db_fail(db, err, "%s", excerpt);
		}
	}
}

int barge_db_execf(struct barge_db *db, struct barge_err *err, const char *fmt, ...)
{
	va_list ap;
	char *sql = NULL;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		abort();
	va_end(ap);
	rc = barge_db_exec(db, sql, err);
	free(sql);
	return rc;
}

int barge_db_query(struct barge_db *db, const char *sql, MYSQL_RES **out, struct barge_err *err)
{
	MYSQL_RES *res;
	char excerpt[304];

	if (mysql_real_query(db->conn, sql, strlen(sql)) != 0) {
		statement_excerpt(sql, excerpt, sizeof excerpt);
		return barge_db_fail(db, err, "%s", excerpt);
	}
	res = mysql_store_result(db->conn);
	if (!res) {
		statement_excerpt(sql, excerpt, sizeof excerpt);
		if (mysql_errno(db->conn))
			return barge_db_fail(db, err, "%s", excerpt);
		return barge_err_set(err, db->role == BARGE_DB_SOURCE ? BARGE_ESRC_QUERY
								       : BARGE_ETGT_QUERY,
				     "%s: %s: returned no result set", db->where, excerpt);
	}
	*out = res;
	return 0;
}

int barge_db_query_value(struct barge_db *db, const char *sql, char **out, bool *found,
			 struct barge_err *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc = barge_db_query(db, sql, &res, err);

	if (rc)
		return rc;
	row = mysql_fetch_row(res);
	if (found)
		*found = row != NULL;
	*out = (row && row[0]) ? barge_xstrndup(row[0], mysql_fetch_lengths(res)[0]) : NULL;
	mysql_free_result(res);
	return 0;
}

/* A path from a job file, made absolute against base_dir. */
static char *job_path(const char *path, const char *base_dir)
{
	if (!path)
		return NULL;
	if (path[0] == '/' || !base_dir || !*base_dir)
		return barge_xstrdup(path);
	return barge_xasprintf("%s/%s", base_dir, path);
}

/*
 * Whether a TLS file from the job can be read, checked before connecting: the client library's
 * own answer for a missing key is "File '...' not found (Errcode: <garbage>)" and names neither
 * the endpoint nor the job key.  Returns 0 or BARGE_ETLS naming spec.SIDE.tls.KEY and the path.
 */
static int check_tls_file(const char *side, const char *where, const char *key,
			  const char *path, struct barge_err *err)
{
	struct stat st;
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return barge_err_set(err, BARGE_ETLS, "%s: spec.%s.tls.%s: cannot read %s: %s",
				     where, side, key, path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return barge_err_set(err, BARGE_ETLS, "%s: spec.%s.tls.%s: %s is not a file", where,
				     side, key, path);
	}
	close(fd);
	return 0;
}

/*
 * A hint for a refused login that TLS may explain.  MariaDB answers a plain-text login to a
 * server with require_secure_transport, and a login without a client certificate by a user
 * created REQUIRE X509, with the same "Access denied" (1045) as a wrong password.
 */
static const char *login_hint(const struct barge_endpoint *ep, unsigned e)
{
	if (e != ER_ACCESS_DENIED_ERROR)
		return "";
	if (!ep->tls.enabled)
		return "; a server that requires TLS (require_secure_transport, or a user created "
		       "REQUIRE SSL) refuses a plain-text login the same way: then add a tls: block";
	if (!ep->tls.cert)
		return "; a user created REQUIRE X509 refuses a login without a client certificate "
		       "the same way: then add tls.cert and tls.key";
	return "";
}

static void detect_flavor(struct barge_db *db)
{
	char *v = NULL;
	struct barge_err ignored = {0};

	snprintf(db->version, sizeof db->version, "%s", mysql_get_server_info(db->conn));
	db->server_version = mysql_get_server_version(db->conn);
	if (barge_db_query_value(db, "SELECT VERSION()", &v, NULL, &ignored) == 0 && v) {
		snprintf(db->version, sizeof db->version, "%s", v);
		free(v);
		v = NULL;
	}
	if (strstr(db->version, "-TiDB-"))
		db->flavor = BARGE_FLAVOR_TIDB;
	else if (strcasestr(db->version, "mariadb"))
		db->flavor = BARGE_FLAVOR_MARIADB;
	else
		db->flavor = BARGE_FLAVOR_MYSQL;
	if (db->flavor == BARGE_FLAVOR_MYSQL) {
		/* Aurora answers @@aurora_version; elsewhere the variable does not exist */
		if (mysql_query(db->conn, "SELECT @@aurora_version") == 0) {
			MYSQL_RES *res = mysql_store_result(db->conn);

			if (res) {
				db->flavor = BARGE_FLAVOR_AURORA;
				mysql_free_result(res);
			}
		}
	}
	if (db->flavor != BARGE_FLAVOR_TIDB &&
	    barge_db_query_value(db, "SELECT @@basedir", &v, NULL, &ignored) == 0 && v) {
		db->rds = strstr(v, "rdsdbbin") != NULL;
		free(v);
	}
}

int barge_db_connect(const struct barge_endpoint *ep, enum barge_db_role role,
		     const char *base_dir, const struct barge_db_opts *opts, struct barge_db **out,
		     struct barge_err *err)
{
	struct barge_db_opts defaults = {0};
	struct barge_db *db = NULL;
	char *password = NULL, *ca = NULL, *cert = NULL, *key = NULL;
	const char *side = role == BARGE_DB_SOURCE ? "source" : "target";
	unsigned timeout;
	my_bool on = 1, verify;
	int rc = 0;

	if (!opts)
		opts = &defaults;
	if (ep->password && barge_secret_resolve(ep->password, base_dir, &password, err) != 0)
		return barge_err_wrap(err, "%s password", side);
	db = barge_xcalloc(1, sizeof *db);
	db->role = role;
	snprintf(db->where, sizeof db->where, "%s %s:%u", side, ep->host, ep->port);
	db->conn = mysql_init(NULL);
	if (!db->conn)
		abort();
	timeout = opts->connect_timeout_s ? opts->connect_timeout_s : 10;
	mysql_options(db->conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	if (opts->read_timeout_s)
		mysql_options(db->conn, MYSQL_OPT_READ_TIMEOUT, &opts->read_timeout_s);
	if (opts->write_timeout_s)
		mysql_options(db->conn, MYSQL_OPT_WRITE_TIMEOUT, &opts->write_timeout_s);
	mysql_options(db->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (opts->local_infile)
		mysql_options(db->conn, MYSQL_OPT_LOCAL_INFILE, &on);
	if (ep->tls.enabled) {
		/* The server is verified against tls.ca (chain and host name) unless verify is
		 * false.  Without a ca there is nothing the job trusts, so cert+key alone
		 * authenticates the client only.  Connector/C checks the chain whenever it is given
		 * a CA, so verify: false does not pass the ca on. */
		verify = ep->tls.verify && ep->tls.ca;
		ca = verify ? job_path(ep->tls.ca, base_dir) : NULL;
		cert = job_path(ep->tls.cert, base_dir);
		key = job_path(ep->tls.key, base_dir);
		if ((rc = check_tls_file(side, db->where, "ca", ca, err)) != 0 ||
		    (rc = check_tls_file(side, db->where, "cert", cert, err)) != 0 ||
		    (rc = check_tls_file(side, db->where, "key", key, err)) != 0)
			goto done;
		mysql_ssl_set(db->conn, key, cert, ca, NULL, NULL);
		mysql_options(db->conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
		/* refuse to fall back to plain text when TLS was asked for */
		mysql_options(db->conn, MYSQL_OPT_SSL_ENFORCE, &on);
	}
	/* the target takes a batch and its checkpoint in one round trip */
	if (!mysql_real_connect(db->conn, ep->host, ep->user ? ep->user : "", password, NULL,
				ep->port, NULL,
				CLIENT_MULTI_RESULTS |
					(role == BARGE_DB_TARGET ? CLIENT_MULTI_STATEMENTS : 0))) {
		unsigned e = mysql_errno(db->conn);
		const char *msg = mysql_error(db->conn);
		/* only the client library's own errors (2xxx) can be TLS problems; a server's
		 * answer such as 1045 quotes the user name, which may well contain "tls" */
		bool tls_problem = ep->tls.enabled &&
				   (e == CR_SSL_CONNECTION_ERROR ||
				    (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR &&
				     (strcasestr(msg, "SSL") || strcasestr(msg, "TLS") ||
				      strcasestr(msg, "certificate"))));
		int code;

		if (tls_problem)
			code = BARGE_ETLS;
		else if (role == BARGE_DB_TARGET)
			code = BARGE_ETGT_CONNECT;
		else if (e == ER_CON_COUNT_ERROR || e == ER_TOO_MANY_USER_CONNECTIONS)
			code = BARGE_ESRC_UNAVAILABLE;
		else
			code = BARGE_ESRC_CONNECT;
		if (tls_problem && ca)
			rc = barge_err_set_db(err, code, e, mysql_sqlstate(db->conn),
					      "%s as %s: %s (%u); the server's certificate was "
					      "checked against spec.%s.tls.ca %s for host %s",
					      db->where, ep->user ? ep->user : "", msg, e, side, ca,
					      ep->host);
		else
			rc = barge_err_set_db(err, code, e, mysql_sqlstate(db->conn),
					      "%s as %s: %s (%u)%s", db->where,
					      ep->user ? ep->user : "", msg, e, login_hint(ep, e));
		goto done;
	}
	detect_flavor(db);
	/* barge's own sessions: UTC timestamps, no ANSI_QUOTES or NO_BACKSLASH_ESCAPES (SQL text is
	 * built for the default quoting), zero dates and values kept as they are */
	if (mysql_query(db->conn, role == BARGE_DB_TARGET
					  ? "SET SESSION time_zone = '+00:00', sql_mode = "
					    "'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', "
					    "foreign_key_checks = 0"
					  : "SET SESSION time_zone = '+00:00', sql_mode = "
					    "'NO_ENGINE_SUBSTITUTION', net_write_timeout = 600, "
					    "net_read_timeout = 600") != 0) {
		rc = barge_db_fail(db, err, "set up the session");
		goto done;
	}
	if (opts->binary_results && mysql_query(db->conn, "SET character_set_results = binary") != 0) {
		rc = barge_db_fail(db, err, "SET character_set_results");
		goto done;
	}
done:
	barge_secret_release(password);
	free(ca);
	free(cert);
	free(key);
	if (rc) {
		barge_db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void barge_db_close(struct barge_db *db)
{
	if (!db)
		return;
	if (db->conn)
		mysql_close(db->conn);
	free(db);
}
