#!/usr/bin/env bash
# Where GetTrending (and RecordViews) wait while ingest runs: the
# trending_under_ingest phase of bench/run.sh, recorded with the scheduler's
# tracepoints and the service's own lock-hold histograms.
#
#   bash bench/trending_stall.sh                 # writes /tmp/newsgrid-stall.*/
#   bash bench/trending_stall.sh --seconds 20 --rate 300000 --out DIR
#   bash bench/trending_stall.sh --no-trace     # the same phase, measured without perf
#   TRENDING_FLAGS=--sketch_checkpoint_interval=40s bash bench/trending_stall.sh --no-trace
#                                                # extra trending-service flags
#   bash bench/trending_stall.sh --rate 200000 --pings 125000
#                                                # engaged_under_ingest: ENGAGEMENT pings
#                                                # beside the views, polls by ENGAGED_TIME
#
# Steps: a private PostgreSQL (default durability), article-service with a
# few published articles, trending-service (metrics on), a 7-day history
# for --articles articles, a short closed-loop ingest to find the maximum,
# then GetTrending at 200/s beside open-loop ingest at half that maximum
# (or --rate) while recording:
#   sched.txt    perf sched latency: the longest and average waits for a CPU
#                (runnable but not running) per thread, and timehist of the
#                service's threads (wait time vs. scheduling delay);
#   offcpu.txt   off-CPU call stacks of the service (sched_switch with -g):
#                where its threads blocked, by total time, e.g. futex waits
#                behind a mutex versus idle epoll waits;
#   holds.txt    newsgrid_lock_hold_seconds per section and
#                trending_ingest_batch_seconds per stage (a RecordViews batch
#                queued for an ingest thread, then counting): count, mean,
#                p99 and max bucket over the phase (also printed by --no-trace);
#   cpu.txt      CPU share per process (perf record -a at 499 Hz), with
#                profile.txt / pg_profile.txt the top symbols of the service
#                and of PostgreSQL; under.md/json the latencies and the
#                per-second timeline.
# KEEP_TRACES=1 keeps the perf recordings and their scripts in the folder.
# Run it on an otherwise idle machine: other load shows up as scheduling delay.
set -euo pipefail
source "$(dirname "$0")/../deploy/local/common.sh"

SECONDS_MEASURED=20
TRACE=1
RATE=
PINGS=
ARTICLES=100000
OUT=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECONDS_MEASURED=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --pings) PINGS=$2; shift ;;
    --articles) ARTICLES=$2; shift ;;
    --out) OUT=$2; shift ;;
    --no-trace) TRACE=0 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$(mktemp -d /tmp/newsgrid-stall.XXXXXX)}
mkdir -p "$OUT"
chmod 755 "$OUT"
BUILD_DIR=${BUILD_DIR:-$NEWSGRID_ROOT/build}
LOADGEN=${LOADGEN:-$BUILD_DIR/bench/newsgrid-loadgen}
PIDS=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  pg_stop
  log "results in $OUT"
}
trap cleanup INT TERM EXIT

PG_EXTRA_OPTS="-c shared_buffers=256MB -c max_connections=400" pg_start
psql "$PG_DSN" -qAt -c "CREATE DATABASE stall_article" -c "CREATE DATABASE stall_trending"
ARTICLE_PORT=$(free_port); TRENDING_PORT=$(free_port); METRICS_PORT=$(free_port)
ARTICLE_TRENDING_SERVICE_ADDR=127.0.0.1:$TRENDING_PORT "$BUILD_DIR/article-service/article-service" \
  --host=127.0.0.1 --port="$ARTICLE_PORT" --metrics_port=0 --pg_dsn="$PG_DSN dbname=stall_article" \
  --log_level=warn >"$OUT/article-service.log" 2>&1 &
PIDS+=($!)
TRENDING_ARTICLE_SERVICE_ADDR=127.0.0.1:$ARTICLE_PORT "$BUILD_DIR/trending-service/trending-service" \
  --host=127.0.0.1 --port="$TRENDING_PORT" --metrics_port="$METRICS_PORT" \
  --pg_dsn="$PG_DSN dbname=stall_trending" --log_level=debug ${TRENDING_FLAGS:-} >"$OUT/trending-service.log" 2>&1 &
TRENDING_PID=$!
PIDS+=($TRENDING_PID)
for port in "$ARTICLE_PORT" "$TRENDING_PORT"; do
  for _ in $(seq 300); do
    /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
    sleep 0.1
  done
done

lg() {  # name args...
  local name=$1; shift
  "$LOADGEN" --label="$name" --json_out="$OUT/$name.json" --markdown_out="$OUT/$name.md" \
    --article_addr="127.0.0.1:$ARTICLE_PORT" --trending_addr="127.0.0.1:$TRENDING_PORT" \
    --articles=1000 --article_names_file="$OUT/articles.txt" --ingest_articles="$ARTICLES" \
    --progress=off "$@" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr"
}
log "setup: articles, a 7-day history of $ARTICLES articles"
lg setup --loads="article_read:count=1:warmup=0s" --setup_concurrency=16
# As bench/run.sh: ingest at full speed (its maximum), then the history.
log "maximum ingest (10 s closed loop)"
lg max --loads="view_ingest:concurrency=8" --duration=10s --warmup=2s
[ -n "$RATE" ] || RATE=$(/usr/bin/python3 -c "import json; l=json.load(open('$OUT/max.json'))['loads'][0]; print(round(l['items_per_second'] / 2))")
lg fill --loads="trending_fill:concurrency=8" --events_per_article=8 --history_days=7
# The backlog is flushed and merged before anything is measured.
/usr/bin/python3 "$NEWSGRID_ROOT/bench/wait_quiet.py" "http://127.0.0.1:$METRICS_PORT/metrics" 180 || true
OPS=$(/usr/bin/python3 -c "print(round($RATE / 2000, 3))")  # 4 batches of 500 events per stream
LOADS="trending_poll:rate=200,view_ingest:rate=$OPS"
UNDER_ARGS=()
if [ -n "$PINGS" ]; then
  # As bench/run.sh's engaged_under_ingest: a pool of page views registered
  # before the window, each pinged once per 11 s (pool: 1.5x what that needs).
  LOADS="trending_poll:rate=200,ping_ingest:rate=$(/usr/bin/python3 -c "print(round($PINGS / 2000, 3))"),view_ingest:rate=$OPS"
  UNDER_ARGS=(--trending_metric=ENGAGED_TIME --ping_interval=11s --setup_concurrency=8
              --page_views="$(/usr/bin/python3 -c "import math; print(max(100000, math.ceil($PINGS * 11 * 1.5)))")")
