#!/usr/bin/python3
"""Summaries for bench/trending_stall.sh.

  perf sched timehist ... | sched_summary.py --timehist
      per thread kind: how long threads waited off CPU and how long they
      were runnable without a CPU (scheduling delay), p50/p99/max.
  sched_summary.py --offcpu PID ALL_SCRIPT STACKS_SCRIPT
      off-CPU time of the process's threads by call stack at the switch-out,
      split into "blocked" (the thread slept: futex, epoll, ...) and
      "preempted" (it was runnable: waiting for a CPU). ALL_SCRIPT: perf
      script --ns of a system-wide sched recording (durations); STACKS_SCRIPT:
      of the process's sched_switch events with DWARF call graphs.
  sched_summary.py --holds METRICS_BEFORE METRICS_AFTER
      newsgrid_lock_hold_seconds per section, newsgrid_lock_wait_seconds per
      lock (a batch's wait for the store's shards), and
      trending_ingest_batch_seconds per stage (queued for an ingest thread,
      counting), between two /metrics scrapes.
"""
import bisect
import collections
import re
import sys


def pct(values, q):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))]


def kind(comm):
    """Thread names without their numbers: 'grpc_global_tim', 'default-execu'..."""
    return re.sub(r"[\d_-]+$", "", comm) or comm


def timehist():
    by = collections.defaultdict(lambda: {"wait": [], "delay": [], "run": []})
    line_re = re.compile(r"^\s*[\d.]+\s+\[\d+\]\s+(.+?)\[\d+(?:/\d+)?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")
    for line in sys.stdin:
        m = line_re.match(line)
        if not m:
            continue
        k = kind(m.group(1).strip())
        by[k]["wait"].append(float(m.group(2)))
        by[k]["delay"].append(float(m.group(3)))
        by[k]["run"].append(float(m.group(4)))
    print(f"{'thread kind':<22} {'switches':>8} {'delay p50':>10} {'delay p99':>10} {'delay max':>10}"
          f" {'wait p99':>9} {'wait max':>9} {'run p99':>8} {'run max':>8}  (ms)")
    for k, v in sorted(by.items(), key=lambda kv: -max(kv[1]["delay"] or [0])):
        print(f"{k:<22} {len(v['delay']):>8} {pct(v['delay'], 50):>10.3f} {pct(v['delay'], 99):>10.3f} "
              f"{max(v['delay']):>10.3f} {pct(v['wait'], 99):>9.3f} {max(v['wait']):>9.3f} "
              f"{pct(v['run'], 99):>8.3f} {max(v['run']):>8.3f}")


STACK_FRAMES = 9


def read_switches(path):
    """sched_switch events of a perf script file (-F comm,pid,tid,time,event,trace[,ip,sym] --ns),
    each with the call stack that followed it, if any."""
    head = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)$")
    events, cur = [], None
    for line in open(path, errors="replace"):
        m = head.match(line)
        if m:
            if cur:
                events.append(cur)
            cur = None
            if m.group(5).startswith(("sched:sched_wakeup", "sched:sched_waking")):
                target = re.search(r"pid=(\d+)", m.group(6))
                if target:
                    events.append({"t": m.group(4), "wakeup": target.group(1), "waker": kind(m.group(1).strip())})
                continue
            if not m.group(5).startswith("sched:sched_switch"):
                continue
            prev = re.search(r"prev_pid=(\d+).*?prev_state=(\S+)", m.group(6))
            nxt = re.search(r"next_pid=(\d+)", m.group(6))
            if prev and nxt:
                cur = {"t": m.group(4), "pid": m.group(2), "prev": prev.group(1), "state": prev.group(2),
                       "next": nxt.group(1), "stack": []}
            continue
        if cur is not None and line.strip():
            parts = line.strip().split(None, 1)
            if len(parts) == 2:
                cur["stack"].append(re.sub(r"\+0x[0-9a-f]+$", "", parts[1]))
    if cur:
        events.append(cur)
    return events


