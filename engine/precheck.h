/*
 * precheck.h — what `barge check` runs before a job starts: a fixed list of items, each
 * checked against the live source and target and reported as Pass, Warning, Failed or
 * Skipped with a one-line instruction that says what to do.
 *
 * The items follow TiDB DM's precheck (versions, privileges, binlog settings, server id,
 * connection limits, table keys, TiDB compatibility, existing target tables, target storage),
 * with TiDB Cloud Data Migration's wording where it has one.  Their ids are stable kebab-case
 * names (docs/precheck.md); a job's precheck.ignore lists ids to skip, or "all".
 *
 * The engine part connects with db.h, lists the selected tables with dump.h and the job's
 * rules, and never prints: cmd/cmd_check.c formats the report.  Messages never hold a
 * password: SHOW GRANTS lines (which can carry password hashes) are parsed, never quoted.
 *
 * The parsing of SHOW GRANTS lines and of TiKV store sizes is pure and exported for tests.
 */
#ifndef BARGE_ENGINE_PRECHECK_H
#define BARGE_ENGINE_PRECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"
#include "engine/job.h"

enum barge_check_state {
	BARGE_CHECK_PASS,
	BARGE_CHECK_WARNING, /* the job can run; the user should weigh the risk */
	BARGE_CHECK_FAILED,  /* the job would fail or lose data: fix before starting */
	BARGE_CHECK_SKIPPED, /* named in precheck.ignore */
};

/* One item's outcome. */
struct barge_check_result {
	const char *id;    /* static: "binlog-format" */
	const char *title; /* static: "binlog_format is ROW" */
	enum barge_check_state state;
	char *message;     /* one line: what was found (owned) */
	char *instruction; /* one line: what to do; NULL on Pass and Skipped (owned) */
	int cause;         /* a Failed item that could not be checked: the error's code (a
			    * lost connection is retryable), else 0 */
};

struct barge_precheck_report {
	char *job; /* the job's name (owned) */
	struct barge_check_result *items;
	size_t count;
	size_t n_pass, n_warning, n_failed, n_skipped;
};

/*
 * Every item id, in the order they run, then "all"; NULL-terminated.  jobset.c validates
 * precheck.ignore against it.
 */
extern const char *const barge_precheck_item_ids[];

/* The title of item id, or NULL for an unknown id. */
const char *barge_precheck_item_title(const char *id);

/*
 * Run every item of job against its source and target.  Returns 0 and fills *out (dispose with
 * barge_precheck_report_dispose) whatever the items found — a source that refuses the login is
 * a Failed item, not an error — or an error for what stops the check itself (rules that do not
 * compile, out of memory).
 */
int barge_precheck_run(const struct barge_job *job, struct barge_precheck_report *out,
		       struct barge_err *err);

void barge_precheck_report_dispose(struct barge_precheck_report *r);

/* "Pass", "Warning", "Failed", "Skipped". */
const char *barge_check_state_name(enum barge_check_state s);

/* Privilege bits, as far as the precheck needs them. */
enum {
	BARGE_PRIV_SELECT = 1u << 0,
	BARGE_PRIV_INSERT = 1u << 1,
	BARGE_PRIV_UPDATE = 1u << 2,
	BARGE_PRIV_DELETE = 1u << 3,
	BARGE_PRIV_CREATE = 1u << 4,
	BARGE_PRIV_DROP = 1u << 5,
	BARGE_PRIV_RELOAD = 1u << 6,
	BARGE_PRIV_INDEX = 1u << 7,
	BARGE_PRIV_ALTER = 1u << 8,
	BARGE_PRIV_LOCK_TABLES = 1u << 9,
	BARGE_PRIV_REPL_SLAVE = 1u << 10,
	BARGE_PRIV_REPL_CLIENT = 1u << 11, /* MariaDB 10.5+: BINLOG MONITOR */
	BARGE_PRIV_SUPER = 1u << 12,
	BARGE_PRIV_ALL = (1u << 13) - 1,  /* ALL [PRIVILEGES] at its scope */
};

/* One parsed SHOW GRANTS line. */
struct barge_grant {
	uint32_t privs;
	char *schema; /* NULL for *.*; a LIKE pattern as granted for `db`.* (`shop\_%`) */
	char *table;  /* NULL for db.* and *.* */
};

/*
 * Parse one SHOW GRANTS line ("GRANT SELECT, RELOAD ON *.* TO `u`@`%` IDENTIFIED BY ...").
 * Returns 1 and fills *out (free out->schema and out->table) for a privilege grant on a
 * database or table, 0 for lines that grant nothing the precheck counts (roles, PROXY,
 * procedures, column privileges only), or BARGE_EINVAL for a line that is not a GRANT.
 */
int barge_grant_parse(const char *line, struct barge_grant *out);

/*
 * The privileges grants[0..n) give on schema.table (table NULL: on every table of schema;
 * schema NULL: globally).  Global grants apply everywhere; a database grant applies when its
 * LIKE pattern matches schema; a table grant only to that table.
 */
uint32_t barge_grants_effective(const struct barge_grant *grants, size_t n, const char *schema,
				const char *table);

/* Comma-separated names of the bits of privs ("SELECT, LOCK TABLES"), into buf. */
void barge_privs_format(uint32_t privs, char *buf, size_t size);

/*
 * Parse a TiKV store size as TIKV_STORE_STATUS shows it ("49.98GiB", "512MiB", "0B", "1.5TB")
 * into bytes.  Returns 0, or BARGE_EINVAL.
 */
int barge_size_parse(const char *text, uint64_t *out);

#endif