fi
log "GetTrending at 200/s beside ingest at $RATE events/s${PINGS:+ and $PINGS pings/s} for ${SECONDS_MEASURED}s"

metrics() { /usr/bin/python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics', timeout=5).read().decode())"; }
metrics >"$OUT/metrics.before"
if [ "$TRACE" = 0 ]; then
  # A clean measurement: no perf running (starting and stopping a
  # recording costs the machine a second or so of CPU and I/O).
  lg under --loads="$LOADS" --duration="${SECONDS_MEASURED}s" --warmup=3s "${UNDER_ARGS[@]}" || true
  metrics >"$OUT/metrics.after"
  cat "$OUT/under.md" >&2
  /usr/bin/python3 "$NEWSGRID_ROOT/bench/sched_summary.py" --holds "$OUT/metrics.before" "$OUT/metrics.after" >&2
  exit 0
fi
# The recordings start before the load and stop after it, so their own
# start and end costs fall outside the measured window.
perf record -F 499 -a -g -o "$OUT/cpu.data" >/dev/null 2>"$OUT/perf-cpu.err" &
CPU_PID=$!
perf sched record -a -o "$OUT/sched.data" >/dev/null 2>"$OUT/perf-sched.err" &
SCHED_PID=$!
sleep 2
lg under --loads="$LOADS" --duration="${SECONDS_MEASURED}s" --warmup=3s "${UNDER_ARGS[@]}" &
LG_PID=$!
# Off-CPU call stacks for a few seconds in the middle (DWARF unwinding:
# Debian's libraries have no frame pointers; system-wide, because a
# per-process sched_switch recording records nothing on this kernel).
sleep $((SECONDS_MEASURED / 2))
perf record -a -e sched:sched_switch --call-graph dwarf,8192 -m 4096 -o "$OUT/stacks.data" \
  -- sleep 3 >/dev/null 2>"$OUT/perf-stacks.err" || true
wait "$LG_PID" || true
kill -INT "$CPU_PID" "$SCHED_PID" 2>/dev/null || true
wait "$SCHED_PID" || true
wait "$CPU_PID" || true
metrics >"$OUT/metrics.after"
echo "VmRSS $(awk '/^VmRSS:/ {print $2}' /proc/$TRENDING_PID/status) kB" >"$OUT/rss.txt"

log "analysing"
perf sched latency -i "$OUT/sched.data" --sort max 2>/dev/null | head -40 >"$OUT/sched.txt" || true
{
  echo; echo "## timehist of trending-service threads (wait = off CPU, sch delay = runnable, waiting for a CPU)"
  perf sched timehist -i "$OUT/sched.data" --pid "$TRENDING_PID" 2>/dev/null |
    /usr/bin/python3 "$NEWSGRID_ROOT/bench/sched_summary.py" --timehist
} >>"$OUT/sched.txt" || true
perf script -i "$OUT/sched.data" --ns -F comm,pid,tid,time,event,trace >"$OUT/sched.script" 2>/dev/null || true
perf script -i "$OUT/stacks.data" --ns -F comm,pid,tid,time,event,trace,ip,sym >"$OUT/stacks.script" 2>/dev/null || true
/usr/bin/python3 "$NEWSGRID_ROOT/bench/sched_summary.py" --offcpu "$TRENDING_PID" "$OUT/sched.script" \
  "$OUT/stacks.script" >"$OUT/offcpu.txt" || true
perf script -i "$OUT/cpu.data" -F comm,pid,tid 2>/dev/null |
  /usr/bin/python3 "$NEWSGRID_ROOT/bench/cpu_split.py" "$TRENDING_PID=trending-service" >"$OUT/cpu.txt" || true
TOP=(perf report -i "$OUT/cpu.data" --stdio -g none --no-children --percentage relative --percent-limit 0.5 --sort symbol)
"${TOP[@]}" --pid "$TRENDING_PID" 2>/dev/null | grep -v '^$' | grep -v '^#' | grep '%' | head -40 >"$OUT/profile.txt" || true
"${TOP[@]}" --comms postgres 2>/dev/null | grep -v '^$' | grep -v '^#' | grep '%' | head -20 >"$OUT/pg_profile.txt" || true
/usr/bin/python3 "$NEWSGRID_ROOT/bench/sched_summary.py" --holds "$OUT/metrics.before" "$OUT/metrics.after" >"$OUT/holds.txt"
[ -n "${KEEP_TRACES:-}" ] || rm -f "$OUT/sched.data" "$OUT/cpu.data" "$OUT/stacks.data" "$OUT/sched.script" "$OUT/stacks.script"
cat "$OUT/under.md" "$OUT/holds.txt" >&2
