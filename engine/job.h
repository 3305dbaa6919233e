/*
 * job.h — the job spec: what one job file document asks for, after defaults are applied.
 *
 * A job spec is plain data.  jobset.h loads specs from YAML files (yaml.c gives every node its
 * file:line:col; job.c checks keys, types, enums and names and applies the defaults below);
 * plan.c compares specs with recorded state; worker.c runs one.  Secrets are kept as their
 * references ("${env:SRC_PASSWORD}") and resolved only when needed, with secret.h.
 *
 * Defaults (also in schemas/job.schema.json and the README):
 *   spec.state running, spec.restartGeneration 0, source.port / target.port 3306,
 *   target.dialect mysql, target.metaSchema barge_meta, tls.verify true,
 *   full.threads 4, full.chunkRows 100000, full.onDuplicate replace,
 *   incremental.workers 8, incremental.batch 256, incremental.safeMode auto,
 *   notify[].format json, notify[].events all, notify[].lagThreshold 30s.
 */
#ifndef BARGE_ENGINE_JOB_H
#define BARGE_ENGINE_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"

#define BARGE_JOB_NAME_MAX 59 /* "must be less than 60 characters" */
#define BARGE_JOBS_MAX 200    /* "up to 200 migration jobs" */

enum barge_mode { BARGE_MODE_FULL, BARGE_MODE_INCREMENTAL, BARGE_MODE_ALL };
enum barge_desired_state { BARGE_DESIRED_RUNNING, BARGE_DESIRED_PAUSED };
enum barge_dialect { BARGE_DIALECT_MYSQL, BARGE_DIALECT_TIDB };
enum barge_on_duplicate { BARGE_ONDUP_REPLACE, BARGE_ONDUP_IGNORE, BARGE_ONDUP_ERROR };
enum barge_safe_mode { BARGE_SAFE_AUTO, BARGE_SAFE_ALWAYS, BARGE_SAFE_NEVER };
enum barge_notify_format { BARGE_NOTIFY_JSON, BARGE_NOTIFY_SLACK };

/* notify[].events bits */
enum {
	BARGE_NOTIFY_STAGE = 1 << 0,  /* every stage change */
	BARGE_NOTIFY_ERROR = 1 << 1,  /* every error (retryable or not) */
	BARGE_NOTIFY_LAG = 1 << 2,    /* lag crossing lagThreshold, both ways */
	BARGE_NOTIFY_FINISH = 1 << 3, /* the full phase of a full-only job finished */
	BARGE_NOTIFY_ALL = 0xf,
};

/* Where in a file a value came from, for messages. */
struct barge_srcloc {
	const char *file; /* the job's own copy (struct barge_job.file) */
	unsigned line, col;
};

struct barge_tls {
	char *ca, *cert, *key; /* file paths, NULL when not given; relative to the job file */
	bool verify;           /* verify the server certificate (and host name) against ca;
	                          default true; without ca the server is not verified */
	bool enabled;          /* a tls: block was given */
};

/* A connection profile: spec.source or spec.target. */
struct barge_endpoint {
	char *host;
	unsigned port;
	char *user;
	char *password; /* a secret reference: ${env:NAME} or ${file:PATH}; NULL = no password */
	struct barge_tls tls;
	uint32_t server_id;        /* source only: the replica id for the binlog stream, 0 = unset */
	enum barge_dialect dialect; /* target only */
	char *meta_schema;          /* target only: where checkpoints live; default barge_meta */
};

/* A pattern pair from objects.allow / objects.block / routes / filters.  A value starting with
 * "~" is a PCRE2 regex; anything else a wildcard with * and ?.  table NULL = whole schema. */
struct barge_pattern {
	char *schema;
	char *table;
	struct barge_srcloc loc;
};

struct barge_route {
	struct barge_pattern from;
	char *to_schema;
	char *to_table; /* NULL = keep the table name */
	struct barge_srcloc loc;
};

/* Binlog event kinds for filters (rules/rules.h has the names). */
struct barge_filter {
	struct barge_pattern match;
	uint32_t ignore; /* BARGE_EV_* bits (rules.h) to drop for matching tables */
	char **sql_patterns; /* optional regexes over DDL text to ignore */
	size_t n_sql_patterns;
	struct barge_srcloc loc;
};

