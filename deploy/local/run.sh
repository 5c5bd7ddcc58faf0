#!/usr/bin/env bash
# Runs the whole system locally: article-service on :50051 (metrics :9091),
# trending-service on :50052 (metrics :9092), reader-web (the reader pages)
# on :8080 (metrics :9093), a private PostgreSQL 15 (or the one in
# DATABASE_URL), demo articles and views. Prints the page URL. Ctrl-C stops
# everything.
set -euo pipefail
source "$(dirname "$0")/common.sh"

BUILD_DIR=${BUILD_DIR:-$NEWSGRID_ROOT/build}
ARTICLE_PORT=${ARTICLE_PORT:-50051}
TRENDING_PORT=${TRENDING_PORT:-50052}
READER_PORT=${READER_PORT:-8080}
export ARTICLE_METRICS_PORT=${ARTICLE_METRICS_PORT:-9091}
export TRENDING_METRICS_PORT=${TRENDING_METRICS_PORT:-9092}
export READER_METRICS_PORT=${READER_METRICS_PORT:-9093}

ensure_packages
# NEWSGRID_SKIP_BUILD=1: use the binaries already in BUILD_DIR (tests).
[ "${NEWSGRID_SKIP_BUILD:-0}" = 1 ] || build "$BUILD_DIR"

RUN_DIR=$(mktemp -d /tmp/newsgrid-run.XXXXXX)
PIDS=()
cleanup() {
  trap - INT TERM EXIT
  log "stopping"
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_stop
  log "stopped (logs kept in $RUN_DIR)"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

if [ -n "${DATABASE_URL:-}" ]; then
  DSN=$DATABASE_URL
  log "using the PostgreSQL in DATABASE_URL"
else
  pg_start
  DSN=$PG_DSN
fi

# Peer addresses go through the environment (TRENDING_ARTICLE_SERVICE_ADDR,
# ARTICLE_TRENDING_SERVICE_ADDR), like any flag.
export ARTICLE_TRENDING_SERVICE_ADDR=${ARTICLE_TRENDING_SERVICE_ADDR:-127.0.0.1:$TRENDING_PORT}
export TRENDING_ARTICLE_SERVICE_ADDR=${TRENDING_ARTICLE_SERVICE_ADDR:-127.0.0.1:$ARTICLE_PORT}
# Each service gets its own session: Ctrl-C reaches only this script, which
# then sends each one SIGTERM once (a second signal would skip the drain).
start_service() {  # name port
  local name=$1 port=$2
  setsid "$BUILD_DIR/$name/$name" --port="$port" --pg_dsn="$DSN" >"$RUN_DIR/$name.log" 2>&1 &
  PIDS+=($!)
}
start_service article-service "$ARTICLE_PORT"
start_service trending-service "$TRENDING_PORT"
export READER_ARTICLE_SERVICE_ADDR=${READER_ARTICLE_SERVICE_ADDR:-127.0.0.1:$ARTICLE_PORT}
export READER_TRENDING_SERVICE_ADDR=${READER_TRENDING_SERVICE_ADDR:-127.0.0.1:$TRENDING_PORT}
export READER_PUBLIC_URL=${READER_PUBLIC_URL:-http://localhost:$READER_PORT}
setsid "$BUILD_DIR/reader-web/reader-web" --port="$READER_PORT" >"$RUN_DIR/reader-web.log" 2>&1 &
PIDS+=($!)

PYTHONPATH="$BUILD_DIR/python:$NEWSGRID_ROOT/tests/e2e" NEWSGRID_BUILD_DIR="$BUILD_DIR" \
  /usr/bin/python3 "$NEWSGRID_ROOT/deploy/local/demo_data.py" \
  --article="127.0.0.1:$ARTICLE_PORT" --trending="127.0.0.1:$TRENDING_PORT" \
  --images="$READER_PUBLIC_URL/static/demo/"

cat <<EOT

newsgrid is running:
  the reader's page $READER_PUBLIC_URL/articles/night-trains-return-to-europe
  front page        $READER_PUBLIC_URL/
  article-service   127.0.0.1:$ARTICLE_PORT  (metrics http://127.0.0.1:$ARTICLE_METRICS_PORT/metrics)
  trending-service  127.0.0.1:$TRENDING_PORT  (metrics http://127.0.0.1:$TRENDING_METRICS_PORT/metrics)
  reader-web        127.0.0.1:$READER_PORT  (metrics http://127.0.0.1:$READER_METRICS_PORT/metrics)
  logs              $RUN_DIR/*.log

Try (grpcurl, https://github.com/fullstorydev/grpcurl):
  grpcurl -plaintext localhost:$ARTICLE_PORT list
  grpcurl -plaintext localhost:$ARTICLE_PORT describe news.article.v1.ArticleService
  grpcurl -plaintext -d '{"page_size": 3}' localhost:$ARTICLE_PORT news.article.v1.ArticleService/ListArticles
  grpcurl -plaintext -d '{"slug": "night-trains-return-to-europe", "visitor_id": "v-42"}' localhost:$ARTICLE_PORT news.article.v1.ArticleService/GetArticleBySlug
  grpcurl -plaintext -d '{"window": "3600s", "limit": 5}' localhost:$TRENDING_PORT news.trending.v1.TrendingService/GetTrending
More in README.md. Ctrl-C stops everything.
EOT
wait
