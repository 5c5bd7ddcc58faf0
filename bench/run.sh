#!/usr/bin/env bash
# The benchmark suite: one command, under 15 minutes (about 2 with --quick).
#
#   bash bench/run.sh            # full run; writes docs/BENCHMARKS.md and docs/bench/*.png
#   bash bench/run.sh --quick    # short run for development (same steps, small sizes)
#   bash bench/run.sh --no-profile --out /tmp/report   # other options
#
# Installs missing Debian packages (as root), builds RelWithDebInfo, starts a
# private PostgreSQL (default durability: fsync and synchronous_commit on),
# the echo baseline server, article-service and trending-service, a private
# redis-server; runs the baselines (echo, pgbench select-only and insert,
# redis-benchmark ZINCRBY) and the workloads with bench/loadgen, then the
# micro-benchmarks, and writes the report; last, the reader page beside nginx
# (bench/page.sh). Workloads the services do not
# implement yet are reported as "not measured", never as numbers.
set -euo pipefail
source "$(dirname "$0")/../deploy/local/common.sh"

MODE=full
OUT_DIR=$NEWSGRID_ROOT/docs
PROFILE=auto
while [ $# -gt 0 ]; do
  case $1 in
    --quick) MODE=quick ;;
    --out) OUT_DIR=$2; shift ;;
    --no-profile) PROFILE=off ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (--quick, --out DIR, --no-profile)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$MODE" = quick ]; then
  DURATION=3s; WARMUP=1s; ARTICLES=300; INGEST_ARTICLES=10000; HISTORY_EVENTS=8
  PGBENCH_SCALE=1; REDIS_REQUESTS=300000; MICRO_MIN_TIME=0.01; DURATION_S=3
else
  DURATION=15s; WARMUP=3s; ARTICLES=10000; INGEST_ARTICLES=100000; HISTORY_EVENTS=8
  PGBENCH_SCALE=10; REDIS_REQUESTS=3000000; MICRO_MIN_TIME=0.2; DURATION_S=15
fi
CONCURRENCY=32          # closed-loop calls in flight; pgbench clients too
INGEST_CONCURRENCY=8    # RecordViews streams in flight
POLL_RATE=200           # GetTrending calls/s while ingest runs
PG_CLIENTS=$CONCURRENCY

NEWSGRID_PACKAGES+=(redis-server redis-tools gnuplot-nox)
ensure_packages
BUILD_DIR=${BUILD_DIR:-$NEWSGRID_ROOT/build}
BUILD_TYPE=RelWithDebInfo build "$BUILD_DIR"
LOADGEN=$BUILD_DIR/bench/newsgrid-loadgen

RESULTS=$(mktemp -d /tmp/newsgrid-bench.XXXXXX)
chmod 755 "$RESULTS"
PIDS=()
REDIS_PID=
cleanup() {
  trap - INT TERM EXIT
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$REDIS_PID" ] && { kill -TERM "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null || true; }
  pg_stop
  log "raw results kept in $RESULTS"
}
trap cleanup INT TERM EXIT
START_TIME=$(date +%s)

wait_port() {  # port
  for _ in $(seq 300); do
    /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  log "nothing listens on port $1"; return 1
}

# lg NAME LOADGEN_ARGS...: one load generator run -> $RESULTS/NAME.json.
# Exit code 3 (some load not implemented by the service) is a result.
lg() {
  local name=$1; shift
  log "load: $name"
  local rc=0
  "$LOADGEN" --label="$name" --json_out="$RESULTS/$name.json" --markdown_out="$RESULTS/$name.md" \
    --duration="$DURATION" --warmup="$WARMUP" --concurrency="$CONCURRENCY" \
    --echo_addr="127.0.0.1:$ECHO_PORT" --article_addr="127.0.0.1:$ARTICLE_PORT" \
    --trending_addr="127.0.0.1:$TRENDING_PORT" --articles="$ARTICLES" \
    --article_names_file="$RESULTS/articles.txt" --ingest_articles="$INGEST_ARTICLES" \
    "$@" >"$RESULTS/$name.stdout" 2>"$RESULTS/$name.stderr" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    log "load $name failed ($rc):"; cat "$RESULTS/$name.stderr" >&2; return 1
  fi
  [ "$rc" -eq 3 ] && sed 's/^/    /' "$RESULTS/$name.stderr" >&2
  return 0
}

