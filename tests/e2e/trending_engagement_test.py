"""Engagement pings end to end: page views with ids, pings with engaged
seconds, the ENGAGED_TIME / AVERAGE_ENGAGED_TIME / CONCURRENT_READERS
rankings, stats, WatchTrending, restarts and replicas, over real gRPC against
a real PostgreSQL.

The services run with a 1 s ping interval and a 4 s concurrent-readers window
(--min_ping_interval, --concurrent_window) so that the suite does not wait
out the defaults (10 s and 60 s); the unit tests cover those, and the
browser test (reader_engagement_test.py) runs the page against the defaults.
"""

import time
import unittest

import grpc

from harness import field_violations, wait_until
from trending_support import (TrendingProcessTest, collect_pushes, get_article_stats, get_trending,
                              record_view, watch_trending)

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"
FLAGS = ("--min_ping_interval=1s", "--concurrent_window=4s")


def view(svc, article, visitor, page_view, **extra):
    return record_view(svc, dict({"article": f"articles/{article}", "visitorId": visitor,
                                  "pageViewId": page_view, "userAgent": UA}, **extra))


def ping(svc, article, visitor, page_view, seconds, **extra):
    return record_view(svc, dict({"kind": "ENGAGEMENT", "article": f"articles/{article}",
                                  "visitorId": visitor, "pageViewId": page_view,
                                  "engagedDuration": f"{seconds}s", "userAgent": UA}, **extra))


def by_article(resp, field):
    return {e["article"]: e.get(field) for e in resp.get("entries", [])}


