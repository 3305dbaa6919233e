/*
 * ddl.h — DDL statements from the binlog: what kind, which schemas and tables, and the text
 * with every name routed.
 *
 * barge_ddl_parse() reads a statement from a QUERY event with a tokenizer that knows MySQL's
 * quoting and comments (executable comments, which open with slash-star-bang and a version, are
 * read as SQL, as servers do).
 * It classifies it (a kind per BARGE_EV_* filter kind, or "skip" for statements barge does not
 * replay: triggers, routines, views, events, users, grants, FLUSH, ANALYZE...), and lists every
 * object it touches with the byte span of its name, resolving unqualified names against the
 * event's default database.  barge_ddl_rewrite() then writes the statement with each name
 * replaced by its routed, fully qualified, quoted form, everything else byte for byte, and
 * `IF NOT EXISTS` / `IF EXISTS` added so that a replay after a crash is harmless.
 */
#ifndef BARGE_ENGINE_DDL_H
#define BARGE_ENGINE_DDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/error.h"

enum barge_ddl_kind {
	BARGE_DDL_NONE,            /* not DDL (DML in statement form, BEGIN, COMMIT...) */
	BARGE_DDL_SKIP,            /* DDL barge does not replay (reason in skip_reason) */
	BARGE_DDL_CREATE_DATABASE,
	BARGE_DDL_DROP_DATABASE,
	BARGE_DDL_ALTER_DATABASE,
	BARGE_DDL_CREATE_TABLE,    /* names[0]; CREATE TABLE ... LIKE adds names[1] */
	BARGE_DDL_ALTER_TABLE,     /* names[0]; with RENAME TO, names[1] is the new name */
	BARGE_DDL_DROP_TABLE,      /* every name */
	BARGE_DDL_TRUNCATE_TABLE,
	BARGE_DDL_RENAME_TABLE,    /* pairs: names[2k] -> names[2k+1] */
	BARGE_DDL_CREATE_INDEX,
	BARGE_DDL_DROP_INDEX,
};

struct barge_ddl_name {
	char *schema;   /* resolved */
	char *table;    /* NULL for database statements */
	size_t start, end; /* the name's bytes in the statement ([start, end)) */
	bool qualified; /* written as schema.table */
};

struct barge_ddl {
	enum barge_ddl_kind kind;
	uint32_t event;        /* the BARGE_EV_* bit filters know it by; 0 for NONE/SKIP */
	struct barge_ddl_name *names;
	size_t n_names;
	bool temporary;        /* CREATE/DROP TEMPORARY TABLE: not replayed (kind SKIP) */
	bool has_if;           /* IF [NOT] EXISTS already there */
	size_t if_at;          /* where IF [NOT] EXISTS goes (after the object keyword) */
	const char *skip_reason; /* static text for SKIP */
};

/*
 * Parse sql[0..len).  default_schema is the event's database (may be NULL or "").  Returns 0
 * and fills *out (release with barge_ddl_dispose), or BARGE_EDDL when the statement is DDL but
 * cannot be understood (an unqualified table without a default database, unbalanced quotes).
 */
int barge_ddl_parse(const char *sql, size_t len, const char *default_schema,
		    struct barge_ddl *out, struct barge_err *err);
void barge_ddl_dispose(struct barge_ddl *d);

/* Where a name goes: *to_schema (and *to_table when table is not NULL), heap strings. */
typedef int (*barge_ddl_route_fn)(void *user, const char *schema, const char *table,
				  char **to_schema, char **to_table, struct barge_err *err);

/*
 * Write the statement with every name routed (as `schema`.`table` or `schema`) and IF [NOT]
 * EXISTS added to CREATE/DROP DATABASE/TABLE where absent.  Appends to out.
 */
int barge_ddl_rewrite(const struct barge_ddl *d, const char *sql, size_t len,
		      barge_ddl_route_fn route, void *user, struct barge_buf *out,
		      struct barge_err *err);

/* "create table", "drop database", ... for messages. */
const char *barge_ddl_kind_name(enum barge_ddl_kind kind);

#endif
