#!/usr/bin/python3
"""Waits until a trending-service has written everything it took in: no
unflushed views and no flushed packs left to merge into bucket_counts (a
backfill's backlog is merged at half speed, a few packs at a time), so a
phase measured next is not measuring that.

    wait_quiet.py METRICS_URL [TIMEOUT_S]

Exit code 0 once quiet, 1 on timeout (the phase runs anyway, the log says).
"""
import re
import sys
import time
import urllib.request

url = sys.argv[1]
deadline = time.monotonic() + (float(sys.argv[2]) if len(sys.argv) > 2 else 120)
want = ("trending_unflushed_views", "trending_log_packs_unmerged")
while time.monotonic() < deadline:
    try:
        text = urllib.request.urlopen(url, timeout=2).read().decode()
        values = {m.group(1): float(m.group(2))
                  for m in re.finditer(r"^(trending_\w+) ([-+0-9.eE]+)$", text, re.M)}
        if all(values.get(k, 1) == 0 for k in want):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(1)
print("wait_quiet: still busy at the timeout", file=sys.stderr)
sys.exit(1)
