-- Engagement pings (proto EventKind.ENGAGEMENT).
--
-- bucket_counts.engaged_seconds: the engaged seconds of the counted pings
-- of the bucket; rows written before this migration have 0. The packs of
-- delta_log carry them (and the readers of the pings, for the other
-- replicas' concurrent readers) in version 2 of the counts encoding
-- (trending-service/delta_pack.h); version 1 packs are still read.
--
-- seen_log.page_views and seen_log.pings: marks in the same 16-byte form as
-- visitors and events (key = the page view's key, time = the view's or the
-- ping's). page_views registers page views, so a ping reaching another
-- replica (or this one after a restart) is accepted; pings holds the
-- counted pings, for the ping interval rule. `marks` counts the records of
-- all four columns.
ALTER TABLE trending.bucket_counts ADD COLUMN engaged_seconds bigint NOT NULL DEFAULT 0;
ALTER TABLE trending.seen_log
  ADD COLUMN page_views bytea NOT NULL DEFAULT ''::bytea,
  ADD COLUMN pings bytea NOT NULL DEFAULT ''::bytea;
ALTER TABLE trending.seen_log
  ALTER COLUMN page_views SET STORAGE EXTERNAL,
  ALTER COLUMN pings SET STORAGE EXTERNAL;