def offcpu(pid, all_path, stacks_path):
    """Off-CPU periods of `pid`'s threads: durations from the system-wide
    recording (a switch-out until the same thread's next switch-in), stacks
    from the process's own recording with call graphs, matched by thread and
    timestamp."""
    durations = {}  # (tid, time) -> (ms, state, waker)
    out_at = {}
    woken_by = {}
    for e in read_switches(all_path):
        if "wakeup" in e:
            if e["wakeup"] in out_at:
                woken_by[e["wakeup"]] = e["waker"]
            continue
        if e["next"] in out_at:
            t0, state = out_at.pop(e["next"])
            durations[(e["next"], t0)] = ((float(e["t"]) - t0) * 1000, state,
                                          woken_by.pop(e["next"], "?"))
        if e["pid"] == pid and e["prev"] != "0":
            out_at[e["prev"]] = (float(e["t"]), e["state"])
    # The two recordings time the same event a few microseconds apart (each
    # session's handler runs in turn): match by thread and nearest time.
    by_tid = collections.defaultdict(list)
    for (tid, t0) in durations:
        by_tid[tid].append(t0)
    for v in by_tid.values():
        v.sort()

    def lookup(tid, t):
        times = by_tid.get(tid)
        if not times:
            return None
        i = bisect.bisect_left(times, t)
        best = min((abs(times[j] - t), times[j]) for j in (i - 1, i) if 0 <= j < len(times))
        return durations[(tid, best[1])] if best[0] < 50e-6 else None
    totals = collections.defaultdict(lambda: [0.0, 0, 0.0])  # (state, stack) -> [sum, count, max]
    wakers = collections.defaultdict(collections.Counter)  # (state, stack) -> waker -> ms
    per_state = collections.Counter()
    plumbing = re.compile(r"^(\[unknown\]|__|entry_|do_|futex_|x64_|ep_|schedule|syscall|epoll|"
                          r"pthread_|__GI|asm_|hrtimer|exit_to|irqentry|sysvec|clock_nanosleep|nanosleep)")
    matched = 0
    for e in read_switches(stacks_path):
        d = lookup(e["prev"], float(e["t"]))
        if d is None:
            continue
        matched += 1
        ms, state, waker = d
        frames = [f for f in e["stack"] if not plumbing.match(f)]
        stack = " <- ".join((frames or e["stack"])[:STACK_FRAMES])
        key = ("preempted" if state.startswith("R") else "blocked", stack)
        s = totals[key]
        s[0] += ms
        s[1] += 1
        s[2] = max(s[2], ms)
        wakers[key][waker] += ms
        per_state[key[0]] += ms
    all_by_state = collections.Counter()
    longest = collections.defaultdict(float)
    for (tid, t), (ms, state, _) in durations.items():
        k = "preempted" if state.startswith("R") else "blocked"
        all_by_state[k] += ms
        longest[k] = max(longest[k], ms)
    print("all switch-outs of the process (system-wide recording): " +
          ", ".join(f"{k} {v / 1000:.2f} s in total, longest {longest[k]:.2f} ms" for k, v in all_by_state.items()))
    print(f"with call stacks (sampled recording, {matched} switch-outs): " +
          ", ".join(f"{k} {v / 1000:.2f} s" for k, v in per_state.items()))
    print(f"{'kind':<10} {'total ms':>10} {'count':>8} {'max ms':>9}  stack at switch-out (innermost first) [woken by]")
    for key, (total, n, mx) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:40]:
        state, stack = key
        by = ", ".join(f"{w} {v / total * 100:.0f}%" for w, v in wakers[key].most_common(2)) if total else ""
        print(f"{state:<10} {total:>10.1f} {n:>8} {mx:>9.2f}  {stack[:600]} [{by}]")
    print()
    print("longest single off-CPU periods by stack:")
    for (state, stack), (total, n, mx) in sorted(totals.items(), key=lambda kv: -kv[1][2])[:15]:
        print(f"{state:<10} max {mx:>9.2f} ms  {stack[:240]}")


def parse_hist(text, metric="newsgrid_lock_hold_seconds", by="section"):
    """A histogram of a /metrics text, grouped by the label `by` and summed
    over the other labels: ({group: {le: cumulative count}}, sums, counts)."""
    buckets = collections.defaultdict(lambda: collections.defaultdict(float))
    sums, counts = collections.defaultdict(float), collections.defaultdict(float)
    sample = re.compile(rf'^{metric}_(bucket|sum|count)\{{(.*)\}} (\S+)$')
    for line in text.splitlines():
        m = sample.match(line.strip())
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        group = labels.get(by, "?")
        v = float(m.group(3))
        if m.group(1) == "bucket":
            buckets[group][float(labels["le"])] += v
        elif m.group(1) == "sum":
            sums[group] += v
        else:
            counts[group] += v
    return buckets, sums, counts


def cumulative_between(before, after):
    """[(le, count)] of the observations made between two scrapes of one
    group's buckets, in bound order."""
    return sorted((le, v - before.get(le, 0)) for le, v in after.items())


def share_bound(cum, n, share=0.99):
    """The smallest bucket bound under which `share` of `n` observations fell."""
    return next((le for le, v in cum if v >= share * n), float("inf"))


def holds(before, after):
    text0, text1 = open(before).read(), open(after).read()
    # Lock holds by section, the waits for locks (one observation per
    # batch), then the RecordViews batches' wait for an ingest thread and
    # their counting (trending_ingest_batch_seconds).
    for metric, by, title in (("newsgrid_lock_hold_seconds", "section", "section"),
                              ("newsgrid_lock_wait_seconds", "lock", "lock wait"),
                              ("trending_ingest_batch_seconds", "stage", "ingest batch")):
        b0, s0, c0 = parse_hist(text0, metric, by)
        b1, s1, c1 = parse_hist(text1, metric, by)
        if not c1:
            continue
        print(f"{title:<24} {'count':>9} {'mean':>10} {'p99 <=':>10} {'max <=':>10}  (over the phase)")
        for group in sorted(c1):
            n = c1[group] - c0.get(group, 0)
            if n <= 0:
                continue
            mean = (s1[group] - s0.get(group, 0)) / n
            cum = cumulative_between(b0.get(group, {}), b1[group])
            p99 = share_bound(cum, n)
            prev = 0
            mx = 0
            for le, v in cum:
                if v > prev:
                    mx = le
                prev = v
            fmt = lambda x: "inf" if x == float("inf") else f"{x * 1000:.3f}ms"
            print(f"{group:<24} {int(n):>9} {fmt(mean):>10} {fmt(p99):>10} {fmt(mx):>10}")


if __name__ == "__main__":
    if sys.argv[1] == "--timehist":
        timehist()
    elif sys.argv[1] == "--offcpu":
        offcpu(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "--holds":
        holds(sys.argv[2], sys.argv[3])