class EngagementTest(TrendingProcessTest):
    def test_pings_rank_articles_by_engaged_time_and_readers(self):
        svc = self.start(*FLAGS)
        meta = {"section": "eng"}
        # a: 5 readers, 12 s each; b: 1 reader, 20 s (capped from 90 s).
        for i in range(5):
            self.assertEqual(view(svc, "eng-a", f"a{i}", f"pa{i}", metadata=meta)["outcome"], "ACCEPTED")
            self.assertEqual(ping(svc, "eng-a", f"a{i}", f"pa{i}", 12, metadata=meta)["outcome"], "ACCEPTED")
        view(svc, "eng-b", "b0", "pb0", metadata=meta)
        self.assertEqual(ping(svc, "eng-b", "b0", "pb0", 90, metadata=meta)["outcome"], "ACCEPTED")
        # The rules, answered as outcomes with reasons.
        self.assertEqual(ping(svc, "eng-b", "b0", "pb0", 5),
                         {"outcome": "REJECTED", "reason": "TOO_FREQUENT"})
        self.assertEqual(ping(svc, "eng-b", "b0", "nobody-viewed-this", 5),
                         {"outcome": "REJECTED", "reason": "UNKNOWN_PAGE_VIEW"})
        self.assertEqual(ping(svc, "eng-a", "b0", "pb0", 5),  # another article's page view
                         {"outcome": "REJECTED", "reason": "UNKNOWN_PAGE_VIEW"})
        self.assertEqual(ping(svc, "eng-b", "bot", "pb0", 5, userAgent="Googlebot/2.1"),
                         {"outcome": "REJECTED", "reason": "BOT"})

        engaged = get_trending(svc, {"window": "3600s", "metric": "ENGAGED_TIME", "section": "eng"})
        self.assertEqual(engaged["metric"], "ENGAGED_TIME")
        self.assertEqual(by_article(engaged, "engagedTime"),
                         {"articles/eng-a": "60s", "articles/eng-b": "20s"})
        self.assertEqual(engaged["entries"][0]["score"], 60.0)
        self.assertEqual(by_article(engaged, "averageEngagedTime"),
                         {"articles/eng-a": "12s", "articles/eng-b": "20s"})
        # The average ranks only articles with at least 5 unique visitors.
        average = get_trending(svc, {"window": "3600s", "metric": "AVERAGE_ENGAGED_TIME",
                                     "section": "eng"})
        self.assertEqual([e["article"] for e in average["entries"]], ["articles/eng-a"])
        self.assertEqual(average["entries"][0]["score"], 12.0)
        readers = get_trending(svc, {"metric": "CONCURRENT_READERS", "section": "eng"})
        self.assertEqual(by_article(readers, "concurrentReaders"),
                         {"articles/eng-a": "5", "articles/eng-b": "1"})
        self.assertEqual(readers["window"], "4s")
        # Views rankings carry the engagement of their entries.
        by_views = get_trending(svc, {"window": "3600s", "section": "eng"})
        self.assertEqual(by_article(by_views, "engagedTime")["articles/eng-a"], "60s")
        stats = get_article_stats(svc, "articles/eng-a")
        self.assertEqual(stats["engagedTime"], "60s")
        self.assertEqual(stats["averageEngagedTime"], "12s")
        self.assertEqual(stats["concurrentReaders"], "5")
        self.assertEqual(sum(int(p.get("engagedTime", "0s")[:-1]) for p in stats["points"]), 60)
        # Readers who stop pinging leave the count within the window.
        wait_until(lambda: not get_trending(svc, {"metric": "CONCURRENT_READERS",
                                                  "section": "eng"}).get("entries"),
                   timeout=10, what="the readers to leave")
        self.assertEqual(get_article_stats(svc, "articles/eng-a")["engagedTime"], "60s")

    def test_malformed_pings_name_their_fields(self):
        svc = self.start(*FLAGS)
        with self.assertRaises(grpc.RpcError) as e:
            record_view(svc, {"kind": "ENGAGEMENT", "article": "articles/x"})
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(sorted(f for f, _ in field_violations(e.exception)),
                         ["event.engaged_duration", "event.page_view_id"])
        with self.assertRaises(grpc.RpcError) as e:
            record_view(svc, {"article": "articles/x", "pageViewId": "p" * 101,
                              "engagedDuration": "-3s"})
        self.assertEqual(sorted(f for f, _ in field_violations(e.exception)),
                         ["event.engaged_duration", "event.page_view_id"])
        self.assertEqual(get_article_stats(svc, "articles/x").get("totalViews"), None)

    def test_engaged_time_and_page_views_survive_a_kill(self):
        svc = self.start(*FLAGS)
        view(svc, "eng-k", "k0", "pk0")
        self.assertEqual(ping(svc, "eng-k", "k0", "pk0", 14)["outcome"], "ACCEPTED")
        time.sleep(1.0)  # flushed (every 100 ms here)
        svc.kill()
        svc = self.start(*FLAGS)
        self.assertEqual(get_article_stats(svc, "articles/eng-k")["engagedTime"], "14s")
        # The page view is still known after the restart: its next ping counts.
        self.assertEqual(ping(svc, "eng-k", "k0", "pk0", 6)["outcome"], "ACCEPTED")
        self.assertEqual(get_article_stats(svc, "articles/eng-k")["engagedTime"], "20s")

    def test_replicas_share_page_views_engaged_time_and_readers(self):
        a = self.start(*FLAGS, "--replica_id=eng-a")
        b = self.start(*FLAGS, "--replica_id=eng-b")
        view(a, "eng-r", "r0", "pr0")
        # The page view reaches B through PostgreSQL; then B takes its pings.
        wait_until(lambda: ping(b, "eng-r", "r0", "pr0", 10)["outcome"] == "ACCEPTED",
                   timeout=10, interval=0.3, what="B to know A's page view")
        view(b, "eng-r", "r1", "pr1")
        wait_until(lambda: ping(a, "eng-r", "r1", "pr1", 7)["outcome"] == "ACCEPTED",
                   timeout=10, interval=0.3, what="A to know B's page view")
        for svc in (a, b):
            wait_until(lambda: get_article_stats(svc, "articles/eng-r").get("engagedTime") == "17s",
                       timeout=10, what="both pings on both replicas")
            self.assertEqual(get_article_stats(svc, "articles/eng-r")["concurrentReaders"], "2")

    def test_watch_pushes_the_readers_ranking(self):
        svc = self.start(*FLAGS)
        view(svc, "eng-w1", "w1", "pw1", metadata={"section": "engw"})
        ping(svc, "eng-w1", "w1", "pw1", 5, metadata={"section": "engw"})
        stream = watch_trending(svc, {"query": {"metric": "CONCURRENT_READERS", "section": "engw",
                                                "limit": 3}, "minInterval": "0.200s"})
        got, done = collect_pushes(stream)
        wait_until(lambda: got and got[0] == ["articles/eng-w1"], timeout=5, what="the first push")
        for i in range(2):
            view(svc, "eng-w2", f"w2-{i}", f"pw2-{i}", metadata={"section": "engw"})
            ping(svc, "eng-w2", f"w2-{i}", f"pw2-{i}", 5, metadata={"section": "engw"})
        wait_until(lambda: got[-1] == ["articles/eng-w2", "articles/eng-w1"], timeout=5,
                   what="a push with the new leader")
        # Everyone leaves: an empty ranking is pushed.
        wait_until(lambda: got[-1] == [], timeout=10, what="a push of the empty ranking")
        stream.cancel()
        self.assertTrue(done.wait(5))


if __name__ == "__main__":
    unittest.main()
