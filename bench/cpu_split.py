#!/usr/bin/env python3
"""CPU share per process during a benchmark phase, from `perf script` of a
system-wide recording (perf record -a): which process the machine's cores
spent the phase in (load generator, service, PostgreSQL, idle).

  perf script -i phase.perf.data -F pid,tid,comm | cpu_split.py 4242=article-service
"""
import collections
import sys

names = dict(arg.split("=", 1) for arg in sys.argv[1:])  # pid -> name
samples = collections.Counter()
comms = collections.defaultdict(collections.Counter)
for line in sys.stdin:
    parts = line.split()
    if len(parts) < 2:
        continue
    # "comm pid/tid" (comm may contain spaces)
    pid = parts[-1].split("/")[0]
    comm = " ".join(parts[:-1])
    samples[pid] += 1
    comms[pid][comm] += 1


def name_of(pid):
    if pid in names:
        return names[pid]
    if pid == "0":
        return "idle"
    # Threads carry their own names (gRPC's pollers, ...): a process is named
    # after any thread that says what it is.
    # (the load generator's completion-queue threads are "nexting_thread").
    if any(c.startswith(("newsgrid-loadge", "nexting_thread")) for c in comms[pid]):
        return "load generator"
    comm = comms[pid].most_common(1)[0][0]
    if comm.startswith("postgres"):
        return "postgres"
    return comm


by_name = collections.Counter()
for pid, n in samples.items():
    by_name[name_of(pid)] += n
total = sum(by_name.values()) or 1
for name, n in by_name.most_common():
    share = 100.0 * n / total
    if share >= 0.5:
        print(f"{share:.1f}\t{name}")
