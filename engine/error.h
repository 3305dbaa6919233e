/*
 * error.h — barge's error codes, the error catalogue and the caller-owned error record.
 *
 * Every engine and rules function that can fail returns 0 or a negative BARGE_E* code and, when
 * given one, fills a caller-owned struct barge_err with the detail.  Callers add context on the
 * way up with barge_err_wrap(), so a message reads from the outside in:
 *
 *     job orders: load shop.orders chunk 17: target: Lock wait timeout exceeded (1205)
 *
 * The catalogue below is the one place where a code's class, side, retryability, user-facing
 * message and advice live; status output, --json, webhooks and the README all draw from it.
 * Messages for the failure cases of TiDB Cloud's Data Migration use that product's wording.
 *
 * Messages never contain secrets: code that builds a message from server replies passes it
 * through barge_err_set(), which redacts every registered secret (see secret.h).
 */
#ifndef BARGE_ENGINE_ERROR_H
#define BARGE_ENGINE_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

/* Which side of a migration an error belongs to. */
enum barge_err_side {
	BARGE_SIDE_INTERNAL,   /* barge itself, its host or its store */
	BARGE_SIDE_USER,       /* the job files or the command line */
	BARGE_SIDE_UPSTREAM,   /* the source database */
	BARGE_SIDE_DOWNSTREAM, /* the target database */
	BARGE_SIDE_NOTIFY,     /* a webhook receiver */
};

/*
 * The catalogue: X(NAME, number, class, side, retryable, message, what to do).
 *
 * The number is stable (documented, stored, sent in webhooks); never reuse one.  `retryable`
 * says whether the reconciler backs off and retries the job by itself; a non-retryable error
 * stops the job as Failed until the user fixes the cause and restarts it.
 */
