-- Flushes as packs, sketches checkpointed from memory, nothing compressed
-- that does not compress.
--
-- A flush (or a part of a large one) is now one delta_log row: `counts`
-- holds every bucket delta of the flush and `raises` the sketch registers
-- they raised, in the binary encoding of trending-service/delta_pack.h
-- (`deltas`: how many). A row per (article, bucket) cost PostgreSQL an
-- index lookup and a heap update per delta per flush. bucket_counts is now
-- brought up to date by the compactor from the packs, in bulk
-- (state.counts_merged_upto: every pack up to it is in bucket_counts), and
-- the sketches are checkpointed from the compacting replica's memory
-- (state.sketches_merged_upto: every pack up to it is in them), 10-minute
-- sketches beside the hourly ones.
--
-- Registers, hashes and packed deltas do not compress: pglz spent about a
-- fifth of PostgreSQL's CPU trying at every flush. They are stored out of
-- line without compression (STORAGE EXTERNAL).
--
-- bucket_counts.visitors: views with a visitor id (unique visitors of
-- short windows are exactly these; see view_store.h); rows written before
-- this migration have 0.
--
-- Rows of the old form (article set, one bucket each) are still read; their
-- counts are already in bucket_counts. Replicas of an older version do not
-- read the packs: stop them all before starting this version.
ALTER TABLE trending.delta_log
  ALTER COLUMN article DROP NOT NULL,
  ALTER COLUMN bucket_start DROP NOT NULL,
  ALTER COLUMN width_minutes DROP NOT NULL,
  ALTER COLUMN views DROP NOT NULL,
  ALTER COLUMN hot DROP NOT NULL,
  ADD COLUMN counts bytea,
  ADD COLUMN deltas integer;
ALTER TABLE trending.delta_log
  ALTER COLUMN raises SET STORAGE EXTERNAL,
  ALTER COLUMN counts SET STORAGE EXTERNAL;
ALTER TABLE trending.seen_log
  ALTER COLUMN visitors SET STORAGE EXTERNAL,
  ALTER COLUMN events SET STORAGE EXTERNAL;
ALTER TABLE trending.sketches
  ALTER COLUMN registers SET STORAGE EXTERNAL,
  DROP CONSTRAINT sketches_width_minutes_check,
  ADD CONSTRAINT sketches_width_minutes_check CHECK (width_minutes IN (1, 10, 60));
ALTER TABLE trending.bucket_counts ADD COLUMN visitors bigint NOT NULL DEFAULT 0;
ALTER TABLE trending.state ADD COLUMN counts_merged_upto bigint NOT NULL DEFAULT 0;
UPDATE trending.state SET counts_merged_upto = (SELECT COALESCE(max(seq), 0) FROM trending.delta_log);
