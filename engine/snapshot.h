/*
 * snapshot.h — reader connections that all see the source at one point in time, and the binlog
 * position of that point.
 *
 * Methods, tried in this order (the one used is reported and logged, with the lock time):
 *   flush                FLUSH TABLES WITH READ LOCK (needs RELOAD) held only while every reader
 *                        runs START TRANSACTION WITH CONSISTENT SNAPSHOT and the position is read
 *   lock-tables          LOCK TABLES ... READ on the selected tables (needs LOCK TABLES, which
 *                        RDS and Aurora grant where FTWRL is forbidden), held the same way
 *   consistent-snapshot  MariaDB only, when no lock is allowed: each reader's own consistent
 *                        snapshot with its exact position (binlog_snapshot_file/_position); the
 *                        readers' points may differ, which the per-chunk checkpoints record
 * Each reader keeps its transaction open, so everything it reads belongs to its point.
 */
#ifndef BARGE_ENGINE_SNAPSHOT_H
#define BARGE_ENGINE_SNAPSHOT_H

#include <stddef.h>

#include "engine/db.h"
#include "engine/dump.h"
#include "engine/worker.h"

struct barge_snapshot {
	struct barge_db **readers;
	struct barge_position *pos; /* the point each reader sees */
	size_t n;
	char method[32];
	double lock_ms;             /* how long writes were blocked; 0 for consistent-snapshot */
};

/*
 * Open n_readers reader connections to ep under one snapshot.  ctl is an open source
 * connection used for locks and positions; tables are the selected tables (for lock-tables).
 * binary_results: readers get strings as stored bytes.  Returns 0 and fills *out (close with
 * barge_snapshot_close), or an error saying which methods failed and why.
 */
int barge_snapshot_open(const struct barge_endpoint *ep, const char *base_dir,
			struct barge_db *ctl, const struct barge_table_info *tables,
			size_t n_tables, size_t n_readers, bool binary_results,
			struct barge_snapshot *out, struct barge_err *err);

void barge_snapshot_close(struct barge_snapshot *s);

/*
 * The source's current binlog position and GTID set (SHOW MASTER STATUS, or SHOW BINARY LOG
 * STATUS on MySQL 8.4+; @@gtid_binlog_pos on MariaDB).
 */
int barge_source_position(struct barge_db *src, struct barge_position *out,
			  struct barge_err *err);

#endif