# jq-free JSON field of the first load: jget FILE EXPR (python expression on `l`).
jget() {
  /usr/bin/python3 -c "import json,sys; l=json.load(open('$1'))['loads'][0]; print($2)" 2>/dev/null || echo 0
}

# profile_start NAME PID SECONDS / profile_stop NAME: a system-wide perf
# recording of a phase, so that a missed target comes with the profile that
# says why: NAME.cpu.txt (CPU share per process: load generator, service,
# PostgreSQL, idle), NAME.profile.txt (the service's top symbols) and
# NAME.pg_profile.txt (PostgreSQL's). Dropped when the phase could not be
# measured.
PERF_PID=
PERF_TARGET=
profile_start() {
  PERF_PID=
  [ "$PROFILE" = off ] && return 0
  command -v perf >/dev/null || return 0
  PERF_TARGET=$2
  perf record -a -F 499 -g -o "$RESULTS/$1.perf.data" -- sleep "$3" >/dev/null 2>&1 &
  PERF_PID=$!
}
profile_stop() {
  [ -n "$PERF_PID" ] || return 0
  if [ "$(jget "$RESULTS/$1.json" "l['status']")" = measured ]; then
    wait "$PERF_PID" 2>/dev/null || true
    local data=$RESULTS/$1.perf.data
    local top=(perf report -i "$data" --stdio --no-children --percentage relative --percent-limit 1 --sort symbol)
    perf script -i "$data" -F comm,pid,tid 2>/dev/null | /usr/bin/python3 "$NEWSGRID_ROOT/bench/cpu_split.py" \
      "$ARTICLE_PID=article-service" "$TRENDING_PID=trending-service" "$ECHO_PID=echo server" \
      >"$RESULTS/$1.cpu.txt" || true
    "${top[@]}" --pid "$PERF_TARGET" 2>/dev/null | grep -v '^$' | head -80 >"$RESULTS/$1.profile.txt" || true
    "${top[@]}" --comms postgres 2>/dev/null | grep -v '^$' | head -80 >"$RESULTS/$1.pg_profile.txt" || true
  else
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
  fi
  rm -f "$RESULTS/$1.perf.data"
  PERF_PID=
}

# --- Servers -----------------------------------------------------------------
# Default durability for every benchmark database: the services and pgbench
# share this server, so they compare at the same settings.
PG_EXTRA_OPTS="-c shared_buffers=256MB -c max_connections=400" pg_start
psql_admin() { psql "$PG_DSN" -v ON_ERROR_STOP=1 -qAt "$@"; }
for db in bench_article bench_trending bench_trending_mem bench_pgbench; do psql_admin -c "CREATE DATABASE $db"; done
psql_admin -c "SELECT name || '=' || current_setting(name) FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','shared_buffers','wal_level') ORDER BY name" >"$RESULTS/pg_settings.txt"

ECHO_PORT=$(free_port); ARTICLE_PORT=$(free_port); TRENDING_PORT=$(free_port)
"$BUILD_DIR/bench/newsgrid-echo-server" --port="$ECHO_PORT" >"$RESULTS/echo-server.log" 2>&1 &
ECHO_PID=$!
PIDS+=($ECHO_PID)
# Peers through the environment (each service's flag env fallback).
start_service() {  # name port database -> pid in LAST_PID
  local name=$1 port=$2 db=$3
  ARTICLE_TRENDING_SERVICE_ADDR=127.0.0.1:$TRENDING_PORT TRENDING_ARTICLE_SERVICE_ADDR=127.0.0.1:$ARTICLE_PORT \
    "$BUILD_DIR/$name/$name" --host=127.0.0.1 --port="$port" --metrics_port=0 \
    --pg_dsn="$PG_DSN dbname=$db" --log_level=warn >>"$RESULTS/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=($LAST_PID)
}
start_service article-service "$ARTICLE_PORT" bench_article; ARTICLE_PID=$LAST_PID
start_service trending-service "$TRENDING_PORT" bench_trending; TRENDING_PID=$LAST_PID
wait_port "$ECHO_PORT"; wait_port "$ARTICLE_PORT"; wait_port "$TRENDING_PORT"

