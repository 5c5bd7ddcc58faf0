"""trending-service end to end: ingest rules, rankings, stats, WatchTrending,
over real gRPC against a real PostgreSQL."""

import re
import subprocess
import threading
import time
import unittest

import grpc

from harness import SANITIZER_EXTRA_S, create_database, field_violations, wait_until
from trending_support import (TRENDING, call_json, collect_pushes, get_trending, record_batches,
                              record_view, record_views, record_views_stub, start_trending,
                              total_views, view_batches, views, watch_trending)

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"

# Sections of newsgrid_lock_hold_seconds a service that ingests, ranks,
# flushes, polls and keeps house times.
HOLD_SECTIONS = ("store_ingest", "store_flush_take", "flush", "poll", "ranking_scan",
                 "ranking_recompute", "store_maintenance", "maintenance_pass", "compaction",
                 "store_checkpoint_copy")


def lock_holds(text, metric="newsgrid_lock_hold_seconds", label="section"):
    """A lock histogram from a /metrics page (the holds by section, or
    newsgrid_lock_wait_seconds by lock): {section: {"count": n, "sum": s,
    "buckets": [(le, n), ...]}}."""
    out = {}
    sample = re.compile(rf'^{metric}_(bucket|sum|count)\{{(.*)\}} (\S+)$')
    for line in text.splitlines():
        m = sample.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        h = out.setdefault(labels[label], {"count": 0, "sum": 0.0, "buckets": []})
        if m.group(1) == "bucket":
            h["buckets"].append((float(labels["le"]), float(m.group(3))))
        else:
            h[m.group(1)] = float(m.group(3))
    return out


def ingest_batch_stages(text):
    """trending_ingest_batch_seconds from a /metrics page: {stage: (count, sum)}."""
    out = {}
    for kind, stage, value in re.findall(
            r'(?m)^trending_ingest_batch_seconds_(count|sum)\{stage="(\w+)"\} (\S+)$', text):
        count, total = out.get(stage, (0.0, 0.0))
        out[stage] = (float(value), total) if kind == "count" else (count, float(value))
    return out


class TrendingServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dsn = create_database()
        # Every compaction checkpoints the sketches (the default: 5 minutes).
        cls.svc = start_trending(cls.dsn, "--sketch_checkpoint_interval=1s")

    @classmethod
    def tearDownClass(cls):
        cls.svc.kill()

    def test_views_rank_articles_with_exact_counts(self):
        # Distinct visitors in known proportions: c 3, a 2, b 1.
        events = []
        for article, n in (("t1-a", 2), ("t1-b", 1), ("t1-c", 3)):
            events += [{"article": f"articles/{article}", "visitorId": f"{article}-v{i}",
                        "userAgent": UA, "metadata": {"section": "t1"}} for i in range(n)]
        self.assertEqual(set(record_views(self.svc, events)), {"ACCEPTED"})
        resp = get_trending(self.svc, {"window": "3600s", "section": "t1"})
        self.assertEqual([e["article"] for e in resp["entries"]],
                         ["articles/t1-c", "articles/t1-a", "articles/t1-b"])
        self.assertEqual(views(resp), {"articles/t1-c": 3, "articles/t1-a": 2, "articles/t1-b": 1})
        first = resp["entries"][0]
        self.assertEqual(first["rank"], 1)
        self.assertEqual(int(first["uniqueVisitors"]), 3)
        self.assertEqual(first["score"], 3.0)
        self.assertNotIn("hydrated", first)  # no summary known: hydrated=false
        self.assertEqual(resp["resolution"], "60s")
        self.assertEqual(resp["metric"], "VIEWS")
        # Limit, exclusion, metrics.
        top1 = get_trending(self.svc, {"window": "3600s", "section": "t1", "limit": 1,
                                       "exclude": ["articles/t1-c"]})
        self.assertEqual(views(top1), {"articles/t1-a": 2})
        uniq = get_trending(self.svc, {"window": "300s", "section": "t1", "metric": "UNIQUE_VISITORS"})
        self.assertEqual([int(e["uniqueVisitors"]) for e in uniq["entries"]], [3, 2, 1])
        hot = get_trending(self.svc, {"window": "300s", "section": "t1", "metric": "HOT"})
        self.assertEqual(hot["entries"][0]["article"], "articles/t1-c")
        self.assertGreater(hot["entries"][0]["score"], 2.9)
        self.assertLessEqual(hot["entries"][0]["score"], 3.0)

    def test_repeat_views_bots_and_time_rules(self):
        a = "articles/t2-a"
        self.assertEqual(record_view(self.svc, {"article": a, "visitorId": "x"})["outcome"], "ACCEPTED")
        self.assertEqual(record_view(self.svc, {"article": a, "visitorId": "x"})["outcome"],
                         "DEDUPLICATED")
        bot = record_view(self.svc, {"article": a, "userAgent": "Googlebot/2.1 (+http://www.google.com/bot.html)"})
        self.assertEqual((bot["outcome"], bot["reason"]), ("REJECTED", "BOT"))
        future = record_view(self.svc, {"article": a, "viewTime": "2999-01-01T00:00:00Z"})
        self.assertEqual(future["reason"], "FROM_FUTURE")
        old = record_view(self.svc, {"article": a, "viewTime": "2001-01-01T00:00:00Z"})
        self.assertEqual(old["reason"], "TOO_OLD")
        # A malformed request is the caller's error, not an outcome.
        with self.assertRaises(grpc.RpcError) as cm:
            record_view(self.svc, {"article": "posts/1"})
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual([f for f, _ in field_violations(cm.exception)], ["event.article"])
        stats = call_json(self.svc.channel(), TRENDING, "GetArticleStats",
                          {"article": a, "window": "3600s"})
        self.assertEqual(int(stats["totalViews"]), 1)
        self.assertEqual(len(stats["points"]), 60)
        self.assertEqual(stats["granularity"], "60s")
        # A late event (two hours ago) lands in its own bucket.
        late = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
        self.assertEqual(record_view(self.svc, {"article": a, "viewTime": late})["outcome"], "ACCEPTED")
        stats = call_json(self.svc.channel(), TRENDING, "GetArticleStats",
                          {"article": a, "window": "10800s", "granularity": "3600s"})
        self.assertEqual([int(p.get("views", 0)) for p in stats["points"]], [1, 0, 1])

    def test_record_views_stream_counts_and_batch_retry(self):
        batch = {"batchId": "t3-batch-1", "events": [
            {"article": "articles/t3-a", "visitorId": "v1"},
            {"article": "articles/t3-a", "visitorId": "v1"},
            {"article": "articles/t3-b", "visitorId": "v2"},
            {"article": "articles/t3-b", "userAgent": "curl/8.0"},
            {"article": "nope"}]}
        resp = record_batches(self.svc, [batch, {"events": [{"article": "articles/t3-a", "eventId": "e1"},
                                                            {"article": "articles/t3-a", "eventId": "e1"}]}])
        self.assertEqual(int(resp["accepted"]), 3)
        self.assertEqual(int(resp["deduplicated"]), 2)
        self.assertEqual(int(resp["rejected"]), 2)
        self.assertEqual(resp["rejectedByReason"], {"BOT": "1", "INVALID_ARTICLE": "1"})
        # batchIndex 0 is the JSON default (omitted).
        self.assertEqual(resp["rejections"][1], {"eventIndex": 4, "reason": "INVALID_ARTICLE"})
        # The retried batch is acknowledged and not counted again.
        retry = record_batches(self.svc, [batch])
        self.assertEqual(int(retry["deduplicated"]), 5)
        self.assertNotIn("accepted", retry)
        stats = call_json(self.svc.channel(), TRENDING, "GetArticleStats",
                          {"article": "articles/t3-a", "window": "600s"})
        self.assertEqual(int(stats["totalViews"]), 2)

    def test_a_long_stream_counts_every_batch_once_in_order(self):
        # A stream's batches count in order: a batch id repeated later in
        # the stream finds the earlier one committed, and rejections carry
        # the index of their own batch.
        def batch(k):
            events = [{"article": f"articles/t9-{k % 3}", "visitorId": f"t9-{k}-{i}"} for i in range(40)]
            if k % 5 == 0:
                events[7] = {"article": "nope"}
            return {"batchId": f"t9-{k}", "events": events}
        batches = [batch(k) for k in range(30)] + [batch(k) for k in range(4)]
        resp = record_batches(self.svc, batches)
        self.assertEqual(int(resp["rejected"]), 6)  # batches 0, 5, ..., 25
        self.assertEqual([(r.get("batchIndex", 0), r["eventIndex"]) for r in resp["rejections"]],
                         [(k, 7) for k in range(0, 30, 5)])
        self.assertEqual(int(resp["deduplicated"]), 4 * 40)  # the repeated ids
        self.assertEqual(int(resp["accepted"]), 30 * 40 - 6)
        totals = [total_views(self.svc, f"articles/t9-{a}") for a in range(3)]
        self.assertEqual(totals, [10 * 40 - 2] * 3)  # two rejected events each

    def test_an_invalid_batch_ends_the_stream_and_later_batches_are_not_counted(self):
        def batch(k, batch_id=None):
            return {"batchId": batch_id or f"t10-{k}",
                    "events": [{"article": "articles/t10", "visitorId": f"t10-{k}-{i}"} for i in range(50)]}
        with self.assertRaises(grpc.RpcError) as cm:
            record_batches(self.svc, [batch(0), batch(1), batch(2, "x" * 101), batch(3), batch(4)])
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual([f for f, _ in field_violations(cm.exception)], ["batch_id"])
        # Batches 0 and 1 were counted; 3 and 4 never are.
        self.assertEqual(total_views(self.svc, "articles/t10"), 100)
        time.sleep(0.3)
        self.assertEqual(total_views(self.svc, "articles/t10"), 100)

    def test_lock_hold_histogram_is_exported_by_section(self):
        page = self.svc.metrics()
        before = lock_holds(page)
        waits_before = lock_holds(page, "newsgrid_lock_wait_seconds", "lock")
        resp = record_batches(self.svc, [{"events": [
            {"article": f"articles/t7-{i % 3}", "visitorId": f"t7-v{i}"} for i in range(30)]}])
        self.assertEqual(int(resp["accepted"]), 30)
        # A query of its own, so the ranking is computed (not from the cache).
        get_trending(self.svc, {"window": "600s", "section": "t7-none"})

        def all_sections_timed():
            holds = lock_holds(self.svc.metrics())
            return holds if all(holds.get(s, {}).get("count", 0) > 0 for s in HOLD_SECTIONS) else None

        # Housekeeping runs at start and every 5 s; flushes and polls every
        # 100 ms, compaction (with a checkpoint) every second (FAST_FLAGS).
        holds = wait_until(all_sections_timed, timeout=10 + SANITIZER_EXTRA_S,
                           what="every section timed at least once")
        self.assertGreater(holds["store_ingest"]["count"], before.get("store_ingest", {}).get("count", 0))
        # A counted batch records its wait for the store's shard locks
        # (usually none) once.
        waits = lock_holds(self.svc.metrics(), "newsgrid_lock_wait_seconds", "lock")
        self.assertGreater(waits["store_shards"]["count"],
                           waits_before.get("store_shards", {}).get("count", 0))
        self.assertEqual(waits["store_shards"]["buckets"][-1], (float("inf"), waits["store_shards"]["count"]))
        for section in HOLD_SECTIONS:
            h = holds[section]
            # Cumulative buckets ending in +Inf, which holds every sample.
            counts = [n for _, n in h["buckets"]]
            self.assertGreater(len(counts), 5, section)
            self.assertEqual(counts, sorted(counts), section)
            self.assertEqual(h["buckets"][-1][0], float("inf"), section)
            self.assertEqual(counts[-1], h["count"], section)
            self.assertGreaterEqual(h["sum"], 0, section)
        self.assertGreater(holds["flush"]["sum"], 0)  # a flush is a PostgreSQL transaction
        # The flush keeps being timed while the service runs.
        flushes = holds["flush"]["count"]
        wait_until(lambda: lock_holds(self.svc.metrics())["flush"]["count"] > flushes,
                   timeout=5 + SANITIZER_EXTRA_S, what="another flush timed")

    def test_ingest_batch_histogram_times_queueing_and_counting(self):
        before = ingest_batch_stages(self.svc.metrics())
        resp = record_batches(self.svc, [{"events": [
            {"article": f"articles/t8-{b}", "visitorId": f"t8-v{b}-{i}"} for i in range(20)]}
            for b in range(3)])
        self.assertEqual(int(resp["accepted"]), 60)
        after = ingest_batch_stages(self.svc.metrics())
        # Each of the three batches waited for an ingest thread, then was
        # counted there (the call answers after its last batch is counted).
        for stage in ("queued", "counting"):
            self.assertGreaterEqual(after[stage][0] - before.get(stage, (0, 0))[0], 3, stage)
        self.assertGreater(after["counting"][1], before.get("counting", (0, 0))[1])

    def test_invalid_requests(self):
        for query, field in (({"limit": 101}, "limit"), ({"window": "30s"}, "window"),
                             ({"exclude": ["x"]}, "exclude[0]"), ({"window": "9999999s"}, "window")):
            with self.assertRaises(grpc.RpcError) as cm:
                get_trending(self.svc, query)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn(field, [f for f, _ in field_violations(cm.exception)])
        with self.assertRaises(grpc.RpcError) as cm:
            call_json(self.svc.channel(), TRENDING, "GetArticleStats",
                      {"article": "articles/x", "window": "86400s", "granularity": "30s"})
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        with self.assertRaises(grpc.RpcError) as cm:
            record_batches(self.svc, [{"events": [{"article": "articles/x"}] * 1001}])
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        with self.assertRaises(grpc.RpcError) as cm:
            call_json(self.svc.channel(), TRENDING, "RecordView", {})
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_watch_pushes_on_change_only(self):
        q = {"query": {"window": "3600s", "section": "t5", "limit": 2}, "minInterval": "0.200s"}
        meta = {"section": "t5"}
        record_view(self.svc, {"article": "articles/t5-a", "metadata": meta})
        stream = watch_trending(self.svc, q)
        got, done = collect_pushes(stream)
        wait_until(lambda: len(got) >= 1, timeout=5, what="the initial ranking")
        self.assertEqual(got[0], ["articles/t5-a"])
        # More views that do not change the top 2 (order or members): no push.
        record_view(self.svc, {"article": "articles/t5-a", "metadata": meta})
        time.sleep(1.0)
        self.assertEqual(len(got), 1)
        # b enters, then overtakes a: pushes follow the changes (b's first
        # view may be pushed on its own as [a, b] before b leads).
        for i in range(3):
            record_view(self.svc, {"article": "articles/t5-b", "visitorId": f"b{i}", "metadata": meta})
        wait_until(lambda: got[-1] == ["articles/t5-b", "articles/t5-a"], timeout=5,
                   what="a push with b ahead")
        self.assertLessEqual(len(got), 3)
        for previous, current in zip(got, got[1:]):
            self.assertNotEqual(previous, current, "a push without a change")
        stream.cancel()
        self.assertTrue(done.wait(5))


