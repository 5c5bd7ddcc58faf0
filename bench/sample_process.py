#!/usr/bin/python3
"""Samples a process's memory and its /metrics gauges while a phase runs.

    sample_process.py PID METRICS_URL OUT_CSV [INTERVAL_S]

Every INTERVAL_S (default 5) seconds, until the process exits or the file
STOP (OUT_CSV + ".stop") appears, adds one CSV row: seconds since the
start, VmRSS and VmHWM (KiB), and every gauge-like sample of the service
whose name starts with `trending_` or `newsgrid_` and has no `le` label
(store sizes, backlog, dedup entries...). Used by bench/run.sh's soak phase.
"""
import csv
import os
import re
import sys
import time
import urllib.request

pid, url, out = sys.argv[1], sys.argv[2], sys.argv[3]
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
stop = out + ".stop"
sample = re.compile(r'^((?:trending|newsgrid)_[a-zA-Z0-9_]*)(\{[^}]*\})? ([-+0-9.eE]+|NaN)$')


def status_kib(field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def gauges():
    try:
        text = urllib.request.urlopen(url, timeout=2).read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        m = sample.match(line)
        if not m or "le=" in (m.group(2) or "") or m.group(1).endswith(("_bucket", "_sum", "_count", "_total")):
            continue
        out[m.group(1) + (m.group(2) or "")] = m.group(3)
    return out


def write(rows):
    """Rewrites the whole file: gauges appear when the service first sets
    them, so the columns are the union of every sample so far."""
    columns = sorted({k for r in rows for k in r} - {"t", "rss_kib", "hwm_kib"})
    with open(out + ".tmp", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t", "rss_kib", "hwm_kib"] + columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in ["t", "rss_kib", "hwm_kib"] + columns])
    os.replace(out + ".tmp", out)


start = time.monotonic()
rows = []
while not os.path.exists(stop):
    try:
        rss, hwm = status_kib("VmRSS"), status_kib("VmHWM")
    except OSError:
        break
    rows.append({"t": f"{time.monotonic() - start:.1f}", "rss_kib": rss, "hwm_kib": hwm, **gauges()})
    write(rows)
    time.sleep(interval)