# --- Baselines -----------------------------------------------------------------
lg echo_closed --loads="echo:concurrency=$CONCURRENCY"
lg echo_open --loads="echo:rate=$POLL_RATE"
lg health_closed --loads="health:concurrency=$CONCURRENCY"

log "baseline: pgbench select-only and insert ($PG_CLIENTS clients, scale $PGBENCH_SCALE)"
PGB=$PG_BIN/pgbench
PGB_DSN="$PG_DSN dbname=bench_pgbench"
"$PGB" -i -q -s "$PGBENCH_SCALE" "$PGB_DSN" >"$RESULTS/pgbench_init.log" 2>&1
psql "$PGB_DSN" -v ON_ERROR_STOP=1 -qAt -f "$NEWSGRID_ROOT/bench/pgbench/insert_setup.sql" >/dev/null
(cd "$RESULTS" && "$PGB" -S -M prepared -n -c "$PG_CLIENTS" -j 2 -T "$DURATION_S" -l --log-prefix=pgbench_select \
   "$PGB_DSN" >"$RESULTS/pgbench_select.txt" 2>&1)
(cd "$RESULTS" && "$PGB" -M prepared -n -c "$PG_CLIENTS" -j 2 -T "$DURATION_S" -l --log-prefix=pgbench_insert \
   -f "$NEWSGRID_ROOT/bench/pgbench/insert.sql" "$PGB_DSN" >"$RESULTS/pgbench_insert.txt" 2>&1)

log "baseline: redis-benchmark ZINCRBY, pipelined, $INGEST_ARTICLES distinct articles"
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$RESULTS" --logfile "$RESULTS/redis.log" &
REDIS_PID=$!
wait_port "$REDIS_PORT"
redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c 50 -P 64 -n "$REDIS_REQUESTS" -r "$INGEST_ARTICLES" --csv \
  ZINCRBY trending:views 1 'articles/__rand_int__' >"$RESULTS/redis_zincrby.csv" 2>"$RESULTS/redis_zincrby.err"
redis-cli -p "$REDIS_PORT" ZCARD trending:views >"$RESULTS/redis_zcard.txt"
redis-cli -p "$REDIS_PORT" INFO memory | tr -d '\r' | grep -E '^used_memory:' >"$RESULTS/redis_memory.txt"
redis-server --version >"$RESULTS/redis_version.txt"
redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true
REDIS_PID=

# --- Article service ------------------------------------------------------------
# Setup (create and publish the corpus) once, outside every measurement.
lg article_setup --loads="article_read:count=1:warmup=0s" --setup_concurrency=16
profile_start article_read "$ARTICLE_PID" "$DURATION_S"
lg article_read --loads="article_read:concurrency=$CONCURRENCY"
profile_stop article_read
READ_OPS=$(jget "$RESULTS/article_read.json" "int(l.get('ok_per_second',0))")
if [ "$READ_OPS" -gt 1 ]; then
  lg article_read_open --loads="article_read:rate=$((READ_OPS / 2))"
fi
lg article_list --loads="article_list:concurrency=$CONCURRENCY"
lg article_search --loads="article_search:concurrency=$CONCURRENCY"
profile_start article_create "$ARTICLE_PID" "$DURATION_S"
lg article_create --loads="article_create:concurrency=$CONCURRENCY"
profile_stop article_create
lg editor_writes --loads="editor_writes:concurrency=$CONCURRENCY"

