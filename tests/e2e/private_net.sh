#!/usr/bin/env bash
# Runs a command in a network namespace of its own with only loopback up.
# The browser tests use it: Chromium aborts page loads with
# ERR_NETWORK_CHANGED whenever an interface appears or goes on the machine
# (other test runs and container builds create them), and inside its own
# namespace it sees none of that. Every server the test starts runs inside
# too, on loopback. Without the right to create a namespace (not root), the
# command runs as it is.
#   tests/e2e/private_net.sh python3 -m unittest reader_web_test
set -euo pipefail
if [ "${NEWSGRID_IN_PRIVATE_NET:-0}" != 1 ] && unshare --net -- true 2>/dev/null; then
  exec unshare --net -- env NEWSGRID_IN_PRIVATE_NET=1 bash -c 'ip link set lo up && exec "$@"' private_net "$@"
fi
exec "$@"
