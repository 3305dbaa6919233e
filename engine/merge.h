/*
 * merge.h — the statements of one target transaction, joined into multi-row statements.
 *
 * An apply worker commits a batch of source transactions as one target transaction, so only
 * the batch's end state has to be the source's: inside it, statements may be joined and moved
 * as long as every two that touch a common row still run in their order.  Row changes carry
 * the hashes of the keys they touch (barge_apply_keys: the primary or routing key and every
 * unique key, old and new values; a keyless table's name), and a statement with slots
 * (barge_apply_shape: an INSERT, a REPLACE, a DELETE or UPDATE by key) joins an earlier
 * statement of the same fixed parts unless something between them touched one of its keys (or,
 * for an UPDATE, the statement it joins touched one already):
 *
 *   UPDATE k=5; DELETE k=1; INSERT k=1; UPDATE k=6; DELETE k=2; INSERT k=2
 *     -> UPDATE k IN (5, 6); DELETE k IN (1, 2); INSERT VALUES (k=1), (k=2)
 *
 * Statements are written in the order of the statement each group starts at, so a member is
 * moved earlier, past statements that share none of its keys; hash collisions only keep more
 * statements apart.  The target then parses, plans and executes a fraction of the statements:
 * one multi-row INSERT in place of a few hundred.  The joined statement writes the same rows to
 * the same values as its members one by one: INSERT and DELETE rows are independent, and the
 * UPDATE's `CASE key WHEN v THEN new` gives each row its own member's value (two members never
 * share a row).  At most 64 forms (table, kind, columns) are open for joining at a time; past
 * that the one begun longest ago takes no more members.
 */
#ifndef BARGE_ENGINE_MERGE_H
#define BARGE_ENGINE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/apply.h"
#include "engine/buf.h"

/* At most this many statements in one joined statement (MariaDB turns an IN list of 1,000
 * values or more into a subquery). */
#define BARGE_MERGE_MAX 500

struct barge_merge_stmt {
	const char *sql;                 /* the statement, its ';' included */
	size_t len;
	const uint32_t *cuts;            /* its slots' bounds (barge_apply_shape), two per slot */
	size_t nslots;                   /* 0: it is written alone */
	bool strict;                     /* joins only statements that touch none of its keys */
	const uint64_t *keys;            /* the keys of the row change it belongs to */
	size_t nkeys;
};

struct barge_merger {
	struct merge_slot *slots;        /* key -> the last group that touched it */
	size_t nslots;
	uint32_t gen;
	struct merge_open *open;         /* groups still open, one per form */
	size_t nopen, capopen;
	uint32_t *first, *last, *next;   /* groups: first and last member; members: the next */
	size_t *count;
	size_t cap;
};

void barge_merger_init(struct barge_merger *m);
void barge_merger_dispose(struct barge_merger *m);

/*
 * Append s[0..n) to sql, joined where the rule above allows; after each statement written,
 * end(arg, offset of its end in sql).  Returns how many statements were written.
 */
size_t barge_merge(struct barge_merger *m, const struct barge_merge_stmt *s, size_t n,
		   struct barge_buf *sql, void (*end)(void *arg, size_t at), void *arg);

#endif