# --- Trending service -------------------------------------------------------------
profile_start view_ingest "$TRENDING_PID" "$DURATION_S"
lg view_ingest --loads="view_ingest:concurrency=$INGEST_CONCURRENCY"
profile_stop view_ingest
# Every article gets a week of history (one view in the last 24 h), so the
# 24 h ranking below spans all of them.
lg trending_history --loads="trending_fill:concurrency=$INGEST_CONCURRENCY" --events_per_article="$HISTORY_EVENTS" --history_days=7
# Rankings polled while ingest runs open-loop at half the maximum just measured.
HALF=$(jget "$RESULTS/view_ingest.json" "round(l.get('ok_per_second',0) / 2, 3)")
if /usr/bin/python3 -c "import sys; sys.exit(0 if $HALF > 0 else 1)"; then
  profile_start trending_under_ingest "$TRENDING_PID" "$DURATION_S"
  lg trending_under_ingest --loads="trending_poll:rate=$POLL_RATE,view_ingest:rate=$HALF"
  profile_stop trending_under_ingest
else
  lg trending_under_ingest --loads="trending_poll:rate=$POLL_RATE,view_ingest:concurrency=$INGEST_CONCURRENCY"
fi

# Memory: a fresh trending-service filled with every article's history.
kill -TERM "$TRENDING_PID"; wait "$TRENDING_PID" 2>/dev/null || true
start_service trending-service "$TRENDING_PORT" bench_trending_mem; TRENDING_PID=$LAST_PID
wait_port "$TRENDING_PORT"
sleep 1
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
echo "before $(rss_kib "$TRENDING_PID")" >"$RESULTS/trending_rss.txt"
lg trending_fill --loads="trending_fill:concurrency=$INGEST_CONCURRENCY" --events_per_article="$HISTORY_EVENTS" --history_days=7
sleep 2
echo "after $(rss_kib "$TRENDING_PID")" >>"$RESULTS/trending_rss.txt"
echo "articles $INGEST_ARTICLES" >>"$RESULTS/trending_rss.txt"

# --- Micro-benchmarks ------------------------------------------------------------
log "micro-benchmarks"
"$BUILD_DIR/bench/newsgrid-micro" --benchmark_min_time="$MICRO_MIN_TIME" \
  --benchmark_format=json --benchmark_out="$RESULTS/micro.json" --benchmark_out_format=json >/dev/null

# --- Machine and report ------------------------------------------------------------
{
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "nproc=$(nproc)"
  echo "mem=$(free -m | awk '/^Mem:/ {print $2 " MiB total, " $7 " MiB available"}')"
  echo "kernel=$(uname -sr)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "grpc=$(pkg-config --modversion grpc++ 2>/dev/null || echo unknown)"
  echo "postgres=$("$PG_BIN/postgres" --version)"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "mode=$MODE"
  echo "elapsed_s=$(( $(date +%s) - START_TIME ))"
  echo "concurrency=$CONCURRENCY"
  echo "ingest_concurrency=$INGEST_CONCURRENCY"
  echo "poll_rate=$POLL_RATE"
  echo "articles=$ARTICLES"
  echo "ingest_articles=$INGEST_ARTICLES"
  echo "duration=$DURATION"
  echo "warmup=$WARMUP"
  echo "commit=$(git -C "$NEWSGRID_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$RESULTS/machine.txt"
/usr/bin/python3 "$NEWSGRID_ROOT/bench/report.py" "$RESULTS" "$OUT_DIR"
# The reader page beside nginx (its own servers; a section of the same report).
NEWSGRID_SKIP_BUILD=1 bash "$NEWSGRID_ROOT/bench/page.sh" --out "$OUT_DIR" $([ "$MODE" = quick ] && echo --quick)
log "wrote $OUT_DIR/BENCHMARKS.md in $(( $(date +%s) - START_TIME ))s"
