#!/usr/bin/env bash
# The reader page beside a baseline: the article page served by reader-web
# (with article-service, trending-service and PostgreSQL behind it) against
# nginx serving a saved copy of the same page, on the same machine, with the
# same load generator (wrk): closed loop first (the maximum), then a fixed
# rate at half of our maximum (the latency a reader sees below saturation).
#
#   bash bench/page.sh                    # writes the page section of docs/BENCHMARKS.md
#   bash bench/page.sh --quick            # short runs, for development
#   bash bench/page.sh --out DIR          # the report section goes to DIR/BENCHMARKS.md
#
# bench/run.sh runs it as its last phase. Targets: throughput at least 0.5x
# nginx's; p99 at most 10 ms at half of our maximum.
#
# wrk has no fixed-rate mode; the fixed-rate run paces each connection with
# wrk's delay() hook (bench/wrk_rate.lua), so every connection waits its
# share of the interval after each response. A connection stuck on a slow
# response sends nothing meanwhile (coordinated omission): read that p99 as
# a lower bound, next to the closed-loop percentiles.
set -euo pipefail
source "$(dirname "$0")/../deploy/local/common.sh"

MODE=full
OUT_DIR=$NEWSGRID_ROOT/docs
while [ $# -gt 0 ]; do
  case $1 in
    --quick) MODE=quick ;;
    --out) OUT_DIR=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (--quick, --out DIR)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$MODE" = quick ]; then DURATION=3; else DURATION=15; fi
CONNECTIONS=32
THREADS=2

ensure_packages
BUILD_DIR=${BUILD_DIR:-$NEWSGRID_ROOT/build}
[ "${NEWSGRID_SKIP_BUILD:-0}" = 1 ] || BUILD_TYPE=RelWithDebInfo build "$BUILD_DIR"

WORK=$(mktemp -d /tmp/newsgrid-page-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  pg_stop
  log "raw results kept in $WORK"
}
trap cleanup INT TERM EXIT

wait_http() {  # url
  for _ in $(seq 300); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.1
  done
  log "no answer from $1"; return 1
}

PG_EXTRA_OPTS="-c shared_buffers=256MB" pg_start
ARTICLE_PORT=$(free_port); TRENDING_PORT=$(free_port); READER_PORT=$(free_port); NGINX_PORT=$(free_port)
for name in article-service trending-service; do
  port=$([ $name = article-service ] && echo "$ARTICLE_PORT" || echo "$TRENDING_PORT")
  ARTICLE_TRENDING_SERVICE_ADDR=127.0.0.1:$TRENDING_PORT TRENDING_ARTICLE_SERVICE_ADDR=127.0.0.1:$ARTICLE_PORT \
    "$BUILD_DIR/$name/$name" --host=127.0.0.1 --port="$port" --metrics_port=0 --pg_dsn="$PG_DSN" \
    --log_level=warn >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
done
"$BUILD_DIR/reader-web/reader-web" --host=127.0.0.1 --port="$READER_PORT" --metrics_port=0 \
  --article_service_addr="127.0.0.1:$ARTICLE_PORT" --trending_service_addr="127.0.0.1:$TRENDING_PORT" \
  --log_level=warn >"$WORK/reader-web.log" 2>&1 &
READER_PID=$!
PIDS+=($READER_PID)
BASE=http://127.0.0.1:$READER_PORT
PYTHONPATH="$BUILD_DIR/python:$NEWSGRID_ROOT/tests/e2e" NEWSGRID_BUILD_DIR="$BUILD_DIR" \
  /usr/bin/python3 "$NEWSGRID_ROOT/deploy/local/demo_data.py" --article="127.0.0.1:$ARTICLE_PORT" \
  --trending="127.0.0.1:$TRENDING_PORT" --images="$BASE/static/demo/" 2>"$WORK/demo_data.log"
PAGE=/articles/night-trains-return-to-europe
wait_http "$BASE$PAGE"
sleep 2  # the trending box filled (WatchTrending), as readers see it