struct barge_full_spec {
	unsigned threads;
	uint64_t chunk_rows;
	enum barge_on_duplicate on_duplicate;
};

struct barge_start_point {
	char *binlog_name; /* NULL when not given */
	uint64_t binlog_pos;
	char *gtid;        /* a GTID set (MySQL) or GTID list (MariaDB); NULL when not given */
};

struct barge_incremental_spec {
	struct barge_start_point start;
	unsigned workers;
	unsigned batch;
	enum barge_safe_mode safe_mode;
};

struct barge_notify {
	char *url;    /* literal or secret reference (a Slack URL is a secret) */
	enum barge_notify_format format;
	unsigned events;
	char *secret; /* secret reference for the HMAC-SHA256 signature; NULL = unsigned */
	uint64_t lag_threshold_ms;
	struct barge_srcloc loc;
};

struct barge_job {
	char *name;
	char *file;              /* the file that defined it (owned); every loc.file points here */
	struct barge_srcloc loc; /* the document that defined it */

	enum barge_desired_state state;
	uint64_t restart_generation;
	enum barge_mode mode;
	struct barge_endpoint source;
	struct barge_endpoint target;

	struct barge_pattern *allow;
	size_t n_allow;
	struct barge_pattern *block;
	size_t n_block;
	struct barge_route *routes;
	size_t n_routes;
	struct barge_filter *filters;
	size_t n_filters;

	struct barge_full_spec full;
	struct barge_incremental_spec incremental;

	struct barge_notify *notify;
	size_t n_notify;

	char **precheck_ignore; /* precheck item names the user chose to ignore */
	size_t n_precheck_ignore;

	char spec_hash[65]; /* SHA-256 hex of the canonical spec (secrets as their references) */
};

/* Free everything a job owns, then the job; accepts NULL. */
void barge_job_free(struct barge_job *job);

/* A deep copy. */
struct barge_job *barge_job_dup(const struct barge_job *job);

/* The directory of the job's file, against which relative paths resolve.  Caller frees. */
char *barge_job_base_dir(const struct barge_job *job);

/*
 * The spec as a JSON object (jansson; caller decrefs): every key after defaults, secrets as
 * their references.  Serialised with sorted keys it is the canonical form spec_hash is taken of.
 */
struct json_t *barge_job_to_json(const struct barge_job *job);

/*
 * The job back from a recorded spec: barge_job_to_json()'s text, plus an optional "file" key
 * (the job file's absolute path, which barge_record_set_spec() adds so relative TLS and
 * ${file:} paths still resolve).  The hash comes out the same as the job's.  Returns 0 and sets
 * *out, or BARGE_ESTORE naming the first key that is missing or of the wrong type.
 */
int barge_job_from_json(const char *text, struct barge_job **out, struct barge_err *err);

struct barge_rules;
struct barge_rules_error_at;
/*
 * Compile the job's objects, routes and filters (rules/rules.h).  Returns 0 and sets *out
 * (barge_rules_free), or BARGE_ERULES; at (may be NULL) says which rule failed.
 */
int barge_job_compile_rules(const struct barge_job *job, struct barge_rules **out,
			    struct barge_rules_error_at *at, struct barge_err *err);

/* Point every loc.file of job at job->file (after a copy). */
void barge_job_relink_locs(struct barge_job *job);

/* Whether name follows the rules: starts with a letter, fewer than 60 characters, only letters,
 * digits, '_' and '-'. */
bool barge_job_name_valid(const char *name);

/* Enum names as written in job files ("all", "paused", "tidb", ...). */
const char *barge_mode_name(enum barge_mode mode);
const char *barge_dialect_name(enum barge_dialect dialect);
const char *barge_safe_mode_name(enum barge_safe_mode mode);
const char *barge_on_duplicate_name(enum barge_on_duplicate d);
const char *barge_desired_state_name(enum barge_desired_state s);

/*
 * Parse a duration ("500ms", "30s", "5m", "1h", "1h30m", or a bare number of seconds) into
 * milliseconds.  Returns 0, or BARGE_ECONFIG for anything else.
 */
int barge_duration_parse(const char *text, uint64_t *out_ms);

#endif
