"""What grpcurl users see: listing and describing through reflection,
decoded error details, grpcurl's FieldMask rule, and INVALID_ARGUMENT for a
malformed RecordView.

Every case runs with the real grpcurl when the machine has one ($GRPCURL,
PATH, ../shared/bin/grpcurl) and always with the work-alike too, so the
fallback used on machines without grpcurl is held to what the real client
does (it must refuse what grpcurl refuses).
"""

import sys
import unittest

import grpcurl
from harness import ServiceProcess, create_database

ARTICLE = "news.article.v1.ArticleService"
TRENDING = "news.trending.v1.TrendingService"


def tools():
    found = grpcurl.find()
    out = [found] if isinstance(found, grpcurl.Real) else []
    return out + [grpcurl.Workalike()]


class GrpcurlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tools = tools()
        for t in cls.tools:
            print(f"grpcurl_test runs with {t.name}", file=sys.stderr)
        dsn = create_database()
        cls.article = ServiceProcess("article-service", dsn).start()
        cls.trending = ServiceProcess("trending-service", dsn).start()

    @classmethod
    def tearDownClass(cls):
        cls.article.kill()
        cls.trending.kill()

    def run_each(self, args, **kw):
        """[(tool, result)] of `grpcurl -plaintext <args>` with every tool."""
        return [(t, t.run(["-plaintext"] + args, **kw)) for t in self.tools]

    def test_list_and_describe_through_reflection(self):
        for svc, name in ((self.article, ARTICLE), (self.trending, TRENDING)):
            for tool, r in self.run_each([svc.address, "list"]):
                with self.subTest(tool=tool.name, service=name):
                    self.assertTrue(r.ok, r.error)
                    for expected in (name, "grpc.health.v1.Health",
                                     "grpc.reflection.v1alpha.ServerReflection"):
                        self.assertIn(expected, r.outputs)
        for tool, r in self.run_each([self.article.address, "describe",
                                      f"{ARTICLE}.CreateArticle"]):
            with self.subTest(tool=tool.name):
                text = "\n".join(r.outputs)
                self.assertIn(f"{ARTICLE}.CreateArticle is a method:", text)
                self.assertIn("request_id", text)  # the proto comment
                self.assertIn("rpc CreateArticle ( .news.article.v1.CreateArticleRequest ) "
                              "returns ( .news.article.v1.Article );", text)
        for tool, r in self.run_each([self.trending.address, "describe",
                                      f"{TRENDING}.WatchTrending"]):
            with self.subTest(tool=tool.name):
                self.assertIn("returns ( stream .news.trending.v1.GetTrendingResponse )",
                              "\n".join(r.outputs))

    def test_invalid_argument_details_decode(self):
        args = ["-format-error", "-d", '{"article": {"title": "", "section": "world"}}',
                self.article.address, f"{ARTICLE}/CreateArticle"]
        for tool, r in self.run_each(args):
            with self.subTest(tool=tool.name):
                self.assertEqual(r.code, "INVALID_ARGUMENT")
                self.assertEqual(r.outputs[0]["code"], 3)
                self.assertEqual(len(r.details), 1, r.details)
                detail = r.details[0]
                self.assertEqual(detail["@type"], "type.googleapis.com/google.rpc.BadRequest")
                self.assertNotIn("@error", detail)
                self.assertEqual(detail["fieldViolations"],
                                 [{"field": "article.title", "description": "is required"}])

    def test_details_decode_without_format_error_too(self):
        args = ["-d", '{"event": {"article": "posts/1"}}', self.trending.address,
                f"{TRENDING}/RecordView"]
        for tool, r in self.run_each(args):
            with self.subTest(tool=tool.name):
                self.assertEqual(r.code, "INVALID_ARGUMENT")
                self.assertEqual([v["field"] for v in r.details[0]["fieldViolations"]],
                                 ["event.article"])

    def test_field_mask_string_is_refused_and_object_form_works(self):
        created = self.run_each(["-d", '{"article": {"title": "Mask test", "body": "b"}}',
                                 self.article.address, f"{ARTICLE}/CreateArticle"])
        for (tool, r) in created:
            with self.subTest(tool=tool.name):
                self.assertTrue(r.ok, r.error)
                name, etag = r.outputs[0]["name"], r.outputs[0]["etag"]
                string_form = ('{"article": {"name": "%s", "title": "New"}, "update_mask": "title"}'
                               % name)
                refused = tool.run(["-plaintext", "-d", string_form, self.article.address,
                                    f"{ARTICLE}/UpdateArticle"])
                self.assertEqual(refused.code, "GRPCURL_ERROR")
                self.assertIn("expecting start of JSON object", refused.error)
                object_form = ('{"article": {"name": "%s", "title": "New", "etag": %s}, '
                               '"update_mask": {"paths": ["title"]}}' % (name, _json(etag)))
                updated = tool.run(["-plaintext", "-d", object_form, self.article.address,
                                    f"{ARTICLE}/UpdateArticle"])
                self.assertTrue(updated.ok, updated.error)
                self.assertEqual(updated.outputs[0]["title"], "New")
                stale = tool.run(["-plaintext", "-d", object_form, self.article.address,
                                  f"{ARTICLE}/UpdateArticle"])
                self.assertEqual(stale.code, "ABORTED")

    def test_read_mask_returns_the_fields_asked_for(self):
        for i, tool in enumerate(self.tools):
            with self.subTest(tool=tool.name):
                section = f"masks{i}"
                created = tool.run(["-plaintext", "-d",
                                    '{"article": {"title": "Card", "body": "Long body.", '
                                    '"section": "%s"}}' % section,
                                    self.article.address, f"{ARTICLE}/CreateArticle"])
                self.assertTrue(created.ok, created.error)
                name = created.outputs[0]["name"]
                published = tool.run(["-plaintext", "-d", '{"name": "%s"}' % name,
                                      self.article.address, f"{ARTICLE}/PublishArticle"])
                self.assertTrue(published.ok, published.error)
                listed = tool.run(["-plaintext", "-d",
                                   '{"filter": "section = \\"%s\\"", "read_mask": '
                                   '{"paths": ["title", "excerpt"]}}' % section,
                                   self.article.address, f"{ARTICLE}/ListArticles"])
                self.assertTrue(listed.ok, listed.error)
                self.assertEqual(listed.outputs[0]["articles"],
                                 [{"name": name, "title": "Card", "excerpt": "Long body."}])
                bad = tool.run(["-plaintext", "-d", '{"read_mask": {"paths": ["body.text"]}}',
                                self.article.address, f"{ARTICLE}/ListArticles"])
                self.assertEqual(bad.code, "INVALID_ARGUMENT", bad.error)

    def test_service_not_served_here_is_unimplemented(self):
        # Both services are compiled into both binaries; only one is served.
        args = ["-d", '{"query": {"window": "60s"}}', self.article.address,
                f"{TRENDING}/WatchTrending"]
        for tool, r in self.run_each(args):
            with self.subTest(tool=tool.name):
                self.assertEqual(r.code, "UNIMPLEMENTED", r.error)


def _json(value):
    import json
    return json.dumps(value)


if __name__ == "__main__":
    unittest.main()
