"""Deploy smoke test: each Deployment of an overlay, run as the kubelet would
run it, with the real binary, against the test PostgreSQL.

For each Deployment: its init containers (the migration, twice at once as
two pods of a rollout would), then the server with exactly the container's
args, environment (ConfigMap and Secret values taken from the rendered
manifests; only the database URL points at a fresh test database) and
ports; then its startup, readiness and liveness probes as gRPC health
checks with the declared service names; then the preStop hook, SIGTERM, and
a clean exit within terminationGracePeriodSeconds.

Needs NEWSGRID_TEST_DSN (tests/run.sh sets it) and the built binaries.
"""

import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request
import uuid

import grpc

import deploylib
import policy
from deploylib import (binary_info, binary_path, container_env, main_container, of_kind,
                       pod_spec, render)

grpc.__path__.append(str(deploylib.BUILD / "python" / "grpc"))  # generated health/reflection stubs
from grpc.health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from grpc.reflection.v1alpha import reflection_pb2, reflection_pb2_grpc  # noqa: E402

TEST_DSN = os.environ.get("NEWSGRID_TEST_DSN")


def psql(dsn, sql):
    pg_bin = os.environ.get("NEWSGRID_PG_BIN")
    exe = os.path.join(pg_bin, "psql") if pg_bin else shutil.which("psql")
    return subprocess.run([exe, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", dsn,
                           "-c", sql], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


def with_dbname(dsn, db):
    if re.search(r"\bdbname=\S+", dsn):
        return re.sub(r"\bdbname=\S+", f"dbname={db}", dsn)
    return f"{dsn} dbname={db}"


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def grpc_probe(port, service, timeout):
    """One kubelet gRPC probe: success iff Check says SERVING in time."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            resp = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as e:
            return False, f"{e.code().name}: {e.details()}"
    ok = resp.status == health_pb2.HealthCheckResponse.SERVING
    return ok, health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)


def served_services(port):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        req = reflection_pb2.ServerReflectionRequest(list_services="")
        for resp in stub.ServerReflectionInfo(iter([req]), timeout=5):
            return {s.name for s in resp.list_services_response.service}
    return set()


class Pod:
    """One pod of a Deployment, run as local processes."""

    def __init__(self, test, objs, dep, dsn, external):
        self.test, self.objs, self.dep, self.dsn = test, objs, dep, dsn
        self.spec = pod_spec(dep)
        self.external = external
        self.logs = tempfile.TemporaryDirectory(prefix="newsgrid-smoke-")
        self.port_map = {}

    def command(self, c):
        """argv and environment of container c, as the kubelet passes them."""
        info = binary_info(binary_path(c["image"]))
        env = container_env(self.objs, c, self.external)
        for var in env:
            if info.flag_for_env(var) == "pg_dsn":
                if self.external == ():
                    self.test.assertTrue(env[var], f"{c['name']}: {var} is empty in the manifests")
                env[var] = self.dsn
        args = list(c.get("args", []))
        # Ports stay as declared unless something else on this machine holds
        # them; then the same remapping applies to args, env and probes.
        for old, new in self.port_map.items():
            args = [re.sub(rf"^(--(?:port|metrics_port)=){old}$", rf"\g<1>{new}", a) for a in args]
            env = {k: (str(new) if info.flag_for_env(k) in ("port", "metrics_port") and
                       v == str(old) else v) for k, v in env.items()}
        self.test.assertFalse(c.get("command"), "the image ENTRYPOINT is the binary")
        return [str(info.path)] + args, {**deploylib.minimal_env(), "PATH": "/usr/bin:/bin",
                                         "HOSTNAME": "smoke", **env}

    def start(self, c, tag):
        argv, env = self.command(c)
        log = open(os.path.join(self.logs.name, f"{c['name']}-{tag}.log"), "w+")
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT), log

    def output(self):
        out = []
        for n in sorted(os.listdir(self.logs.name)):
            with open(os.path.join(self.logs.name, n)) as f:
                out.append(f"--- {n}\n{f.read()[-4000:]}")
        return "\n".join(out)

    def map_ports(self, c):
        for p in c.get("ports", []):
            port = p["containerPort"]
            if not port_free(port):
                self.port_map[port] = free_port()

    def probe_port(self, probe):
        port = probe["grpc"]["port"]
        return self.port_map.get(port, port)

    def probe_port_http(self, probe):
        port = probe["httpGet"]["port"]
        if isinstance(port, str):  # a named container port
            port = next(p["containerPort"] for c in self.spec["containers"]
                        for p in c.get("ports", []) if p.get("name") == port)
        return self.port_map.get(port, port)


class SmokeTest(unittest.TestCase):
    def setUp(self):
        if not TEST_DSN:
            self.fail("NEWSGRID_TEST_DSN is not set; run through tests/run.sh")

    def fresh_database(self, label):
        db = f"deploy_smoke_{label}_{uuid.uuid4().hex[:8]}".replace("-", "_")
        psql(TEST_DSN, f"CREATE DATABASE {db}")
        self.addCleanup(psql, TEST_DSN, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        return with_dbname(TEST_DSN, db)

    def run_init_containers(self, pod):
        for ic in pod.spec.get("initContainers", []):
            # Two pods of a rollout start together: both must succeed, the
            # advisory lock ordering them.
            procs = [pod.start(ic, f"replica{i}") for i in range(2)]
            for proc, _ in procs:
                try:
                    rc = proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    rc = "timeout"
                self.assertEqual(rc, 0, f"init container {ic['name']} failed:\n{pod.output()}")

    def run_startup_probe(self, pod, proc, probe):
        """Polls like the kubelet: initial delay, then every period until
        failureThreshold failures in a row."""
        time.sleep(probe.get("initialDelaySeconds", 0))
        last = None
        for _ in range(probe.get("failureThreshold", 3)):
            self.assertIsNone(proc.poll(), f"server exited:\n{pod.output()}")
            ok, last = grpc_probe(pod.probe_port(probe), probe["grpc"].get("service", ""),
                                  probe.get("timeoutSeconds", 1))
            if ok:
                return
            time.sleep(probe.get("periodSeconds", 10))
        self.fail(f"startupProbe never succeeded (last: {last}):\n{pod.output()}")

    def run_deployment(self, objs, dep, external):
        name = dep["metadata"]["name"]
        dsn = self.fresh_database(name)
        pod = Pod(self, objs, dep, dsn, external)
        self.addCleanup(pod.logs.cleanup)
        c = main_container(dep)
        pod.map_ports(c)

        self.run_init_containers(pod)
        if name in policy.HTTP_DEPLOYMENTS:
            return self.run_http_deployment(pod, dep, c)
        schema = {"article-service": "article", "trending-service": "trending"}[name]
        self.assertEqual(psql(dsn, f"SELECT to_regclass('{schema}.schema_migrations') IS NOT NULL"),
                         "t", "the migration init container did not migrate the database")

        proc, _ = pod.start(c, "server")
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.run_startup_probe(pod, proc, c["startupProbe"])
        for kind in ("readinessProbe", "livenessProbe"):
            probe = c[kind]
            ok, status = grpc_probe(pod.probe_port(probe), probe["grpc"].get("service", ""),
                                    probe.get("timeoutSeconds", 1))
            self.assertTrue(ok, f"{kind} {probe['grpc']}: {status}\n{pod.output()}")
        grpc_port = pod.probe_port(c["readinessProbe"])
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            svc = c[kind]["grpc"].get("service", "")
            # "" and "liveness" are the runtime's own health names; any
            # other must be a service the binary actually serves.
            if svc not in ("", "liveness"):
                self.assertIn(svc, served_services(grpc_port))
        self.check_metrics(pod, dep)
        self.terminate(pod, proc, c, lambda: grpc_probe(
            grpc_port, c["readinessProbe"]["grpc"].get("service", ""), 2))

    def check_metrics(self, pod, dep):
        """The Prometheus endpoint the pod annotations name answers."""
        ann = dep["spec"]["template"]["metadata"]["annotations"]
        mport = int(ann["prometheus.io/port"])
        with urllib.request.urlopen(
                f"http://127.0.0.1:{pod.port_map.get(mport, mport)}{ann['prometheus.io/path']}",
                timeout=5) as r:
            self.assertEqual(r.status, 200)
            self.assertIn(b"# TYPE", r.read())

    def terminate(self, pod, proc, c, ready):
        """Termination as the kubelet does it: preStop, then SIGTERM, all
        within the grace period counted from the start of preStop; `ready`
        -> (ok, status) must hold while the endpoints update."""
        name = pod.dep["metadata"]["name"]
        grace = pod.spec.get("terminationGracePeriodSeconds", 30)
        start = time.monotonic()
        hook = c["lifecycle"]["preStop"]["exec"]["command"]
        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            hook_done = ex.submit(subprocess.run, hook, check=True, timeout=grace)
            # Still serving while the endpoints update.
            time.sleep(1)
            ok, status = ready()
            self.assertTrue(ok, f"not ready during preStop: {status}")
            hook_done.result()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=max(0.0, grace - (time.monotonic() - start)))
        except subprocess.TimeoutExpired:
            proc.kill()
            self.fail(f"{name} still running {grace}s after preStop began:\n{pod.output()}")
        self.assertEqual(rc, 0, f"{name} exited {rc} after SIGTERM:\n{pod.output()}")
        self.assertLess(time.monotonic() - start, grace)

    def run_http_deployment(self, pod, dep, c):
        """reader-web: its HTTP probes, metrics, and the same termination."""
        proc, _ = pod.start(c, "server")
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def probe(kind):
            p = c[kind]
            port = pod.probe_port_http(p)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{p['httpGet']['path']}",
                                            timeout=p.get("timeoutSeconds", 1)) as r:
                    return r.status == 200
            except Exception:  # noqa: BLE001 (a refused or failed probe)
                return False
        startup = c["startupProbe"]
        for _ in range(startup.get("failureThreshold", 3)):
            self.assertIsNone(proc.poll(), f"server exited:\n{pod.output()}")
            if probe("startupProbe"):
                break
            time.sleep(startup.get("periodSeconds", 10))
        else:
            self.fail(f"startupProbe never succeeded:\n{pod.output()}")
        self.assertTrue(probe("readinessProbe"))
        self.assertTrue(probe("livenessProbe"))
        self.check_metrics(pod, dep)
        self.terminate(pod, proc, c, lambda: (probe("readinessProbe"), "/readyz"))

    def test_busy_ports_are_remapped_consistently(self):
        objs = render("dev")
        dep = deploylib.find(objs, "Deployment", "article-service")
        pod = Pod(self, objs, dep, "dbname=x", ())
        self.addCleanup(pod.logs.cleanup)
        pod.port_map = {50051: 41001, 9091: 41002}
        argv, env = pod.command(main_container(dep))
        self.assertIn("--port=41001", argv)
        self.assertIn("--metrics_port=41002", argv)
        self.assertNotIn("--port=50051", argv)
        self.assertEqual(env["DATABASE_URL"], "dbname=x")
        self.assertEqual(pod.probe_port(main_container(dep)["startupProbe"]), 41001)

    def test_dev_deployments_run_as_written(self):
        objs = render("dev")
        deps = of_kind(objs, "Deployment")
        self.assertEqual(len(deps), 3)
        for dep in deps:
            with self.subTest(deployment=dep["metadata"]["name"]):
                self.run_deployment(objs, dep, ())

    def test_prod_deployments_run_as_written(self):
        # The database Secrets are created by the operator; everything else
        # comes from the manifests.
        objs = render("prod")
        for dep in of_kind(objs, "Deployment"):
            with self.subTest(deployment=dep["metadata"]["name"]):
                self.run_deployment(objs, dep, tuple(policy.external_secrets()))


if __name__ == "__main__":
    unittest.main()
