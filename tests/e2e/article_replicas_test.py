"""Two article-service replicas on one PostgreSQL: a write acknowledged by
one is served by the other within milliseconds (LISTEN/NOTIFY invalidation,
not the cache TTL, which is ten minutes here); when the other's listener
connection is killed (pg_terminate_backend) and cannot come back, it falls
back to the short TTL; when it can, it reconnects, flushes and is coherent
again. Health and /metrics show each step."""

import json
import os
import re
import time
import unittest

from harness import ServiceProcess, call_json, create_database, psql, start_together, wait_until

SERVICE = "news.article.v1.ArticleService"
LISTENER_HEALTH = "newsgrid.article.cache-invalidation"
TTL_S, FALLBACK_TTL_S = 600, 1


def metric(svc, name):
    """The value of an unlabelled metric (or the _count of a histogram)."""
    m = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", svc.metrics(), re.M)
    return float(m.group(1)) if m else None


class ArticleReplicasTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dsn = create_database()
        cls.db = re.search(r"dbname=(\w+)$", cls.dsn).group(1)
        args = [f"--article_cache_ttl={TTL_S}s", f"--article_cache_fallback_ttl={FALLBACK_TTL_S}s",
                "--db_check_interval=200ms", "--log_level=info"]
        cls.a = ServiceProcess("article-service", cls.dsn, args=args)
        cls.b = ServiceProcess("article-service", cls.dsn, args=args)
        start_together(cls.a, cls.b)
        for svc in (cls.a, cls.b):
            svc.wait_health(LISTENER_HEALTH, "SERVING", timeout=15)

    @classmethod
    def tearDownClass(cls):
        psql(os.environ["NEWSGRID_TEST_DSN"], f"ALTER DATABASE {cls.db} ALLOW_CONNECTIONS true")
        cls.a.kill()
        cls.b.kill()

    def call(self, svc, method, request):
        return call_json(svc.channel(), SERVICE, method, json.dumps(request))

    def update_on_a(self, name, text):
        return self.call(self.a, "UpdateArticle", {
            "article": {"name": name, "subtitle": text}, "updateMask": "subtitle", "actor": "e2e"})

    def seconds_until_b_serves(self, name, etag, timeout):
        start = time.monotonic()
        wait_until(lambda: self.call(self.b, "GetArticle", {"name": name})["etag"] == etag,
                   timeout=timeout, interval=0.002, what=f"replica B serving {etag}")
        return time.monotonic() - start

    def test_writes_through_a_reach_b_and_the_listener_recovers(self):
        created = self.call(self.a, "CreateArticle", {"article": {"title": "Two replicas",
                                                                  "body": "Coherent."}})
        name = self.call(self.a, "PublishArticle", {"name": created["name"]})["name"]
        self.call(self.b, "GetArticle", {"name": name})  # cached on B from now on

        # Listener up: every acknowledged update is on B within a few ms
        # (bounded here by 0.5 s for a loaded CI machine; the TTL is 600 s).
        lags = []
        for i in range(20):
            etag = self.update_on_a(name, f"Revision {i}")["etag"]
            lags.append(self.seconds_until_b_serves(name, etag, timeout=5))
        self.assertLess(max(lags), 0.5, lags)
        self.assertEqual(metric(self.b, "article_cache_listener_up"), 1)
        self.assertGreaterEqual(metric(self.b, "article_cache_invalidations_total"), 20)
        self.assertGreaterEqual(metric(self.b, "article_cache_invalidation_lag_seconds_count"), 20)
        self.assertEqual(metric(self.b, "article_cache_ttl_seconds"), TTL_S)

        # Kill B's listener connection and keep it from coming back.
        admin = os.environ["NEWSGRID_TEST_DSN"]
        psql(admin, f"ALTER DATABASE {self.db} ALLOW_CONNECTIONS false")
        killed = psql(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             f"WHERE datname = '{self.db}' AND "
                             f"application_name = 'newsgrid-article-cache-{self.b.proc.pid}'")
        self.assertEqual(killed, "1")
        self.b.wait_health(LISTENER_HEALTH, "NOT_SERVING", timeout=5)
        self.assertEqual(self.b.health(SERVICE), "SERVING")  # reads go on
        self.assertEqual(metric(self.b, "article_cache_listener_up"), 0)
        self.assertEqual(metric(self.b, "article_cache_ttl_seconds"), FALLBACK_TTL_S)
        reconnects = metric(self.b, "article_cache_listener_reconnects_total")
        self.assertTrue(any("lost its connection" in r.get("msg", "") for r in self.b.log_records()))

        # Without notifications B still serves the new version, within the
        # fallback TTL (plus the read itself).
        self.call(self.b, "GetArticle", {"name": name})
        etag = self.update_on_a(name, "Written while B is deaf")["etag"]
        lag = self.seconds_until_b_serves(name, etag, timeout=FALLBACK_TTL_S + 3)
        self.assertLess(lag, FALLBACK_TTL_S + 1)
        self.assertEqual(metric(self.b, "article_cache_listener_reconnects_total"), reconnects)

        # Let it back: reconnected with backoff, cache flushed, coherent again.
        psql(admin, f"ALTER DATABASE {self.db} ALLOW_CONNECTIONS true")
        self.b.wait_health(LISTENER_HEALTH, "SERVING", timeout=20)
        self.assertEqual(metric(self.b, "article_cache_listener_reconnects_total"), reconnects + 1)
        self.assertGreaterEqual(metric(self.b, "article_cache_flushes_total"), 2)
        self.assertEqual(metric(self.b, "article_cache_ttl_seconds"), TTL_S)
        self.call(self.b, "GetArticle", {"name": name})
        etag = self.update_on_a(name, "Heard again")["etag"]
        self.assertLess(self.seconds_until_b_serves(name, etag, timeout=5), 0.5)


if __name__ == "__main__":
    unittest.main()
