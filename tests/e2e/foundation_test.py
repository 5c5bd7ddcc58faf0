"""Foundation end to end: both binaries as processes on a private PostgreSQL.

Health (overall and per service; follows PostgreSQL down and up with no
restart), server reflection as grpcurl uses it, JSON logs with an access line
per RPC, Prometheus metrics, configuration errors, and graceful shutdown.
"""

import json
import os
import subprocess
import threading
import time
import unittest

import grpc

import harness
from harness import PgCluster, ServiceProcess, call_json, create_database, wait_until
from reflection_client import ReflectionClient

ARTICLE = "news.article.v1.ArticleService"
TRENDING = "news.trending.v1.TrendingService"


class FoundationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().start()
        cls.dsn = create_database(cls.pg.dsn)
        # Both start at once against one database: their migrations take
        # advisory locks and must not trip over each other.
        cls.article = ServiceProcess("article-service", cls.dsn, args=["--drain_deadline=3s",
                                                                     "--db_check_interval=200ms"])
        cls.trending = ServiceProcess("trending-service", cls.dsn, args=["--drain_deadline=3s",
                                                                       "--db_check_interval=200ms"])
        harness.start_together(cls.article, cls.trending)

    @classmethod
    def tearDownClass(cls):
        cls.article.kill()
        cls.trending.kill()
        cls.pg.destroy()

    def test_health_per_service(self):
        self.assertEqual(self.article.health(ARTICLE), "SERVING")
        self.assertEqual(self.trending.health(TRENDING), "SERVING")
        self.assertEqual(self.article.health("no.such.Service"), "NOT_FOUND")

    def test_reflection_lists_and_describes(self):
        for svc, name in ((self.article, ARTICLE), (self.trending, TRENDING)):
            client = ReflectionClient(svc.channel())
            services = client.list_services()
            for expected in (name, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"):
                self.assertIn(expected, services)
        client = ReflectionClient(self.article.channel())
        method = client.describe("news.article.v1.ArticleService.CreateArticle")
        self.assertEqual(method.input_type.full_name, "news.article.v1.CreateArticleRequest")
        self.assertEqual(method.output_type.full_name, "news.article.v1.Article")
        article = client.describe("news.article.v1.Article")
        self.assertIn("title", article.fields_by_name)
        self.assertEqual(article.fields_by_name["create_time"].message_type.full_name,
                         "google.protobuf.Timestamp")
        # The proto comments reach reflection clients (grpcurl describe).
        proto = client.files["news/article/v1/article_service.proto"]
        service_index = [s.name for s in proto.service].index("ArticleService")
        method_index = [m.name for m in proto.service[service_index].method].index("CreateArticle")
        comment = client.comment(proto.name, [6, service_index, 2, method_index])
        self.assertIn("request_id", comment)
        trending = ReflectionClient(self.trending.channel())
        rpc = trending.describe("news.trending.v1.TrendingService.RecordViews")
        self.assertTrue(rpc.client_streaming)
        self.assertTrue(trending.describe("news.trending.v1.TrendingService.WatchTrending").server_streaming)

    def test_json_logs_with_access_line(self):
        try:
            call_json(self.article.channel(), ARTICLE, "GetArticle", '{"name": "articles/does-not-exist"}')
        except grpc.RpcError:
            pass
        def access_line():
            for r in self.article.log_records():
                if r.get("msg") == "rpc" and r.get("method") == f"/{ARTICLE}/GetArticle":
                    return r
            return None
        line = wait_until(access_line, what="access log line")
        for key in ("time", "level", "code", "latency_ms", "peer"):
            self.assertIn(key, line)
        self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        self.assertIn("127.0.0.1", line["peer"])

    def test_metrics(self):
        try:
            call_json(self.article.channel(), ARTICLE, "GetArticle", '{"name": "articles/x"}')
        except grpc.RpcError:
            pass
        text = self.article.metrics()
        self.assertIn(f'grpc_method="/{ARTICLE}/GetArticle"', text)
        self.assertIn("grpc_server_handling_seconds_bucket", text)
        self.assertIn('db_pool_connections{state="idle"}', text)
        self.assertIn("process_start_time_seconds", text)

    def test_health_follows_postgres(self):
        self.pg.stop()
        try:
            self.article.wait_health(ARTICLE, "NOT_SERVING", timeout=15)
            self.article.wait_health("", "NOT_SERVING", timeout=5)
            self.trending.wait_health(TRENDING, "NOT_SERVING", timeout=15)
            self.assertEqual(self.article.health("liveness"), "SERVING")
        finally:
            self.pg.start()
        self.article.wait_health(ARTICLE, "SERVING", timeout=20)
        self.article.wait_health("", "SERVING", timeout=5)
        self.trending.wait_health(TRENDING, "SERVING", timeout=20)
        self.assertIsNone(self.article.proc.poll(), "no restart happened")

class SigtermTest(unittest.TestCase):
    """SIGTERM with nothing in flight: both binaries drain and exit 0."""

    def test_sigterm_drains_and_exits_zero(self):
        dsn = create_database()
        article = ServiceProcess("article-service", dsn, args=["--drain_deadline=3s"])
        trending = ServiceProcess("trending-service", dsn, args=["--drain_deadline=3s"])
        try:
            harness.start_together(article, trending)
            call_json(article.channel(), ARTICLE, "ListArticles", {})
            code, took = article.terminate(timeout=15)
            self.assertEqual(code, 0, article.log_text()[-2000:])
            self.assertLess(took, 3 + 2 + harness.SANITIZER_EXTRA_S)
            code, took = trending.terminate(timeout=15)
            self.assertEqual(code, 0)
            msgs = [r["msg"] for r in article.log_records()]
            self.assertIn("shutdown signal received; draining", msgs)
            self.assertIn("stopped", msgs)
        finally:
            article.kill()
            trending.kill()


class ConfigErrorTest(unittest.TestCase):
    def run_binary(self, args, env=None):
        binary = os.path.join(harness.BUILD_DIR, "article-service", "article-service")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("ARTICLE_")}
        full_env.pop("DATABASE_URL", None)
        full_env.update(env or {})
        return subprocess.run([binary] + args, capture_output=True, text=True, env=full_env, timeout=30)

    def test_bad_flag_value_exits_2_with_message(self):
        r = self.run_binary(["--port=70000", "--pg_dsn=host=/nonexistent"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--port", r.stderr)

    def test_bad_env_value_names_the_variable(self):
        r = self.run_binary([], env={"ARTICLE_PG_POOL_SIZE": "many", "DATABASE_URL": "host=/x"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("ARTICLE_PG_POOL_SIZE", r.stderr)

    def test_missing_dsn(self):
        r = self.run_binary([])
        self.assertEqual(r.returncode, 2)
        self.assertIn("DATABASE_URL", r.stderr)

    def test_migrate_only_applies_and_exits(self):
        dsn = create_database()
        r = self.run_binary(["--migrate=only", f"--pg_dsn={dsn}"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(harness.psql(dsn, "SELECT to_regclass('article.schema_migrations') IS NOT NULL"), "t")


class InFlightDrainTest(unittest.TestCase):
    """SIGTERM while a slow RPC runs: it completes, the process exits 0."""

    def test_sigterm_while_rpc_in_flight(self):
        dsn = create_database()
        svc = ServiceProcess("article-service", dsn, args=["--drain_deadline=5s"]).start()
        try:
            results = {}
            def slow_call():
                # A health Watch stream stays open; the drain must end it
                # within the deadline rather than hang.
                from grpc.health.v1 import health_pb2, health_pb2_grpc
                stub = health_pb2_grpc.HealthStub(svc.channel())
                try:
                    for _ in stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=30):
                        pass
                    results["end"] = "ok"
                except grpc.RpcError as e:
                    results["end"] = e.code().name
            t = threading.Thread(target=slow_call)
            t.start()
            time.sleep(0.5)
            code, took = svc.terminate(timeout=20)
            t.join(10)
            self.assertEqual(code, 0)
            self.assertLess(took, 5 + 3 + harness.SANITIZER_EXTRA_S)
            self.assertIn("end", results)
        finally:
            svc.kill()


class IdleClientShutdownTest(unittest.TestCase):
    """SIGTERM with a client connected but no call in flight: the server
    closes the idle connection and exits promptly, not at the drain
    deadline (gRPC would otherwise wait for the client to hang up)."""

    def test_idle_connection_does_not_hold_the_exit(self):
        dsn = create_database()
        for binary in ("article-service", "trending-service"):
            with self.subTest(binary=binary):
                svc = ServiceProcess(binary, dsn, args=["--drain_deadline=10s"]).start()
                try:
                    from grpc.health.v1 import health_pb2, health_pb2_grpc
                    stub = health_pb2_grpc.HealthStub(svc.channel())
                    stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
                    # The connection stays open and idle while the server stops.
                    code, took = svc.terminate(timeout=20)
                    self.assertEqual(code, 0)
                    self.assertLess(took, 2 + harness.SANITIZER_EXTRA_S)
                finally:
                    svc.kill()


class SecondSignalTest(unittest.TestCase):
    """A second SIGTERM during the drain exits at once."""

    def test_second_signal_exits_immediately(self):
        import signal
        svc = ServiceProcess("article-service", create_database(), args=["--drain_deadline=60s"]).start()
        try:
            from grpc.health.v1 import health_pb2, health_pb2_grpc
            stub = health_pb2_grpc.HealthStub(svc.channel())
            stream = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=120)
            next(stream)  # an open stream keeps the drain waiting
            svc.proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            self.assertIsNone(svc.proc.poll(), "still draining after the first signal")
            start = time.monotonic()
            svc.proc.send_signal(signal.SIGTERM)
            code = svc.proc.wait(timeout=10)
            self.assertLess(time.monotonic() - start, 3)
            self.assertNotEqual(code, 0)
            stream.cancel()
        finally:
            svc.kill()


if __name__ == "__main__":
    unittest.main()
