// The article service's use cases against a real PostgreSQL (a fresh
// database per test), with a fake clock and a recording view sink.
#include <atomic>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "article-service/article_cache.h"
#include "article-service/article_service.h"
#include "article-service/article_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/migrations.h"
#include "runtime/status.h"
#include "runtime/status_macros.h"
#include "tests/support/test_database.h"

namespace newsgrid {
const MigrationSet& ArticleMigrations();
}

namespace newsgrid::article {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RecordingSink : public ViewSink {
 public:
  void RecordReaderView(ArticleViewEvent e) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(e));
  }
  std::vector<ArticleViewEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  std::vector<ArticleViewEvent> events_;
};

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : GetFieldViolations(s)) out.push_back(v.field);
  return out;
}

class ArticleServiceTest : public ::testing::Test {
 protected:
  ArticleServiceTest()
      : pool_({.dsn = db_.dsn(),
               .size = 8,
               .prepared = ArticleStore::PreparedStatements(),
               .session_setup = "SET search_path = article, public"}),
        store_(pool_),
        clock_(absl::FromUnixSeconds(1700000000)),
        cache_({.capacity_bytes = 16 << 20, .ttl = absl::Seconds(2)}, clock_),
        tokens_("test-secret-0123456789"),
        service_(store_, cache_, clock_, tokens_, sink_) {}

  void SetUp() override { ASSERT_TRUE(ApplyMigrations(db_.dsn(), ArticleMigrations()).ok()); }

  CallContext Ctx(std::string visitor = "") {
    return {.deadline = absl::Now() + absl::Seconds(30), .visitor_id = std::move(visitor)};
  }

  Article Create(const std::string& title, std::vector<std::string> tags = {},
                 const std::string& section = "", const std::string& body = "Body text.") {
    pb::CreateArticleRequest req;
    req.mutable_article()->set_title(title);
    req.mutable_article()->set_body(body);
    req.mutable_article()->set_section(section);
    for (auto& t : tags) req.mutable_article()->add_tags(t);
    req.set_actor("tester");
    absl::StatusOr<Article> a = service_.CreateArticle(req, Ctx());
    EXPECT_TRUE(a.ok()) << a.status();
    return a.value_or(Article());
  }

  Article Publish(const Article& a, std::optional<absl::Time> at = std::nullopt) {
    pb::PublishArticleRequest req;
    req.set_name(a.name());
    if (at) *req.mutable_publish_time() = ToProtoTime(*at);
    absl::StatusOr<Article> p = service_.PublishArticle(req, Ctx());
    EXPECT_TRUE(p.ok()) << p.status();
    return p.value_or(Article());
  }

  // Reads answer shared serialized versions; tests look at the message.
  static absl::StatusOr<Article> Parsed(const absl::StatusOr<ArticleRef>& v) {
    ASSIGN_OR_RETURN(ArticleRef ref, v);
    return ref->Parse();
  }

  absl::StatusOr<Article> ReaderGet(const std::string& name, const std::string& visitor = "") {
    pb::GetArticleRequest req;
    req.set_name(name);
    req.set_visitor_id(visitor);
    return Parsed(service_.GetArticle(req, Ctx()));
  }

  absl::StatusOr<Article> EditorGet(const std::string& name) {
    pb::GetArticleRequest req;
    req.set_name(name);
    req.set_view(pb::EDITOR);
    return Parsed(service_.GetArticle(req, Ctx()));
  }

  absl::StatusOr<Article> BySlug(const std::string& slug, pb::ArticleView view = pb::READER) {
    pb::GetArticleBySlugRequest req;
    req.set_slug(slug);
    req.set_view(view);
    return Parsed(service_.GetArticleBySlug(req, Ctx()));
  }

  // The response as a client gets it (the wire form the handler writes).
  absl::StatusOr<pb::ListArticlesResponse> List(const pb::ListArticlesRequest& req) {
    ASSIGN_OR_RETURN(ArticlePage page, service_.ListArticles(req, Ctx()));
    return ParseBuffer<pb::ListArticlesResponse>(ListResponse(page));
  }

  absl::StatusOr<pb::ListArticlesResponse> List(const std::string& filter,
                                                pb::ArticleView view = pb::READER,
                                                const std::string& order = "",
                                                int page_size = 0, const std::string& token = "",
                                                bool show_deleted = false) {
    pb::ListArticlesRequest req;
    req.set_filter(filter);
    req.set_view(view);
    req.set_order_by(order);
    req.set_page_size(page_size);
    req.set_page_token(token);
    req.set_show_deleted(show_deleted);
    req.set_include_total_size(true);
    return List(req);
  }

  absl::StatusOr<pb::SearchArticlesResponse> Search(const pb::SearchArticlesRequest& req) {
    ASSIGN_OR_RETURN(SearchResultsPage page, service_.SearchArticles(req, Ctx()));
    return ParseBuffer<pb::SearchArticlesResponse>(SearchResponse(page));
  }

  template <typename M>
  static M ParseBuffer(const grpc::ByteBuffer& b) {
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(b.Dump(&slices).ok());
    std::string bytes;
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    M m;
    EXPECT_TRUE(m.ParseFromString(bytes));
    return m;
  }

  static std::vector<std::string> Names(const pb::ListArticlesResponse& r) {
    std::vector<std::string> out;
    for (const Article& a : r.articles()) out.push_back(a.title());
    return out;
  }

  testing::TestDatabase db_;
  PgPool pool_;
  ArticleStore store_;
  FakeClock clock_;
  ArticleCache cache_;
  PageTokenCodec tokens_;
  RecordingSink sink_;
  ArticleService service_;
};

