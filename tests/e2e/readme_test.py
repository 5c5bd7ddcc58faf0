"""The README's two commands and grpcurl examples, run as written.

Starts `deploy/local/run.sh` (with the binaries already built), runs every
grpcurl command of README.md in order with the real grpcurl when the machine
has one (else the work-alike; grpcurl.py says which), checks the `# ->`
lines that follow a command against its output, fetches the reader's page at
the URL run.sh prints, then stops the system with Ctrl-C (SIGINT to the
process group) and checks that every service drained and exited.

Expectation lines: `# -> "key": value, ...` (each pair must appear in some
object of the output) and `# -> ERROR: Code: Aborted ...` (the call must
fail with that code; with -format-error the pairs are checked against the
printed status, details included).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

import grpcurl
from harness import BUILD_DIR

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def readme_steps():
    """[(kind, text, expectations)] from the sh blocks of README.md."""
    text = open(os.path.join(ROOT, "README.md")).read()
    steps = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("grpcurl "):
                steps.append(["grpcurl", line, []])
            elif line.startswith("sleep "):
                steps.append(["sleep", line, []])
            elif line.startswith("# ->") and steps and steps[-1][0] == "grpcurl":
                error = re.match(r"# -> ERROR: Code: (\w+)", line)
                if error:
                    steps[-1][2].append(("ERROR", error.group(1)))
                else:
                    steps[-1][2] += re.findall(r'"(\w+)": ("(?:[^"\\]|\\.)*"|[-\w.]+)', line)
    return steps


def code_of(camel):
    """grpcurl's code names (Go's: "FailedPrecondition") -> "FAILED_PRECONDITION"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).upper()


def contains(value, key, expected):
    """True if some object nested in `value` has `key` equal to `expected`."""
    if isinstance(value, dict):
        if key in value and value[key] == expected:
            return True
        return any(contains(v, key, expected) for v in value.values())
    if isinstance(value, list):
        return any(contains(v, key, expected) for v in value)
    return False


class ReadmeTest(unittest.TestCase):
    def test_run_command_and_every_grpcurl_example(self):
        steps = readme_steps()
        self.assertGreater(len([s for s in steps if s[0] == "grpcurl"]), 15)
        env = dict(os.environ, BUILD_DIR=BUILD_DIR, NEWSGRID_SKIP_BUILD="1")
        for k in ("DATABASE_URL",):
            env.pop(k, None)
        out_path = os.path.join(BUILD_DIR, "readme_test_run.out")
        out = open(out_path, "w")
        run = subprocess.Popen(["bash", os.path.join(ROOT, "deploy/local/run.sh")], stdout=out,
                               stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while "newsgrid is running" not in open(out_path).read():
                self.assertIsNone(run.poll(), open(out_path).read())
                self.assertLess(time.monotonic(), deadline, "run.sh did not come up")
                time.sleep(0.5)
            print(f"README examples run with {grpcurl.tool().name}", file=sys.stderr)
            for kind, line, expectations in steps:
                if kind == "sleep":
                    time.sleep(float(line.split()[1]))
                    continue
                result = grpcurl.run(line)
                errors = [code_of(v) for k, v in expectations if k == "ERROR"]
                if errors:
                    self.assertEqual(result.code, errors[0], f"{line}\n-> {result.error}")
                else:
                    self.assertTrue(result.ok, f"{line}\n-> {result.code}: {result.error}")
                for key, raw in expectations:
                    if key == "ERROR":
                        continue
                    expected = json.loads(raw)
                    self.assertTrue(any(contains(o, key, expected) for o in result.outputs),
                                    f"{line}\nexpected {key} = {raw} in {json.dumps(result.outputs)[:3000]}")
            page_url = re.search(r"the reader's page\s+(\S+)", open(out_path).read()).group(1)
            with urllib.request.urlopen(page_url, timeout=10) as r:
                self.assertEqual(r.status, 200)
                page = r.read().decode()
            self.assertIn("<h1 id=\"headline\">Night trains return to Europe</h1>", page)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
            code = run.wait(timeout=60)
            out.close()
        self.assertEqual(code, 0, open(out_path).read()[-3000:])
        log_dir = re.search(r"logs\s+(\S+)/\*\.log", open(out_path).read()).group(1)
        for name in ("article-service", "trending-service", "reader-web"):
            records = [json.loads(l) for l in open(os.path.join(log_dir, f"{name}.log")) if l.startswith("{")]
            msgs = [r["msg"] for r in records]
            self.assertIn("shutdown signal received; draining", msgs, name)
            self.assertIn("stopped", msgs, name)
        pg_dir = re.search(r"data in (\S+)\)", open(out_path).read()).group(1)
        self.assertFalse(os.path.exists(pg_dir), "the private PostgreSQL was stopped and removed")


class ConfigTableTest(unittest.TestCase):
    """The README's configuration table names every flag of both binaries."""

    def test_every_flag_is_documented(self):
        readme = open(os.path.join(ROOT, "README.md")).read()
        for name in ("article-service", "trending-service", "reader-web"):
            binary = os.path.join(BUILD_DIR, name, name)
            r = subprocess.run([binary, "--helpfull"], capture_output=True, text=True)
            source = None
            ours = []
            for line in (r.stdout + r.stderr).splitlines():
                m = re.match(r"  Flags from (.*):", line)
                if m:
                    source = m.group(1)
                    continue
                m = re.match(r"    --(\w+) \(", line)
                if m and source and re.search(r"(runtime|article-service|trending-service|reader-web)/",
                                              source):
                    ours.append(m.group(1))
            self.assertGreater(len(ours), 20, name)
            missing = [f for f in ours if f"`--{f}`" not in readme]
            self.assertEqual(missing, [], f"{name}: flags missing from README.md's configuration table")


if __name__ == "__main__":
    unittest.main()
