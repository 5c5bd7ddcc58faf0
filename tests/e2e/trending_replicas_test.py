"""Three trending-service processes on one PostgreSQL: each ranking includes
every replica's views (read from PostgreSQL deltas) within the staleness
bound, and all three agree exactly."""

import time
import unittest

from harness import create_database, wait_until
from trending_support import get_trending, ranking, record_batches, start_trending


class TrendingReplicasTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dsn = create_database()
        cls.replicas = [start_trending(cls.dsn) for _ in range(3)]

    @classmethod
    def tearDownClass(cls):
        for r in cls.replicas:
            r.kill()

    def rankings(self, query):
        return [ranking(get_trending(r, query)) for r in self.replicas]

    def test_replicas_converge_to_identical_rankings(self):
        # Each replica gets part of the traffic; article r-i gets 10*(i+1)
        # views spread over all three, with overlapping visitors.
        total = {}
        for n, replica in enumerate(self.replicas):
            events = []
            for i in range(6):
                for k in range(10 * (i + 1)):
                    if k % 3 == n:
                        events.append({"article": f"articles/r-{i}", "visitorId": f"visitor-{k}",
                                       "metadata": {"section": "converge"}})
                        total[f"articles/r-{i}"] = total.get(f"articles/r-{i}", 0) + 1
            resp = record_batches(replica, [{"events": events}])
            self.assertEqual(int(resp["accepted"]), len(events))
        written = time.monotonic()
        # Its own section: views other tests send to these replicas stay out.
        for query in ({"window": "3600s"}, {"window": "300s", "metric": "UNIQUE_VISITORS"},
                      {"window": "86400s", "metric": "HOT"}):
            query["section"] = "converge"
            results = wait_until(lambda: (lambda rs: rs if rs[0] == rs[1] == rs[2] and
                                          sum(v for _, v, _, _ in rs[0]) == sum(total.values())
                                          else None)(self.rankings(query)),
                                 timeout=5, interval=0.05, what=f"three equal rankings for {query}")
            self.assertEqual([a for a, _, _, _ in results[0]], [f"articles/r-{i}" for i in range(5, -1, -1)])
            self.assertEqual({a: v for a, v, _, _ in results[0]}, total)
        # The documented bound is flush + poll interval (+ round trips): 200 ms here.
        self.assertLess(time.monotonic() - written, 2.0)
        # Unique visitors merge across replicas: r-5 was read by 60 distinct
        # visitors, a third on each replica (HyperLogLog: exact-ish this small).
        uniq = ranking(get_trending(self.replicas[0], {"window": "3600s", "metric": "UNIQUE_VISITORS",
                                                       "section": "converge"}))
        self.assertEqual(uniq[0][0], "articles/r-5")
        self.assertAlmostEqual(uniq[0][2], 60, delta=1)

    def test_retried_batch_on_another_replica_is_not_counted_twice(self):
        b = {"batchId": "replica-retry-1", "events": [{"article": "articles/retry", "visitorId": "v"}]}
        self.assertEqual(int(record_batches(self.replicas[0], [b])["accepted"]), 1)
        time.sleep(0.6)  # flush + poll
        resp = record_batches(self.replicas[1], [b])
        self.assertEqual(int(resp["deduplicated"]), 1)
        self.assertNotIn("accepted", resp)


if __name__ == "__main__":
    unittest.main()
