"""Helpers for the trending-service end-to-end tests, on top of harness.py.

    svc = start_trending(dsn)                      # fast flush/poll intervals
    record_views(svc, [{"article": "articles/a", "visitorId": "v1"}])
    resp = get_trending(svc, {"window": "3600s"})
    stats = get_article_stats(svc, "articles/a")      # totalViews, uniqueVisitors
    views(resp) -> {"articles/a": 1}
"""

import json
import threading
import unittest

import grpc

from google.protobuf import json_format

from harness import ServiceProcess, call_json, create_database

TRENDING = "news.trending.v1.TrendingService"
SECRET = "e2e-shared-visitor-secret"

# Short intervals keep the suite fast; the defaults are 1 s / 500 ms / 30 s.
FLUSH_INTERVAL = 0.1  # seconds
FAST_FLAGS = [f"--flush_interval={int(FLUSH_INTERVAL * 1000)}ms", "--poll_interval=100ms", "--compact_interval=1s",
              "--drain_deadline=3s", "--db_check_interval=200ms",
              f"--visitor_salt_secret={SECRET}", "--worker_threads=2", "--pg_pool_size=3"]


def trending_pb2():
    from news.trending.v1 import trending_service_pb2
    return trending_service_pb2


def start_trending(dsn, *extra_args):
    return ServiceProcess("trending-service", dsn, args=FAST_FLAGS + list(extra_args)).start()


class TrendingProcessTest(unittest.TestCase):
    """A fresh database per test; start() runs a trending-service on it
    (killed after the test, so restarts can be tested)."""

    def setUp(self):
        self.dsn = create_database()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()

    def start(self, *args):
        p = start_trending(self.dsn, *args)
        self.procs.append(p)
        return p


def record_view(svc, event, timeout=10):
    return call_json(svc.channel(), TRENDING, "RecordView", {"event": event}, timeout=timeout)


def record_views(svc, events):
    """One RecordView call per event; returns the outcomes."""
    return [record_view(svc, e).get("outcome") for e in events]


def record_views_stub(svc):
    """The RecordViews client-stream callable, taking RecordViewsRequest messages."""
    pb = trending_pb2()
    return svc.channel().stream_unary(f"/{TRENDING}/RecordViews",
                                      request_serializer=pb.RecordViewsRequest.SerializeToString,
                                      response_deserializer=pb.RecordViewsResponse.FromString)


def view_batches(name, batches, events, article=None):
    """`batches` RecordViewsRequest messages with ids "{name}-{b}", each of
    `events` views of articles/{article or name} by visitors never repeated."""
    pb = trending_pb2()
    return [pb.RecordViewsRequest(batch_id=f"{name}-{b}", events=[
        pb.ViewEvent(article=f"articles/{article or name}", visitor_id=f"{name}-{b}-{i}")
        for i in range(events)]) for b in range(batches)]


def record_batches(svc, batches, timeout=20):
    """RecordViews over one client stream; batches are JSON dicts."""
    pb = trending_pb2()
    requests = [json_format.Parse(json.dumps(b), pb.RecordViewsRequest()) for b in batches]
    return json_format.MessageToDict(record_views_stub(svc)(iter(requests), timeout=timeout))


def get_trending(svc, query=None, timeout=10):
    return call_json(svc.channel(), TRENDING, "GetTrending", query or {}, timeout=timeout)


def get_article_stats(svc, article, window="3600s", timeout=10):
    return call_json(svc.channel(), TRENDING, "GetArticleStats",
                     {"article": article, "window": window}, timeout=timeout)


def total_views(svc, article, window="600s"):
    """The article's views in the window (GetArticleStats totalViews)."""
    return int(get_article_stats(svc, article, window).get("totalViews", 0))


def watch_trending(svc, request, timeout=60):
    """The WatchTrending response iterator (a grpc call: .cancel(), .code())."""
    pb = trending_pb2()
    rpc = svc.channel().unary_stream(f"/{TRENDING}/WatchTrending",
                                     request_serializer=pb.WatchTrendingRequest.SerializeToString,
                                     response_deserializer=pb.GetTrendingResponse.FromString)
    return rpc(json_format.Parse(json.dumps(request), pb.WatchTrendingRequest()), timeout=timeout)


def collect_pushes(stream):
    """Reads a WatchTrending stream on a thread: returns (pushes, done), where
    pushes grows with each message's article names and done is set when the
    stream ends (cancelled, failed or finished)."""
    pushes, done = [], threading.Event()

    def read():
        try:
            for msg in stream:
                pushes.append([e.article for e in msg.entries])
        except grpc.RpcError:
            pass
        done.set()

    threading.Thread(target=read, daemon=True).start()
    return pushes, done


def views(resp):
    """{article: views} of a GetTrending response dict."""
    return {e["article"]: int(e.get("views", 0)) for e in resp.get("entries", [])}


def ranking(resp):
    """Comparable summary of a ranking: (article, views, unique visitors, rank)."""
    return [(e["article"], int(e.get("views", 0)), int(e.get("uniqueVisitors", 0)), e["rank"])
            for e in resp.get("entries", [])]
