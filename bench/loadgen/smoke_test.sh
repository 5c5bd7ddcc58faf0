#!/usr/bin/env bash
# Smoke run of newsgrid-loadgen against real processes over loopback, a few
# seconds long, so the tool cannot rot:
#   1. the echo baseline server, closed and open loop: every call OK, the
#      open loop near its rate, results JSON and Markdown complete;
#   2. article-service on a fresh database of the test PostgreSQL
#      (NEWSGRID_TEST_DSN): health checks all OK, and article reads either
#      measured without errors or reported "not measured" because the
#      service answers UNIMPLEMENTED (never silently counted as a result).
# Usage: smoke_test.sh BUILD_DIR
set -euo pipefail
BUILD=${1:?build dir}
PY=/usr/bin/python3
LOADGEN=$BUILD/bench/newsgrid-loadgen
TMP=$(mktemp -d /tmp/newsgrid-loadgen-smoke.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. Echo baseline.
"$BUILD/bench/newsgrid-echo-server" --port=0 >"$TMP/echo.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^listening on' "$TMP/echo.out" && break; sleep 0.1; done
ECHO_ADDR=$(sed -n 's/^listening on //p' "$TMP/echo.out")
[ -n "$ECHO_ADDR" ] || { echo "echo server did not start"; cat "$TMP/echo.out"; exit 1; }

"$LOADGEN" --loads=echo:concurrency=8:duration=1s:warmup=300ms,echo:rate=300:duration=2s:warmup=200ms \
  --echo_addr="$ECHO_ADDR" --channels=2 --label=smoke-echo --progress=off \
  --json_out="$TMP/echo.json" --markdown_out="$TMP/echo.md" >"$TMP/echo.stdout"
$PY - "$TMP/echo.json" "$TMP/echo.md" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
md = open(sys.argv[2]).read()
closed, open_ = r["loads"]
for load in (closed, open_):
    assert load["status"] == "measured", load
    assert load["errors"] == 0, load
    assert load["ops"] > 0, load
    assert load["methods"][0]["codes"] == {"OK": load["ops"]}, load["methods"][0]
    lat = load["latency_us"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat
    assert load["timeline"], "no timeline"
assert closed["mode"] == "closed" and open_["mode"] == "open"
# Open loop: 300/s for 2 s, measured from the intended send times.
assert 0.7 * 300 <= open_["ops_per_second"] <= 1.3 * 300, open_["ops_per_second"]
assert 450 <= open_["ops"] <= 750, open_["ops"]
assert "EchoService/Echo" in md and "| closed 8 |" in md and "open 300/s" in md, md
print("echo smoke ok:", round(closed["ops_per_second"]), "calls/s closed,",
      round(open_["ops_per_second"]), "calls/s open")
PYEOF

# 2. article-service on its own database.
: "${NEWSGRID_TEST_DSN:?the article-service smoke run needs the test PostgreSQL (run through tests/run.sh)}"
DB=nglg_$(date +%s%N | tail -c 10)
psql "$NEWSGRID_TEST_DSN" -qAt -c "CREATE DATABASE $DB" >/dev/null
DSN="$NEWSGRID_TEST_DSN dbname=$DB"
PORT=$(free_port)
"$BUILD/article-service/article-service" --host=127.0.0.1 --port="$PORT" --metrics_port=0 \
  --pg_dsn="$DSN" >"$TMP/article.log" 2>&1 &
PIDS+=($!)
set +e
"$LOADGEN" --loads=health:concurrency=4:duration=1s:warmup=200ms,article_read:concurrency=4:duration=1s:warmup=200ms \
  --article_addr="127.0.0.1:$PORT" --articles=20 --setup_concurrency=4 --channels=2 \
  --label=smoke-article --progress=off --json_out="$TMP/article.json" >"$TMP/article.stdout" 2>"$TMP/article.stderr"
rc=$?
set -e
if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
  echo "loadgen exited $rc"; cat "$TMP/article.stderr" "$TMP/article.log"; exit 1
fi
$PY - "$TMP/article.json" "$rc" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
rc = int(sys.argv[2])
health, read = r["loads"]
assert health["status"] == "measured" and health["errors"] == 0 and health["ops"] > 0, health
if read["status"] == "measured":
    assert rc == 0
    assert read["errors"] == 0 and read["ops"] > 0, read
    print("article smoke ok: GetArticle measured,", round(read["ops_per_second"]), "calls/s")
else:
    assert rc == 3, rc
    assert read["status"] == "not_measured", read
    assert "UNIMPLEMENTED" in read["reason"], read["reason"]
    print("article smoke ok: health measured; article_read not measured:", read["reason"])
PYEOF
psql "$NEWSGRID_TEST_DSN" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
