/*
 * gtid.h — MySQL GTID sets: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11,uuid2:tag:1-3".
 *
 * The incremental phase keeps the set of every transaction applied so far (the snapshot's
 * Executed_Gtid_Set, or the configured start set, plus each GTID that passes) as the GTID part
 * of its checkpoints; a job told to start from a GTID set starts at the first binlog file whose
 * Previous_gtids the set contains and skips every transaction already in it.  MariaDB's GTID
 * positions ("0-1-100") are not sets and are handled where they are used.
 *
 * Text: entries separated by commas (and optional white space, as MySQL prints long sets over
 * several lines); an entry is a UUID (with or without dashes, any case) followed by ":"-separated
 * intervals "N" or "N-M", and, since MySQL 8.4, tags (a name starting with a letter or "_")
 * that apply to the intervals after them.  Output is MySQL's form: lowercase UUIDs with dashes,
 * one entry per UUID and tag, sorted, intervals merged.
 */
#ifndef BARGE_ENGINE_GTID_H
#define BARGE_ENGINE_GTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"

struct barge_gtid_set;

/* An empty set. */
struct barge_gtid_set *barge_gtid_set_new(void);
void barge_gtid_set_free(struct barge_gtid_set *s);

/* Parse text ("" is the empty set).  BARGE_EINVAL naming the offset of what is wrong. */
int barge_gtid_set_parse(const char *text, struct barge_gtid_set **out, struct barge_err *err);

/* Add one transaction (tag NULL or "" for none). */
void barge_gtid_set_add(struct barge_gtid_set *s, const uint8_t sid[16], const char *tag,
			size_t tag_len, int64_t gno);

bool barge_gtid_set_contains(const struct barge_gtid_set *s, const uint8_t sid[16],
			     const char *tag, size_t tag_len, int64_t gno);

/* Whether every transaction of a is in b. */
bool barge_gtid_set_subset(const struct barge_gtid_set *a, const struct barge_gtid_set *b);

/* The set as text (caller frees). */
char *barge_gtid_set_text(const struct barge_gtid_set *s);

/*
 * Where a stream that must cover everything after set should start: given each binlog file's
 * Previous_gtids (oldest file first), the index of the newest file whose Previous_gtids set
 * contains, or -1 when even the oldest file's does not (the transactions needed are purged).
 */
long barge_gtid_pick_file(const struct barge_gtid_set *const *previous, size_t n,
			  const struct barge_gtid_set *set);

/*
 * The next "domain-server-seq" of a MariaDB GTID position ("0-1-100,1-2-5"), after the commas
 * and spaces before it.  Returns 1 and advances *p past it, 0 at the end of the text, -1 when
 * what follows is not one.
 */
int barge_maria_gtid_next(const char **p, uint32_t *domain, uint32_t *server, uint64_t *seq);

#endif
