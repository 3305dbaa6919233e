/*
 * store.h — recorded state: one record per job, behind one interface with two backends.
 *
 * A record holds two halves.  The desired half is what `barge apply` (or `barge run jobs/`)
 * recorded from the job files, and what `barge pause|resume|restart|delete JOB` change: the
 * spec, the desired state, the restart generation asked for, a pending delete.  The acted half
 * is what the controller has made of it: the stage, the spec and generation it acted on, status,
 * progress, lag, the last error, webhook health.  plan.c compares the two (and the files).
 *
 * Backends, chosen by the store URL:
 *   dir:PATH                    one JSON file per job under PATH (store_dir.c): written to a
 *                               temporary file, fsync'd, renamed over the old one, directory
 *                               fsync'd; files 0600 in a 0700 directory; an flock on PATH/.lock
 *                               held by the one controller that may use the store.
 *   mysql://user@host:port/db   one table (schemas/store.sql) in a TiDB, MySQL or MariaDB
 *                               database, created when missing, shared by several controllers
 *                               through leases (store_mysql.c).  The password is taken from
 *                               $BARGE_STORE_PASSWORD, never from the URL.
 * Without --store, barge_store_default_url() gives $BARGE_STORE, else dir:$XDG_STATE_HOME/barge,
 * else dir:~/.local/state/barge.
 *
 * Concurrency: every record carries a version counter.  barge_store_put() is a compare-and-swap
 * on it, so two writers (a controller and an apply, or two controllers) never lose each other's
 * update: the loser gets BARGE_ESTORE_LOCKED and reads the record again.  Leases are kept beside
 * the versioned content: the lease calls never change the version, and put never changes the
 * lease, so renewing a lease does not invalidate the copy a controller holds.
 *
 * Every function returns 0 or a negative BARGE_E* code with the detail in err; records handed
 * out are the caller's (barge_record_dispose / barge_records_free).
 */
#ifndef BARGE_ENGINE_STORE_H
#define BARGE_ENGINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"
#include "engine/job.h"
#include "engine/lifecycle.h"

/* ---- records ---- */

struct barge_record_progress {
	uint64_t rows_done, rows_total;   /* total 0 = unknown */
	uint64_t bytes_done, bytes_total;
	double rate;                      /* rows per second, recent; 0 = unknown */
	int64_t eta_seconds;              /* -1 = unknown */
};

/* The last error that stopped or troubled the job; code NULL when there is none. */
struct barge_record_error {
	char *code;      /* catalogue name, "DUP_KEY" (barge_err_name) */
	char *message;   /* the wrapped message, never a secret */
	char *position;  /* binlog position "mysql-bin.000003:4711" or GTID set; NULL = none */
	char *statement; /* the failing SQL; NULL = none */
	int64_t at_ms;   /* when, Unix milliseconds */
};

enum barge_delivery { BARGE_DELIVERY_NONE, BARGE_DELIVERY_OK, BARGE_DELIVERY_FAILED };

/* How the job's webhooks fare. */
struct barge_record_webhook {
	enum barge_delivery last; /* the last delivery's outcome */
	uint64_t failures;        /* failed deliveries since the last good one */
	char *last_failure;       /* why the last failed delivery failed; NULL = none */
	int64_t last_at_ms;
};

struct barge_record {
	char *name;
	uint64_t version; /* compare-and-swap counter: 0 = not stored yet, put increments it */

	/* desired, as applied */
	char *spec_json;        /* barge_job_to_json(), compact with sorted keys; NULL = none */
	char spec_hash[65];     /* the job's spec_hash ("" = none) */
	enum barge_desired_state desired_state;
	uint64_t desired_generation; /* the restartGeneration asked for */
	bool delete_requested;

