-- barge's checkpoint tables, created on the target in the job's meta schema (default
-- barge_meta; `{meta}` below).  Every row here is written in the same target transaction as the
-- data it describes, so after any crash the data and its checkpoint agree.  See
-- docs/checkpoints.md for the semantics.

-- One row per job: which phase it is in and where the incremental phase starts.
CREATE TABLE IF NOT EXISTS `{meta}`.`jobs` (
  `job`             VARCHAR(64)  NOT NULL,
  `full_done`       TINYINT      NOT NULL DEFAULT 0,   -- every table of the full phase is copied
  `snapshot_method` VARCHAR(32)  NULL,                 -- flush | lock-tables | consistent-snapshot
  `start_file`      VARCHAR(255) NULL,                 -- incremental start: the earliest snapshot
  `start_pos`       BIGINT UNSIGNED NULL,              --   position of any table's chunks
  `start_gtid`      TEXT         NULL,
  `safe_exit_file`  VARCHAR(255) NULL,                 -- safe mode stays on until this position
  `safe_exit_pos`   BIGINT UNSIGNED NULL,              --   is passed (written on abrupt stops)
  `running`         TINYINT      NOT NULL DEFAULT 0,   -- an incremental run is under way
  `updated_at`      TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (`job`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per source table of a job.
CREATE TABLE IF NOT EXISTS `{meta}`.`tables` (
  `job`          VARCHAR(64)  NOT NULL,
  `src_schema`   VARCHAR(64)  NOT NULL,
  `src_table`    VARCHAR(64)  NOT NULL,
  `tgt_schema`   VARCHAR(64)  NOT NULL,
  `tgt_table`    VARCHAR(64)  NOT NULL,
  `keyless`      TINYINT      NOT NULL,                -- no primary or not-null unique key
  `done`         TINYINT      NOT NULL DEFAULT 0,      -- every chunk copied, indexes built
  `deferred_indexes` MEDIUMTEXT NULL,                  -- ALTER TABLE clauses run after the copy
  `rows_copied`  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  `first_file`   VARCHAR(255) NULL,                    -- earliest snapshot of its chunks: its
  `first_pos`    BIGINT UNSIGNED NULL,                 --   binlog changes from here on are not
  `first_gtid`   TEXT         NULL,                    --   all in the target yet
  `last_file`    VARCHAR(255) NULL,                    -- latest snapshot of its chunks: replay
  `last_pos`     BIGINT UNSIGNED NULL,                 --   between first and last runs in safe
  `last_gtid`    TEXT         NULL,                    --   mode (idempotent for keyed tables)
  PRIMARY KEY (`job`, `src_schema`, `src_table`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per chunk (a key range) of the full phase.
CREATE TABLE IF NOT EXISTS `{meta}`.`chunks` (
  `job`         VARCHAR(64)  NOT NULL,
  `src_schema`  VARCHAR(64)  NOT NULL,
  `src_table`   VARCHAR(64)  NOT NULL,
  `chunk`       INT UNSIGNED NOT NULL,
  `lower_key`   MEDIUMTEXT   NULL,                     -- exclusive; NULL = from the start
  `upper_key`   MEDIUMTEXT   NULL,                     -- inclusive; NULL = to the end
  `done`        TINYINT      NOT NULL DEFAULT 0,
  `rows_copied` BIGINT UNSIGNED NOT NULL DEFAULT 0,
  `bytes`       BIGINT UNSIGNED NOT NULL DEFAULT 0,
  `snap_file`   VARCHAR(255) NULL,                     -- the snapshot the rows were read at
  `snap_pos`    BIGINT UNSIGNED NULL,
  `snap_gtid`   TEXT         NULL,
  PRIMARY KEY (`job`, `src_schema`, `src_table`, `chunk`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per incremental apply worker: the last binlog transaction it committed.
CREATE TABLE IF NOT EXISTS `{meta}`.`positions` (
  `job`         VARCHAR(64)  NOT NULL,
  `worker`      INT UNSIGNED NOT NULL,
  `binlog_file` VARCHAR(255) NOT NULL,
  `binlog_pos`  BIGINT UNSIGNED NOT NULL,
  `gtid`        TEXT         NULL,
  `updated_at`  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (`job`, `worker`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
