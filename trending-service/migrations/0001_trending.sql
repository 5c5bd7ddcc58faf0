-- Trending aggregates. Times are bucket starts (UTC minutes or hours).

-- One sequence orders everything replicas must read from each other.
CREATE SEQUENCE trending.delta_seq;

-- Exact counts per article and bucket: the source of truth for restores.
-- Flushes add deltas (views = views + excluded.views). `hot` is
-- Σ 2^((t_view - bucket_start) / half_life) over the bucket's views.
CREATE TABLE trending.bucket_counts (
  article text NOT NULL,
  bucket_start timestamptz NOT NULL,
  width_minutes smallint NOT NULL CHECK (width_minutes IN (1, 60)),
  views bigint NOT NULL CHECK (views >= 0),
  hot double precision NOT NULL,
  PRIMARY KEY (article, bucket_start, width_minutes)
);
CREATE INDEX bucket_counts_start ON trending.bucket_counts (bucket_start);

-- Unique-visitor sketches (HyperLogLog registers), merged in from the
-- delta log by the compactor.
CREATE TABLE trending.sketches (
  article text NOT NULL,
  bucket_start timestamptz NOT NULL,
  width_minutes smallint NOT NULL CHECK (width_minutes IN (1, 60)),
  registers bytea NOT NULL,
  PRIMARY KEY (article, bucket_start, width_minutes)
);
CREATE INDEX sketches_start ON trending.sketches (bucket_start);

-- Every flush appended here too; replicas poll past their high-water mark
-- for the other replicas' deltas. Trimmed after a few minutes.
CREATE TABLE trending.delta_log (
  seq bigint PRIMARY KEY DEFAULT nextval('trending.delta_seq'),
  replica text NOT NULL,
  article text NOT NULL,
  bucket_start timestamptz NOT NULL,
  width_minutes smallint NOT NULL,
  views bigint NOT NULL,
  hot double precision NOT NULL,
  raises bytea,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delta_log_created ON trending.delta_log (created_at);

-- RecordViews batch ids, so a retried batch is not counted twice.
CREATE TABLE trending.seen_batches (
  batch_id text PRIMARY KEY,
  seq bigint NOT NULL DEFAULT nextval('trending.delta_seq'),
  replica text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seen_batches_seq ON trending.seen_batches (seq);

-- Watermarks of the compactor.
CREATE TABLE trending.state (
  id integer PRIMARY KEY CHECK (id = 1),
  sketches_merged_upto bigint NOT NULL,
  log_trimmed_upto bigint NOT NULL
);
INSERT INTO trending.state VALUES (1, 0, 0);
