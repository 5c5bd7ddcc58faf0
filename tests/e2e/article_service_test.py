"""End to end: the real article-service binary on a fresh database, called
the way grpcurl calls it (JSON requests), checking statuses and the
google.rpc.BadRequest details in the trailers."""

import json
import time
import unittest

import grpc

from harness import (PgCluster, ServiceProcess, call_json, create_database, field_violations,
                     wait_until)

SERVICE = "news.article.v1.ArticleService"


class ArticleServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.svc = ServiceProcess("article-service", create_database(),
                                 args=["--page_token_secret=e2e-secret-0123456789"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.svc.kill()

    def call(self, method, request, metadata=None):
        return call_json(self.svc.channel(), SERVICE, method, json.dumps(request), metadata=metadata)

    def error(self, method, request):
        with self.assertRaises(grpc.RpcError) as ctx:
            self.call(method, request)
        return ctx.exception

    def test_lifecycle_like_the_readme_session(self):
        a = self.call("CreateArticle", {
            "article": {"title": "Élections: the results", "body": "# Results\n\nVotes were **counted**.",
                        "section": "World", "tags": ["Politics", "politics"], "authors": ["Ada"]},
            "requestId": "e2e-create-1", "actor": "desk"})
        self.assertEqual(a["slug"], "elections-the-results")
        self.assertEqual(a["state"], "DRAFT")
        self.assertEqual(a["tags"], ["politics"])
        self.assertEqual(a["readingTimeText"], "1 min read")
        # A retried create returns the same article.
        again = self.call("CreateArticle", {"article": {"title": "Élections: the results"},
                                            "requestId": "e2e-create-1"})
        self.assertEqual(again["name"], a["name"])
        # Readers do not see drafts.
        e = self.error("GetArticleBySlug", {"slug": a["slug"]})
        self.assertEqual(e.code(), grpc.StatusCode.NOT_FOUND)
        p = self.call("PublishArticle", {"name": a["name"], "etag": a["etag"]})
        self.assertEqual(p["state"], "PUBLISHED")
        got = self.call("GetArticleBySlug", {"slug": a["slug"]}, metadata=[("x-visitor-id", "v1")])
        self.assertEqual(got["name"], a["name"])
        listed = self.call("ListArticles", {"filter": 'section = "world" AND tags:"politics" AND state = PUBLISHED'})
        self.assertIn(a["name"], [x["name"] for x in listed["articles"]])
        found = self.call("SearchArticles", {"query": "votes"})
        self.assertEqual(found["results"][0]["article"]["name"], a["name"])
        self.assertIn("<mark>", found["results"][0]["snippet"])
        # Etag collision check and a slug rename that keeps the old slug.
        e = self.error("UpdateArticle", {"article": {"name": a["name"], "title": "x", "etag": a["etag"]}})
        self.assertEqual(e.code(), grpc.StatusCode.ABORTED)
        u = self.call("UpdateArticle", {"article": {"name": a["name"], "slug": "results"},
                                        "updateMask": "slug"})
        self.assertEqual(u["previousSlugs"], ["elections-the-results"])
        self.assertEqual(self.call("GetArticleBySlug", {"slug": "elections-the-results"})["slug"], "results")
        revs = self.call("ListArticleRevisions", {"name": a["name"]})
        self.assertEqual([r["action"] for r in revs["revisions"]], ["update", "publish", "create"])

    def test_validation_errors_carry_field_violations(self):
        e = self.error("CreateArticle", {"article": {"slug": "Bad Slug", "tags": ["x" * 65],
                                                     "featureImage": {"url": "ftp://x"}}})
        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT)
        fields = [f for f, _ in field_violations(e)]
        self.assertEqual(fields, ["article.title", "article.slug", "article.tags[0]",
                                  "article.feature_image.url"])
        e = self.error("ListArticles", {"filter": "section = world AND colour = red"})
        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(field_violations(e)[0][0], "filter")
        self.assertIn("position 21", e.details())
        e = self.error("ListArticles", {"pageSize": -1})
        self.assertEqual([f for f, _ in field_violations(e)], ["page_size"])
        e = self.error("ListArticles", {"pageToken": "tampered"})
        self.assertEqual([f for f, _ in field_violations(e)], ["page_token"])
        a = self.call("CreateArticle", {"article": {"title": "Masked"}})
        e = self.error("UpdateArticle", {"article": {"name": a["name"]}, "updateMask": "title,colour"})
        self.assertEqual([f for f, _ in field_violations(e)], ["update_mask.paths[1]"])
        self.assertIn("colour", e.details())
        e = self.error("GetArticle", {"name": "articles/999999"})
        self.assertEqual(e.code(), grpc.StatusCode.NOT_FOUND)
        self.call("DeleteArticle", {"name": a["name"]})
        e = self.error("PublishArticle", {"name": a["name"]})
        self.assertEqual(e.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.call("CreateArticle", {"article": {"title": "Dup", "slug": "results-taken-2"}})
        e = self.error("CreateArticle", {"article": {"title": "Dup", "slug": "results-taken-2"}})
        self.assertEqual(e.code(), grpc.StatusCode.ALREADY_EXISTS)

    def test_batch_get_and_related(self):
        names = []
        for title, tags in [("Trade talks stall", ["trade", "china"]), ("Tariff threat grows", ["trade", "china"]),
                            ("Harvest festival", ["food"])]:
            a = self.call("CreateArticle", {"article": {"title": title, "tags": tags, "section": "econ"}})
            self.call("PublishArticle", {"name": a["name"]})
            names.append(a["name"])
        draft = self.call("CreateArticle", {"article": {"title": "Trade draft", "tags": ["trade"]}})
        batch = self.call("BatchGetArticles", {"names": [names[1], draft["name"], names[0]]})
        self.assertEqual([a["name"] for a in batch["articles"]], [names[1], names[0]])
        self.assertEqual(batch["missing"], [draft["name"]])
        related = self.call("ListRelatedArticles", {"name": names[0]})
        got = [r["article"]["name"] for r in related["relatedArticles"]]
        self.assertEqual(got[0], names[1])
        self.assertNotIn(names[0], got)
        self.assertNotIn(draft["name"], got)


class ArticleServiceRestartTest(unittest.TestCase):
    """PostgreSQL restarted under the running service: UNAVAILABLE while it is
    down, then recovery with no restart of the service."""

    def test_postgres_restart(self):
        cluster = PgCluster().start()
        svc = None
        try:
            svc = ServiceProcess("article-service", create_database(cluster.dsn),
                                 args=["--db_check_interval=200ms", "--article_cache_mb=0"]).start()
            ch = svc.channel()
            a = call_json(ch, SERVICE, "CreateArticle", '{"article": {"title": "Survivor"}}')
            cluster.stop()
            with self.assertRaises(grpc.RpcError) as ctx:
                call_json(ch, SERVICE, "GetArticle", json.dumps({"name": a["name"], "view": "EDITOR"}))
            self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAVAILABLE)
            self.assertNotIn("SELECT", ctx.exception.details())
            cluster.start()

            def back():
                try:
                    return call_json(ch, SERVICE, "GetArticle",
                                     json.dumps({"name": a["name"], "view": "EDITOR"}))["title"]
                except grpc.RpcError as e:
                    if e.code() != grpc.StatusCode.UNAVAILABLE:
                        raise
                    return None
            self.assertEqual(wait_until(back, timeout=30, what="recovery"), "Survivor")
            svc.wait_health("", "SERVING", timeout=15)
        finally:
            if svc:
                svc.kill()
            cluster.destroy()


if __name__ == "__main__":
    unittest.main()
