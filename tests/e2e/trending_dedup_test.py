"""Visitor and event-id dedup across trending-service replicas and restarts:
a repeat view within the dedup window counts once whichever replica gets
it (once the first one is past the staleness bound), and after a graceful
restart or a kill -9 that followed the flush."""

import re
import time
import unittest

from harness import wait_until
from trending_support import (FLUSH_INTERVAL, TrendingProcessTest, get_article_stats, get_trending,
                              ranking, record_batches, record_view, total_views)

STALENESS = 1.0  # flush + poll interval (100 ms each) with a wide margin


def one_view(article, visitor):
    return {"events": [{"article": article, "visitorId": visitor}]}


class TrendingDedupTest(TrendingProcessTest):
    def assert_counted_once(self, svc, article):
        """GetTrending and GetArticleStats both show 1 view by 1 visitor."""
        entry = wait_until(lambda: next((e for e in ranking(get_trending(svc, {"window": "3600s"}))
                                         if e[0] == article), None),
                           timeout=5, what=f"{article} ranked on {svc.address}")
        self.assertEqual(entry[1:3], (1, 1), entry)
        stats = get_article_stats(svc, article)
        self.assertEqual(int(stats.get("totalViews", 0)), 1, stats)
        self.assertEqual(int(stats.get("uniqueVisitors", 0)), 1, stats)

    def test_repeat_on_another_replica_counts_once(self):
        a, b = self.start(), self.start()
        first = record_batches(a, [one_view("articles/dd-x", "dv-1")])
        self.assertEqual((int(first.get("accepted", 0)), int(first.get("deduplicated", 0))), (1, 0))
        self.assertEqual(record_view(a, {"article": "articles/dd-e", "eventId": "dd-event-1"})["outcome"],
                         "ACCEPTED")
        time.sleep(STALENESS)
        # The repeat reaches the other replica: deduplicated there, on both
        # RPCs, while another visitor of the same article still counts.
        repeat = record_batches(b, [one_view("articles/dd-x", "dv-1"), one_view("articles/dd-x", "dv-2")])
        self.assertEqual((int(repeat.get("accepted", 0)), int(repeat.get("deduplicated", 0))), (1, 1))
        self.assertEqual(record_view(b, {"article": "articles/dd-x", "visitorId": "dv-1"})["outcome"],
                         "DEDUPLICATED")
        # A retried event id is recognised by the other replica too.
        self.assertEqual(record_view(b, {"article": "articles/dd-e", "eventId": "dd-event-1"})["outcome"],
                         "DEDUPLICATED")
        # And the other way round: dv-2 was counted by the second replica.
        time.sleep(STALENESS)
        self.assertEqual(record_view(a, {"article": "articles/dd-x", "visitorId": "dv-2"})["outcome"],
                         "DEDUPLICATED")
        for svc in (a, b):
            wait_until(lambda: int(get_article_stats(svc, "articles/dd-x").get("totalViews", 0)) == 2,
                       timeout=5, what="both visitors of dd-x everywhere")
            stats = get_article_stats(svc, "articles/dd-x")
            self.assertEqual(int(stats.get("uniqueVisitors", 0)), 2, stats)
            self.assertEqual(int(stats.get("totalViews", 0)), 2, stats)
            self.assertEqual(int(get_article_stats(svc, "articles/dd-e").get("totalViews", 0)), 1)

    def test_one_visitor_on_two_replicas_is_one_view_everywhere(self):
        a, b = self.start(), self.start()
        self.assertEqual(int(record_batches(a, [one_view("articles/dd-one", "solo")])["accepted"]), 1)
        time.sleep(STALENESS)
        resp = record_batches(b, [one_view("articles/dd-one", "solo")])
        self.assertEqual(int(resp.get("deduplicated", 0)), 1)
        self.assertNotIn("accepted", resp)
        for svc in (a, b):
            self.assert_counted_once(svc, "articles/dd-one")

    def test_repeat_after_graceful_restart_is_deduplicated(self):
        svc = self.start()
        self.assertEqual(record_view(svc, {"article": "articles/dd-g", "visitorId": "g1",
                                           "eventId": "dd-g-event"})["outcome"], "ACCEPTED")
        code, _ = svc.terminate()  # the drain hook flushes views and marks
        self.assertEqual(code, 0)
        svc = self.start()
        resp = record_batches(svc, [one_view("articles/dd-g", "g1")])
        self.assertEqual(int(resp.get("deduplicated", 0)), 1)
        self.assertNotIn("accepted", resp)
        self.assertEqual(record_view(svc, {"article": "articles/dd-g2", "eventId": "dd-g-event"})["outcome"],
                         "DEDUPLICATED")
        self.assert_counted_once(svc, "articles/dd-g")

    def test_repeat_after_kill_9_once_flushed_is_deduplicated(self):
        svc = self.start()
        self.assertEqual(record_view(svc, {"article": "articles/dd-k", "visitorId": "k1"})["outcome"],
                         "ACCEPTED")
        time.sleep(FLUSH_INTERVAL * 5)  # older than the flush interval: durable
        svc.kill()
        svc = self.start()
        resp = record_batches(svc, [one_view("articles/dd-k", "k1"), one_view("articles/dd-k", "k2")])
        self.assertEqual((int(resp.get("accepted", 0)), int(resp.get("deduplicated", 0))), (1, 1))
        stats = wait_until(lambda: (lambda s: s if int(s.get("totalViews", 0)) == 2 else None)(
            get_article_stats(svc, "articles/dd-k")), timeout=5, what="dd-k at 2 views")
        self.assertEqual(int(stats.get("uniqueVisitors", 0)), 2, stats)

    def test_marks_past_the_pending_bound_are_dropped_and_counted(self):
        # Bound 1,024 marks waiting for a flush, all shards together: 3,000
        # views of one article (one shard) between two flushes keep 1,024.
        svc = self.start("--dedup_max_entries=1024", "--flush_interval=3s")

        def dropped():
            m = re.search(r"(?m)^trending_dedup_marks_dropped_total (\S+)$", svc.metrics())
            return float(m.group(1)) if m else None

        wait_until(lambda: dropped() is not None, timeout=10, what="the counter exported")
        self.assertEqual(dropped(), 0)
        resp = record_batches(svc, [{"events": [{"article": "articles/dd-hot", "visitorId": f"h{b}-{i}"}
                                                for i in range(1000)]} for b in range(3)])
        self.assertEqual(int(resp["accepted"]), 3000)
        n = wait_until(lambda: dropped() or None, timeout=10, what="dropped marks counted")
        self.assertLessEqual(n, 3000 - 1024 + 2)  # two ingest threads may pass the bound by one each
        # The views count whether or not their marks were kept.
        self.assertEqual(total_views(svc, "articles/dd-hot"), 3000)


if __name__ == "__main__":
    unittest.main()
