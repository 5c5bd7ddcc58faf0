"""Bearer-token authorization end to end: both services with --auth_tokens_file,
token files written at test time, the pair calling each other with their own
tokens (--peer_token_file), and rotation without a restart.

article-service tokens: editor (articles:write, articles:read_drafts),
proofreader (articles:read_drafts), trending (the token trending-service
presents for BatchGetArticles). trending-service tokens: the article service's
views:write token. Reflection and health stay open.
"""

import os
import secrets
import shutil
import tempfile
import time
import unittest
import uuid

import grpc

import harness

from harness import PgCluster, ServiceProcess, call_json, create_database, free_port, wait_until
from reflection_client import ReflectionClient

ARTICLE = "news.article.v1.ArticleService"
TRENDING = "news.trending.v1.TrendingService"
RELOAD_WAIT_S = 12  # the files are re-checked every 5 s


def token():
    return "tk_" + secrets.token_hex(16)


def write_atomically(path, text):
    # A Secret update swaps the file; a reader never sees half of it.
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def bearer(tok):
    return [("authorization", f"Bearer {tok}")]


class _AuthPair:
    """The pair with token files of its own, per test class."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="newsgrid-auth.")
        cls.tokens = {n: token() for n in ("editor", "proofreader", "trending", "views", "views2",
                                           "editor2")}
        cls.article_tokens = os.path.join(cls.dir, "article-tokens")
        cls.trending_tokens = os.path.join(cls.dir, "trending-tokens")
        cls.article_peer = os.path.join(cls.dir, "article-peer-token")
        cls.trending_peer = os.path.join(cls.dir, "trending-peer-token")
        t = cls.tokens
        write_atomically(cls.article_tokens,
                         "# principal scopes token\n"
                         f"editor articles:write,articles:read_drafts {t['editor']}\n"
                         f"proofreader articles:read_drafts {t['proofreader']}\n"
                         f"trending-service articles:batch_get {t['trending']}\n")
        write_atomically(cls.trending_tokens, f"article-service views:write {t['views']}\n")
        write_atomically(cls.article_peer, t["views"] + "\n")
        write_atomically(cls.trending_peer, t["trending"] + "\n")

        cls.pg = PgCluster().start()
        cls.dsn = create_database(cls.pg.dsn)
        article_port, trending_port = free_port(), free_port()
        cls.article = ServiceProcess("article-service", cls.dsn, port=article_port, args=[
            f"--trending_service_addr=127.0.0.1:{trending_port}", "--view_batch_linger=50ms",
            "--view_stream_max_age=300ms", "--db_check_interval=200ms",
            f"--auth_tokens_file={cls.article_tokens}", f"--peer_token_file={cls.article_peer}"])
        cls.trending = ServiceProcess("trending-service", cls.dsn, port=trending_port, args=[
            f"--article_service_addr=127.0.0.1:{article_port}", "--article_metadata_ttl=1s",
            "--db_check_interval=200ms", "--flush_interval=100ms", "--poll_interval=100ms",
            f"--auth_tokens_file={cls.trending_tokens}", f"--peer_token_file={cls.trending_peer}"])
        harness.start_together(cls.article, cls.trending)

    @classmethod
    def tearDownClass(cls):
        cls.article.kill()
        cls.trending.kill()
        cls.pg.destroy()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def tearDown(self):
        # Whatever a scenario did, no token reached a log.
        logs = self.article.log_text() + self.trending.log_text()
        self.assertIn("tokens loaded", logs)
        for name, tok in self.tokens.items():
            self.assertNotIn(tok, logs, name)

    # -- helpers -----------------------------------------------------------

    def art(self, method, request, tok=None):
        return call_json(self.article.channel(), ARTICLE, method, request,
                         metadata=bearer(tok) if tok else None)

    def trend(self, method, request, tok=None):
        return call_json(self.trending.channel(), TRENDING, method, request,
                         metadata=bearer(tok) if tok else None)

    def assert_code(self, code, fn, *args, contains=None):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        if contains:
            self.assertIn(contains, cm.exception.details())
        return cm.exception

    def create(self, title, tok=None):
        return self.art("CreateArticle", {
            "article": {"title": title, "body": f"{title}. " * 30, "section": "world"},
            "requestId": str(uuid.uuid4())}, tok or self.tokens["editor"])



class AuthTest(_AuthPair, unittest.TestCase):

    def test_writes_need_articles_write(self):
        t = self.tokens
        U, P = grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED
        req = {"article": {"title": "Denied", "body": "Denied body.", "section": "world"}}
        self.assert_code(U, self.art, "CreateArticle", req, None, contains="articles:write")
        self.assert_code(U, self.art, "CreateArticle", req, "tk_" + "0" * 32, contains="unknown")
        err = self.assert_code(P, self.art, "CreateArticle", req, t["proofreader"])
        self.assertIn("proofreader", err.details())
        self.assertIn("articles:write", err.details())
        # A non-Bearer authorization header is no token.
        with self.assertRaises(grpc.RpcError) as cm:
            call_json(self.article.channel(), ARTICLE, "CreateArticle", req,
                      metadata=[("authorization", f"Basic {t['editor']}")])
        self.assertEqual(cm.exception.code(), U)
        a = self.create("Allowed story")
        name = a["name"]
        for method, body in (("UpdateArticle", {"article": {"name": name, "title": "x"},
                                                 "updateMask": "title"}),
                             ("PublishArticle", {"name": name}),
                             ("UnpublishArticle", {"name": name}),
                             ("DeleteArticle", {"name": name}),
                             ("UndeleteArticle", {"name": name})):
            self.assert_code(U, self.art, method, body, None)
            self.assert_code(P, self.art, method, body, t["proofreader"])
        # The refused calls changed nothing.
        got = self.art("GetArticle", {"name": name, "view": "EDITOR"}, t["editor"])
        self.assertEqual(got["title"], "Allowed story")
        self.assertEqual(got.get("state"), "DRAFT")
        self.assertEqual(got["etag"], a["etag"])
        # With the scope, each write works.
        self.art("PublishArticle", {"name": name}, t["editor"])
        self.art("UnpublishArticle", {"name": name}, t["editor"])
        self.art("DeleteArticle", {"name": name}, t["editor"])
        self.art("UndeleteArticle", {"name": name}, t["editor"])

    def test_editor_views_and_history_need_read_drafts(self):
        t = self.tokens
        U, P = grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED
        draft = self.create("Draft only")["name"]
        for method, body in (("GetArticle", {"name": draft, "view": "EDITOR"}),
                             ("ListArticles", {"view": "EDITOR"}),
                             ("ListArticles", {"view": "EDITOR", "showDeleted": True}),
                             ("SearchArticles", {"query": "draft", "view": "EDITOR"}),
                             ("BatchGetArticles", {"names": [draft], "view": "EDITOR"}),
                             ("ListArticleRevisions", {"name": draft})):
            self.assert_code(U, self.art, method, body, None, contains="articles:read_drafts")
            self.assert_code(P, self.art, method, body, t["trending"], contains="articles:read_drafts")
            self.art(method, body, t["proofreader"])
        revs = self.art("ListArticleRevisions", {"name": draft}, t["proofreader"])
        self.assertGreaterEqual(len(revs["revisions"]), 1)
        # Reader reads are public (and never show the draft).
        self.assert_code(grpc.StatusCode.NOT_FOUND, self.art, "GetArticle", {"name": draft})
        listed = self.art("ListArticles", {})
        self.assertNotIn(draft, [a["name"] for a in listed.get("articles", [])])

    def test_trending_ingest_needs_views_write_queries_are_public(self):
        U = grpc.StatusCode.UNAUTHENTICATED
        ev = {"event": {"article": "articles/direct-1", "visitorId": "d1"}}
        self.assert_code(U, self.trend, "RecordView", ev, None, contains="views:write")
        # A token of the other service is unknown here.
        self.assert_code(U, self.trend, "RecordView", ev, self.tokens["editor"])
        pb = __import__("news.trending.v1.trending_service_pb2", fromlist=["x"])
        rpc = self.trending.channel().stream_unary(
            f"/{TRENDING}/RecordViews", request_serializer=pb.RecordViewsRequest.SerializeToString,
            response_deserializer=pb.RecordViewsResponse.FromString)
        batch = pb.RecordViewsRequest(events=[pb.ViewEvent(article="articles/direct-1")])
        with self.assertRaises(grpc.RpcError) as cm:
            rpc(iter([batch]), timeout=10)
        self.assertEqual(cm.exception.code(), U)
        resp = rpc(iter([batch]), timeout=10, metadata=bearer(self.tokens["views"]))
        self.assertEqual(resp.accepted, 1)
        self.assertEqual(self.trend("RecordView", ev, self.tokens["views"])["outcome"], "ACCEPTED")
        # Engagement pings are ingest too: views:write, like views.
        page_view = {"event": {"article": "articles/direct-2", "visitorId": "d2", "pageViewId": "pv-d2"}}
        ping = {"event": {"article": "articles/direct-2", "visitorId": "d2", "pageViewId": "pv-d2",
                          "kind": "ENGAGEMENT", "engagedDuration": "9s"}}
        self.assertEqual(self.trend("RecordView", page_view, self.tokens["views"])["outcome"],
                         "ACCEPTED")
        self.assert_code(U, self.trend, "RecordView", ping, None, contains="views:write")
        self.assertEqual(self.trend("RecordView", ping, self.tokens["views"])["outcome"], "ACCEPTED")
        # Queries: no token needed.
        self.trend("GetTrending", {"window": "3600s"})
        stats = self.trend("GetArticleStats", {"article": "articles/direct-1", "window": "3600s"})
        wait_until(lambda: int(self.trend("GetArticleStats", {"article": "articles/direct-1",
                                                                "window": "3600s"})
                                .get("totalViews", 0)) == 2, timeout=10, what="direct views counted")
        self.assertIn("article", stats)
        watch = self.trending.channel().unary_stream(
            f"/{TRENDING}/WatchTrending",
            request_serializer=pb.WatchTrendingRequest.SerializeToString,
            response_deserializer=pb.GetTrendingResponse.FromString)(
                pb.WatchTrendingRequest(), timeout=10)
        first = next(watch)
        self.assertTrue(first.HasField("compute_time"))
        watch.cancel()

    def test_the_pair_works_with_its_own_tokens(self):
        t = self.tokens
        names = []
        for i in range(2):
            n = self.create(f"Authorized pair {i}")["name"]
            self.art("PublishArticle", {"name": n}, t["editor"])
            names.append(n)
        # Public reader reads; the article service forwards the views with
        # its views:write token, trending hydrates titles with its own token.
        for v in range(3):
            self.art("GetArticle", {"name": names[0], "visitorId": f"auth-{v}"})
        self.art("GetArticle", {"name": names[1], "visitorId": "auth-x"})

        def entries():
            r = self.trend("GetTrending", {"window": "3600s", "limit": 50})
            return {e["article"]: e for e in r.get("entries", [])}
        wait_until(lambda: int(entries().get(names[0], {}).get("views", 0)) == 3
                   and entries().get(names[0], {}).get("hydrated"), timeout=20,
                   what="forwarded views ranked with titles")
        self.assertEqual(entries()[names[0]]["summary"]["title"], "Authorized pair 0")
        self.assertEqual(int(entries()[names[1]]["views"]), 1)

    def test_reflection_and_health_stay_open(self):
        for svc, name in ((self.article, ARTICLE), (self.trending, TRENDING)):
            self.assertEqual(svc.health(), "SERVING")
            self.assertIn(name, ReflectionClient(svc.channel()).list_services())


class TokenRotationTest(_AuthPair, unittest.TestCase):
    """Rotation rewrites the token files: a pair of its own, so no other
    scenario sees rotated tokens."""

    def test_rotation_without_restart(self):
        t = self.tokens
        old, new = t["editor"], t["editor2"]
        # Editor token replaced: the new one works, the old one stops.
        write_atomically(self.article_tokens,
                         f"editor articles:write,articles:read_drafts {new}\n"
                         f"proofreader articles:read_drafts {t['proofreader']}\n"
                         f"trending-service articles:batch_get {t['trending']}\n")

        def rotated():
            try:
                self.create("After rotation", tok=new)
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.UNAUTHENTICATED:
                    return False
                raise
            return True
        wait_until(rotated, timeout=RELOAD_WAIT_S, interval=0.5, what="new token accepted")
        self.assert_code(grpc.StatusCode.UNAUTHENTICATED, self.create, "Old token", old)

        # The service-to-service token rotates in two steps, no view lost:
        # trending accepts both, the article service switches, the old goes.
        write_atomically(self.trending_tokens,
                         f"article-service views:write {t['views']}\n"
                         f"article-service-next views:write {t['views2']}\n")
        time.sleep(6)
        write_atomically(self.article_peer, t["views2"] + "\n")
        time.sleep(6)
        write_atomically(self.trending_tokens, f"article-service-next views:write {t['views2']}\n")
        wait_until(lambda: self._refused(t["views"]), timeout=RELOAD_WAIT_S, interval=0.5,
                   what="old views token refused")
        n = self.create("Rotated pair", tok=new)["name"]
        self.art("PublishArticle", {"name": n}, new)
        for v in range(4):
            self.art("GetArticle", {"name": n, "visitorId": f"rot-{v}"})

        def counted():
            r = self.trend("GetTrending", {"window": "3600s", "limit": 100})
            return {e["article"]: int(e.get("views", 0)) for e in r.get("entries", [])}.get(n) == 4
        wait_until(counted, timeout=20, what="views delivered with the rotated peer token")

    def _refused(self, tok):
        try:
            self.trend("RecordView", {"event": {"article": "articles/probe"}}, tok)
        except grpc.RpcError as e:
            return e.code() == grpc.StatusCode.UNAUTHENTICATED
        return False


if __name__ == "__main__":
    unittest.main()