# The baseline: nginx serving the page as reader-web serves it now.
mkdir -p "$WORK/www/articles" "$WORK/nginx"
curl -fs "$BASE$PAGE" >"$WORK/www$PAGE"
PAGE_BYTES=$(stat -c %s "$WORK/www$PAGE")
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type text/html;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/www;
    location / { add_header Cache-Control "public, max-age=0, s-maxage=10"; }
  }
}
EOF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!)
wait_http "http://127.0.0.1:$NGINX_PORT$PAGE"

# run_wrk NAME URL [DELAY_MS]: closed loop, or paced by bench/wrk_rate.lua.
run_wrk() {
  local name=$1 url=$2 pace=()
  [ $# -lt 3 ] || pace=(-s "$NEWSGRID_ROOT/bench/wrk_rate.lua" "$url" -- "$3")
  [ $# -ge 3 ] || pace=("$url")
  log "wrk: $name"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${pace[@]}" >"$WORK/$name.txt" 2>&1
}
run_wrk nginx_closed "http://127.0.0.1:$NGINX_PORT$PAGE"
# The closed-loop run of reader-web is profiled (CPU per process, reader-web's
# top symbols) unless PAGE_PROFILE=0, so a missed target comes with its why.
PERF_PID=
if [ "${PAGE_PROFILE:-1}" = 1 ] && command -v perf >/dev/null; then
  perf record -a -F 499 -g -o "$WORK/reader_closed.perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
  PERF_PID=$!
fi
run_wrk reader_closed "$BASE$PAGE"
if [ -n "$PERF_PID" ]; then
  wait "$PERF_PID" 2>/dev/null || true
  perf script -i "$WORK/reader_closed.perf.data" -F comm,pid,tid 2>/dev/null | \
    /usr/bin/python3 "$NEWSGRID_ROOT/bench/cpu_split.py" "$READER_PID=reader-web" >"$WORK/reader_closed.cpu.txt" || true
  perf report -i "$WORK/reader_closed.perf.data" --stdio --no-children --percentage relative \
    --percent-limit 0.7 --sort symbol -g none --pid "$READER_PID" 2>/dev/null | grep -v '^$' | \
    head -80 >"$WORK/reader_closed.profile.txt" || true
  rm -f "$WORK/reader_closed.perf.data"
fi
OURS=$(awk '/^Requests\/sec/ {printf "%d", $2}' "$WORK/reader_closed.txt")
HALF=$((OURS / 2))
# Paced: each of PACED_CONNECTIONS sends one request per PACED_CONNECTIONS /
# HALF seconds: the pause after a response is that interval less a typical
# response time (the closed-loop median).
P50_MS=$(awk '$1 == "50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else {sub(/s/,"",v); v*=1000}; print v}' "$WORK/reader_closed.txt")
PACED_CONNECTIONS=64
DELAY_MS=$(/usr/bin/python3 -c "print(max(0.0, round($PACED_CONNECTIONS * 1000.0 / max(1, $HALF) - $P50_MS, 3)))")
CONNECTIONS=$PACED_CONNECTIONS
run_wrk reader_half "$BASE$PAGE" "$DELAY_MS"
run_wrk nginx_half "http://127.0.0.1:$NGINX_PORT$PAGE" "$DELAY_MS"
RSS_KIB=$(awk '/^VmRSS:/ {print $2}' "/proc/$READER_PID/status")

{
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "nproc=$(nproc)"
  echo "nginx=$(nginx -v 2>&1 | sed 's/.*: //')"
  echo "wrk=$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "page_bytes=$PAGE_BYTES"
  echo "duration_s=$DURATION"
  echo "connections=32"
  echo "paced_connections=$PACED_CONNECTIONS"
  echo "threads=$THREADS"
  echo "half_rate=$HALF"
  echo "reader_rss_kib=$RSS_KIB"
  echo "commit=$(git -C "$NEWSGRID_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "mode=$MODE"
} >"$WORK/machine.txt"
/usr/bin/python3 "$NEWSGRID_ROOT/bench/page_report.py" "$WORK" "$OUT_DIR/BENCHMARKS.md"
log "wrote the page section of $OUT_DIR/BENCHMARKS.md"
