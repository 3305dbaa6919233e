/*
 * rules.h — which schemas and tables a job migrates, where they go, and which binlog events
 * it drops.  Pure functions: compiled once from plain data, then queried from any thread.
 *
 * Patterns: a value starting with "~" is a PCRE2 regular expression (anchored only where the
 * user anchors it; compiled once, JIT where available); anything else is a wildcard where "*"
 * matches any run of characters and "?" one character.  Names are compared case-sensitively,
 * as MySQL does on Linux (lower_case_table_names=0).
 *
 * Selection follows MySQL's replicate-do/ignore rules as TiDB DM documents them (block-allow
 * lists): an allow entry with only a schema selects the whole schema (tables created later
 * included); an allow entry with a table selects only matching tables; with no allow entry
 * everything is allowed; a block entry removes what it matches and beats allow.  The system
 * schemas mysql, information_schema, performance_schema and sys are never selected, whatever
 * the rules say.
 *
 * Routes rename a schema or a table, or merge many shards into one table.  A table that two
 * routes match is a configuration error, reported when the rules are compiled if the patterns
 * provably overlap, and otherwise when such a table is first routed.
 *
 * Filters drop binlog events of chosen kinds for matching tables (and DDL whose text matches a
 * sql pattern).  Block beats allow; ignore beats everything.
 *
 * This module depends on engine/error and engine/buf only.
 */
#ifndef BARGE_RULES_RULES_H
#define BARGE_RULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"

/* Binlog event kinds a filter can name. */
enum {
	BARGE_EV_INSERT = 1u << 0,
	BARGE_EV_UPDATE = 1u << 1,
	BARGE_EV_DELETE = 1u << 2,
	BARGE_EV_CREATE_DATABASE = 1u << 3,
	BARGE_EV_DROP_DATABASE = 1u << 4,
	BARGE_EV_CREATE_TABLE = 1u << 5,
	BARGE_EV_ALTER_TABLE = 1u << 6,
	BARGE_EV_DROP_TABLE = 1u << 7,
	BARGE_EV_TRUNCATE_TABLE = 1u << 8,
	BARGE_EV_RENAME_TABLE = 1u << 9,
	BARGE_EV_CREATE_INDEX = 1u << 10,
	BARGE_EV_DROP_INDEX = 1u << 11,
	BARGE_EV_ALL_DML = BARGE_EV_INSERT | BARGE_EV_UPDATE | BARGE_EV_DELETE,
	BARGE_EV_ALL_DDL = BARGE_EV_CREATE_DATABASE | BARGE_EV_DROP_DATABASE |
			   BARGE_EV_CREATE_TABLE | BARGE_EV_ALTER_TABLE | BARGE_EV_DROP_TABLE |
			   BARGE_EV_TRUNCATE_TABLE | BARGE_EV_RENAME_TABLE | BARGE_EV_CREATE_INDEX |
			   BARGE_EV_DROP_INDEX,
	BARGE_EV_ALL = BARGE_EV_ALL_DML | BARGE_EV_ALL_DDL,
};

/*
 * The bits for an event name as written in job files: "insert", "update", "delete",
 * "create database" (or "create schema"), "drop database", "create table", "alter table",
 * "drop table", "truncate table", "rename table", "create index", "drop index", "all dml",
 * "all ddl", "all".  Returns 0 and sets *bits, or BARGE_ERULES for an unknown name.
 */
int barge_event_parse(const char *name, uint32_t *bits);
/* The name of one event bit ("insert"), or NULL. */
const char *barge_event_name(uint32_t bit);

/* The input: plain strings, borrowed for the duration of barge_rules_compile only. */
struct barge_rule_pattern {
	const char *schema; /* required */
	const char *table;  /* NULL = the whole schema */
};

struct barge_rule_route {
	struct barge_rule_pattern from;
	const char *to_schema; /* required */
	const char *to_table;  /* NULL = keep the table's name */
};

struct barge_rule_filter {
	struct barge_rule_pattern match; /* table NULL = every table of the schema and the
					  * schema-level events (create/drop database) */
	uint32_t ignore;                 /* BARGE_EV_* bits */
	const char *const *sql_patterns; /* regexes (without "~") over DDL text; may be NULL */
	size_t n_sql_patterns;
};

struct barge_rules_spec {
	const struct barge_rule_pattern *allow;
	size_t n_allow;
	const struct barge_rule_pattern *block;
	size_t n_block;
	const struct barge_rule_route *routes;
	size_t n_routes;
	const struct barge_rule_filter *filters;
	size_t n_filters;
};

/* Which rule a compile error is about, so jobset can point at its file:line:col. */
struct barge_rules_error_at {
	enum { BARGE_RULES_AT_NONE, BARGE_RULES_AT_ALLOW, BARGE_RULES_AT_BLOCK,
	       BARGE_RULES_AT_ROUTE, BARGE_RULES_AT_FILTER } list;
	size_t index;
};

struct barge_rules;

/*
 * Compile spec.  Returns 0 and sets *out (free with barge_rules_free), or BARGE_ERULES with a
 * message such as `objects.allow[1].table: bad regex "~^orders_(" at offset 8: missing closing
 * parenthesis`, and *at (may be NULL) says which rule.
 */
int barge_rules_compile(const struct barge_rules_spec *spec, struct barge_rules **out,
			struct barge_rules_error_at *at, struct barge_err *err);
void barge_rules_free(struct barge_rules *rules);

/* Whether schema is one the job migrates at all (some table of it may be selected). */
bool barge_rules_schema_selected(const struct barge_rules *rules, const char *schema);
/* Whether schema.table is migrated. */
bool barge_rules_table_selected(const struct barge_rules *rules, const char *schema,
				const char *table);

/*
 * Where schema.table goes on the target.  Sets *to_schema and *to_table to the target names
 * (heap strings the caller frees; equal to the inputs when no route matches).  Returns 0, or
 * BARGE_ERULES when two routes match the table.
 */
int barge_rules_route(const struct barge_rules *rules, const char *schema, const char *table,
		      char **to_schema, char **to_table, struct barge_err *err);
/* Where schema goes (schema-level routes only: those without a table pattern, or the schema
 * part of table routes that rename only the schema).  Caller frees *to_schema. */
int barge_rules_route_schema(const struct barge_rules *rules, const char *schema,
			     char **to_schema, struct barge_err *err);

/*
 * Whether an event of kind ev (one BARGE_EV_* bit) on schema.table (table NULL for a schema
 * event) is dropped by a filter.  sql is the statement text for DDL, NULL for rows.
 */
bool barge_rules_event_ignored(const struct barge_rules *rules, const char *schema,
			       const char *table, uint32_t ev, const char *sql);

/* Whether name is one of the system schemas never migrated. */
bool barge_rules_is_system_schema(const char *schema);

#endif
