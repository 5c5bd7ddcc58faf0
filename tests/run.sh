#!/usr/bin/env bash
# Runs the whole test suite: unit, PostgreSQL-backed and end-to-end.
#   tests/run.sh                 # all tests
#   tests/run.sh -R article      # extra arguments go to ctest
#   tests/run.sh --sanitizers    # also: the suite under ASan+UBSan (build-asan)
#                                # and the concurrent parts under TSan (build-tsan)
# Installs missing Debian packages (as root), builds into build/, starts a
# private PostgreSQL 15 for the run, runs ctest, stops PostgreSQL. Exits
# non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/../deploy/local/common.sh"

SANITIZERS=0
CTEST_ARGS=()
for a in "$@"; do
  if [ "$a" = --sanitizers ]; then SANITIZERS=1; else CTEST_ARGS+=("$a"); fi
done

BUILD_DIR=${BUILD_DIR:-$NEWSGRID_ROOT/build}
ensure_packages
build "$BUILD_DIR" ${CMAKE_ARGS:-}

# Tests only: no fsync, the data is thrown away.
PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" pg_start
trap pg_stop EXIT
export NEWSGRID_TEST_DSN=$PG_DSN
export NEWSGRID_PG_BIN=$PG_BIN

ctest --test-dir "$BUILD_DIR" --output-on-failure -j"${TEST_JOBS:-2}" ${CTEST_ARGS[@]+"${CTEST_ARGS[@]}"}
[ $SANITIZERS -eq 1 ] || exit 0

# Sanitizer reports go to files (servers started by end-to-end tests write
# them too); any file there fails the run, whatever the tests said.
REPORTS=$(mktemp -d -t newsgrid-sanitizers.XXXXXX)
SUPP=$NEWSGRID_ROOT/tests/sanitizers
sanitizer_reports() {
  if compgen -G "$REPORTS/*" >/dev/null; then
    log "sanitizer reports:"; cat "$REPORTS"/* >&2; return 1
  fi
}
timed() { local t0=$SECONDS; "$@"; log "$1 ${2:-} took $((SECONDS - t0)) s"; }

# ASan+UBSan: every test; the fuzz smoke run has its own clang build.
export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:print_stacktrace=1:halt_on_error=1:suppressions=$SUPP/ubsan.supp"
timed build "${ASAN_BUILD_DIR:-$NEWSGRID_ROOT/build-asan}" -DNEWSGRID_SANITIZE=address
timed ctest --test-dir "${ASAN_BUILD_DIR:-$NEWSGRID_ROOT/build-asan}" --output-on-failure \
  -j"${TEST_JOBS:-2}" -E '^fuzz_smoke$' ${CTEST_ARGS[@]+"${CTEST_ARGS[@]}"}
sanitizer_reports
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

# TSan: the concurrent parts (pools, the trending store, ingest and sync,
# the view forwarder, the article cache).
TSAN_TESTS=(worker_pool_test pg_pool_pg_test trending_view_store_test trending_ingestor_test
            trending_ingest_rules_test trending_pg_storage_pg_test view_forwarder_test
            article_cache_test article_catalog_test)
TSAN_DIR=${TSAN_BUILD_DIR:-$NEWSGRID_ROOT/build-tsan}
export TSAN_OPTIONS="log_path=$REPORTS/tsan:halt_on_error=1:second_deadlock_stack=1:suppressions=$SUPP/tsan.supp"
cmake -S "$NEWSGRID_ROOT" -B "$TSAN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEWSGRID_SANITIZE=thread >/dev/null
timed cmake --build "$TSAN_DIR" -j"$(nproc)" --target "${TSAN_TESTS[@]}"
timed ctest --test-dir "$TSAN_DIR" --output-on-failure -j"${TEST_JOBS:-2}" \
  -R "^($(IFS='|'; echo "${TSAN_TESTS[*]}"))\$"
sanitizer_reports
rm -rf "$REPORTS"
