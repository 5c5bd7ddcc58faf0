#!/usr/bin/env bash
# Smoke run of newsgrid-loadgen against real processes over loopback, a few
# seconds long, so the tool cannot rot:
#   1. the echo baseline server, closed and open loop: every call OK, the
#      open loop near its rate, results JSON and Markdown complete;
#   2. article-service on a fresh database of the test PostgreSQL
#      (NEWSGRID_TEST_DSN): health checks all OK, and article reads either
#      measured without errors or reported "not measured" because the
#      service answers UNIMPLEMENTED (never silently counted as a result);
#   3. trending-service on a fresh database: engagement pings from a pool
#      too small for the run, so streams wait for their page views to be
#      due (pool_waits) and no ping is rejected, the items are the pings
#      accepted, and rankings by ENGAGED_TIME answer without errors; or, on
#      a build that does not apply the ping rules yet, both reported "not
#      measured" with that reason.
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

# 3. Engagement pings on trending-service. 20 streams of 1,000 pings use
# the whole pool at once; the next wait the 11 s until their page views are
# due again, so the run lasts about 12 s.
TDB=nglgt_$(date +%s%N | tail -c 10)
psql "$NEWSGRID_TEST_DSN" -qAt -c "CREATE DATABASE $TDB" >/dev/null
TPORT=$(free_port)
"$BUILD/trending-service/trending-service" --host=127.0.0.1 --port="$TPORT" --metrics_port=0 \
  --pg_dsn="$NEWSGRID_TEST_DSN dbname=$TDB" >"$TMP/trending.log" 2>&1 &
PIDS+=($!)
set +e
"$LOADGEN" --loads=ping_ingest:concurrency=2:duration=1s:warmup=0s --trending_addr="127.0.0.1:$TPORT" \
  --page_views=20000 --batch_size=500 --batches_per_stream=2 --ingest_articles=500 --channels=2 \
  --label=smoke-pings --progress=off --json_out="$TMP/pings.json" >"$TMP/pings.stdout" 2>"$TMP/pings.stderr"
rc=$?
"$LOADGEN" --loads=trending_poll:rate=50:duration=1s:warmup=0s --trending_metric=ENGAGED_TIME \
  --trending_addr="127.0.0.1:$TPORT" --channels=1 --label=smoke-engaged --progress=off \
  --json_out="$TMP/engaged.json" >"$TMP/engaged.stdout" 2>"$TMP/engaged.stderr"
rc_poll=$?
set -e
if { [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; } || [ "$rc_poll" -ne 0 ]; then
  echo "loadgen exited $rc (pings), $rc_poll (ENGAGED_TIME polls)"
  cat "$TMP/pings.stderr" "$TMP/engaged.stderr" "$TMP/trending.log"; exit 1
fi
$PY - "$TMP/pings.json" "$TMP/engaged.json" "$rc" <<'PYEOF'
import json, sys
pings = json.load(open(sys.argv[1]))["loads"][0]
poll = json.load(open(sys.argv[2]))["loads"][0]
rc = int(sys.argv[3])
assert poll["status"] == "measured" and poll["ops"] > 0, poll
if pings["status"] == "measured":
    assert rc == 0
    c = pings["counters"]
    assert pings["errors"] == 0 and pings["ops"] > 0, pings
    assert c["page_views"] == 20000 and c["page_views_rejected"] == 0, c
    assert c["events_rejected"] == 0, c                   # the pool kept every ping due
    assert c["pool_waits"] >= 1 and c["pool_wait_ms"] > 0, c  # ... by waiting for it
    m = pings["methods"][0]
    assert 0 < m["items"] <= c["events_accepted"], (m, c)  # items are accepted pings
    assert poll["errors"] == 0, poll
    print("ping smoke ok:", c["events_accepted"], "pings accepted,", c["pool_waits"], "pool waits,",
          "ENGAGED_TIME polls", round(poll["ops_per_second"]), "calls/s")
else:
    assert rc == 3, rc
    assert pings["status"] == "not_measured" and "ping rules" in pings["reason"], pings
    print("ping smoke ok: not measured:", pings["reason"])
PYEOF

# 4. View ingest on the same service: its streams reuse the messages of
# finished ones (BatchPool), so every stream must still carry exactly
# batches_per_stream x batch_size events, each one counted once.
set +e
"$LOADGEN" --loads=view_ingest:concurrency=2:duration=1s:warmup=0s --trending_addr="127.0.0.1:$TPORT" \
  --batch_size=300 --batches_per_stream=3 --ingest_articles=500 --channels=2 \
  --label=smoke-views --progress=off --json_out="$TMP/views.json" >"$TMP/views.stdout" 2>"$TMP/views.stderr"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "loadgen exited $rc (views)"; cat "$TMP/views.stderr" "$TMP/trending.log"; exit 1
fi
$PY - "$TMP/views.json" <<'PYEOF'
import json, sys
views = json.load(open(sys.argv[1]))["loads"][0]
assert views["status"] == "measured" and views["errors"] == 0, views
m, c = views["methods"][0], views["counters"]
assert m["ok"] > 2 and m["items"] == m["ok"] * 900, m       # no message kept events of an earlier stream
assert c["events_accepted"] + c["events_deduplicated"] + c["events_rejected"] >= m["items"], c
assert c["events_rejected"] == 0 and c["events_accepted"] > 0, c
print("view smoke ok:", m["ok"], "streams of 900 events,", c["events_accepted"], "accepted")
PYEOF
psql "$NEWSGRID_TEST_DSN" -qAt -c "DROP DATABASE IF EXISTS $TDB WITH (FORCE)" >/dev/null 2>&1 || true
