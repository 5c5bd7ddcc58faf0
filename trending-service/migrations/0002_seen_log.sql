-- Dedup marks of counted views, so a repeat view (or a retried event id)
-- is deduplicated by every replica and after restarts, not only by the
-- replica that counted the first one.
--
-- One row per flush of a replica that counted views, written in the same
-- transaction as its deltas (a mark is durable exactly when its count is).
-- `visitors` and `events` are packed 16-byte records, little-endian:
-- the 64-bit dedup key (article and salted visitor hash, or the event id
-- hash), then the view time in Unix nanoseconds (int64). Rows are polled
-- like delta_log (same sequence) and kept for the dedup window by created_at,
-- independently of the delta-log retention.
CREATE TABLE trending.seen_log (
  seq bigint PRIMARY KEY DEFAULT nextval('trending.delta_seq'),
  replica text NOT NULL,
  marks integer NOT NULL CHECK (marks > 0),  -- records in both columns
  visitors bytea NOT NULL,
  events bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seen_log_created ON trending.seen_log (created_at);