class IngestOverloadTest(unittest.TestCase):
    """More RecordViews streams at once than one ingest thread counts: past
    --max_queued_views a batch is refused with RESOURCE_EXHAUSTED at once,
    and retrying the refused streams with their batch ids counts every view
    exactly once."""

    def test_a_full_ingest_queue_refuses_batches_and_retries_count_once(self):
        svc = start_trending(create_database(), "--ingest_threads=1", "--max_queued_views=1")
        try:
            rpc = record_views_stub(svc)

            def stream(round_, s):
                return view_batches(f"ov-{round_}-{s}", 3, 400, article=f"ov-{round_}")

            refused, rounds = [], 0
            # Streams race for one thread; a round with no refusal (possible
            # on a fast machine) is tried again with more streams.
            while not refused and rounds < 8:
                rounds += 1
                outcomes = {}

                def send(s, round_=rounds):
                    try:
                        rpc(iter(stream(round_, s)), timeout=30)
                        outcomes[s] = grpc.StatusCode.OK
                    except grpc.RpcError as e:
                        outcomes[s] = (e.code(), e.details())

                threads = [threading.Thread(target=send, args=(s,)) for s in range(16 * rounds)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
                for s, o in outcomes.items():
                    if o != grpc.StatusCode.OK:
                        self.assertEqual(o[0], grpc.StatusCode.RESOURCE_EXHAUSTED, o)
                        self.assertIn("retry with backoff", o[1])
                        refused.append((rounds, s))
                self.assertEqual(len(outcomes), 16 * rounds)
            self.assertTrue(refused, "no batch was refused in 8 rounds")
            # Retried (one at a time) with the same batch ids: every view counts once.
            for round_, s in refused:
                rpc(iter(stream(round_, s)), timeout=30)
            self.assertRegex(svc.metrics(), r"(?m)^trending_ingest_refused_batches_total [1-9]")
            for round_ in range(1, rounds + 1):
                wait_until(lambda r=round_: total_views(svc, f"articles/ov-{r}") == 16 * r * 3 * 400,
                           timeout=10, what=f"round {round_} counted once")
        finally:
            svc.kill()


class IngestBacklogTest(unittest.TestCase):
    """While the flush cannot write (here: PostgreSQL's delta log locked by
    another session), views pile up to --max_unflushed_views and ingest
    pushes back: RecordViews streams stop reading, RecordView answers
    RESOURCE_EXHAUSTED. A paused stream can be cancelled; once the flush
    writes again the paused streams go on and every view is counted once."""

    def test_streams_pause_at_the_backlog_bound_and_resume(self):
        dsn = create_database()
        svc = start_trending(dsn, "--max_unflushed_views=1000", "--flush_interval=100ms")
        blocker = None
        try:
            rpc = record_views_stub(svc)

            def paused_reads():
                m = re.search(r"(?m)^trending_ingest_paused_reads_total (\S+)$", svc.metrics())
                return float(m.group(1)) if m else 0.0

            # The service's flushes wait for this lock from here on.
            blocker = subprocess.Popen(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-qAt"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            blocker.stdin.write("BEGIN; LOCK TABLE trending.delta_log IN ACCESS EXCLUSIVE MODE; "
                                "SELECT 'locked';\n")
            blocker.stdin.flush()
            self.assertEqual(blocker.stdout.readline().strip(), "locked")

            result = {}

            def send():
                try:
                    result["resp"] = rpc(iter(view_batches("t11-long", 12, 250)), timeout=60)
                except grpc.RpcError as e:
                    result["error"] = e

            sender = threading.Thread(target=send)
            sender.start()
            wait_until(lambda: paused_reads() >= 1, timeout=20, what="a stream paused for the backlog")
            time.sleep(0.5)
            self.assertTrue(sender.is_alive(), "the stream went on past the backlog bound")
            counted = total_views(svc, "articles/t11-long")
            self.assertGreaterEqual(counted, 1000)
            self.assertLess(counted, 12 * 250)
            with self.assertRaises(grpc.RpcError) as cm:
                record_view(svc, {"article": "articles/t11-one"})
            self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)

            # A second stream pauses too, and its cancellation ends it.
            future = rpc.future(iter(view_batches("t11-cancelled", 4, 250)), timeout=60)
            wait_until(lambda: paused_reads() >= 2 and total_views(svc, "articles/t11-cancelled") == 250, timeout=20,
                       what="the second stream's first batch counted and the stream paused")
            future.cancel()
            with self.assertRaises(grpc.FutureCancelledError):
                future.result(timeout=5)

            # The flush writes again: the first stream resumes and ends.
            blocker.stdin.write("COMMIT;\n")
            blocker.stdin.close()
            blocker.wait(10)
            sender.join(30)
            self.assertFalse(sender.is_alive())
            self.assertNotIn("error", result)
            self.assertEqual(result["resp"].accepted, 12 * 250)
            self.assertEqual(total_views(svc, "articles/t11-long"), 12 * 250)
            # The cancelled stream read nothing more.
            self.assertEqual(total_views(svc, "articles/t11-cancelled"), 250)
            self.assertEqual(record_view(svc, {"article": "articles/t11-one"})["outcome"], "ACCEPTED")
        finally:
            if blocker is not None and blocker.poll() is None:
                blocker.kill()
            svc.kill()


class WatchShutdownTest(unittest.TestCase):
    def test_watch_ends_with_ok_on_shutdown(self):
        svc = start_trending(create_database())
        try:
            stream = watch_trending(svc, {"query": {"window": "60s"}, "minInterval": "0.100s"})
            first = next(stream)
            self.assertEqual(len(first.entries), 0)
            result = {}

            def drain():
                try:
                    for _ in stream:
                        pass
                    result["code"] = stream.code()
                except grpc.RpcError as e:
                    result["code"] = e.code()

            t = threading.Thread(target=drain, daemon=True)
            t.start()
            code, seconds = svc.terminate()
            t.join(5)
            self.assertEqual(code, 0)
            self.assertEqual(result.get("code"), grpc.StatusCode.OK)
            # The stream ended at once with OK; with nothing left in flight
            # the server closes the (now idle) connection and exits well
            # before the drain deadline (3 s).
            self.assertLess(seconds, 2 + SANITIZER_EXTRA_S)
        finally:
            svc.kill()


if __name__ == "__main__":
    unittest.main()
