#!/usr/bin/env bash
# Runs the whole test suite: unit, PostgreSQL-backed and end-to-end.
#   tests/run.sh                 # all tests
#   tests/run.sh -R article      # extra arguments go to ctest
# Installs missing Debian packages (as root), builds into build/, starts a
# private PostgreSQL 15 for the run, runs ctest, stops PostgreSQL. Exits
# non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/../deploy/local/common.sh"

BUILD_DIR=${BUILD_DIR:-$NEWSGRID_ROOT/build}
ensure_packages
build "$BUILD_DIR" ${CMAKE_ARGS:-}

# Tests only: no fsync, the data is thrown away.
PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" pg_start
trap pg_stop EXIT
export NEWSGRID_TEST_DSN=$PG_DSN
export NEWSGRID_PG_BIN=$PG_BIN

ctest --test-dir "$BUILD_DIR" --output-on-failure -j"${TEST_JOBS:-2}" "$@"
