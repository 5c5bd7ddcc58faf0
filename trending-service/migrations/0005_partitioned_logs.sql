-- delta_log and seen_log partitioned by minute of created_at, so the
-- compactor trims them by dropping whole partitions instead of deleting
-- rows.
--
-- Why: under sustained ingest both logs take megabytes a second (the dedup
-- marks alone 16 bytes a counted view) and live only minutes. Deleting
-- their rows touched every TOAST page again after PostgreSQL's checkpoint,
-- so each page was written to the WAL a second time as a full-page image:
-- at 444k views/s, 95% of the WAL in a compaction's window was
-- Heap/DELETE full-page images (pg_waldump --stats), the DELETE of a
-- minute of marks took 1.1-1.9 s, and autovacuum then walked the TOAST
-- tables again (trending README, "Trimming the logs by dropping
-- partitions"). Dropping a partition writes a few WAL records.
--
-- Layout: partitions of one minute named <table>_m<minutes since the
-- epoch>, created a few minutes ahead by the compactor, and a DEFAULT
-- partition (the former table, attached with its rows) for anything no
-- minute partition covers (rows older than this migration, or written while
-- no compaction created partitions ahead); the compactor trims the default
-- partition with DELETE as before. Rows live up to a minute past their
-- retention. seq stays unique (one sequence); the primary key includes
-- created_at because a partitioned table's key must. Replicas of the
-- previous version work beside this one (their DELETE reaches the
-- partitions too).
ALTER TABLE trending.delta_log RENAME TO delta_log_default;
ALTER TABLE trending.delta_log_default DROP CONSTRAINT delta_log_pkey;
CREATE TABLE trending.delta_log (LIKE trending.delta_log_default INCLUDING DEFAULTS INCLUDING STORAGE)
  PARTITION BY RANGE (created_at);
ALTER TABLE trending.delta_log ADD PRIMARY KEY (seq, created_at);
CREATE INDEX delta_log_created_at ON trending.delta_log (created_at);
ALTER TABLE trending.delta_log ATTACH PARTITION trending.delta_log_default DEFAULT;

ALTER TABLE trending.seen_log RENAME TO seen_log_default;
ALTER TABLE trending.seen_log_default DROP CONSTRAINT seen_log_pkey;
CREATE TABLE trending.seen_log (LIKE trending.seen_log_default INCLUDING DEFAULTS INCLUDING STORAGE
  INCLUDING CONSTRAINTS)
  PARTITION BY RANGE (created_at);
ALTER TABLE trending.seen_log ADD PRIMARY KEY (seq, created_at);
CREATE INDEX seen_log_created_at ON trending.seen_log (created_at);
ALTER TABLE trending.seen_log ATTACH PARTITION trending.seen_log_default DEFAULT;
