"""Test harness for end-to-end tests: real binaries, real PostgreSQL, real gRPC.

    cluster = PgCluster(); cluster.start()          # a private PostgreSQL 15
    dsn = create_database(cluster.dsn)               # or create_database() on the suite's server
    svc = ServiceProcess("article-service", dsn).start()
    article = call_json(svc.channel(), "news.article.v1.ArticleService",
                        "CreateArticle", '{"article": {"title": "Hi"}}')

Requests are built from JSON (the way grpcurl sends them) and responses are
returned as dicts (proto3 JSON mapping). Processes write their JSON log lines
to a file, readable with ServiceProcess.log_records().
"""

import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import grpc
from google.protobuf import json_format

# Health and reflection stubs are generated into build/python/grpc/...; make
# them importable as grpc.health.v1 / grpc.reflection.v1alpha beside grpcio.
_STUB_GRPC_DIR = os.path.join(os.environ.get("NEWSGRID_BUILD_DIR", ""), "python", "grpc")
if os.path.isdir(_STUB_GRPC_DIR) and _STUB_GRPC_DIR not in grpc.__path__:
    grpc.__path__.append(_STUB_GRPC_DIR)

BUILD_DIR = os.environ.get("NEWSGRID_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
PG_BIN = os.environ.get("NEWSGRID_PG_BIN", "/usr/lib/postgresql/15/bin")

# In a sanitizer build (tests/run.sh --sanitizers exports the options, and
# they reach the servers) processes run several times slower and check for
# leaks when they exit: bounds on how long a shutdown takes get this extra.
SANITIZER_EXTRA_S = 4 if any(k in os.environ for k in ("ASAN_OPTIONS", "TSAN_OPTIONS")) else 0

SERVICE_MODULES = {
    "news.article.v1.ArticleService": "news.article.v1.article_service_pb2",
    "news.trending.v1.TrendingService": "news.trending.v1.trending_service_pb2",
}


_HANDED_OUT = set()


def free_port():
    """A free loopback port never handed out before by this process (a test
    that stops a server and starts another must not get its port twice)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value; returns that value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def _as_pg_owner(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


class PgCluster:
    """A private PostgreSQL cluster that a test may stop and restart."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="newsgrid-e2e-pg.")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "socket")
        os.makedirs(self.socket)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.socket, "postgres", "postgres")
        subprocess.run(_as_pg_owner([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--no-locale"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        self._started = False

    def start(self):
        log = os.path.join(self.dir, "log")
        for _ in range(5):
            offset = os.path.getsize(log) if os.path.exists(log) else 0
            r = subprocess.run(_as_pg_owner([
                f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", log, "-w", "-t", "60",
                "-o", f"-p {self.port} -k {self.socket} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start"]), stdout=subprocess.DEVNULL)
            if r.returncode == 0:
                self._started = True
                return self
            with open(log, "rb") as f:
                f.seek(offset)
                taken = b"Address already in use" in f.read()
            # The port was free when chosen, but initdb takes seconds and a
            # test running in parallel may have bound it since. Before the
            # first start nobody holds the DSN yet, so take another port.
            if self._started or not taken:
                break
            self.port = free_port()
            self.dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        raise subprocess.CalledProcessError(r.returncode, r.args)

    def stop(self, mode="fast"):
        subprocess.run(_as_pg_owner([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def psql(dsn, sql):
    """Runs SQL with psql; returns stdout (tuples only, unaligned)."""
    out = subprocess.run(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def create_database(admin_dsn=None):
    """Creates a fresh database; returns its key=value DSN."""
    admin_dsn = admin_dsn or os.environ["NEWSGRID_TEST_DSN"]
    name = "nge_" + uuid.uuid4().hex[:12]
    psql(admin_dsn, f"CREATE DATABASE {name}")
    return f"{admin_dsn} dbname={name}"


class ServiceProcess:
    """One of our server binaries running as a process on loopback."""

    def __init__(self, binary, dsn, port=None, metrics_port=None, args=(), env=None):
        self.binary = os.path.join(BUILD_DIR, binary, binary)
        self.name = binary
        self.dsn = dsn
        self.port = port or free_port()
        self.metrics_port = metrics_port if metrics_port is not None else free_port()
        self.args = list(args)
        self.env = dict(env or {})
        self.proc = None
        self.log_path = tempfile.mktemp(prefix=f"{binary}.", suffix=".log")
        self._channel = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def command(self):
        return [self.binary, f"--port={self.port}", f"--metrics_port={self.metrics_port}",
                f"--pg_dsn={self.dsn}", "--host=127.0.0.1"] + self.args

    def start(self, wait_serving=True, timeout=30):
        env = dict(os.environ)
        env.update(self.env)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT, env=env)
        if wait_serving:
            self.wait_health("", "SERVING", timeout=timeout)
        return self

    def channel(self):
        if self._channel is None:
            self._channel = grpc.insecure_channel(self.address)
        return self._channel

    def health(self, service="", timeout=2):
        from grpc.health.v1 import health_pb2, health_pb2_grpc
        stub = health_pb2_grpc.HealthStub(self.channel())
        try:
            resp = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
            return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
        except grpc.RpcError as e:
            return e.code().name

    def wait_health(self, service, status, timeout=30):
        def check():
            if self.proc and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            return self.health(service) == status
        wait_until(check, timeout=timeout, interval=0.1, what=f"{self.name} health({service!r}) == {status}")

    def terminate(self, timeout=30):
        """SIGTERM; returns (exit code, seconds taken)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._close()
        return code, time.monotonic() - start

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_records(self):
        """Every JSON log line as a dict (non-JSON lines raise)."""
        return [json.loads(line) for line in self.log_text().splitlines() if line.strip()]

    def metrics(self):
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            return r.read().decode()


def start_together(*services, timeout=30):
    """Starts every service at once (their migrations then race for the
    advisory lock, as replicas do) and waits until each one is SERVING."""
    for svc in services:
        svc.start(wait_serving=False)
    for svc in services:
        svc.wait_health("", "SERVING", timeout=timeout)


def _message_class(full_name):
    package, _, name = full_name.rpartition(".")
    for service, module in SERVICE_MODULES.items():
        if service.rpartition(".")[0] == package:
            return getattr(importlib.import_module(module), name)
    raise KeyError(full_name)


def method_types(service, method):
    module = importlib.import_module(SERVICE_MODULES[service])
    desc = module.DESCRIPTOR.services_by_name[service.rpartition(".")[2]].methods_by_name[method]
    return _message_class(desc.input_type.full_name), _message_class(desc.output_type.full_name)


def call_json(channel, service, method, request_json="{}", metadata=None, timeout=10):
    """A unary call with a JSON request; returns the response as a dict."""
    req_cls, resp_cls = method_types(service, method)
    request = json_format.Parse(request_json if isinstance(request_json, str) else json.dumps(request_json),
                                req_cls())
    rpc = channel.unary_unary(f"/{service}/{method}", request_serializer=req_cls.SerializeToString,
                              response_deserializer=resp_cls.FromString)
    response = rpc(request, metadata=metadata, timeout=timeout)
    return json_format.MessageToDict(response, preserving_proto_field_name=False)


def field_violations(rpc_error):
    """The google.rpc.BadRequest field violations of an error, as (field, description)."""
    from google.rpc import error_details_pb2, status_pb2
    for key, value in rpc_error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            out = []
            for detail in status.details:
                br = error_details_pb2.BadRequest()
                if detail.Unpack(br):
                    out += [(v.field, v.description) for v in br.field_violations]
            return out
    return []
