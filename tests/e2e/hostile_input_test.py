"""Hostile input against both services as processes: SQL injection strings in
every text field and filter, invalid UTF-8 on the wire, empty and maximum
lengths, huge page sizes, tampered and foreign page tokens, timestamps far in
the past and future, duplicate and out-of-order stream messages, clients
cancelling mid-stream, oversized messages. Each gets its documented status,
the data afterwards is exactly what the valid calls made, and both servers are
still SERVING after each of them.
"""

import threading
import time
import unittest
import uuid

import grpc

import harness

from harness import PgCluster, ServiceProcess, call_json, create_database, field_violations, psql, wait_until
from trending_support import FAST_FLAGS

ARTICLE = "news.article.v1.ArticleService"
TRENDING = "news.trending.v1.TrendingService"
INVALID = grpc.StatusCode.INVALID_ARGUMENT

INJECTIONS = [
    "'; DROP TABLE articles; --",
    "\" OR 1=1 --",
    "x' OR '1'='1",
    "1); DELETE FROM article.articles; --",
    "$1 $2 ::text ARRAY[] \\x00",
    "Robert'); TRUNCATE article.article_revisions CASCADE; --",
    "%' UNION SELECT usename, passwd FROM pg_shadow --",
]


# -- hand-built protobuf wire format (python protobuf refuses bad UTF-8) --

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(number, payload):
    return varint((number << 3) | 2) + varint(len(payload)) + payload


def raw_unary(channel, service, method, payload, resp_cls, metadata=None):
    rpc = channel.unary_unary(f"/{service}/{method}", request_serializer=lambda b: b,
                              response_deserializer=resp_cls.FromString)
    return rpc(payload, timeout=10, metadata=metadata)


def article_pb2():
    from news.article.v1 import article_service_pb2
    return article_service_pb2


def trending_pb2():
    from news.trending.v1 import trending_service_pb2
    return trending_service_pb2


class HostileInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().start()
        cls.dsn = create_database(cls.pg.dsn)
        a_port, t_port = free_port_pair()
        cls.article = ServiceProcess("article-service", cls.dsn, port=a_port, args=[
            f"--trending_service_addr=127.0.0.1:{t_port}", "--view_batch_linger=50ms",
            "--view_stream_max_age=300ms", "--db_check_interval=200ms"])
        cls.trending = ServiceProcess("trending-service", cls.dsn, port=t_port, args=FAST_FLAGS + [
            f"--article_service_addr=127.0.0.1:{a_port}", "--article_metadata_ttl=1s",
            "--max_views_per_visitor_per_minute=0"])
        harness.start_together(cls.article, cls.trending)
        # A canary: it must come through everything unchanged.
        cls.canary = cls.call(cls, "CreateArticle", {
            "article": {"title": "Canary", "body": "The canary sings.", "section": "world",
                        "tags": ["canary"]}, "requestId": "canary-1"})
        cls.call(cls, "PublishArticle", {"name": cls.canary["name"]})
        cls.canary = cls.call(cls, "GetArticle", {"name": cls.canary["name"], "view": "EDITOR"})

    @classmethod
    def tearDownClass(cls):
        cls.article.kill()
        cls.trending.kill()
        cls.pg.destroy()

    def call(self, method, request, **kw):
        return call_json(self.article.channel(), ARTICLE, method, request, **kw)

    def tcall(self, method, request, **kw):
        return call_json(self.trending.channel(), TRENDING, method, request, **kw)

    def status_of(self, fn, *args, **kw):
        try:
            fn(*args, **kw)
        except grpc.RpcError as e:
            return e.code()
        return grpc.StatusCode.OK

    def assert_invalid(self, fn, *args, field=None, **kw):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.code(), INVALID, cm.exception.details())
        if field:
            self.assertIn(field, [f for f, _ in field_violations(cm.exception)])
        return cm.exception

    def count_articles(self):
        out = psql(self.dsn, "SELECT count(*) FROM article.articles")
        return int(out.strip().splitlines()[-1].strip()) if out.strip() else -1

    # -- scenarios ---------------------------------------------------------

    def test_sql_injection_in_every_text_field_is_stored_verbatim(self):
        before = self.count_articles()
        made = []
        for i, s in enumerate(INJECTIONS):
            a = self.call("CreateArticle", {
                "article": {"title": f"{s} {i}", "subtitle": s, "body": f"{s}\n\n{s}",
                            "customExcerpt": s, "authors": [s], "section": s[:90],
                            "tags": [s[:60]], "featureImage": {"url": "https://x.test/a.png",
                                                               "alt": s, "caption": s}},
                "requestId": f"inj-{i}-{uuid.uuid4()}", "actor": s})
            made.append((a["name"], s, i))
        self.assertEqual(self.count_articles(), before + len(INJECTIONS))
        sections = {}
        for name, s, i in made:
            got = self.call("GetArticle", {"name": name, "view": "EDITOR"})
            sections[s] = (got["section"], name)
            self.assertEqual(got["title"], f"{s} {i}")
            self.assertEqual(got["subtitle"], s)
            self.assertEqual(got["authors"], [s])
            revs = self.call("ListArticleRevisions", {"name": name})
            self.assertEqual(revs["revisions"][0]["actor"], s)
            # Update and state changes with hostile actors work the same.
            self.call("UpdateArticle", {"article": {"name": name, "subtitle": s + " v2"},
                                        "updateMask": "subtitle", "actor": s})
        # Hostile strings as filter values are values; as filter syntax, errors.
        for s in INJECTIONS:
            section, name = sections[s]
            quoted = section.replace("\\", "\\\\").replace('"', '\\"')
            r = self.call("ListArticles", {"view": "EDITOR", "filter": f'section = "{quoted}"'})
            self.assertIn(name, [a["name"] for a in r.get("articles", [])])
            self.assertTrue(all(a["section"] == section for a in r["articles"]))
            self.assert_invalid(self.call, "ListArticles", {"filter": s}, field="filter")
            self.assert_invalid(self.call, "ListArticles", {"orderBy": s}, field="order_by")
            self.call("SearchArticles", {"query": s})
            self.assert_invalid(self.call, "SearchArticles", {"query": "x", "filter": s},
                                field="filter")
            self.assertEqual(self.status_of(self.call, "GetArticleBySlug", {"slug": s}),
                             grpc.StatusCode.NOT_FOUND)
            self.assert_invalid(self.call, "GetArticle", {"name": s}, field="name")
            self.assert_invalid(self.call, "BatchGetArticles", {"names": [s]})
            # Trending: filters are compared, never interpreted.
            r = self.tcall("GetTrending", {"section": s, "tag": s, "author": s})
            self.assertEqual(r.get("entries", []), [])
            self.assert_invalid(self.tcall, "RecordView",
                                {"event": {"article": f"articles/{s}", "visitorId": s}},
                                field="event.article")
            out = self.tcall("RecordView", {"event": {
                "article": "articles/inj-target", "visitorId": s, "referrer": s,
                "userAgent": "Mozilla/5.0 " + s, "eventId": s[:90],
                "metadata": {"section": s[:90], "tags": [s], "authors": [s]}}})
            self.assertIn(out["outcome"], ("ACCEPTED", "DEDUPLICATED"))
        self.assertEqual(self.count_articles(), before + len(INJECTIONS))
        tables = psql(self.dsn, "SELECT count(*) FROM pg_tables WHERE schemaname IN ('article','trending')")
        self.assertGreater(int(tables.strip().splitlines()[-1]), 3)

    def test_invalid_utf8_on_the_wire(self):
        apb = article_pb2()
        bad = b"Caf\xc3 \xff\xfe broken"
        # CreateArticleRequest{article: Article{title: <bad>, body: "ok"}, request_id}
        article = field_bytes(3, bad) + field_bytes(5, b"Body text.")
        payload = field_bytes(1, article) + field_bytes(2, b"utf8-" + uuid.uuid4().hex.encode())
        before = self.count_articles()
        with self.assertRaises(grpc.RpcError) as cm:
            raw_unary(self.article.channel(), ARTICLE, "CreateArticle", payload, apb.Article)
        self.assertEqual(cm.exception.code(), INVALID, cm.exception.details())
        # GetArticleBySlug{slug: <bad>}, ListArticles{filter: <bad>}.
        for method, payload, resp in (
                ("GetArticleBySlug", field_bytes(1, bad), apb.Article),
                ("ListArticles", field_bytes(3, b'section = "' + bad + b'"'), apb.ListArticlesResponse),
                ("SearchArticles", field_bytes(1, bad), apb.SearchArticlesResponse)):
            with self.assertRaises(grpc.RpcError) as cm:
                raw_unary(self.article.channel(), ARTICLE, method, payload, resp)
            self.assertEqual(cm.exception.code(), INVALID, (method, cm.exception.details()))
        self.assertEqual(self.count_articles(), before)
        # Trending: RecordViewRequest{event: ViewEvent{article: ok, visitor_id: <bad>}}.
        tpb = trending_pb2()
        event = field_bytes(1, b"articles/utf8-target") + field_bytes(3, bad)
        with self.assertRaises(grpc.RpcError) as cm:
            raw_unary(self.trending.channel(), TRENDING, "RecordView", field_bytes(1, event),
                      tpb.RecordViewResponse)
        self.assertEqual(cm.exception.code(), INVALID, cm.exception.details())
        with self.assertRaises(grpc.RpcError) as cm:
            raw_unary(self.trending.channel(), TRENDING, "GetTrending",
                      field_bytes(5, bad), tpb.GetTrendingResponse)
        self.assertEqual(cm.exception.code(), INVALID, cm.exception.details())
        stats = self.tcall("GetArticleStats", {"article": "articles/utf8-target", "window": "3600s"})
        self.assertEqual(int(stats.get("totalViews", 0)), 0)

    def test_empty_and_maximum_lengths(self):
        ok = {"body": "Body.", "section": "world"}
        self.assert_invalid(self.call, "CreateArticle", {"article": dict(ok, title="")},
                            field="article.title")
        a = self.call("CreateArticle", {"article": dict(ok, title="T" * 300),
                                        "requestId": "r" * 100, "actor": "a" * 200})
        self.assertEqual(len(a["title"]), 300)
        self.assertLessEqual(len(a["slug"]), 200)
        self.assert_invalid(self.call, "CreateArticle", {"article": dict(ok, title="T" * 301)},
                            field="article.title")
        self.assert_invalid(self.call, "CreateArticle", {"article": dict(ok, title="x"),
                                                         "requestId": "r" * 101}, field="request_id")
        # Multi-byte: 300 code points of 4 bytes each is still 300 characters.
        b = self.call("CreateArticle", {"article": dict(ok, title="\U0001F600" * 300)})
        self.assertEqual(b["title"], "\U0001F600" * 300)
        big = self.call("CreateArticle", {"article": {"title": "Big", "body": "w " * (1 << 19)}})
        self.assertEqual(len(self.call("GetArticle", {"name": big["name"], "view": "EDITOR"})["body"]),
                         1 << 20)
        self.assert_invalid(self.call, "CreateArticle",
                            {"article": {"title": "Too big", "body": "w" * ((1 << 20) + 1)}},
                            field="article.body")
        self.assert_invalid(self.call, "GetArticleBySlug", {"slug": ""}, field="slug")
        self.assert_invalid(self.call, "GetArticle", {"name": ""}, field="name")
        self.assert_invalid(self.call, "BatchGetArticles", {"names": []}, field="names")
        self.assert_invalid(self.call, "BatchGetArticles", {"names": [self.canary["name"]] * 101},
                            field="names")
        # The unary RecordView answers a malformed request as INVALID_ARGUMENT
        # naming the fields; a batch reports the same events as rejections.
        self.assert_invalid(self.tcall, "RecordView",
                            {"event": {"article": "articles/len", "visitorId": "v" * 201}},
                            field="event.visitor_id")
        e = self.assert_invalid(self.tcall, "RecordView",
                                {"event": {"article": "", "metadata": {"tags": ["t" * 201]}}})
        self.assertEqual([f for f, _ in field_violations(e)],
                         ["event.article", "event.metadata.tags[0]"])
        self.assert_invalid(self.tcall, "RecordView", {"event": {"article": "articles/" + "a" * 129}},
                            field="event.article")
        out = self.tcall("RecordView", {"event": {"article": "articles/" + "a" * 128, "visitorId": "v" * 200}})
        self.assertEqual(out["outcome"], "ACCEPTED")
        self.assert_invalid(self.tcall, "RecordView", {}, field="event")
        tpb = trending_pb2()
        batch = tpb.RecordViewsRequest(events=[
            tpb.ViewEvent(article=""), tpb.ViewEvent(article="articles/len", visitor_id="v" * 201),
            tpb.ViewEvent(article="articles/len-ok", visitor_id="len-ok")])
        resp = self.record_views_stream([batch])
        self.assertEqual(resp.accepted, 1)
        self.assertEqual([(r.event_index, tpb.RejectReason.Name(r.reason)) for r in resp.rejections],
                         [(0, "INVALID_ARTICLE"), (1, "INVALID_FIELD")])

    def test_huge_page_sizes_and_limits(self):
        r = self.call("ListArticles", {"pageSize": 2147483647})
        self.assertLessEqual(len(r.get("articles", [])), 100)
        self.assert_invalid(self.call, "ListArticles", {"pageSize": -1}, field="page_size")
        self.assert_invalid(self.call, "ListArticles", {"pageSize": -2147483648}, field="page_size")
        self.call("SearchArticles", {"query": "canary", "pageSize": 2147483647})
        self.call("ListRelatedArticles", {"name": self.canary["name"], "pageSize": 2147483647})
        self.call("ListArticleRevisions", {"name": self.canary["name"], "pageSize": 2147483647})
        self.assert_invalid(self.tcall, "GetTrending", {"limit": 2147483647}, field="limit")
        self.assert_invalid(self.tcall, "GetTrending", {"limit": -5}, field="limit")
        self.assert_invalid(self.tcall, "GetTrending", {"window": "315360000000s"}, field="window")
        self.assert_invalid(self.tcall, "GetArticleStats",
                            {"article": "articles/x", "window": "3600s", "granularity": "1s"},
                            field="granularity")

    def test_tampered_and_foreign_page_tokens(self):
        for i in range(3):
            a = self.call("CreateArticle", {"article": {"title": f"Paged {i}", "body": "Paged body.",
                                                        "section": "paging"}})
            self.call("PublishArticle", {"name": a["name"]})
        first = self.call("ListArticles", {"pageSize": 1, "filter": 'section = "paging"'})
        token = first["nextPageToken"]
        second = self.call("ListArticles", {"pageSize": 1, "filter": 'section = "paging"',
                                            "pageToken": token})
        self.assertNotEqual(first["articles"][0]["name"], second["articles"][0]["name"])
        flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
        for bad in (flipped, token + "x", token[:10], "garbage", "A" * 5000, "%%%%", token[::-1]):
            self.assert_invalid(self.call, "ListArticles",
                                {"pageSize": 1, "filter": 'section = "paging"', "pageToken": bad},
                                field="page_token")
        # Another query's token: other filter, other order, other view, other method.
        self.assert_invalid(self.call, "ListArticles",
                            {"pageSize": 1, "filter": 'section = "world"', "pageToken": token},
                            field="page_token")
        self.assert_invalid(self.call, "ListArticles",
                            {"pageSize": 1, "filter": 'section = "paging"', "orderBy": "title",
                             "pageToken": token}, field="page_token")
        self.assert_invalid(self.call, "ListArticles",
                            {"pageSize": 1, "filter": 'section = "paging"', "view": "EDITOR",
                             "pageToken": token}, field="page_token")
        self.assert_invalid(self.call, "SearchArticles", {"query": "paged", "pageToken": token},
                            field="page_token")
        self.assert_invalid(self.call, "ListArticleRevisions",
                            {"name": self.canary["name"], "pageToken": token}, field="page_token")

    def test_timestamps_far_in_the_past_and_future(self):
        a = self.call("CreateArticle", {"article": {"title": "Timed", "body": "Timed body."}})
        for t in ("0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"):
            r = self.call("PublishArticle", {"name": a["name"], "publishTime": t})
            self.assertEqual(r["state"], "PUBLISHED")
            self.call("UnpublishArticle", {"name": a["name"]})
        r = self.call("PublishArticle", {"name": a["name"], "publishTime": "9999-12-31T23:59:59Z"})
        self.assertEqual(r["state"], "SCHEDULED")
        self.assertEqual(self.status_of(self.call, "GetArticle", {"name": a["name"]}),
                         grpc.StatusCode.NOT_FOUND)
        self.call("UnpublishArticle", {"name": a["name"]})
        # Out of Timestamp's range: only a hand-built message can say it.
        apb = article_pb2()
        ts = varint((1 << 3) | 0) + varint(1 << 62)  # seconds = 2^62
        payload = field_bytes(1, a["name"].encode()) + field_bytes(2, ts)
        with self.assertRaises(grpc.RpcError) as cm:
            raw_unary(self.article.channel(), ARTICLE, "PublishArticle", payload, apb.Article)
        self.assertEqual(cm.exception.code(), INVALID, cm.exception.details())
        got = self.call("GetArticle", {"name": a["name"], "view": "EDITOR"})
        self.assertEqual(got["state"], "DRAFT")
        # Trending: far past and far future views are rejected, not counted.
        for t, reason in (("0001-01-01T00:00:00Z", "TOO_OLD"), ("1970-01-01T00:00:00Z", "TOO_OLD"),
                          ("9999-12-31T23:59:59Z", "FROM_FUTURE")):
            out = self.tcall("RecordView", {"event": {"article": "articles/timed", "viewTime": t}})
            self.assertEqual((out["outcome"], out["reason"]), ("REJECTED", reason))
        tpb = trending_pb2()
        for seconds in (1 << 62, (1 << 64) - 1):  # 2^62 and -1 (as a varint)
            event = field_bytes(1, b"articles/timed") + field_bytes(2, varint((1 << 3) | 0) + varint(seconds))
            out = raw_unary(self.trending.channel(), TRENDING, "RecordView", field_bytes(1, event),
                            tpb.RecordViewResponse)
            self.assertEqual(out.outcome, tpb.RecordViewResponse.REJECTED)
        stats = self.tcall("GetArticleStats", {"article": "articles/timed", "window": "3600s"})
        self.assertEqual(int(stats.get("totalViews", 0)), 0)

    def record_views_stream(self, requests, timeout=20):
        tpb = trending_pb2()
        rpc = self.trending.channel().stream_unary(
            f"/{TRENDING}/RecordViews", request_serializer=tpb.RecordViewsRequest.SerializeToString,
            response_deserializer=tpb.RecordViewsResponse.FromString)
        return rpc(iter(requests), timeout=timeout)

    def test_duplicate_and_out_of_order_stream_messages(self):
        tpb = trending_pb2()
        now = int(time.time())

        def ev(i, age_s):
            e = tpb.ViewEvent(article="articles/order-a", visitor_id=f"ord-{i}")
            e.view_time.seconds = now - age_s
            return e
        b1 = tpb.RecordViewsRequest(batch_id="dup-1", events=[ev(0, 10), ev(1, 1800), ev(2, 60)])
        b2 = tpb.RecordViewsRequest(batch_id="dup-2", events=[ev(3, 3000), ev(4, 5)])
        # The same batch twice in the stream, the same events again in a new
        # batch, and batches whose times go backwards.
        b3 = tpb.RecordViewsRequest(batch_id="dup-3", events=[ev(0, 10), ev(4, 5)])
        resp = self.record_views_stream([b1, b1, b2, b2, b3])
        self.assertEqual(resp.accepted, 5)
        self.assertEqual(resp.deduplicated, 3 + 2 + 2)
        # Retried in a new stream: nothing counts again.
        resp = self.record_views_stream([b2, b1])
        self.assertEqual((resp.accepted, resp.deduplicated), (0, 5))
        wait_until(lambda: int(self.tcall("GetArticleStats", {"article": "articles/order-a",
                                                              "window": "7200s"})
                               .get("totalViews", 0)) == 5, timeout=10, what="5 views")

    def test_clients_cancelling_mid_stream(self):
        tpb = trending_pb2()
        rpc = self.trending.channel().stream_unary(
            f"/{TRENDING}/RecordViews", request_serializer=tpb.RecordViewsRequest.SerializeToString,
            response_deserializer=tpb.RecordViewsResponse.FromString)
        for round_ in range(5):
            gate = threading.Event()

            def slow():
                yield tpb.RecordViewsRequest(events=[tpb.ViewEvent(article="articles/cancel-a",
                                                                   visitor_id=f"c-{round_}")])
                gate.wait(5)
                yield tpb.RecordViewsRequest(events=[tpb.ViewEvent(article="articles/cancel-a")])
            fut = rpc.future(slow(), timeout=20)
            time.sleep(0.3)
            fut.cancel()
            gate.set()
            self.assertTrue(fut.cancelled() or fut.code() == grpc.StatusCode.CANCELLED)
        # Watch streams cancelled mid-way, many at once.
        calls = []
        for _ in range(20):
            c = self.trending.channel().unary_stream(
                f"/{TRENDING}/WatchTrending",
                request_serializer=tpb.WatchTrendingRequest.SerializeToString,
                response_deserializer=tpb.GetTrendingResponse.FromString)(
                    tpb.WatchTrendingRequest(min_interval={"nanos": 100_000_000}), timeout=20)
            calls.append(c)
        next(calls[0])
        for c in calls:
            c.cancel()
        # A unary call whose client gives up at once (deadline already near).
        for _ in range(20):
            try:
                self.call("ListArticles", {"pageSize": 100}, timeout=0.001)
            except grpc.RpcError as e:
                self.assertIn(e.code(), (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED))
        # The servers go on, and counting is still exact.
        out = self.record_views_stream([tpb.RecordViewsRequest(
            events=[tpb.ViewEvent(article="articles/cancel-b", visitor_id=f"after-{i}") for i in range(7)])])
        self.assertEqual(out.accepted, 7)
        wait_until(lambda: int(self.tcall("GetArticleStats", {"article": "articles/cancel-b",
                                                              "window": "3600s"})
                               .get("totalViews", 0)) == 7, timeout=10, what="7 views")

    def test_oversized_messages(self):
        before = self.count_articles()
        huge = {"article": {"title": "Huge", "body": "x" * (5 << 20)}}
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("CreateArticle", huge)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        tpb = trending_pb2()
        batch = tpb.RecordViewsRequest(events=[tpb.ViewEvent(article="articles/big", referrer="r" * 2000)
                                               for _ in range(2500)])
        with self.assertRaises(grpc.RpcError) as cm:
            self.record_views_stream([batch])
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        # More than 1000 events in one batch: INVALID_ARGUMENT, nothing of it counted.
        many = tpb.RecordViewsRequest(events=[tpb.ViewEvent(article="articles/many")] * 1001)
        with self.assertRaises(grpc.RpcError) as cm:
            self.record_views_stream([many])
        self.assertEqual(cm.exception.code(), INVALID)
        self.assertEqual(self.count_articles(), before)
        time.sleep(0.5)
        for art in ("articles/big", "articles/many"):
            stats = self.tcall("GetArticleStats", {"article": art, "window": "3600s"})
            self.assertEqual(int(stats.get("totalViews", 0)), 0)

    def tearDown(self):
        # After every scenario, in whatever order they ran: nothing
        # corrupted, both servers still up.
        self.assertEqual(self.article.health(), "SERVING")
        self.assertEqual(self.trending.health(), "SERVING")
        self.assertIsNone(self.article.proc.poll())
        self.assertIsNone(self.trending.proc.poll())
        got = self.call("GetArticle", {"name": self.canary["name"], "view": "EDITOR"})
        for k in ("title", "body", "etag", "slug", "state", "tags", "updateTime"):
            self.assertEqual(got.get(k), self.canary.get(k), k)
        self.assertEqual(self.call("GetArticleBySlug", {"slug": self.canary["slug"]})["name"],
                         self.canary["name"])
        logs = self.article.log_text() + self.trending.log_text()
        self.assertNotIn("syntax error", logs)


def free_port_pair():
    from harness import free_port
    return free_port(), free_port()


if __name__ == "__main__":
    unittest.main()