TEST_F(ArticleServiceTest, CreateGetAndVisibility) {
  const Article a = Create("First story", {"Politics"}, "World", "Hello **there** reader.");
  EXPECT_EQ(a.name(), "articles/1");
  EXPECT_EQ(a.slug(), "first-story");
  EXPECT_EQ(a.state(), Article::DRAFT);
  EXPECT_EQ(a.plain_text(), "Hello there reader.");
  EXPECT_EQ(a.revision(), 1);
  EXPECT_FALSE(a.etag().empty());
  // Drafts are invisible to readers, visible to editors.
  EXPECT_EQ(ReaderGet(a.name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(BySlug("first-story").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<Article> e = EditorGet(a.name());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->title(), "First story");
  EXPECT_EQ(e->etag(), a.etag());
  EXPECT_EQ(BySlug("first-story", pb::EDITOR)->name(), a.name());
  const Article p = Publish(a);
  EXPECT_EQ(p.state(), Article::PUBLISHED);
  EXPECT_NE(p.etag(), a.etag());
  EXPECT_EQ(ReaderGet(a.name())->state(), Article::PUBLISHED);
  EXPECT_EQ(BySlug("first-story")->name(), a.name());
  EXPECT_EQ(ReaderGet("articles/999").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(EditorGet("articles/999").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Fields(ReaderGet("nope").status()), ElementsAre("name"));
  EXPECT_EQ(BySlug("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ArticleServiceTest, CreateValidationAndSlugs) {
  pb::CreateArticleRequest req;
  absl::Status s = service_.CreateArticle(req, Ctx()).status();
  EXPECT_THAT(Fields(s), ElementsAre("article"));
  req.mutable_article()->set_slug("Bad Slug");
  req.mutable_article()->mutable_feature_image()->set_url("not a url");
  req.set_request_id(std::string(101, 'r'));
  s = service_.CreateArticle(req, Ctx()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(s), ElementsAre("request_id"));
  req.clear_request_id();
  s = service_.CreateArticle(req, Ctx()).status();
  EXPECT_THAT(Fields(s),
              ElementsAre("article.title", "article.slug", "article.feature_image.url"));
  EXPECT_EQ(List("", pb::EDITOR)->total_size(), 0);  // bad input changes nothing

  // A derived slug is made unique; an explicit one that is taken is an error.
  EXPECT_EQ(Create("Same title").slug(), "same-title");
  EXPECT_EQ(Create("Same title").slug(), "same-title-2");
  EXPECT_EQ(Create("Same  title!").slug(), "same-title-3");
  pb::CreateArticleRequest taken;
  taken.mutable_article()->set_title("Other");
  taken.mutable_article()->set_slug("same-title");
  EXPECT_EQ(service_.CreateArticle(taken, Ctx()).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(List("", pb::EDITOR)->total_size(), 3);
  EXPECT_EQ(Create("Москва: новости").slug(), "moskva-novosti");
}

TEST_F(ArticleServiceTest, IdempotentCreateRetried) {
  pb::CreateArticleRequest req;
  req.mutable_article()->set_title("Once only");
  req.set_request_id("req-1");
  absl::StatusOr<Article> first = service_.CreateArticle(req, Ctx());
  ASSERT_TRUE(first.ok());
  absl::StatusOr<Article> retry = service_.CreateArticle(req, Ctx());
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->name(), first->name());
  EXPECT_EQ(retry->slug(), "once-only");
  // Concurrent retries of another key create exactly one article.
  req.set_request_id("req-2");
  std::vector<std::thread> threads;
  std::vector<std::string> names(6);
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<Article> a = service_.CreateArticle(req, Ctx());
      names[i] = a.ok() ? a->name() : std::string(a.status().message());
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& n : names) EXPECT_EQ(n, names[0]);
  EXPECT_EQ(List("", pb::EDITOR)->total_size(), 2);
  // Keys are kept 24 h: expiring older-than-48h keys leaves this one.
  EXPECT_EQ(*store_.ExpireRequestIds(absl::Now() + absl::Seconds(30),
                                     clock_.Now() - absl::Hours(48)),
            0);
  EXPECT_EQ(*store_.ExpireRequestIds(absl::Now() + absl::Seconds(30),
                                     clock_.Now() + absl::Seconds(1)),
            2);
}

TEST_F(ArticleServiceTest, UpdateWithMaskEtagAndRevision) {
  const Article a = Publish(Create("Original", {"a"}));
  clock_.Advance(absl::Minutes(10));
  pb::UpdateArticleRequest req;
  req.mutable_article()->set_name(a.name());
  req.mutable_article()->set_title("Edited");
  req.mutable_article()->set_subtitle("not in mask");
  req.mutable_article()->set_etag(a.etag());
  req.mutable_update_mask()->add_paths("title");
  req.set_actor("ed");
  absl::StatusOr<Article> u = service_.UpdateArticle(req, Ctx());
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->title(), "Edited");
  EXPECT_EQ(u->subtitle(), "");
  EXPECT_EQ(u->revision(), a.revision() + 1);
  EXPECT_EQ(u->publish_time().seconds(), a.publish_time().seconds());
  EXPECT_GT(u->update_time().seconds(), a.update_time().seconds());
  EXPECT_EQ(u->state(), Article::PUBLISHED);
  // Readers see the edit at once (the cache was invalidated).
  EXPECT_EQ(ReaderGet(a.name())->title(), "Edited");
  // The old etag no longer matches.
  EXPECT_EQ(service_.UpdateArticle(req, Ctx()).status().code(), absl::StatusCode::kAborted);
  // Unknown and state paths are named.
  req.mutable_article()->clear_etag();
  req.mutable_update_mask()->add_paths("publish_time");
  req.mutable_update_mask()->add_paths("flavour");
  absl::Status s = service_.UpdateArticle(req, Ctx()).status();
  EXPECT_THAT(Fields(s), ElementsAre("update_mask.paths[1]", "update_mask.paths[2]"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("flavour"));
  // Empty mask: the populated fields.
  pb::UpdateArticleRequest tags;
  tags.mutable_article()->set_name(a.name());
  tags.mutable_article()->add_tags("New Tag");
  absl::StatusOr<Article> t = service_.UpdateArticle(tags, Ctx());
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(t->tags(), ElementsAre("new-tag"));
  EXPECT_EQ(t->title(), "Edited");
  tags.mutable_article()->set_name("articles/404");
  EXPECT_EQ(service_.UpdateArticle(tags, Ctx()).status().code(), absl::StatusCode::kNotFound);
  // Revisions: newest first, with actions and changed fields.
  pb::ListArticleRevisionsRequest rr;
  rr.set_name(a.name());
  rr.set_page_size(2);
  absl::StatusOr<pb::ListArticleRevisionsResponse> revs = service_.ListArticleRevisions(rr, Ctx());
  ASSERT_TRUE(revs.ok()) << revs.status();
  ASSERT_EQ(revs->revisions_size(), 2);
  EXPECT_EQ(revs->revisions(0).revision(), 4);
  EXPECT_EQ(revs->revisions(0).action(), "update");
  EXPECT_THAT(revs->revisions(0).changed_fields().paths(), ElementsAre("tags"));
  EXPECT_EQ(revs->revisions(1).actor(), "ed");
  EXPECT_EQ(revs->revisions(1).snapshot().title(), "Edited");
  rr.set_page_token(revs->next_page_token());
  revs = service_.ListArticleRevisions(rr, Ctx());
  ASSERT_TRUE(revs.ok());
  ASSERT_EQ(revs->revisions_size(), 2);
  EXPECT_EQ(revs->revisions(0).action(), "publish");
  EXPECT_EQ(revs->revisions(1).action(), "create");
  EXPECT_TRUE(revs->next_page_token().empty());
  rr.set_name("articles/404");
  rr.clear_page_token();
  EXPECT_EQ(service_.ListArticleRevisions(rr, Ctx()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ArticleServiceTest, ConcurrentUpdatesWithSameEtagExactlyOneWins) {
  const Article a = Create("Contended");
  constexpr int kWriters = 8;
  std::atomic<int> ok{0}, aborted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      pb::UpdateArticleRequest req;
      req.mutable_article()->set_name(a.name());
      req.mutable_article()->set_title("Writer " + std::to_string(i));
      req.mutable_article()->set_etag(a.etag());
      absl::Status s = service_.UpdateArticle(req, Ctx()).status();
      if (s.ok()) ++ok;
      if (s.code() == absl::StatusCode::kAborted) ++aborted;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(aborted.load(), kWriters - 1);
  EXPECT_EQ(EditorGet(a.name())->revision(), 2);
}

TEST_F(ArticleServiceTest, DeleteUndeleteAndStatePreconditions) {
  const Article a = Publish(Create("Doomed"));
  ASSERT_TRUE(ReaderGet(a.name()).ok());  // now cached
  pb::DeleteArticleRequest del;
  del.set_name(a.name());
  del.set_etag("\"stale\"");
  EXPECT_EQ(service_.DeleteArticle(del, Ctx()).status().code(), absl::StatusCode::kAborted);
  del.set_etag(a.etag());
  absl::StatusOr<Article> d = service_.DeleteArticle(del, Ctx());
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->has_delete_time());
  EXPECT_EQ(ReaderGet(a.name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(EditorGet(a.name())->has_delete_time());
  EXPECT_EQ(List("", pb::EDITOR)->articles_size(), 0);
  EXPECT_EQ(List("", pb::EDITOR, "", 0, "", true)->articles_size(), 1);
  EXPECT_THAT(Fields(List("", pb::READER, "", 0, "", true).status()), ElementsAre("show_deleted"));
  del.clear_etag();
  EXPECT_EQ(service_.DeleteArticle(del, Ctx()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  pb::PublishArticleRequest pub;
  pub.set_name(a.name());
  EXPECT_EQ(service_.PublishArticle(pub, Ctx()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  pb::UndeleteArticleRequest undel;
  undel.set_name(a.name());
  absl::StatusOr<Article> u = service_.UndeleteArticle(undel, Ctx());
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->has_delete_time());
  EXPECT_EQ(u->state(), Article::PUBLISHED);
  EXPECT_TRUE(ReaderGet(a.name()).ok());
  EXPECT_EQ(service_.UndeleteArticle(undel, Ctx()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Unpublish: readers lose it at once, even though it was cached.
  pb::UnpublishArticleRequest un;
  un.set_name(a.name());
  absl::StatusOr<Article> draft = service_.UnpublishArticle(un, Ctx());
  ASSERT_TRUE(draft.ok());
  EXPECT_EQ(draft->state(), Article::DRAFT);
  EXPECT_EQ(ReaderGet(a.name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(service_.UnpublishArticle(un, Ctx()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  un.set_name("articles/77");
  EXPECT_EQ(service_.UnpublishArticle(un, Ctx()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ArticleServiceTest, ScheduledPublishBecomesVisibleAtItsTime) {
  const Article a = Create("Embargoed", {}, "world");
  const absl::Time at = clock_.Now() + absl::Hours(1);
  const Article s = Publish(a, at);
  EXPECT_EQ(s.state(), Article::SCHEDULED);
  EXPECT_EQ(FromProtoTime(s.publish_time()), at);
  EXPECT_EQ(ReaderGet(a.name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(List("section = world")->articles_size(), 0);
  EXPECT_EQ(List("state = SCHEDULED", pb::EDITOR)->articles_size(), 1);
  clock_.Set(at - absl::Microseconds(1));
  EXPECT_EQ(ReaderGet(a.name()).status().code(), absl::StatusCode::kNotFound);
  clock_.Set(at);
  absl::StatusOr<Article> seen = ReaderGet(a.name());
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->state(), Article::PUBLISHED);
  EXPECT_EQ(List("section = world")->articles_size(), 1);
  EXPECT_EQ(List("state = PUBLISHED", pb::EDITOR)->articles_size(), 1);
  EXPECT_EQ(List("state = SCHEDULED", pb::EDITOR)->articles_size(), 0);
}

TEST_F(ArticleServiceTest, ListFiltersOrdersAndErrors) {
  Publish(Create("Bravo", {"china", "trade"}, "world"));
  clock_.Advance(absl::Minutes(1));
  Publish(Create("Alpha", {"china"}, "business"));
  clock_.Advance(absl::Minutes(1));
  Publish(Create("Charlie", {"sport"}, "world"));
  Create("Delta draft", {"china"}, "world");
  EXPECT_THAT(Names(*List("")), ElementsAre("Charlie", "Alpha", "Bravo"));
  EXPECT_THAT(Names(*List("", pb::READER, "publish_time")), ElementsAre("Bravo", "Alpha", "Charlie"));
  EXPECT_THAT(Names(*List("", pb::READER, "title desc")), ElementsAre("Charlie", "Bravo", "Alpha"));
  EXPECT_THAT(Names(*List("section = \"World\" AND tags:\"china\"")), ElementsAre("Bravo"));
  EXPECT_THAT(Names(*List("tags:china", pb::EDITOR, "title")),
              ElementsAre("Alpha", "Bravo", "Delta draft"));
  EXPECT_THAT(Names(*List("tags:china AND NOT section = business OR tags:sport", pb::READER, "title")),
              ElementsAre("Bravo"));
  EXPECT_THAT(Names(*List("state = DRAFT", pb::EDITOR)), ElementsAre("Delta draft"));
  EXPECT_THAT(Names(*List("authors:\"Nobody\"")), ElementsAre());
  EXPECT_EQ(List("")->total_size(), 3);
  // Errors.
  absl::Status s = List("section = world AND colour = red").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(s), ElementsAre("filter"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("position 21"));
  EXPECT_THAT(Fields(List("", pb::READER, "colour").status()), ElementsAre("order_by"));
  EXPECT_THAT(Fields(List("", pb::READER, "", -1).status()), ElementsAre("page_size"));
  // Pages and tokens bound to their query.
  absl::StatusOr<pb::ListArticlesResponse> p1 = List("", pb::READER, "", 2);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->articles_size(), 2);
  ASSERT_FALSE(p1->next_page_token().empty());
  absl::StatusOr<pb::ListArticlesResponse> p2 = List("", pb::READER, "", 2, p1->next_page_token());
  ASSERT_TRUE(p2.ok());
  EXPECT_THAT(Names(*p2), ElementsAre("Bravo"));
  EXPECT_TRUE(p2->next_page_token().empty());
  EXPECT_THAT(Fields(List("section = world", pb::READER, "", 2, p1->next_page_token()).status()),
              ElementsAre("page_token"));
  EXPECT_THAT(Fields(List("", pb::EDITOR, "", 2, p1->next_page_token()).status()),
              ElementsAre("page_token"));
  EXPECT_THAT(Fields(List("", pb::READER, "", 2, "garbage").status()), ElementsAre("page_token"));
  EXPECT_EQ(List("", pb::READER, "", 500)->articles_size(), 3);  // coerced to 100
}

TEST_F(ArticleServiceTest, PaginationSeesEveryArticleOnceWhileInserting) {
  // 1,000 existing articles with random titles, paged by title while new
  // articles land all over the order.
  std::mt19937 rng(7);
  std::set<std::string> existing;
  for (int i = 0; i < 1000; ++i) {
    NewArticle n = *PrepareNewArticle(
        [&] {
          Article a;
          a.set_title(absl::StrCat("t", rng() % 100000, " ", i));
          return a;
        }(),
        clock_.Now());
    absl::StatusOr<Article> a = store_.Create(absl::Now() + absl::Seconds(30), n, "", "");
    ASSERT_TRUE(a.ok()) << a.status();
    existing.insert(a->name());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> inserted{0};
  std::thread writer([&] {
    std::mt19937 wrng(11);
    while (!stop) {
      Article a;
      a.set_title(absl::StrCat("t", wrng() % 100000, " new"));
      if (store_.Create(absl::Now() + absl::Seconds(30), *PrepareNewArticle(a, clock_.Now()), "", "")
              .ok()) {
        ++inserted;
      }
    }
  });
  std::map<std::string, int> seen;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<pb::ListArticlesResponse> page = List("", pb::EDITOR, "title", 37, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const Article& a : page->articles()) ++seen[a.name()];
    token = page->next_page_token();
    ++pages;
  } while (!token.empty() && pages < 1000);
  stop = true;
  writer.join();
  EXPECT_GT(inserted.load(), 0);
  for (const std::string& name : existing) EXPECT_EQ(seen[name], 1) << name;
  for (const auto& [name, count] : seen) EXPECT_EQ(count, 1) << name;
}

TEST_F(ArticleServiceTest, BatchGetKeepsOrderAndReportsMissing) {
  const Article a = Publish(Create("A"));
  const Article b = Publish(Create("B"));
  const Article draft = Create("Draft");
  pb::BatchGetArticlesRequest req;
  for (const std::string& n : {b.name(), std::string("articles/999"), draft.name(), a.name()}) {
    req.add_names(n);
  }
  absl::StatusOr<pb::BatchGetArticlesResponse> r = service_.BatchGetArticles(req, Ctx());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->articles_size(), 2);
  EXPECT_EQ(r->articles(0).name(), b.name());
  EXPECT_EQ(r->articles(1).name(), a.name());
  EXPECT_THAT(r->missing(), ElementsAre("articles/999", draft.name()));
  req.set_view(pb::EDITOR);
  EXPECT_EQ(service_.BatchGetArticles(req, Ctx())->articles_size(), 3);
  req.add_names("bogus");
  EXPECT_THAT(Fields(service_.BatchGetArticles(req, Ctx()).status()), ElementsAre("names[4]"));
  pb::BatchGetArticlesRequest big;
  for (int i = 0; i < 101; ++i) big.add_names(a.name());
  EXPECT_THAT(Fields(service_.BatchGetArticles(big, Ctx()).status()), ElementsAre("names"));
  EXPECT_THAT(Fields(service_.BatchGetArticles(pb::BatchGetArticlesRequest(), Ctx()).status()),
              ElementsAre("names"));
}

TEST_F(ArticleServiceTest, SearchRanksTitleOverBodyWithSnippet) {
  Publish(Create("Markets today", {}, "", "The election shook markets: gains < losses & more."));
  Publish(Create("Election results are in", {}, "", "Votes were counted overnight."));
  Publish(Create("Weather", {}, "", "Sunny with a chance of rain."));
  Create("Election draft", {}, "", "Not yet published.");
  pb::SearchArticlesRequest req;
  req.set_query("election");
  absl::StatusOr<pb::SearchArticlesResponse> r = Search(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results_size(), 2);
  EXPECT_EQ(r->results(0).article().title(), "Election results are in");
  EXPECT_EQ(r->results(1).article().title(), "Markets today");
  EXPECT_GT(r->results(0).score(), r->results(1).score());
  EXPECT_THAT(r->results(1).snippet(), HasSubstr("<mark>election</mark>"));
  EXPECT_THAT(r->results(1).snippet(), HasSubstr("gains &lt; losses &amp; more"));  // escaped
  EXPECT_EQ(r->total_size(), 0);  // not asked: not counted
  req.set_include_total_size(true);
  EXPECT_EQ(Search(req)->total_size(), 2);
  req.set_include_total_size(false);
  req.set_view(pb::EDITOR);
  EXPECT_EQ(Search(req)->results_size(), 3);
  req.set_view(pb::READER);
  req.set_query("elect*");
  EXPECT_EQ(Search(req)->results_size(), 2);
  req.set_query("\"chance of rain\"");
  EXPECT_EQ(Search(req)->results_size(), 1);
  req.set_query("\"rain of chance\"");
  EXPECT_EQ(Search(req)->results_size(), 0);
  req.set_query("election -markets");
  EXPECT_EQ(Search(req)->results_size(), 1);
  req.set_query("weather OR votes");
  EXPECT_EQ(Search(req)->results_size(), 2);
  // Pages.
  req.set_query("election");
  req.set_page_size(1);
  absl::StatusOr<pb::SearchArticlesResponse> p1 = Search(req);
  ASSERT_FALSE(p1->next_page_token().empty());
  req.set_page_token(p1->next_page_token());
  absl::StatusOr<pb::SearchArticlesResponse> p2 = Search(req);
  ASSERT_EQ(p2->results_size(), 1);
  EXPECT_EQ(p2->results(0).article().title(), "Markets today");
  req.set_query("other");
  EXPECT_THAT(Fields(Search(req).status()), ElementsAre("page_token"));
  req.clear_page_token();
  req.set_query("");
  EXPECT_THAT(Fields(Search(req).status()), ElementsAre("query"));
  req.set_query("election");
  req.set_filter("bogus");
  EXPECT_THAT(Fields(Search(req).status()), ElementsAre("filter"));
}

TEST_F(ArticleServiceTest, RelatedArticlesExcludeSelfAndUnpublished) {
  const Article src =
      Publish(Create("Trade war escalates", {"china", "trade"}, "world", "Tariffs everywhere."));
  const Article best =
      Publish(Create("Tariffs rise again", {"china", "trade"}, "business", "Ports slow down."));
  const Article section = Publish(Create("Floods in the north", {}, "world", "Rivers burst."));
  Create("Draft on trade", {"china", "trade"}, "world", "Trade war draft.");
  const Article deleted =
      Publish(Create("Deleted trade piece", {"china", "trade"}, "world", "Trade war escalates."));
  pb::DeleteArticleRequest del;
  del.set_name(deleted.name());
  ASSERT_TRUE(service_.DeleteArticle(del, Ctx()).ok());
  Publish(Create("Unrelated recipe", {"food"}, "life", "Mix flour and water."));
  pb::ListRelatedArticlesRequest req;
  req.set_name(src.name());
  absl::StatusOr<pb::ListRelatedArticlesResponse> r = service_.ListRelatedArticles(req, Ctx());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->related_articles_size(), 2);
  EXPECT_EQ(r->related_articles(0).article().name(), best.name());
  EXPECT_EQ(r->related_articles(1).article().name(), section.name());
  // 3 x 2 tags + recency 1 (age 0), at least; section-only: 2 + 1.
  EXPECT_GE(r->related_articles(0).score(), 7.0);
  EXPECT_NEAR(r->related_articles(1).score(), 3.0, 0.5);
  req.set_name(Create("Unpublished source", {"china"}).name());
  EXPECT_EQ(service_.ListRelatedArticles(req, Ctx()).status().code(), absl::StatusCode::kNotFound);
  req.set_name(src.name());
  req.set_page_size(-1);
  EXPECT_THAT(Fields(service_.ListRelatedArticles(req, Ctx()).status()), ElementsAre("page_size"));
}

TEST_F(ArticleServiceTest, SlugRenameKeepsOldSlugResolving) {
  const Article a = Publish(Create("Old headline"));
  ASSERT_TRUE(BySlug("old-headline").ok());  // caches the slug
  pb::UpdateArticleRequest req;
  req.mutable_article()->set_name(a.name());
  req.mutable_article()->set_slug("new-headline");
  absl::StatusOr<Article> u = service_.UpdateArticle(req, Ctx());
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_THAT(u->previous_slugs(), ElementsAre("old-headline"));
  EXPECT_EQ(BySlug("old-headline")->slug(), "new-headline");
  EXPECT_EQ(BySlug("new-headline")->name(), a.name());
  // Nobody else may take the former slug.
  pb::CreateArticleRequest other;
  other.mutable_article()->set_title("Other");
  other.mutable_article()->set_slug("old-headline");
  EXPECT_EQ(service_.CreateArticle(other, Ctx()).status().code(), absl::StatusCode::kAlreadyExists);
  // Derived slugs skip it too.
  EXPECT_EQ(Create("Old headline").slug(), "old-headline-2");
  // Renaming back restores it as current.
  req.mutable_article()->set_slug("old-headline");
  u = service_.UpdateArticle(req, Ctx());
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_THAT(u->previous_slugs(), ElementsAre("new-headline"));
  // Taking another article's current slug fails.
  req.mutable_article()->set_slug("old-headline-2");
  EXPECT_EQ(service_.UpdateArticle(req, Ctx()).status().code(), absl::StatusCode::kAlreadyExists);
  req.mutable_article()->set_slug("Not A Slug");
  EXPECT_THAT(Fields(service_.UpdateArticle(req, Ctx()).status()), ElementsAre("article.slug"));
}

// The callback-thread path answers only from the cache: a miss, an editor
// view or bad input goes the full way, and an edit is never served stale.
TEST_F(ArticleServiceTest, CachedReadServesOnlyCachedLiveArticles) {
  const Article a = Publish(Create("Hot story", {}, "world"));
  pb::GetArticleRequest req;
  req.set_name(a.name());
  req.set_visitor_id("v1");
  EXPECT_EQ(service_.CachedRead(req, Ctx()), nullptr);  // not read yet
  ASSERT_TRUE(ReaderGet(a.name()).ok());                // fills the cache
  ArticleRef hit = service_.CachedRead(req, Ctx());
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->Parse().title(), "Hot story");
  EXPECT_EQ(hit->etag(), a.etag());
  ASSERT_EQ(sink_.events().size(), 1u);  // the cached read is a view too
  EXPECT_EQ(sink_.events()[0].visitor_id, "v1");
  EXPECT_EQ(sink_.events()[0].article, hit);
  EXPECT_EQ(service_.CachedRead(req, Ctx()), hit);  // shared, not copied

  pb::GetArticleRequest editor = req;
  editor.set_view(pb::EDITOR);
  EXPECT_EQ(service_.CachedRead(editor, Ctx()), nullptr);
  pb::GetArticleRequest bad;
  bad.set_name("articles/x");
  EXPECT_EQ(service_.CachedRead(bad, Ctx()), nullptr);

  pb::GetArticleBySlugRequest by_slug;
  by_slug.set_slug("hot-story");
  EXPECT_EQ(service_.CachedRead(by_slug, Ctx()), nullptr);  // slug not seen yet
  ASSERT_TRUE(BySlug("hot-story").ok());
  ASSERT_NE(service_.CachedRead(by_slug, Ctx()), nullptr);

  pb::UpdateArticleRequest edit;
  edit.mutable_article()->set_name(a.name());
  edit.mutable_article()->set_title("Hot story, updated");
  edit.mutable_update_mask()->add_paths("title");
  edit.set_actor("ed");
  ASSERT_TRUE(service_.UpdateArticle(edit, Ctx()).ok());
  EXPECT_EQ(service_.CachedRead(req, Ctx()), nullptr);  // invalidated on commit
  EXPECT_EQ(service_.CachedRead(by_slug, Ctx()), nullptr);
  EXPECT_EQ(ReaderGet(a.name())->title(), "Hot story, updated");
  ASSERT_NE(service_.CachedRead(req, Ctx()), nullptr);
  EXPECT_EQ(service_.CachedRead(req, Ctx())->Parse().title(), "Hot story, updated");
}

TEST_F(ArticleServiceTest, ReaderViewsGoToTheSinkEditorReadsDoNot) {
  const Article a = Publish(Create("Viewed", {"x"}, "world"));
  ASSERT_TRUE(ReaderGet(a.name(), "visitor-1").ok());
  ASSERT_TRUE(ReaderGet(a.name(), "visitor-1").ok());  // cached read records too
  ASSERT_TRUE(ReaderGet(a.name()).ok());                // no visitor: nothing
  pb::GetArticleRequest editor;
  editor.set_name(a.name());
  editor.set_view(pb::EDITOR);
  editor.set_visitor_id("editor-visitor");
  ASSERT_TRUE(service_.GetArticle(editor, Ctx("md-visitor")).ok());
  pb::GetArticleBySlugRequest slug;
  slug.set_slug("viewed");
  ASSERT_TRUE(service_.GetArticleBySlug(slug, Ctx("md-visitor")).ok());
  slug.set_view(pb::EDITOR);
  ASSERT_TRUE(service_.GetArticleBySlug(slug, Ctx("md-visitor")).ok());
  std::vector<ArticleViewEvent> events = sink_.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].visitor_id, "visitor-1");
  EXPECT_EQ(events[0].article->name(), a.name());
  EXPECT_EQ(events[0].article->section(), "world");
  EXPECT_THAT(events[0].article->tags(), ElementsAre("x"));
  EXPECT_EQ(events[2].visitor_id, "md-visitor");
}

// body_html is rendered on write, stored, and follows edits of the body
// and its format; rows rendered under older rules are rendered on read and
// stored again by RenderStaleBodies.
TEST_F(ArticleServiceTest, BodyHtmlIsSanitizedStoredAndFollowsEdits) {
  pb::CreateArticleRequest req;
  req.mutable_article()->set_title("Rich body");
  req.mutable_article()->set_body_format(pb::HTML);
  req.mutable_article()->set_body(
      "<p onclick=\"steal()\">Hello <script>alert(1)</script><b>world</b></p>"
      "<a href=\"javascript:alert(2)\">x</a><img src=\"data:image/png;base64,AA\">");
  req.set_actor("tester");
  absl::StatusOr<Article> created = service_.CreateArticle(req, Ctx());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->body_html(), "<p>Hello <b>world</b></p><a>x</a>");
  Article a = Publish(*created);
  EXPECT_EQ(EditorGet(a.name())->body_html(), "<p>Hello <b>world</b></p><a>x</a>");

  pb::UpdateArticleRequest edit;
  edit.mutable_article()->set_name(a.name());
  edit.mutable_article()->set_body("Now *markdown* <i>raw</i>");
  edit.mutable_article()->set_body_format(pb::MARKDOWN);
  edit.mutable_update_mask()->add_paths("body");
  edit.mutable_update_mask()->add_paths("body_format");
  edit.set_actor("ed");
  absl::StatusOr<Article> updated = service_.UpdateArticle(edit, Ctx());
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->body_html(), "<p>Now <em>markdown</em> raw</p>\n");
  EXPECT_EQ(ReaderGet(a.name())->body_html(), "<p>Now <em>markdown</em> raw</p>\n");

  // body_html is output only: a value sent by the client is ignored.
  edit.mutable_article()->set_body_html("<script>x</script>");
  edit.mutable_article()->set_body("Plain");
  ASSERT_TRUE(service_.UpdateArticle(edit, Ctx()).ok());
  EXPECT_EQ(EditorGet(a.name())->body_html(), "<p>Plain</p>\n");

  // A row from before the column (version 0) renders on read, and the
  // backfill stores it.
  {
    pqxx::connection c(db_.dsn());
    pqxx::work tx(c);
    tx.exec("UPDATE article.articles SET body_html = '', body_html_version = 0");
    tx.commit();
  }
  EXPECT_EQ(EditorGet(a.name())->body_html(), "<p>Plain</p>\n");
  absl::StatusOr<int> rendered = store_.RenderStaleBodies(absl::Now() + absl::Seconds(10), 100);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(*rendered, 1);
  EXPECT_EQ(*store_.RenderStaleBodies(absl::Now() + absl::Seconds(10), 100), 0);
  pqxx::connection c(db_.dsn());
  pqxx::work tx(c);
  EXPECT_EQ(tx.exec1("SELECT body_html FROM article.articles")[0].as<std::string>(),
            "<p>Plain</p>\n");
}

// Tag pages are walked newest first on the (tag, publish_time) index; the
// index follows tag edits, unpublishing and scheduling.
TEST_F(ArticleServiceTest, TagPagesFollowEditsAndScheduling) {
  std::vector<Article> a;
  for (int i = 0; i < 5; ++i) {
    a.push_back(Publish(Create(absl::StrCat("T", i), {"storm", i % 2 ? "odd" : "even"}, "world")));
    clock_.Advance(absl::Minutes(1));
  }
  Create("Draft", {"storm"});
  EXPECT_THAT(Names(*List("tags:storm")), ElementsAre("T4", "T3", "T2", "T1", "T0"));
  EXPECT_THAT(Names(*List("tags:odd AND section = world")), ElementsAre("T3", "T1"));
  EXPECT_THAT(Names(*List("tags:storm AND NOT tags:odd")), ElementsAre("T4", "T2", "T0"));
  EXPECT_THAT(Names(*List("tags:storm", pb::READER, "publish_time")),
              ElementsAre("T0", "T1", "T2", "T3", "T4"));
  // Pages of two, each a keyset range.
  std::vector<std::string> seen;
  std::string token;
  do {
    absl::StatusOr<pb::ListArticlesResponse> p = List("tags:storm", pb::READER, "", 2, token);
    ASSERT_TRUE(p.ok()) << p.status();
    for (const Article& x : p->articles()) seen.push_back(x.title());
    token = p->next_page_token();
  } while (!token.empty());
  EXPECT_THAT(seen, ElementsAre("T4", "T3", "T2", "T1", "T0"));
  // Edit T3's tags, unpublish T2, schedule a new one for later.
  pb::UpdateArticleRequest edit;
  edit.mutable_article()->set_name(a[3].name());
  edit.mutable_article()->add_tags("calm");
  edit.mutable_update_mask()->add_paths("tags");
  ASSERT_TRUE(service_.UpdateArticle(edit, Ctx()).ok());
  pb::UnpublishArticleRequest un;
  un.set_name(a[2].name());
  ASSERT_TRUE(service_.UnpublishArticle(un, Ctx()).ok());
  Publish(Create("Later", {"storm"}), clock_.Now() + absl::Hours(1));
  EXPECT_THAT(Names(*List("tags:storm")), ElementsAre("T4", "T1", "T0"));
  EXPECT_THAT(Names(*List("tags:calm")), ElementsAre("T3"));
  clock_.Advance(absl::Hours(2));
  EXPECT_THAT(Names(*List("tags:storm")), ElementsAre("Later", "T4", "T1", "T0"));
  // Deleted: off the tag page (read from the tag index alone) and back
  // when undeleted.
  pb::DeleteArticleRequest del;
  del.set_name(a[4].name());
  ASSERT_TRUE(service_.DeleteArticle(del, Ctx()).ok());
  EXPECT_THAT(Names(*List("tags:storm")), ElementsAre("Later", "T1", "T0"));
  EXPECT_THAT(Names(*List("tags:storm AND section = world")), ElementsAre("T1", "T0"));
  pb::UndeleteArticleRequest undel;
  undel.set_name(a[4].name());
  ASSERT_TRUE(service_.UndeleteArticle(undel, Ctx()).ok());
  EXPECT_THAT(Names(*List("tags:storm")), ElementsAre("Later", "T4", "T1", "T0"));
}

TEST_F(ArticleServiceTest, TotalSizeOnlyWhenAsked) {
  for (int i = 0; i < 3; ++i) Publish(Create(absl::StrCat("A", i)));
  pb::ListArticlesRequest req;
  req.set_page_size(1);
  absl::StatusOr<pb::ListArticlesResponse> r = List(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->articles_size(), 1);
  EXPECT_EQ(r->total_size(), 0);
  req.set_include_total_size(true);
  EXPECT_EQ(List(req)->total_size(), 3);
}

// Card pages ask for a few fields (AIP-157 read_mask); the articles in the
// cache stay whole, and a bad path changes nothing and names itself.
TEST_F(ArticleServiceTest, ReadMaskTrimsListAndSearchArticles) {
  const Article a = Publish(Create("Storm coverage", {"storm"}, "world", "The storm came ashore."));
  pb::ListArticlesRequest list;
  list.mutable_read_mask()->add_paths("title");
  list.mutable_read_mask()->add_paths("tags");
  absl::StatusOr<pb::ListArticlesResponse> page = List(list);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->articles_size(), 1);
  EXPECT_EQ(page->articles(0).name(), a.name());
  EXPECT_EQ(page->articles(0).title(), "Storm coverage");
  EXPECT_THAT(page->articles(0).tags(), ElementsAre("storm"));
  EXPECT_TRUE(page->articles(0).body().empty());
  EXPECT_TRUE(page->articles(0).body_html().empty());
  EXPECT_TRUE(page->articles(0).etag().empty());
  // The cached version is the whole article.
  pb::GetArticleRequest get;
  get.set_name(a.name());
  ASSERT_NE(service_.CachedRead(get, Ctx()), nullptr);
  EXPECT_FALSE(service_.CachedRead(get, Ctx())->Parse().body().empty());

  pb::SearchArticlesRequest search;
  search.set_query("storm");
  search.mutable_read_mask()->add_paths("excerpt");
  absl::StatusOr<pb::SearchArticlesResponse> found = Search(search);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->results_size(), 1);
  EXPECT_EQ(found->results(0).article().name(), a.name());
  EXPECT_FALSE(found->results(0).article().excerpt().empty());
  EXPECT_TRUE(found->results(0).article().title().empty());
  EXPECT_THAT(found->results(0).snippet(), HasSubstr("<mark>"));

  list.mutable_read_mask()->add_paths("feature_image.url");
  EXPECT_THAT(Fields(List(list).status()), ElementsAre("read_mask.paths[2]"));
  search.mutable_read_mask()->add_paths("nope");
  EXPECT_THAT(Fields(Search(search).status()), ElementsAre("read_mask.paths[1]"));
}

// A list page's articles come from the read cache (and fill it): the page's
// query reads only ids.
TEST_F(ArticleServiceTest, ListPagesShareTheCachedVersions) {
  const Article a = Publish(Create("Cached one", {}, "world"));
  pb::GetArticleRequest get;
  get.set_name(a.name());
  EXPECT_EQ(service_.CachedRead(get, Ctx()), nullptr);
  pb::ListArticlesRequest req;
  absl::StatusOr<ArticlePage> page = service_.ListArticles(req, Ctx());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->articles.size(), 1u);
  ArticleRef cached = service_.CachedRead(get, Ctx());
  ASSERT_NE(cached, nullptr);
  EXPECT_EQ(cached, page->articles[0]);
  EXPECT_EQ(service_.ListArticles(req, Ctx())->articles[0], cached);
  // Editors get the stored article, not the reader cache's.
  req.set_view(pb::EDITOR);
  EXPECT_NE(service_.ListArticles(req, Ctx())->articles[0], cached);
}

// Search ranks only the newest `search_rank_window` matches: its cost does
// not grow with the archive.
TEST_F(ArticleServiceTest, SearchRanksTheNewestMatchesOnly) {
  Publish(Create("Harbour strike", {}, "", "The harbour strike goes on."));  // best, oldest
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Minutes(1));
    Publish(Create(absl::StrCat("News ", i), {}, "", "A word about the strike."));
  }
  pb::SearchArticlesRequest req;
  req.set_query("strike");
  EXPECT_EQ(Search(req)->results(0).article().title(), "Harbour strike");
  ArticleService narrow(store_, cache_, clock_, tokens_, sink_, {.search_rank_window = 3});
  absl::StatusOr<SearchResultsPage> r = narrow.SearchArticles(req, Ctx());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results.size(), 3u);
  for (const SearchResultRef& hit : r->results) {
    EXPECT_NE(hit.article->Parse().title(), "Harbour strike");
    EXPECT_THAT(hit.snippet, HasSubstr("<mark>strike</mark>"));
  }
  req.set_include_total_size(true);
  EXPECT_EQ(narrow.SearchArticles(req, Ctx())->total_size, 5);  // counts every match
}

TEST_F(ArticleServiceTest, CreateIsOneStatementAndReplaysIdempotently) {
  pb::CreateArticleRequest req;
  req.mutable_article()->set_title("Once");
  req.mutable_article()->set_slug("once");
  req.set_request_id("rid-1");
  absl::StatusOr<Article> first = service_.CreateArticle(req, Ctx());
  ASSERT_TRUE(first.ok()) << first.status();
  // Same request id: the first article, even though its slug is now taken.
  absl::StatusOr<Article> again = service_.CreateArticle(req, Ctx());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), first->name());
  // Another request id with the taken slug: nothing is written.
  req.set_request_id("rid-2");
  EXPECT_EQ(service_.CreateArticle(req, Ctx()).status().code(), absl::StatusCode::kAlreadyExists);
  req.mutable_article()->set_slug("twice");
  ASSERT_TRUE(service_.CreateArticle(req, Ctx()).ok());  // rid-2 was not claimed
  // Revision 1's snapshot has its name and etag back.
  pb::ListArticleRevisionsRequest revs;
  revs.set_name(first->name());
  absl::StatusOr<pb::ListArticleRevisionsResponse> r = service_.ListArticleRevisions(revs, Ctx());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->revisions_size(), 1);
  EXPECT_EQ(r->revisions(0).snapshot().name(), first->name());
  EXPECT_EQ(r->revisions(0).snapshot().etag(), first->etag());
  EXPECT_EQ(r->revisions(0).snapshot().title(), "Once");
}

// bench/pgbench/create_article.sql replays exactly the store's statement.
TEST(CreateReplayTest, PgbenchScriptIsTheStoreStatement) {
  std::ifstream in(std::string(NEWSGRID_SOURCE_DIR) + "/bench/pgbench/create_article.sql");
  ASSERT_TRUE(in.good());
  std::string sql, line;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind("--", 0) == 0 || line.rfind("\\", 0) == 0) continue;
    sql += line;
  }
  ASSERT_FALSE(sql.empty());
  ASSERT_EQ(sql.back(), ';');
  sql.pop_back();
  sql = std::regex_replace(sql, std::regex(":p([0-9]+)"), "$$$1");
  EXPECT_EQ(sql, ArticleStore::CreateStatement());
}

TEST(ArticleStoreUnavailableTest, DatabaseDownIsUnavailable) {
  PgPool pool({.dsn = "host=127.0.0.1 port=1 user=postgres dbname=none connect_timeout=2",
               .size = 1,
               .prepared = ArticleStore::PreparedStatements()});
  ArticleStore store(pool);
  EXPECT_EQ(store.Get(absl::Now() + absl::Seconds(5), 1).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace newsgrid::article
