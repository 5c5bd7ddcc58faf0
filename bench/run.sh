#!/usr/bin/env bash
# The benchmark suite: one command, under 20 minutes (about 3 with --quick).
#
#   bash bench/run.sh            # full run; writes docs/BENCHMARKS.md and docs/bench/*.png
#   bash bench/run.sh --quick    # short run for development (same steps, small sizes)
#   bash bench/run.sh --long     # full run with the 60-minute soak (about 75 minutes)
#   bash bench/run.sh --only engagement   # the engagement phases alone (about 5 minutes)
#   bash bench/run.sh --no-profile --out /tmp/report   # other options
#
# Installs missing Debian packages (as root), builds RelWithDebInfo, starts a
# private PostgreSQL (default durability: fsync and synchronous_commit on),
# the echo baseline server, article-service and trending-service, a private
# redis-server; runs the baselines (echo, pgbench select-only and insert,
# pgbench replays of the article service's pages and CreateArticle,
# redis-benchmark ZINCRBY and a Lua script doing dedup, uniques and the
# minute bucket per event) and the workloads with bench/loadgen, then the
# micro-benchmarks, and writes the report; last, the reader page beside nginx
# (bench/page.sh). Workloads the services do not
# implement yet are reported as "not measured", never as numbers.
#
# Trending phases: view_ingest (maximum ingest, closed loop; CPU split from
# /proc, PostgreSQL's share is a target), trending_under_ingest (GetTrending
# at 200/s beside ingest at half that maximum, 60 s, per-second p99, with
# the echo server polled at 200/s beside it and the service's own handling
# time from /metrics),
# trending_under_ingest_fixed (the same at a fixed 300,000 events/s, so runs
# compare across ingest speed-ups), trending_fill (RSS with 100k articles x
# 7 days), soak (a fresh trending-service; ingest at 80% of the maximum and
# GetTrending at 50/s; RSS and backlog gauges sampled every 10 s). The soak
# lasts 4 minutes with --dedup_window=60s (warm-up: one dedup window); with
# --long, 60 minutes with the default 30-minute window (30 minutes judged
# after the warm-up); with --quick, 30 s with a 10 s window.
#
# Engagement phases (issue 18): ping_ingest (maximum ENGAGEMENT ping
# ingest, closed loop, pings the service accepted; a pool of open page
# views registered first, each pinged at most once per 11 s) beside
# view_ingest and Redis (ZINCRBY, and bench/redis_ping.lua per ping), and
# engaged_under_ingest (GetTrending by ENGAGED_TIME at 200/s while pings and
# views each run at a quarter of their maximum). `--only engagement` runs
# just these with their baselines (echo at 200/s, Redis, view_ingest, the
# articles and history they rank) and rewrites only the engagement section
# of docs/BENCHMARKS.md (between <!-- engagement:begin --> and
# <!-- engagement:end -->); the full run writes it too.
set -euo pipefail
source "$(dirname "$0")/../deploy/local/common.sh"

MODE=full
OUT_DIR=$NEWSGRID_ROOT/docs
PROFILE=auto
LONG=0
ONLY=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) MODE=quick ;;
    --long) LONG=1 ;;
    --only) ONLY=${2:-}; shift ;;
    --out) OUT_DIR=$2; shift ;;
    --no-profile) PROFILE=off ;;
    -h|--help) sed -n '2,41p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (--quick, --long, --only engagement, --out DIR, --no-profile)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$LONG" = 1 ] && [ "$MODE" = quick ]; then
  echo "--long and --quick exclude each other" >&2; exit 2
fi
case $ONLY in
  ''|engagement) ;;
  *) echo "--only takes: engagement" >&2; exit 2 ;;
esac
full_run() { [ -z "$ONLY" ]; }

if [ "$MODE" = quick ]; then
  DURATION=3s; WARMUP=1s; ARTICLES=300; INGEST_ARTICLES=10000; HISTORY_EVENTS=8
  PGBENCH_SCALE=1; REDIS_REQUESTS=300000; MICRO_MIN_TIME=0.01; DURATION_S=3; WARMUP_S=1
  STALENESS_UPDATES=50; REDIS_LUA_REQUESTS=100000
  UNDER_INGEST_S=5; FIXED_INGEST_S=3; SOAK_S=30; SOAK_DEDUP_S=10; SOAK_SAMPLE_S=2
