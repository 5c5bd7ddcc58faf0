"""The pair end to end: article-service and trending-service as processes on
one private PostgreSQL, calling each other over gRPC on loopback.

1. Reader reads in known proportions -> GetTrending order, exact counts, titles.
2. The same visitor re-reading within the dedup window does not count again.
3. A deleted article leaves the ranking within the documented bound (5 s).
4. Trending stopped: reads keep succeeding; restarted: buffered views arrive, exact.
5. Article service stopped: trending answers from its cache.
6. PostgreSQL stopped under load: UNAVAILABLE and NOT_SERVING; restarted: both
   recover with no process restart and no acknowledged write lost.
"""

import threading
import time
import unittest
import uuid

import grpc

import harness

from harness import PgCluster, ServiceProcess, call_json, create_database, free_port, wait_until

ARTICLE = "news.article.v1.ArticleService"
TRENDING = "news.trending.v1.TrendingService"
DISAPPEAR_BOUND_S = 5.0


class PairTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().start()
        cls.dsn = create_database(cls.pg.dsn)
        cls.article_port, cls.trending_port = free_port(), free_port()
        cls.article = cls.make_article()
        cls.trending = cls.make_trending()
        harness.start_together(cls.article, cls.trending)

    @classmethod
    def make_article(cls):
        return ServiceProcess("article-service", cls.dsn, port=cls.article_port, args=[
            f"--trending_service_addr=127.0.0.1:{cls.trending_port}", "--view_batch_linger=50ms",
            "--view_stream_max_age=300ms", "--db_check_interval=200ms", "--drain_deadline=5s"])

    @classmethod
    def make_trending(cls):
        return ServiceProcess("trending-service", cls.dsn, port=cls.trending_port, args=[
            f"--article_service_addr=127.0.0.1:{cls.article_port}", "--article_metadata_ttl=1s",
            "--db_check_interval=200ms", "--drain_deadline=5s"])

    @classmethod
    def tearDownClass(cls):
        cls.article.kill()
        cls.trending.kill()
        cls.pg.destroy()

    # -- helpers -----------------------------------------------------------

    def publish(self, title, section="world"):
        a = call_json(self.article.channel(), ARTICLE, "CreateArticle", {
            "article": {"title": title, "body": f"{title}. " * 40, "section": section, "tags": ["pair"]},
            "requestId": str(uuid.uuid4())})
        call_json(self.article.channel(), ARTICLE, "PublishArticle", {"name": a["name"]})
        return a["name"]

    def read(self, name, visitor):
        return call_json(self.article.channel(), ARTICLE, "GetArticle", {"name": name, "visitorId": visitor})

    def trending_entries(self, channel=None, **query):
        q = {"window": "3600s", "limit": 20}
        q.update(query)
        r = call_json(channel or self.trending.channel(), TRENDING, "GetTrending", q)
        return r.get("entries", [])

    def views_of(self, names):
        by_name = {e["article"]: int(e.get("views", 0)) for e in self.trending_entries()}
        return [by_name.get(n, 0) for n in names]

    # -- scenarios ---------------------------------------------------------

    def test_reads_rank_articles_with_exact_counts_and_titles(self):
        names = [self.publish(f"Pair story {i}") for i in range(3)]
        reads = {names[0]: 3, names[1]: 7, names[2]: 5}
        for name, n in reads.items():
            for v in range(n):
                self.read(name, f"s1-{name}-{v}")
        wait_until(lambda: self.views_of(names) == [3, 7, 5], timeout=15, what="exact counts")
        entries = [e for e in self.trending_entries() if e["article"] in names]
        self.assertEqual([e["article"] for e in entries], [names[1], names[2], names[0]])
        for e in entries:
            self.assertTrue(e.get("hydrated"))
            self.assertEqual(e["summary"]["title"], f"Pair story {names.index(e['article'])}")
        # Editor reads and BatchGetArticles do not count as views.
        call_json(self.article.channel(), ARTICLE, "GetArticle",
                  {"name": names[0], "view": "EDITOR", "visitorId": "editor-1"})
        call_json(self.article.channel(), ARTICLE, "BatchGetArticles", {"names": names})
        time.sleep(1.5)
        self.assertEqual(self.views_of(names), [3, 7, 5])

    def test_same_visitor_rereading_counts_once(self):
        name = self.publish("Dedup story")
        for _ in range(5):
            self.read(name, "same-visitor")
        self.read(name, "other-visitor")
        wait_until(lambda: self.views_of([name]) == [2], timeout=15, what="2 views")
        time.sleep(1.5)
        self.assertEqual(self.views_of([name]), [2])

    def test_deleted_article_leaves_the_ranking_within_the_bound(self):
        name = self.publish("Soon deleted")
        for v in range(4):
            self.read(name, f"s3-{v}")
        wait_until(lambda: self.views_of([name]) == [4], timeout=15, what="views arrive")
        call_json(self.article.channel(), ARTICLE, "DeleteArticle", {"name": name})
        start = time.monotonic()
        wait_until(lambda: name not in [e["article"] for e in self.trending_entries()],
                   timeout=DISAPPEAR_BOUND_S + 1, interval=0.1, what="deleted article gone")
        self.assertLessEqual(time.monotonic() - start, DISAPPEAR_BOUND_S)

    def test_trending_down_reads_succeed_and_views_arrive_later(self):
        name = self.publish("Read while trending is down")
        code, _ = self.trending.terminate()
        self.assertEqual(code, 0)
        ok = 0
        for v in range(20):
            self.read(name, f"s4-{v}")  # raises on any failure
            ok += 1
        self.assertEqual(ok, 20)
        type(self).trending = self.make_trending()
        self.trending.start()
        wait_until(lambda: self.views_of([name]) == [20], timeout=30, what="buffered views delivered")
        time.sleep(1.5)
        self.assertEqual(self.views_of([name]), [20])  # delivered exactly once
        self.assertIn("article_views_delivered_total", self.article.metrics())

    def test_article_service_down_trending_answers_from_cache(self):
        name = self.publish("Cached title")
        self.read(name, "s5-a")
        wait_until(lambda: any(e["article"] == name and e.get("hydrated") for e in self.trending_entries()),
                   timeout=15, what="hydrated entry")
        self.article.kill()
        try:
            time.sleep(1.5)  # past the cache TTL: the entry is stale, the peer unreachable
            for _ in range(3):
                entries = {e["article"]: e for e in self.trending_entries()}
                self.assertIn(name, entries)
                self.assertEqual(entries[name]["summary"]["title"], "Cached title")
            self.trending.wait_health("newsgrid.dependency.article-service", "NOT_SERVING", timeout=10)
            self.assertEqual(self.trending.health(TRENDING), "SERVING")
        finally:
            type(self).article = self.make_article()
            self.article.start()

    def test_postgres_down_under_load_then_recovery(self):
        names = [self.publish(f"Durable {i}") for i in range(3)]
        stop = threading.Event()
        outcomes = {"ok": 0, "unavailable": 0, "other": []}

        def load():
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    call_json(self.article.channel(), ARTICLE, "ListArticles", {"pageSize": 5}, timeout=3)
                    outcomes["ok"] += 1
                except grpc.RpcError as e:
                    if e.code() == grpc.StatusCode.UNAVAILABLE:
                        outcomes["unavailable"] += 1
                    else:
                        outcomes["other"].append(e.code().name)
                time.sleep(0.02)
        t = threading.Thread(target=load)
        t.start()
        try:
            time.sleep(0.5)
            self.pg.stop()
            self.article.wait_health(ARTICLE, "NOT_SERVING", timeout=15)
            self.trending.wait_health(TRENDING, "NOT_SERVING", timeout=15)
            wait_until(lambda: outcomes["unavailable"] > 0, timeout=10, what="UNAVAILABLE answers")
            # Views acknowledged while PostgreSQL is down must not be lost.
            for v in range(6):
                call_json(self.trending.channel(), TRENDING, "RecordView",
                          {"event": {"article": names[0], "visitorId": f"s6-{v}"}})
            self.pg.start()
            self.article.wait_health(ARTICLE, "SERVING", timeout=30)
            self.trending.wait_health(TRENDING, "SERVING", timeout=30)
            wait_until(lambda: outcomes["ok"] > 0, timeout=10)
            before = outcomes["ok"]
            wait_until(lambda: outcomes["ok"] > before + 5, timeout=10, what="reads succeed again")
        finally:
            stop.set()
            t.join()
            if not self.pg_running():
                self.pg.start()
        self.assertEqual(outcomes["other"], [])
        self.assertIsNone(self.article.proc.poll())
        self.assertIsNone(self.trending.proc.poll())
        # Writes acknowledged before the outage are all there.
        got = call_json(self.article.channel(), ARTICLE, "BatchGetArticles", {"names": names})
        self.assertEqual(len(got.get("articles", [])), 3)
        # And the views acknowledged during it survive a graceful restart.
        code, _ = self.trending.terminate()
        self.assertEqual(code, 0)
        type(self).trending = self.make_trending()
        self.trending.start()
        wait_until(lambda: self.views_of([names[0]]) == [6], timeout=15, what="views kept")

    def pg_running(self):
        try:
            import subprocess
            subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", str(self.pg.port)], check=True,
                           capture_output=True)
            return True
        except Exception:
            return False


if __name__ == "__main__":
    unittest.main()
