#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) in a fuzz build
# directory and runs each briefly over its seed corpus. A crash, leak or
# sanitizer report fails the run and leaves the reproducer in the work dir.
#   fuzz/run.sh [build-dir] [seconds-per-target]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-fuzz}
SECONDS_PER_TARGET=${2:-${FUZZ_SECONDS:-5}}
# NEWSGRID_FUZZ_PREBUILT=1: BUILD is a fuzz build whose targets are built
# already (ctest in the ASan+UBSan build of tests/run.sh --sanitizers).
if [ "${NEWSGRID_FUZZ_PREBUILT:-0}" != 1 ]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNEWSGRID_FUZZ=ON >/dev/null
  cmake --build "$BUILD" --target newsgrid_fuzzers -j"$(nproc)"
fi
WORK=$(mktemp -d -t newsgrid-fuzz.XXXXXX)
status=0
for f in filter page_token text article_request trending_request pg_array body_html; do
  mkdir -p "$WORK/$f"
  echo "== ${f}_fuzz (${SECONDS_PER_TARGET}s)"
  # New inputs go to the work dir; the seed corpus in the repo stays as is.
  if ! (cd "$WORK" && "$BUILD/fuzz/${f}_fuzz" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 "$WORK/$f" "$ROOT/fuzz/corpus/$f" \
        >"$WORK/$f.log" 2>&1); then
    echo "FAILED: ${f}_fuzz; reproducer and log in $WORK" >&2
    tail -60 "$WORK/$f.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$WORK/$f.log" | tail -2
  fi
done
[ $status -eq 0 ] && rm -rf "$WORK"
exit $status