	/* acted on by the controller */
	char *acted_spec_json;  /* the spec the worker runs or last ran with; NULL: never ran */
	uint64_t acted_generation;
	enum barge_stage stage;
	enum barge_stage paused_from; /* the stage a Paused job resumes to */
	char *status;                 /* one line of detail for status; NULL = none */
	struct barge_record_progress progress;
	double lag_seconds;           /* replication lag; negative = unknown */
	struct barge_record_error error;
	struct barge_record_webhook webhook;
	int64_t created_ms, updated_ms; /* Unix milliseconds, stamped by put */

	/* the lease (only the lease calls change it) */
	char *lease_owner;      /* NULL = no lease */
	int64_t lease_expires_ms;
};

/* An empty record for name (copied; may be NULL): stage New, unknowns -1. */
void barge_record_init(struct barge_record *r, const char *name);
/* Free what r owns; r may be initialised again. */
void barge_record_dispose(struct barge_record *r);
/* A deep copy of src into dst (not initialised before). */
void barge_record_copy(struct barge_record *dst, const struct barge_record *src);
/* Dispose n records and free the array; accepts NULL. */
void barge_records_free(struct barge_record *recs, size_t n);

/* Set the desired half from a job: spec_json, spec_hash, desired_state, desired_generation. */
void barge_record_set_spec(struct barge_record *r, const struct barge_job *job);

/* Set error from err (code name and message); clears it when err is NULL or holds no error. */
void barge_record_set_error(struct barge_record *r, const struct barge_err *err,
			    const char *position, const char *statement, int64_t at_ms);

/*
 * The record as a JSON document (the dir backend's file format; also what the mysql backend
 * may keep in a column).  Returns a heap string the caller frees.  Fails with BARGE_EINVAL only
 * when spec_json or acted_spec_json is not JSON.
 */
int barge_record_to_json_text(const struct barge_record *r, char **out, struct barge_err *err);

/* Parse such a document into out (initialised here).  BARGE_ESTORE when it is not one. */
int barge_record_from_json_text(const char *text, size_t len, struct barge_record *out,
				struct barge_err *err);

/* ---- store URLs ---- */

enum barge_store_kind { BARGE_STORE_DIR, BARGE_STORE_MYSQL };

struct barge_store_url {
	enum barge_store_kind kind;
	char *path;       /* dir: the directory */
	char *user;       /* mysql: */
	char *host;       /* without brackets for IPv6 */
	unsigned port;    /* 3306 when not given */
	char *database;
};

/*
 * Parse "dir:PATH" or "mysql://user@host[:port]/database".  Returns 0 and fills out (dispose
 * with barge_store_url_dispose), or BARGE_EUSAGE naming what is wrong.  A password in the URL is
 * refused: it would show in process lists and shell history.
 */
int barge_store_url_parse(const char *text, struct barge_store_url *out, struct barge_err *err);
void barge_store_url_dispose(struct barge_store_url *url);

/*
 * The store URL to use without --store: $BARGE_STORE when set and not empty, else
 * "dir:$XDG_STATE_HOME/barge" when that variable holds an absolute path, else
 * "dir:$HOME/.local/state/barge" (the password database's home when HOME is unset).  Returns 0
 * and sets *out (caller frees), or BARGE_EUSAGE when no home directory can be found.
 */
int barge_store_default_url(char **out, struct barge_err *err);

/* ---- the interface ---- */

struct barge_store;

/* What a backend implements.  Arguments are checked by the barge_store_* wrappers below. */
struct barge_store_ops {
	const char *scheme; /* "dir", "mysql" */
	int (*open)(const struct barge_store_url *url, struct barge_store **out,
		    struct barge_err *err);
	int (*lock)(struct barge_store *s, struct barge_err *err);
	int (*list)(struct barge_store *s, struct barge_record **out, size_t *n,
		    struct barge_err *err);
	int (*get)(struct barge_store *s, const char *name, struct barge_record *out,
		   struct barge_err *err);
	int (*put)(struct barge_store *s, struct barge_record *r, struct barge_err *err);
	int (*del)(struct barge_store *s, const char *name, uint64_t version,
		   struct barge_err *err);
	int (*lease_acquire)(struct barge_store *s, const char *name, const char *owner,
			     int64_t ttl_ms, struct barge_err *err);
	int (*lease_renew)(struct barge_store *s, const char *name, const char *owner,
			   int64_t ttl_ms, struct barge_err *err);
	int (*lease_release)(struct barge_store *s, const char *name, const char *owner,
			     struct barge_err *err);
	void (*close)(struct barge_store *s);
};

