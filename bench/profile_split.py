#!/usr/bin/python3
"""Where one process's CPU samples went, from `perf script -F
comm,pid,tid,ip,sym,dso -G` (leaf frames) on stdin: the share per library
(kernel, gRPC, libc, the binary...), per thread name (gRPC's callback
threads, the worker pool, ...) and the top symbols, as tab-separated lines
"section<TAB>share<TAB>name" for the benchmark report.

    perf script -i x.perf.data -F comm,pid,tid,ip,sym,dso -G | profile_split.py PID [TOP]
"""

import collections
import re
import sys

pid = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
LINE = re.compile(r"\s*(\S.*?)\s+(\d+)/(\d+)\s+[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$")
dsos, threads, symbols = collections.Counter(), collections.Counter(), collections.Counter()
total = 0
for line in sys.stdin:
    m = LINE.match(line)
    if not m or m.group(2) != pid:
        continue
    total += 1
    dso = m.group(5).rsplit("/", 1)[-1]
    dso = re.sub(r"\.so[.\d]*$", "", dso)
    sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(4))
    dsos[dso] += 1
    threads[m.group(1)] += 1
    symbols[f"{sym} ({dso})"] += 1
if total:
    print(f"samples\t{total}\t")
    for section, counter, n in (("dso", dsos, 8), ("thread", threads, 6), ("symbol", symbols, top)):
        for name, count in counter.most_common(n):
            print(f"{section}\t{100 * count / total:.1f}\t{name}")
