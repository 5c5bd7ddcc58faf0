#!/usr/bin/env bash
# Measures how many view-count rows per second PostgreSQL absorbs from
# trending replicas flushing batches (deploy/bench/flush_upsert.sql), for 1,
# 2 and 4 concurrent flushers (replicas), on a private PostgreSQL 15 with
# durable commits (fsync and synchronous_commit on, as in production).
#   deploy/bench/flush-bench.sh [seconds per run, default 20]
set -euo pipefail
source "$(dirname "$0")/../local/common.sh"
SECONDS_PER_RUN=${1:-20}
BATCH=500

pg_start
trap pg_stop EXIT
psql -X -q -d "$PG_DSN" -c "CREATE TABLE view_counts (
  article_id bigint NOT NULL, bucket timestamptz NOT NULL, views bigint NOT NULL,
  PRIMARY KEY (article_id, bucket))"
for clients in 1 2 4; do
  tps=$("$PG_BIN/pgbench" -n -f "$(dirname "$0")/flush_upsert.sql" -c "$clients" -j "$clients" \
          -T "$SECONDS_PER_RUN" "$PG_DSN" 2>/dev/null | awk '/^tps/ {print $3}')
  awk -v c="$clients" -v t="$tps" -v b="$BATCH" \
    'BEGIN { printf "flushers=%d  batches/s=%.0f  rows/s=%.0f  rows/s per flusher=%.0f\n", c, t, t*b, t*b/c }'
done