#define BARGE_ERRORS(X)                                                                           \
	X(NOMEM, 1, "internal", BARGE_SIDE_INTERNAL, false,                                        \
	  "Out of memory.",                                                                        \
	  "Give barge more memory or lower full.threads / incremental.workers.")                   \
	X(INVAL, 2, "internal", BARGE_SIDE_INTERNAL, false,                                        \
	  "Invalid argument.",                                                                     \
	  "This is a bug in barge; please report it with the message.")                            \
	X(IO, 3, "internal", BARGE_SIDE_INTERNAL, false,                                           \
	  "A file could not be read or written.",                                                  \
	  "Check the path, its permissions and the free disk space.")                              \
	X(USAGE, 4, "usage", BARGE_SIDE_USER, false,                                               \
	  "The command line is not valid.",                                                        \
	  "Run the command with --help to see its arguments.")                                     \
	X(CONFIG, 5, "config", BARGE_SIDE_USER, false,                                             \
	  "The job file is not valid.",                                                            \
	  "Fix the key named at file:line:col and run barge validate again.")                      \
	X(SECRET, 6, "config", BARGE_SIDE_USER, false,                                             \
	  "A secret reference could not be resolved.",                                             \
	  "Set the environment variable or create the file the ${env:...} / ${file:...} "          \
	  "reference names.")                                                                      \
	X(RULES, 7, "config", BARGE_SIDE_USER, false,                                              \
	  "A block/allow rule, route or filter is not valid.",                                     \
	  "Fix the pattern named in the message.")                                                 \
	X(TOOBIG, 8, "limit", BARGE_SIDE_INTERNAL, false,                                          \
	  "A value is larger than barge's limit for it.",                                          \
	  "Check the input named in the message; the limit protects barge's memory.")              \
	X(NOTFOUND, 9, "usage", BARGE_SIDE_USER, false,                                            \
	  "No such job.",                                                                          \
	  "Check the job name with barge status.")                                                 \
	X(CANCELLED, 10, "internal", BARGE_SIDE_INTERNAL, false,                                   \
	  "The operation was stopped.",                                                            \
	  "Nothing to do: the job stopped because it was asked to.")                               \
	X(UNSUPPORTED, 11, "internal", BARGE_SIDE_INTERNAL, false,                                 \
	  "barge does not support this yet.",                                                      \
	  "See the README for what is supported.")                                                 \
	X(STORE, 20, "store", BARGE_SIDE_INTERNAL, false,                                          \
	  "The state store could not be read or written.",                                         \
	  "Check the --store URL (or BARGE_STORE), its permissions and free space.")               \
	X(STORE_LOCKED, 21, "store", BARGE_SIDE_INTERNAL, true,                                    \
	  "Another barge controller is using this state store.",                                   \
	  "Stop the other controller, or give this one its own --store.")                          \
	X(SRC_CONNECT, 30, "connection", BARGE_SIDE_UPSTREAM, false,                               \
	  "Failed to connect to the source database using given parameters. Please make sure "     \
	  "the source database is up and can be connected using the given parameters.",            \
	  "Check the source host, port, user, password and TLS settings, then restart the job.")   \
	X(SRC_UNAVAILABLE, 31, "connection", BARGE_SIDE_UPSTREAM, true,                            \
	  "Failed to connect to the source database. Please check whether the database is "        \
	  "available or the maximum connections have been reached.",                               \
	  "Check that the source is up and below max_connections; barge retries by itself.")       \
	X(SRC_LOST, 32, "connection", BARGE_SIDE_UPSTREAM, true,                                   \
	  "The connection to the source database was lost.",                                       \
	  "barge reconnects by itself; check the source if this repeats.")                         \
	X(SRC_QUERY, 33, "source", BARGE_SIDE_UPSTREAM, false,                                     \
	  "A statement failed on the source database.",                                            \
	  "Check the statement and the server error in the message.")                              \
	X(BINLOG_PURGED, 34, "binlog", BARGE_SIDE_UPSTREAM, false,                                 \
	  "The required binary log for migration no longer exists on the source database. Please " \
	  "make sure binary log files are kept for long enough time for migration to succeed.",    \
	  "The binlog is gone: create a new job (full + incremental). Raise expire_logs_days / "   \
	  "binlog_expire_logs_seconds and do not PURGE BINARY LOGS a job still needs.")            \
	X(BINLOG_CORRUPT, 35, "binlog", BARGE_SIDE_UPSTREAM, false,                                \
	  "A binlog event is corrupt or truncated.",                                               \
	  "The message names the file or stream position and offset; check the source's binlog.") \
	X(SERVER_ID, 36, "binlog", BARGE_SIDE_UPSTREAM, false,                                     \
	  "The replica server id is already used by another replica of the source.",              \
	  "Give the job a different spec.source.serverId.")                                        \
	X(TGT_CONNECT, 40, "connection", BARGE_SIDE_DOWNSTREAM, false,                             \
	  "Failed to connect to the TiDB cluster using the given user and password. Please make "  \
	  "sure TiDB Cluster is up and can be connected to using the given user and password.",    \
	  "Check the target host, port, user, password and TLS settings, then restart the job.")   \
	X(TGT_LOST, 41, "connection", BARGE_SIDE_DOWNSTREAM, true,                                 \
	  "driver: bad connection (invalid connection): the connection to the target database "    \
	  "was lost.",                                                                             \
	  "barge resumes by itself when the target is back; check that it is up and reachable.")   \
	X(TGT_QUERY, 42, "target", BARGE_SIDE_DOWNSTREAM, false,                                   \
	  "A statement failed on the target database.",                                            \
	  "Check the statement and the server error in the message.")                              \
	X(TGT_RETRY, 43, "target", BARGE_SIDE_DOWNSTREAM, true,                                    \
	  "The target database asked for the transaction to be retried.",                          \
	  "Nothing to do: deadlocks, lock wait timeouts and write conflicts are retried.")         \
	X(TGT_FULL, 44, "target", BARGE_SIDE_DOWNSTREAM, false,                                    \
	  "TiDB cluster storage is not enough. Please increase the node storage of TiKV.",         \
	  "Add storage to the target, then restart the job.")                                      \
	X(TGT_TXN_TOO_LARGE, 45, "target", BARGE_SIDE_DOWNSTREAM, false,                           \
	  "The transaction is too large for the target database.",                                 \
	  "Lower incremental.batch or full.chunkRows.")                                            \
	X(DUP_KEY, 46, "data", BARGE_SIDE_DOWNSTREAM, false,                                       \
	  "A row already exists in the target with the same key (duplicate entry).",               \
	  "Make sure the source data is right, then restart the job: the conflicting target rows " \
	  "are replaced with the source's.")                                                       \
	X(DDL, 47, "ddl", BARGE_SIDE_DOWNSTREAM, false,                                            \
	  "A DDL statement from the source could not be applied to the target.",                   \
	  "Apply an equivalent change by hand and skip the statement, or fix the target.")         \
	X(TLS, 50, "connection", BARGE_SIDE_USER, false,                                           \
	  "The TLS settings are not valid or the server certificate could not be verified.",       \
	  "Check the ca, cert and key files and that the server's certificate matches the host.")  \
	X(PRECHECK, 51, "precheck", BARGE_SIDE_USER, false,                                        \
	  "The precheck failed.",                                                                  \
	  "Fix each Failed item as its instruction says, then check again.")                       \
	X(WEBHOOK, 60, "notify", BARGE_SIDE_NOTIFY, true,                                          \
	  "A webhook could not be delivered.",                                                     \
	  "Check the receiver's URL and that it answers 2xx; barge retries with backoff.")