/* The part every backend's handle starts with. */
struct barge_store {
	const struct barge_store_ops *ops;
	char *url; /* as given, for messages */
};

extern const struct barge_store_ops barge_store_dir_ops;
extern const struct barge_store_ops barge_store_mysql_ops;

/* The mysql backend's DDL, identical to schemas/store.sql (static storage). */
const char *barge_store_mysql_ddl(void);

/*
 * Open the store named by url (see above; NULL: barge_store_default_url()).  Returns 0 and sets *out (barge_store_close), or
 * BARGE_EUSAGE for a bad URL, BARGE_ESTORE when it cannot be opened (the dir: directory is
 * created, mode 0700, when missing; so are the mysql:// database and its table).
 */
int barge_store_open(const char *url, struct barge_store **out, struct barge_err *err);

/*
 * Claim the store for this controller, for as long as the store stays open.  Returns 0 (also
 * when this handle holds it already), or BARGE_ESTORE_LOCKED naming the PID and host of the
 * controller that holds it.  Commands other than the controller (apply, pause, status) do not
 * lock: they write through put's compare-and-swap.  A mysql:// store is shared by its
 * controllers through the leases, so there lock claims nothing and returns 0.
 */
int barge_store_lock(struct barge_store *s, struct barge_err *err);

/* Every record, sorted by name, into a new array (barge_records_free).  0 records is fine. */
int barge_store_list(struct barge_store *s, struct barge_record **out, size_t *n,
		     struct barge_err *err);

/* The record of job name into out (initialised here).  BARGE_ENOTFOUND when there is none. */
int barge_store_get(struct barge_store *s, const char *name, struct barge_record *out,
		    struct barge_err *err);

/*
 * Write r if the stored version still equals r->version (0: only if no record exists).  On
 * success r->version is the new version, r->updated_ms now, r->created_ms set when it was 0, and
 * r's lease fields are those stored (put never changes a lease).  Returns BARGE_ESTORE_LOCKED
 * when the record changed since it was read (get it again and retry), BARGE_EINVAL for a name
 * that is not a job name.
 */
int barge_store_put(struct barge_store *s, struct barge_record *r, struct barge_err *err);

/*
 * Remove job name's record if its version equals version (0: whatever it is).  Returns
 * BARGE_ENOTFOUND when there is none, BARGE_ESTORE_LOCKED on a version mismatch.
 */
int barge_store_delete(struct barge_store *s, const char *name, uint64_t version,
		       struct barge_err *err);

/*
 * Leases: which controller works on a job.  acquire succeeds when nobody holds the lease, it
 * has expired, or owner holds it already, and sets its expiry to now + ttl_ms; renew succeeds
 * only while owner holds it (an expired lease nobody took is still owner's); release drops it
 * when owner holds it and does nothing otherwise.  acquire and renew return BARGE_ESTORE_LOCKED
 * naming the holder when another owner has it; all return BARGE_ENOTFOUND for a missing job.
 * Expiry is judged by the backend's clock (the database's for mysql), not the caller's.
 */
int barge_store_lease_acquire(struct barge_store *s, const char *name, const char *owner,
			      int64_t ttl_ms, struct barge_err *err);
int barge_store_lease_renew(struct barge_store *s, const char *name, const char *owner,
			    int64_t ttl_ms, struct barge_err *err);
int barge_store_lease_release(struct barge_store *s, const char *name, const char *owner,
			      struct barge_err *err);

/* Release the controller lock (if held) and free the handle; accepts NULL. */
void barge_store_close(struct barge_store *s);

/* Unix time in milliseconds (CLOCK_REALTIME). */
int64_t barge_store_now_ms(void);

#endif
