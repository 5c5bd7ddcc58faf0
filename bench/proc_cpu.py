#!/usr/bin/python3
"""CPU share per process tree over a window, from /proc (no perf needed):
where the machine's cores went during a benchmark phase.

    proc_cpu.py DELAY_S DURATION_S PID=NAME... > phase.proc_cpu.txt

Sleeps DELAY_S (the phase's warm-up), reads utime+stime of each PID and of
all its descendants, and the machine's totals from /proc/stat, sleeps
DURATION_S, reads them again. A process tree's time includes children that
exited and were reaped meanwhile (cutime/cstime of their parent), so
PostgreSQL's short-lived backends count too. Prints "share<TAB>name" lines
like bench/cpu_split.py, shares of all CPU time of the machine (idle
included), then "other processes" and "idle".
"""
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # comm may contain spaces and parentheses: fields start after the last ')'.
    return text[text.rindex(")") + 2:].split()


def children():
    """ppid -> [pid] of every process now."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                out.setdefault(stat_fields(d)[1], []).append(d)
            except (OSError, ValueError, IndexError):
                pass
    return out


def tree_ticks(root, kids):
    """CPU time of root and its live descendants, with what each has reaped."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            f = stat_fields(pid)
        except (OSError, ValueError):
            continue
        # Fields after comm: state=0 ppid=1 ... utime=11 stime=12 cutime=13 cstime=14.
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        todo += kids.get(pid, [])
    return total


def machine_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return sum(v[:8]), idle  # user..steal (guest time is inside user)


def snapshot(named):
    kids = children()
    return {name: tree_ticks(pid, kids) for name, pid in named}, machine_ticks()


def main():
    delay, duration = float(sys.argv[1]), float(sys.argv[2])
    named = [tuple(reversed(a.split("=", 1))) for a in sys.argv[3:]]  # PID=NAME -> (name, pid)
    time.sleep(delay)
    before, (total0, idle0) = snapshot(named)
    time.sleep(duration)
    after, (total1, idle1) = snapshot(named)
    total = max(1, total1 - total0)
    shares = {name: 100.0 * max(0, after[name] - before[name]) / total for name, _ in named}
    idle = 100.0 * (idle1 - idle0) / total
    shares["other processes"] = max(0.0, 100.0 - idle - sum(shares.values()))
    shares["idle"] = idle
    for name, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"{share:.1f}\t{name}")


if __name__ == "__main__":
    main()
