-- barge's recorded state for the mysql:// store (engine/store_mysql.c), in the database
-- the store URL names.  barge creates the database and the table when they are missing;
-- this file is for operators who create them by hand.  Several controllers share the
-- table: put is a compare-and-swap on `version`, and a job's lease says which
-- controller works on it, its expiry judged by the database's clock.  See
-- docs/control-plane.md.

-- One row per job.  `record` is the record's JSON document (engine/store.c); the
-- columns beside it are authoritative for what they hold, and the document's copies
-- of them are left zero.
CREATE TABLE IF NOT EXISTS `store_records` (
  `name`             VARCHAR(64)     NOT NULL,           -- the job name (ASCII)
  `version`          BIGINT UNSIGNED NOT NULL,           -- compare-and-swap counter
  `record`           LONGTEXT        NOT NULL,           -- the rest, as JSON
  `created_ms`       BIGINT          NOT NULL,           -- Unix milliseconds by
  `updated_ms`       BIGINT          NOT NULL,           --   the database's clock
  `lease_owner`      VARBINARY(255)  NULL,               -- NULL = no lease
  `lease_expires_ms` BIGINT          NOT NULL DEFAULT 0, -- the database's clock
  PRIMARY KEY (`name`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
