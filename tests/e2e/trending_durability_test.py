"""trending-service restarts: graceful (exact), kill -9 (at most the flush
interval lost) and --ack_after_flush (exact even after kill -9)."""

import time
import unittest

from trending_support import FLUSH_INTERVAL, TrendingProcessTest, get_trending, record_batches, views


def batch(prefix, n, articles=5):
    return {"events": [{"article": f"articles/{prefix}-{i % articles}", "visitorId": f"{prefix}-v{i}"}
                       for i in range(n)]}


def expected(prefix, n, articles=5):
    out = {}
    for i in range(n):
        key = f"articles/{prefix}-{i % articles}"
        out[key] = out.get(key, 0) + 1
    return out


class TrendingDurabilityTest(TrendingProcessTest):
    def counts(self, svc):
        return views(get_trending(svc, {"window": "3600s", "limit": 100}))

    def test_graceful_restart_is_exact(self):
        svc = self.start()
        resp = record_batches(svc, [batch("g", 500), batch("g2", 300)])
        self.assertEqual(int(resp["accepted"]), 800)
        before = self.counts(svc)
        want = expected("g", 500)
        want.update(expected("g2", 300))
        self.assertEqual(before, want)
        code, _ = svc.terminate()  # no wait: the drain hook flushes
        self.assertEqual(code, 0)
        self.assertEqual(self.counts(self.start()), want)

    def test_kill_9_loses_at_most_the_flush_interval(self):
        svc = self.start()
        record_batches(svc, [batch("k", 400)])
        time.sleep(FLUSH_INTERVAL * 5)  # older than the flush interval: durable
        record_batches(svc, [batch("k2", 100)])  # may or may not be flushed
        svc.kill()
        after = self.counts(self.start())
        self.assertEqual({a: n for a, n in after.items() if a.startswith("articles/k-")},
                         expected("k", 400))
        lost = sum(expected("k2", 100).values()) - sum(
            n for a, n in after.items() if a.startswith("articles/k2-"))
        self.assertGreaterEqual(lost, 0)
        self.assertLessEqual(lost, 100)

    def test_ack_after_flush_loses_nothing_on_kill_9(self):
        # A long flush interval: without the option, an immediate kill would
        # lose these views.
        svc = self.start("--ack_after_flush", "--flush_interval=700ms")
        start = time.monotonic()
        resp = record_batches(svc, [batch("f", 300)])
        self.assertGreater(time.monotonic() - start, 0.0)
        self.assertEqual(int(resp["accepted"]), 300)
        svc.kill()  # right after the acknowledgement
        self.assertEqual(self.counts(self.start()), expected("f", 300))


if __name__ == "__main__":
    unittest.main()