else
  DURATION=15s; WARMUP=3s; ARTICLES=10000; INGEST_ARTICLES=100000; HISTORY_EVENTS=8
  PGBENCH_SCALE=10; REDIS_REQUESTS=3000000; MICRO_MIN_TIME=0.2; DURATION_S=15; WARMUP_S=3
  STALENESS_UPDATES=200; REDIS_LUA_REQUESTS=1000000
  UNDER_INGEST_S=60; FIXED_INGEST_S=15; SOAK_S=240; SOAK_DEDUP_S=60; SOAK_SAMPLE_S=10
fi
# The long soak: the service's default dedup window (30 minutes) as the
# warm-up, then 30 minutes judged.
[ "$LONG" = 1 ] && { SOAK_S=3600; SOAK_DEDUP_S=1800; }
# Lists and search are measured again once the archive is ten times larger.
ARCHIVE=$((ARTICLES * 10))
CONCURRENCY=32          # closed-loop calls in flight; pgbench clients too
INGEST_CONCURRENCY=8    # RecordViews streams in flight
BATCH_SIZE=500          # events per RecordViews message
BATCHES_PER_STREAM=4    # messages per RecordViews stream (one operation)
POLL_RATE=200           # GetTrending calls/s while ingest runs
# Ingest speed of the fixed-rate phase: the half-max of the first
# measurements, so runs stay comparable as the maximum grows.
FIXED_INGEST_EVENTS=300000
SOAK_INGEST_SHARE=0.8   # of the maximum ingest
SOAK_POLL_RATE=50       # GetTrending calls/s during the soak
# Engagement pings: a page view takes one ping per PING_INTERVAL_S (the
# service's 10 s rule plus a second for delivery), so ping_ingest's pool of
# open page views must hold the rate times that interval (or times the
# phase, when shorter); sized from the view maximum with headroom, since
# the ping maximum is not known yet; at most PING_POOL_MAX page views
# (enough for 727,000 pings/s), which the service holds for 30 minutes. A
# pool that still runs short makes streams wait (counted): the report then
# says the rate is bounded by it.
PING_INTERVAL_S=11
PING_POOL_HEADROOM=1.5
PING_POOL_MIN=100000
PING_POOL_MAX=8000000
ENGAGED_INGEST_SHARE=0.25  # of each maximum (pings, views) beside the ENGAGED_TIME polls
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