enum barge_code {
	BARGE_OK = 0,
#define BARGE_X_ENUM(name, num, cls, side, retry, msg, todo) BARGE_E##name = -(num),
	BARGE_ERRORS(BARGE_X_ENUM)
#undef BARGE_X_ENUM
};

/* One catalogue entry. */
struct barge_errinfo {
	int code;               /* negative BARGE_E* */
	const char *name;       /* "SRC_CONNECT" */
	const char *cls;        /* "connection", "config", ... */
	enum barge_err_side side;
	bool retryable;
	const char *message;    /* user-facing summary, the seed's wording where it has one */
	const char *action;     /* what the user should do */
};

#define BARGE_ERR_MSG_MAX 2048

/* A caller-owned error record.  Zero-initialise it (or barge_err_clear) before use. */
struct barge_err {
	int code;                      /* BARGE_E*, or 0 when nothing failed */
	unsigned db_errno;             /* server or client error number, 0 if none */
	char sqlstate[6];              /* "" if none */
	char msg[BARGE_ERR_MSG_MAX];   /* context-wrapped detail, never a secret */
};

/* The catalogue entry for code, or NULL when code is not a BARGE_E* value. */
const struct barge_errinfo *barge_errinfo_get(int code);

/* Every catalogue entry in order; *count receives the number of entries. */
const struct barge_errinfo *barge_errinfo_all(int *count);

/* "SRC_CONNECT" for BARGE_ESRC_CONNECT, "OK" for 0, "UNKNOWN" otherwise.  Static storage. */
const char *barge_err_name(int code);

/* The code for a catalogue name ("DUP_KEY"), as barge_err_name gives it; 0 when unknown. */
int barge_err_code(const char *name);

/* "internal", "user", "upstream", "downstream", "notify".  Static storage. */
const char *barge_err_side_name(enum barge_err_side side);

/*
 * The catalogue as a Markdown page: a title, a paragraph on how to read it, and one table row
 * per entry in catalogue order.  docs/errors.md is this text (a unit test keeps them equal);
 * `barge errors` prints it.  Returns a heap string the caller frees.
 */
char *barge_err_catalogue_markdown(void);

void barge_err_clear(struct barge_err *err);

/*
 * Record code and a printf-style detail in err (which may be NULL).  Any registered secret in
 * the formatted text is replaced by "******".  Returns code, so callers can write
 * `return barge_err_set(err, BARGE_EIO, "open %s: %s", path, strerror(errno));`.
 */
int barge_err_set(struct barge_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int barge_err_setv(struct barge_err *err, int code, const char *fmt, va_list ap);

/* Like barge_err_set, also recording the database error number and SQLSTATE. */
int barge_err_set_db(struct barge_err *err, int code, unsigned db_errno, const char *sqlstate,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Prefix err->msg with a context and ": ".  Returns err->code (or BARGE_EINVAL when err is NULL
 * or holds no error).  Truncates from the end when the message would not fit.
 */
int barge_err_wrap(struct barge_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Whether the failure in err is worth retrying: the catalogue's retryable flag, or a database
 * error number known to be transient (deadlock, lock wait timeout, server gone, TiDB's
 * retryable codes).
 */
bool barge_err_retryable(const struct barge_err *err);

/* Whether a server error number is transient on MySQL, MariaDB or TiDB. */
bool barge_errno_retryable(unsigned db_errno, const char *message);

#endif
