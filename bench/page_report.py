"""Writes the reader page section of docs/BENCHMARKS.md from bench/page.sh's
wrk outputs: throughput and latency of reader-web and of nginx serving a
saved copy of the same page, closed loop and at half of our maximum.

    page_report.py RESULTS_DIR docs/BENCHMARKS.md

The section sits between <!-- page:begin --> and <!-- page:end --> markers,
so bench/report.py's sections and this one are written independently.
"""

import re
import sys
from pathlib import Path

BEGIN, END = "<!-- page:begin -->", "<!-- page:end -->"
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(path):
    text = Path(path).read_text()
    out = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        out[f"p{pct}"] = float(value) * UNIT_MS[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non2xx"] = int(errors.group(1)) if errors else 0
    sock = re.search(r"Socket errors: (.*)", text)
    out["socket_errors"] = sock.group(1).strip() if sock else "none"
    return out


def profile_lines(results):
    """Where the CPU went during reader-web's closed loop (perf, whole
    machine), and reader-web's top symbols: the evidence behind the ratio."""
    cpu, prof = results / "reader_closed.cpu.txt", results / "reader_closed.profile.txt"
    if not cpu.is_file() or not prof.is_file():
        return []
    split = [line.split("\t") for line in cpu.read_text().splitlines() if "\t" in line][:4]
    top = re.findall(r"^\s+([\d.]+)%\s+\[([k.])\]\s+(\S+)", prof.read_text(), re.M)[:8]
    if not split or not top:
        return []
    sched = sum(float(p) for p, _, sym in top if sym.startswith(("finish_task_switch", "__schedule",
                                                                  "do_sys_poll", "__poll")))
    return [
        "",
        "Profile of reader-web's closed-loop run (perf, whole machine): CPU "
        + ", ".join(f"{name} {share}%" for share, name in split)
        + ". reader-web's top symbols: "
        + ", ".join(f"{sym} {p}%{' (kernel)' if kind == 'k' else ''}" for p, kind, sym in top)
        + f". About {sched:.0f}% of reader-web's samples in the top symbols are thread switches and poll: "
        "cpp-httplib serves each keep-alive connection on a thread of its own that sleeps in poll() "
        "between requests, where nginx serves all of them from an event loop per core; the page itself "
        "(cache lookup, headers, copy of the cached body) does not appear among the top symbols.",
    ]


def main():
    results, target = Path(sys.argv[1]), Path(sys.argv[2])
    m = dict(line.split("=", 1) for line in (results / "machine.txt").read_text().splitlines() if "=" in line)
    runs = {n: parse_wrk(results / f"{n}.txt") for n in ("nginx_closed", "reader_closed", "reader_half", "nginx_half")}
    ratio = runs["reader_closed"]["rps"] / runs["nginx_closed"]["rps"]
    p99 = runs["reader_half"].get("p99", float("nan"))
    ok = lambda c: "met" if c else "**missed**"
    row = lambda name, r: (f"| {name} | {r['rps']:,.0f} | {r.get('p50', 0):.2f} | {r.get('p90', 0):.2f} | "
                           f"{r.get('p99', 0):.2f} | {r['non2xx']} |")
    lines = [
        BEGIN,
        "## Reader page (HTTP) beside nginx",
        "",
        f"The article page `/articles/night-trains-return-to-europe` ({int(m['page_bytes']):,} bytes of HTML, "
        "demo data, trending box filled) served by reader-web, against nginx "
        f"{m['nginx']} serving a saved copy of the same page from disk (sendfile, {m['nproc']} worker processes), "
        f"on the same machine ({m['nproc']} cores, {m['cpu']}), loaded by {m['wrk']} with {m['threads']} threads "
        f"and {m['connections']} keep-alive connections for {m['duration_s']} s per run. wrk shares the cores with the "
        "server under test; for reader-web, article-service, trending-service and PostgreSQL run too (they are called "
        "about once per second per page: pages are rendered once per second and served from memory). "
        "Written by `bench/page.sh` (run by `bench/run.sh`).",
        "",
        "| run | requests/s | p50 ms | p90 ms | p99 ms | non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
        row("nginx, closed loop (baseline)", runs["nginx_closed"]),
        row("reader-web, closed loop", runs["reader_closed"]),
        row(f"reader-web, paced at half its maximum ({int(m['half_rate']):,}/s offered, "
            f"{m['paced_connections']} connections)", runs["reader_half"]),
        row(f"nginx, paced at the same rate", runs["nginx_half"]),
        "",
        "| target | value | |",
        "|---|---:|---|",
        f"| throughput ≥ 0.5 × nginx | {ratio:.2f} × | {ok(ratio >= 0.5)} |",
        f"| p99 ≤ 10 ms at half of our maximum | {p99:.2f} ms | {ok(p99 <= 10)} |",
        "",
        f"reader-web's resident memory after the runs: {int(m['reader_rss_kib']) / 1024:.1f} MiB. The paced runs use "
        "wrk's delay() per connection (wrk has no fixed-rate mode): a connection waiting on a slow response sends "
        "nothing meanwhile, so their p99 is a lower bound; the closed-loop percentiles are at saturation. "
        f"Commit {m['commit']}, mode {m['mode']}.",
    ]
    lines += profile_lines(results)
    lines.append(END)
    section = "\n".join(lines)
    text = target.read_text() if target.is_file() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"page: {runs['reader_closed']['rps']:,.0f}/s vs nginx {runs['nginx_closed']['rps']:,.0f}/s "
          f"({ratio:.2f}x); p99 at half {p99:.2f} ms")


if __name__ == "__main__":
    main()