wait_port() {  # port [seconds, default 30]
  local deadline=$(( $(date +%s) + ${2:-30} ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
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
    --batch_size="$BATCH_SIZE" --batches_per_stream="$BATCHES_PER_STREAM" \
    "$@" >"$RESULTS/$name.stdout" 2>"$RESULTS/$name.stderr" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    log "load $name failed ($rc):"; cat "$RESULTS/$name.stderr" >&2; return 1
  fi
  [ "$rc" -eq 3 ] && sed 's/^/    /' "$RESULTS/$name.stderr" >&2
  return 0
}

# lg_measured NAME SECONDS LOADGEN_ARGS...: lg with the phase's CPU split
# and profile (SECONDS long) opened when its loads start, after their setup
# (a ping pool's registration takes seconds, and is not the phase).
lg_measured() {
  local name=$1 secs=$2; shift 2
  local started=$RESULTS/$name.started
  rm -f "$started"
  lg "$name" --started_file="$started" "$@" &
  local lg_pid=$!
  while [ ! -e "$started" ] && kill -0 "$lg_pid" 2>/dev/null; do sleep 0.1; done
  if [ -e "$started" ]; then
    profile_start "$name" "$TRENDING_PID" "$secs"
    cpu_start "$name" "$secs"
  fi
  wait "$lg_pid"
  cpu_stop
  profile_stop "$name"
}

# scrape_metrics PORT: a service's /metrics text on stdout (nothing when it
# does not answer).
scrape_metrics() {
  /usr/bin/python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$1/metrics', timeout=5).read().decode())" \
    2>/dev/null || true
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
    # The service's samples by library, thread and leaf symbol (kernel
    # samples included, so the network's share shows).
    perf script -i "$data" -F comm,pid,tid,ip,sym,dso -G 2>/dev/null \
      | /usr/bin/python3 "$NEWSGRID_ROOT/bench/profile_split.py" "$PERF_TARGET" >"$RESULTS/$1.split.txt" || true
  else
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
  fi
  rm -f "$RESULTS/$1.perf.data"
  PERF_PID=
}

# cpu_start NAME SECONDS / cpu_stop: the CPU split of a phase from /proc
# (bench/proc_cpu.py: PostgreSQL's processes, the trending service, other
# processes, idle) into NAME.proc_cpu.txt, so PostgreSQL's share is
# measured with or without perf. The window opens after the warm-up.
# More PID=NAME arguments name more processes (the article service).
CPU_PID=
cpu_start() {
  local name=$1 secs=$2; shift 2
  /usr/bin/python3 "$NEWSGRID_ROOT/bench/proc_cpu.py" "$WARMUP_S" "$secs" \
    "$(head -1 "$PG_DIR/data/postmaster.pid")=postgres" "$TRENDING_PID=trending-service" "$@" \
    >"$RESULTS/$name.proc_cpu.txt" 2>/dev/null &
  CPU_PID=$!
}
cpu_stop() { [ -n "$CPU_PID" ] && { wait "$CPU_PID" || true; }; CPU_PID=; }

# --- Servers -----------------------------------------------------------------
# Default durability for every benchmark database: the services and pgbench
# share this server, so they compare at the same settings.
PG_EXTRA_OPTS="-c shared_buffers=256MB -c max_connections=400" pg_start
psql_admin() { psql "$PG_DSN" -v ON_ERROR_STOP=1 -qAt "$@"; }
for db in bench_article bench_trending bench_trending_mem bench_trending_soak bench_pgbench bench_create_replay; do psql_admin -c "CREATE DATABASE $db"; done
psql_admin -c "SELECT name || '=' || current_setting(name) FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','shared_buffers','wal_level') ORDER BY name" >"$RESULTS/pg_settings.txt"

ECHO_PORT=$(free_port); ARTICLE_PORT=$(free_port); TRENDING_PORT=$(free_port)
"$BUILD_DIR/bench/newsgrid-echo-server" --port="$ECHO_PORT" >"$RESULTS/echo-server.log" 2>&1 &
ECHO_PID=$!
PIDS+=($ECHO_PID)
# Peers through the environment (each service's flag env fallback).
start_service() {  # name port database [flags...] -> pid in LAST_PID
  local name=$1 port=$2 db=$3
  shift 3
  ARTICLE_TRENDING_SERVICE_ADDR=127.0.0.1:$TRENDING_PORT TRENDING_ARTICLE_SERVICE_ADDR=127.0.0.1:$ARTICLE_PORT \
    "$BUILD_DIR/$name/$name" --host=127.0.0.1 --port="$port" --metrics_port=0 \
    --pg_dsn="$PG_DSN dbname=$db" --log_level=warn "$@" >>"$RESULTS/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=($LAST_PID)
}
start_service article-service "$ARTICLE_PORT" bench_article; ARTICLE_PID=$LAST_PID
TRENDING_METRICS_PORT=$(free_port)
start_service trending-service "$TRENDING_PORT" bench_trending --metrics_port="$TRENDING_METRICS_PORT"
TRENDING_PID=$LAST_PID
wait_port "$ECHO_PORT"; wait_port "$ARTICLE_PORT"; wait_port "$TRENDING_PORT"

# --- Baselines -----------------------------------------------------------------
full_run && lg echo_closed --loads="echo:concurrency=$CONCURRENCY"
lg echo_open --loads="echo:rate=$POLL_RATE"
full_run && lg health_closed --loads="health:concurrency=$CONCURRENCY"

PGB=$PG_BIN/pgbench
if full_run; then
  log "baseline: pgbench select-only and insert ($PG_CLIENTS clients, scale $PGBENCH_SCALE)"
  PGB_DSN="$PG_DSN dbname=bench_pgbench"
  "$PGB" -i -q -s "$PGBENCH_SCALE" "$PGB_DSN" >"$RESULTS/pgbench_init.log" 2>&1
  psql "$PGB_DSN" -v ON_ERROR_STOP=1 -qAt -f "$NEWSGRID_ROOT/bench/pgbench/insert_setup.sql" >/dev/null
  (cd "$RESULTS" && "$PGB" -S -M prepared -n -c "$PG_CLIENTS" -j 2 -T "$DURATION_S" -l --log-prefix=pgbench_select \
     "$PGB_DSN" >"$RESULTS/pgbench_select.txt" 2>&1)
  (cd "$RESULTS" && "$PGB" -M prepared -n -c "$PG_CLIENTS" -j 2 -T "$DURATION_S" -l --log-prefix=pgbench_insert \
     -f "$NEWSGRID_ROOT/bench/pgbench/insert.sql" "$PGB_DSN" >"$RESULTS/pgbench_insert.txt" 2>&1)
fi

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
# What a team would run in Redis for the same work (context beside the
# ZINCRBY bar): per event one EVALSHA of bench/redis_view.lua (dedup with
# SET NX EX, uniques with PFADD, the minute bucket with ZINCRBY), pipelined
# alike, over as many articles and a million visitors (uniform draws).
log "baseline: redis-benchmark EVALSHA (dedup + uniques + minute bucket), pipelined"
redis-cli -p "$REDIS_PORT" FLUSHALL >/dev/null
REDIS_SHA=$(redis-cli -p "$REDIS_PORT" SCRIPT LOAD "$(cat "$NEWSGRID_ROOT/bench/redis_view.lua")")
REDIS_MINUTE=$(( $(date +%s) / 60 ))
redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c 50 -P 64 -n "$REDIS_LUA_REQUESTS" -r 1000000 --csv \
  EVALSHA "$REDIS_SHA" 0 __rand_int__ __rand_int__ "$INGEST_ARTICLES" 1800 "$REDIS_MINUTE" \
  >"$RESULTS/redis_lua.csv" 2>"$RESULTS/redis_lua.err" || log "redis Lua baseline failed"
{
  echo "counted $(redis-cli -p "$REDIS_PORT" EVAL "local s = 0 for i, v in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')) do if i % 2 == 0 then s = s + tonumber(v) end end return s" 1 "views:$REDIS_MINUTE")"
  echo "articles $(redis-cli -p "$REDIS_PORT" ZCARD "views:$REDIS_MINUTE")"
  echo "requests $REDIS_LUA_REQUESTS"
  echo "used_memory $(redis-cli -p "$REDIS_PORT" INFO memory | tr -d '\r' | sed -n 's/^used_memory://p')"
} >"$RESULTS/redis_lua.txt"
# The same for engagement pings: per ping one EVALSHA of bench/redis_ping.lua
# (the page view's check, SET NX EX 10 for the ping interval, EXPIRE to keep
# the page view alive, INCRBY of the engaged seconds on the article's minute
# key, ZINCRBY on the minute's engaged-time ranking, ZADD of the reader for
# readers now), over as many page views, registered first, as pings.
log "baseline: redis-benchmark EVALSHA per engagement ping, pipelined"
redis-cli -p "$REDIS_PORT" FLUSHALL >/dev/null
# One page view per request, plus what the last pipelines send beyond -n.
REDIS_PAGE_VIEWS=$((REDIS_LUA_REQUESTS + 50 * 64))
redis-cli -p "$REDIS_PORT" EVAL "for i = 0, tonumber(ARGV[1]) - 1 do redis.call('SET', 'pv:' .. i, tostring(i % tonumber(ARGV[2])), 'EX', 1800) end return 1" \
  0 "$REDIS_PAGE_VIEWS" "$INGEST_ARTICLES" >/dev/null
REDIS_PING_SHA=$(redis-cli -p "$REDIS_PORT" SCRIPT LOAD "$(cat "$NEWSGRID_ROOT/bench/redis_ping.lua")")
redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c 50 -P 64 -n "$REDIS_LUA_REQUESTS" -r 1000000 --csv \
  EVALSHA "$REDIS_PING_SHA" 0 __rand_int__ __rand_int__ "$INGEST_ARTICLES" "$REDIS_PAGE_VIEWS" "$REDIS_MINUTE" \
  >"$RESULTS/redis_ping.csv" 2>"$RESULTS/redis_ping.err" || log "redis ping Lua baseline failed"
{
  echo "pings $(redis-cli -p "$REDIS_PORT" GET bench:ping_cursor)"
  echo "rejected $(redis-cli -p "$REDIS_PORT" GET bench:ping_rejected | sed 's/^$/0/')"
  echo "requests $REDIS_LUA_REQUESTS"
  echo "used_memory $(redis-cli -p "$REDIS_PORT" INFO memory | tr -d '\r' | sed -n 's/^used_memory://p')"
} >"$RESULTS/redis_ping.txt"
redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true
REDIS_PID=

# --- Article service ------------------------------------------------------------
# Setup (create and publish the corpus) once, outside every measurement.
lg article_setup --loads="article_read:count=1:warmup=0s" --setup_concurrency=16
if full_run; then
profile_start article_read "$ARTICLE_PID" "$DURATION_S"
lg article_read --loads="article_read:concurrency=$CONCURRENCY"
profile_stop article_read
READ_OPS=$(jget "$RESULTS/article_read.json" "int(l.get('ok_per_second',0))")
if [ "$READ_OPS" -gt 1 ]; then
  lg article_read_open --loads="article_read:rate=$((READ_OPS / 2))"
fi
# The ceiling of one call carrying a read's bytes: the echo server answering
# as many bytes as an article read did (its mean request and answer sizes).
READ_REQ=$(jget "$RESULTS/article_read.json" "int(l.get('counters',{}).get('mean_request_bytes',0))")
READ_RESP=$(jget "$RESULTS/article_read.json" "int(l.get('counters',{}).get('mean_response_bytes',0))")
if [ "$READ_RESP" -gt 0 ]; then
  lg echo_article --loads="echo:concurrency=$CONCURRENCY" --echo_payload="$READ_REQ" --echo_response_bytes="$READ_RESP"
fi

# Lists and search, then PostgreSQL alone serving the same pages (pgbench
# replays, bench/pgbench/list_*.sql and search_*.sql, in the load
# generator's mix). Lists run prepared like the service's page queries;
# searches are planned per call like the service's (their plan depends on
# the words).
ARTICLE_DSN="$PG_DSN dbname=bench_article"
replay() {  # NAME MODE SCRIPT@WEIGHT...
  local name=$1 mode=$2; shift 2
  local files=()
  for f in "$@"; do files+=(-f "$NEWSGRID_ROOT/bench/pgbench/$f"); done
  log "baseline: pgbench replay $name ($PG_CLIENTS clients)"
  (cd "$RESULTS" && "$PGB" -M "$mode" -n -c "$PG_CLIENTS" -j 2 -T "$DURATION_S" -l --log-prefix="pgbench_$name" \
     "${files[@]}" "$ARTICLE_DSN options=-csearch_path=article,public" >"$RESULTS/pgbench_$name.txt" 2>&1) \
    || log "replay $name failed"
}
pages() {  # SUFFIX: list and search phases with their replays
  local sfx=$1
  profile_start "article_list$sfx" "$ARTICLE_PID" "$DURATION_S"
  lg "article_list$sfx" --loads="article_list:concurrency=$CONCURRENCY"
  profile_stop "article_list$sfx"
  profile_start "article_list_cards$sfx" "$ARTICLE_PID" "$DURATION_S"
  lg "article_list_cards$sfx" --loads="article_list_cards:concurrency=$CONCURRENCY"
  profile_stop "article_list_cards$sfx"
  profile_start "article_search$sfx" "$ARTICLE_PID" "$DURATION_S"
  lg "article_search$sfx" --loads="article_search:concurrency=$CONCURRENCY"
  profile_stop "article_search$sfx"
  replay "list$sfx" prepared list_all.sql@5 list_section.sql@3 list_tag.sql@2
  replay "list_cards$sfx" prepared list_cards_all.sql@5 list_cards_section.sql@3 list_cards_tag.sql@2
  replay "search$sfx" extended search_one.sql@4 search_two.sql@4 search_prefix.sql@2
}
pages ""

# Cross-replica staleness: a second replica on the same database; updates
# acknowledged by the first until the second answers them.
ARTICLE_B_PORT=$(free_port); ARTICLE_B_METRICS=$(free_port)
"$BUILD_DIR/article-service/article-service" --host=127.0.0.1 --port="$ARTICLE_B_PORT" \
  --metrics_port="$ARTICLE_B_METRICS" --pg_dsn="$ARTICLE_DSN" --log_level=warn \
  >>"$RESULTS/article-service-b.log" 2>&1 &
ARTICLE_B_PID=$!
PIDS+=($ARTICLE_B_PID)
wait_port "$ARTICLE_B_PORT"
sleep 1
lg article_staleness --loads="article_staleness:concurrency=1:count=$STALENESS_UPDATES:warmup=0s" \
  --article_replica_addr="127.0.0.1:$ARTICLE_B_PORT"
scrape_metrics "$ARTICLE_B_METRICS" >"$RESULTS/article_b_metrics.txt"
kill -TERM "$ARTICLE_B_PID"; wait "$ARTICLE_B_PID" 2>/dev/null || true

# CPU per process from /proc as well (per create: report.py divides by the
# rate), beside the replay's below.
profile_start article_create "$ARTICLE_PID" "$DURATION_S"
cpu_start article_create "$DURATION_S" "$ARTICLE_PID=article-service"
lg article_create --loads="article_create:concurrency=$CONCURRENCY"
cpu_stop
profile_stop article_create
# CreateArticle's own statement replayed by pgbench on an empty copy of the
# schema (same tables, indexes and triggers), filled with an article the
# phase above created.
"$BUILD_DIR/article-service/article-service" --migrate=only --metrics_port=0 --log_level=warn \
  --pg_dsn="$PG_DSN dbname=bench_create_replay" >>"$RESULTS/article-service.log" 2>&1
if mapfile -d '' CREATE_ARGS < <(/usr/bin/python3 "$NEWSGRID_ROOT/bench/pgbench/create_article_replay.py" \
     "$ARTICLE_DSN" 'w-%' "$NEWSGRID_ROOT/bench/pgbench/create_article.sql" "$RESULTS/create_article.sql") \
   && [ "${#CREATE_ARGS[@]}" -gt 0 ]; then
  log "baseline: pgbench replay of CreateArticle ($PG_CLIENTS clients)"
  cpu_start create_replay "$((DURATION_S - WARMUP_S))"
  (cd "$RESULTS" && "$PGB" -M prepared -n -c "$PG_CLIENTS" -j 2 -T "$DURATION_S" -l --log-prefix=pgbench_create_replay \
     "${CREATE_ARGS[@]}" -f "$RESULTS/create_article.sql" \
     "$PG_DSN dbname=bench_create_replay options=-csearch_path=article,public" \
     >"$RESULTS/pgbench_create_replay.txt" 2>&1) || log "create replay failed"
  cpu_stop
fi
lg editor_writes --loads="editor_writes:concurrency=$CONCURRENCY"

# The archive ten times larger: older articles loaded at insert speed
# (bench/load_archive.sql, in two halves at once), then the same pages.
log "archive: loading $((ARCHIVE - ARTICLES)) more articles"
ARCHIVE_START=$(date +%s)
HALF=$(( (ARCHIVE - ARTICLES) / 2 ))
psql "$ARTICLE_DSN" -qAt -v first=1 -v last="$HALF" -f "$NEWSGRID_ROOT/bench/load_archive.sql" >/dev/null &
LOAD_A=$!
psql "$ARTICLE_DSN" -qAt -v first=$((HALF + 1)) -v last=$((ARCHIVE - ARTICLES)) -f "$NEWSGRID_ROOT/bench/load_archive.sql" >/dev/null
wait "$LOAD_A"
psql "$ARTICLE_DSN" -qAt -c "VACUUM ANALYZE article.articles" -c "VACUUM ANALYZE article.article_tags" >/dev/null
psql "$ARTICLE_DSN" -qAt -c "SELECT count(*) FROM article.articles WHERE delete_time IS NULL AND state IN (2, 3)" \
  >"$RESULTS/archive_live.txt"
echo "$(( $(date +%s) - ARCHIVE_START ))" >"$RESULTS/archive_load_seconds.txt"
pages "_$((ARCHIVE / 1000))k"
fi  # full_run

# --- Trending service -------------------------------------------------------------
lg_measured view_ingest "$DURATION_S" --loads="view_ingest:concurrency=$INGEST_CONCURRENCY"
# Every article gets a week of history (one view in the last 24 h), so the
# 24 h ranking below spans all of them.
lg trending_history --loads="trending_fill:concurrency=$INGEST_CONCURRENCY" --events_per_article="$HISTORY_EVENTS" --history_days=7
# The history's backlog (unflushed views, packs not yet merged) is written
# before rankings are measured: the phases below measure a steady service,
# not the tail of a backfill.
wait_quiet() {
  /usr/bin/python3 "$NEWSGRID_ROOT/bench/wait_quiet.py" "http://127.0.0.1:$TRENDING_METRICS_PORT/metrics" 180 \
    || log "trending-service still busy with the backlog; measuring anyway"
}
wait_quiet
# Rankings polled while ingest runs open-loop at half the maximum just
# measured (a long window, charted per second), then at a fixed rate.
HALF=$(jget "$RESULTS/view_ingest.json" "round(l.get('ok_per_second',0) / 2, 3)")
# Beside the polls, the echo server is polled at the same rate: what any
# gRPC server on this machine answers while the same ingest loads it. The
# service's own handling time of each call (grpc_server_handling_seconds)
# comes from its /metrics before and after: NAME.metrics.{before,after}.
under_ingest() {  # NAME INGEST_LOADS [LOADGEN_ARGS...]
  scrape_metrics "$TRENDING_METRICS_PORT" >"$RESULTS/$1.metrics.before"
  lg_measured "$1" "$PHASE_S" --loads="trending_poll:rate=$POLL_RATE,echo:rate=$POLL_RATE,$2" \
    --duration="${PHASE_S}s" "${@:3}"
  scrape_metrics "$TRENDING_METRICS_PORT" >"$RESULTS/$1.metrics.after"
}
PHASE_S=$UNDER_INGEST_S
if full_run; then
if /usr/bin/python3 -c "import sys; sys.exit(0 if $HALF > 0 else 1)"; then
  under_ingest trending_under_ingest "view_ingest:rate=$HALF"
else
  lg trending_under_ingest --loads="trending_poll:rate=$POLL_RATE,view_ingest:concurrency=$INGEST_CONCURRENCY" \
    --duration="${UNDER_INGEST_S}s"
fi
PHASE_S=$FIXED_INGEST_S
under_ingest trending_under_ingest_fixed \
  "view_ingest:rate=$(/usr/bin/python3 -c "print($FIXED_INGEST_EVENTS / ($BATCH_SIZE * $BATCHES_PER_STREAM))")"
wait_quiet
fi  # full_run

# Engagement pings. ping_ingest: the maximum (closed loop; items are the
# pings the service accepted), its pool sized from the view maximum.
pool_for() {  # EVENTS_PER_S SECONDS_PINGED: page views for that many pings/s
  /usr/bin/python3 -c "import math; print(min($PING_POOL_MAX, max($PING_POOL_MIN, math.ceil($1 * min($PING_INTERVAL_S, $2) * $PING_POOL_HEADROOM))))"
}
VIEW_MAX=$(jget "$RESULTS/view_ingest.json" "round(l.get('items_per_second',0))")
PING_POOL=$(pool_for "$VIEW_MAX" $((WARMUP_S + DURATION_S + 1)))
# The service holds at most --dedup_max_entries / 2 page views and keeps at
# least half of those (two generations), so its default (4,194,304) keeps
# a million: enough for about 95,000 pings/s at one ping per page view per
# 11 s. The engagement phases run on the same database, the service
# restarted with the capacity for the pool (the history stays; view_ingest
# above ran at the defaults).
ENGAGE_DEDUP_ENTRIES=$(( PING_POOL * 4 > 4194304 ? PING_POOL * 4 : 4194304 ))
# After the full run's ingest phases the restart restores their history
# first (a minute or more): its time is kept beside the results.
kill -TERM "$TRENDING_PID"; wait "$TRENDING_PID" 2>/dev/null || true
RESTART_START=$(date +%s.%N)
start_service trending-service "$TRENDING_PORT" bench_trending --metrics_port="$TRENDING_METRICS_PORT" \
  --dedup_max_entries="$ENGAGE_DEDUP_ENTRIES"
TRENDING_PID=$LAST_PID
wait_port "$TRENDING_PORT" 900; wait_port "$TRENDING_METRICS_PORT" 60
/usr/bin/python3 -c "import time; print(round(time.time() - $RESTART_START, 1))" >"$RESULTS/trending_restart_seconds.txt"
wait_quiet
lg_measured ping_ingest "$DURATION_S" --loads="ping_ingest:concurrency=$INGEST_CONCURRENCY" --page_views="$PING_POOL" \
  --ping_interval="${PING_INTERVAL_S}s" --setup_concurrency="$INGEST_CONCURRENCY"
wait_quiet
# engaged_under_ingest: rankings by engaged time polled while pings and
# views each run open-loop at ENGAGED_INGEST_SHARE of their own maximum
# (together half the ingest capacity, like the views' phase at half its
# maximum).
PING_RATE=$(jget "$RESULTS/ping_ingest.json" "round(l.get('ok_per_second',0) * $ENGAGED_INGEST_SHARE, 3) if l.get('status') == 'measured' else 0")
VIEW_RATE=$(jget "$RESULTS/view_ingest.json" "round(l.get('ok_per_second',0) * $ENGAGED_INGEST_SHARE, 3)")
PING_UNDER_POOL=$(pool_for "$(jget "$RESULTS/ping_ingest.json" "round(l.get('items_per_second',0) * $ENGAGED_INGEST_SHARE)")" \
  $((WARMUP_S + UNDER_INGEST_S + 1)))
PHASE_S=$UNDER_INGEST_S
# Without a ping maximum (pings not counted by this build) the phase does
# not run; the report gives ping_ingest's reason.
if /usr/bin/python3 -c "import sys; sys.exit(0 if $PING_RATE > 0 and $VIEW_RATE > 0 else 1)"; then
  under_ingest engaged_under_ingest "ping_ingest:rate=$PING_RATE,view_ingest:rate=$VIEW_RATE" \
    --trending_metric=ENGAGED_TIME --page_views="$PING_UNDER_POOL" --ping_interval="${PING_INTERVAL_S}s" \
    --setup_concurrency="$INGEST_CONCURRENCY"
fi

if full_run; then

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

# Soak: a fresh trending-service with a short dedup window (the warm-up),
# ingest open-loop at 80% of the maximum and rankings polled beside it; its
# RSS and /metrics gauges (store sizes, backlog) sampled into soak.csv by
# bench/sample_process.py; the last DURATION_S seconds profiled.
kill -TERM "$TRENDING_PID"; wait "$TRENDING_PID" 2>/dev/null || true
SOAK_RATE=$(jget "$RESULTS/view_ingest.json" "round(l.get('ok_per_second',0) * $SOAK_INGEST_SHARE, 3)")
if /usr/bin/python3 -c "import sys; sys.exit(0 if $SOAK_RATE > 0 else 1)"; then
  SOAK_METRICS_PORT=$(free_port)
  start_service trending-service "$TRENDING_PORT" bench_trending_soak \
    --metrics_port="$SOAK_METRICS_PORT" --dedup_window="${SOAK_DEDUP_S}s"
  TRENDING_PID=$LAST_PID
  wait_port "$TRENDING_PORT"; wait_port "$SOAK_METRICS_PORT"
  /usr/bin/python3 "$NEWSGRID_ROOT/bench/sample_process.py" "$TRENDING_PID" \
    "http://127.0.0.1:$SOAK_METRICS_PORT/metrics" "$RESULTS/soak.csv" "$SOAK_SAMPLE_S" &
  SAMPLER_PID=$!
  PIDS+=($SAMPLER_PID)
  log "soak: ${SOAK_S}s, dedup window ${SOAK_DEDUP_S}s"
  cpu_start soak "$SOAK_S"
  lg soak --loads="view_ingest:rate=$SOAK_RATE,trending_poll:rate=$SOAK_POLL_RATE" --duration="${SOAK_S}s" &
  SOAK_LG=$!
  sleep $((WARMUP_S + SOAK_S - DURATION_S))
  profile_start soak "$TRENDING_PID" "$DURATION_S"
  wait "$SOAK_LG"
  profile_stop soak
  cpu_stop
  touch "$RESULTS/soak.csv.stop"
  wait "$SAMPLER_PID" || true
fi

# --- Micro-benchmarks ------------------------------------------------------------
log "micro-benchmarks"
"$BUILD_DIR/bench/newsgrid-micro" --benchmark_min_time="$MICRO_MIN_TIME" \
  --benchmark_format=json --benchmark_out="$RESULTS/micro.json" --benchmark_out_format=json >/dev/null
fi  # full_run

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
  echo "archive=$ARCHIVE"
  echo "staleness_updates=$STALENESS_UPDATES"
  echo "ingest_articles=$INGEST_ARTICLES"
  echo "duration=$DURATION"
  echo "warmup=$WARMUP"
  echo "warmup_s=$WARMUP_S"
  echo "events_per_call=$((BATCH_SIZE * BATCHES_PER_STREAM))"
  echo "under_ingest_s=$UNDER_INGEST_S"
  echo "fixed_ingest_events=$FIXED_INGEST_EVENTS"
  echo "soak_s=$SOAK_S"
  echo "soak_dedup_s=$SOAK_DEDUP_S"
  echo "soak_sample_s=$SOAK_SAMPLE_S"
  echo "soak_ingest_share=$SOAK_INGEST_SHARE"
  echo "soak_poll_rate=$SOAK_POLL_RATE"
  echo "long=$LONG"
  echo "only=$ONLY"
  echo "ping_interval_s=$PING_INTERVAL_S"
  echo "ping_pool=$PING_POOL"
  echo "ping_under_pool=$PING_UNDER_POOL"
  echo "engagement_dedup_max_entries=$ENGAGE_DEDUP_ENTRIES"
  echo "engaged_ingest_share=$ENGAGED_INGEST_SHARE"
  echo "redis_lua_requests=$REDIS_LUA_REQUESTS"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit=$(git -C "$NEWSGRID_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$RESULTS/machine.txt"
if full_run; then
  /usr/bin/python3 "$NEWSGRID_ROOT/bench/report.py" "$RESULTS" "$OUT_DIR"
  # The reader page beside nginx (its own servers; a section of the same report).
  NEWSGRID_SKIP_BUILD=1 bash "$NEWSGRID_ROOT/bench/page.sh" --out "$OUT_DIR" $([ "$MODE" = quick ] && echo --quick)
  log "wrote $OUT_DIR/BENCHMARKS.md in $(( $(date +%s) - START_TIME ))s"
else
  /usr/bin/python3 "$NEWSGRID_ROOT/bench/report.py" "$RESULTS" "$OUT_DIR" --only "$ONLY"
  log "wrote the $ONLY section of $OUT_DIR/BENCHMARKS.md in $(( $(date +%s) - START_TIME ))s"
fi
