#!/usr/bin/env bash
# Runs the whole test suite: unit, PostgreSQL-backed and end-to-end.
#   tests/run.sh                 # all tests
#   tests/run.sh -R article      # extra arguments go to ctest
#   tests/run.sh --sanitizers    # CI: all tests, then the whole suite again under
#                                # ASan+UBSan (build-asan, which also runs the
#                                # fuzzers) and the concurrent parts under TSan
#                                # (build-tsan); any sanitizer report fails
# Installs missing Debian packages (as root), builds into build/, starts a
# private PostgreSQL 15 for the run, runs ctest, stops PostgreSQL. Exits
# non-zero on any failure. Prints how long each phase took.
set -euo pipefail
source "$(dirname "$0")/../deploy/local/common.sh"

SANITIZERS=0
CTEST_ARGS=()
for a in "$@"; do
  if [ "$a" = --sanitizers ]; then SANITIZERS=1; else CTEST_ARGS+=("$a"); fi
done
JOBS=${TEST_JOBS:-2}

BUILD_DIR=${BUILD_DIR:-$NEWSGRID_ROOT/build}
ensure_packages
timed "build" build "$BUILD_DIR" ${CMAKE_ARGS:-}

# Tests only: no fsync, the data is thrown away.
PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" pg_start
trap 'pg_stop; summary' EXIT
export NEWSGRID_TEST_DSN=$PG_DSN
export NEWSGRID_PG_BIN=$PG_BIN

# With --sanitizers the fuzzers run in the ASan+UBSan build below (one
# build serves both), not in a fuzz build of their own.
FUZZ_HERE=()
[ $SANITIZERS -eq 0 ] || FUZZ_HERE=(-E '^fuzz_smoke$')
timed "tests" ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" "${FUZZ_HERE[@]}" \
  ${CTEST_ARGS[@]+"${CTEST_ARGS[@]}"}
[ $SANITIZERS -eq 1 ] || exit 0

# Sanitizer reports go to files (servers started by end-to-end tests write
# them too: the harnesses pass the *SAN_OPTIONS through); any file there
# fails the run, whatever the tests said. When a test fails, the exit trap
# prints them too: a test stopped by halt_on_error says nothing else.
REPORTS=$(mktemp -d -t newsgrid-sanitizers.XXXXXX)
SUPP=$NEWSGRID_ROOT/tests/sanitizers
REPORTS_PRINTED=0
sanitizer_reports() {
  if compgen -G "$REPORTS/*" >/dev/null; then
    log "sanitizer reports (in $REPORTS):"; cat "$REPORTS"/* >&2; REPORTS_PRINTED=1; return 1
  fi
}
trap 'rc=$?; [ $rc -eq 0 ] || [ $REPORTS_PRINTED -eq 1 ] || sanitizer_reports || true; pg_stop; summary' EXIT
# Both sanitizer builds use clang: it builds the fuzzers too, and compiles
# this code base faster than gcc. Debug keeps asserts; CMakeLists.txt adds
# -O1 and line tables only for sanitizer builds.
sanitizer_configure() {  # dir cmake-args...
  local dir=$1; shift
  CC=clang CXX=clang++ cmake -S "$NEWSGRID_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Debug "$@" >/dev/null
}

# ASan+UBSan: every test, end-to-end servers included, and the fuzzers.
ASAN_DIR=${ASAN_BUILD_DIR:-$NEWSGRID_ROOT/build-asan}
export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:print_stacktrace=1:halt_on_error=1:suppressions=$SUPP/ubsan.supp"
sanitizer_configure "$ASAN_DIR" -DNEWSGRID_FUZZ=ON
timed "asan+ubsan build" cmake --build "$ASAN_DIR" -j"$(nproc)"
timed "asan+ubsan tests" ctest --test-dir "$ASAN_DIR" --output-on-failure -j"$JOBS" \
  ${CTEST_ARGS[@]+"${CTEST_ARGS[@]}"}
sanitizer_reports
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

# TSan: the concurrent parts: the worker and PostgreSQL pools, migrations
# racing for their lock, the trending store, ingest, rules, rankings and
# durable sync (also all at once: trending_concurrency_test), the view
# forwarder, the article cache, its invalidation listener and the service,
# the catalog. Their ctest entries preload tests/sanitizers/tsan_absl_sync.cc.
TSAN_TESTS=(worker_pool_test pg_pool_pg_test migrations_pg_test
            trending_view_store_test trending_ingestor_test trending_ingest_rules_test
            trending_ranking_cache_test trending_concurrency_test trending_pg_storage_pg_test
            view_forwarder_test article_cache_test invalidation_listener_pg_test
            article_service_pg_test article_catalog_test)
TSAN_DIR=${TSAN_BUILD_DIR:-$NEWSGRID_ROOT/build-tsan}
export TSAN_OPTIONS="log_path=$REPORTS/tsan:halt_on_error=1:second_deadlock_stack=1:suppressions=$SUPP/tsan.supp"
sanitizer_configure "$TSAN_DIR" -DNEWSGRID_SANITIZE=thread
timed "tsan build" cmake --build "$TSAN_DIR" -j"$(nproc)" --target "${TSAN_TESTS[@]}"
timed "tsan tests" ctest --test-dir "$TSAN_DIR" --output-on-failure -j"$JOBS" \
  -R "^($(IFS='|'; echo "${TSAN_TESTS[*]}"))\$"
sanitizer_reports
rm -rf "$REPORTS"
