#include "trending-service/article_catalog.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/peer_channel.h"

namespace newsgrid::trending {
namespace {

using news::article::v1::Article;
using news::article::v1::BatchGetArticlesRequest;
using news::article::v1::BatchGetArticlesResponse;

// An ArticleService on loopback whose published articles the test controls.
// A synchronous service on purpose: the catalog's client side is what is
// under test. A callback-API fake would hand its reactors between gRPC's
// threads through gRPC's core, which Debian builds without TSan, and TSan
// then reports that handover (e.g. the reactor's atomic reference count
// set on one thread and released on another) as a race in the test.
class FakeArticles final : public news::article::v1::ArticleService::Service {
 public:
  grpc::Status BatchGetArticles(grpc::ServerContext*, const BatchGetArticlesRequest* request,
                                BatchGetArticlesResponse* response) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    for (const std::string& name : request->names()) {
      auto it = published_.find(name);
      if (it == published_.end()) {
        response->add_missing(name);
      } else {
        *response->add_articles() = it->second;
      }
    }
    return grpc::Status::OK;
  }
  void Publish(const std::string& name, const std::string& title) {
    absl::MutexLock lock(&mu_);
    Article a;
    a.set_name(name);
    a.set_title(title);
    a.set_slug(title);
    a.set_section("world");
    a.add_tags("t");
    published_[name] = a;
  }
  void Remove(const std::string& name) {
    absl::MutexLock lock(&mu_);
    published_.erase(name);
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, Article> published_;
  int calls_ = 0;
};

struct Server {
  FakeArticles articles;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  Server() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&articles);
    server = b.BuildAndStart();
  }
  void Stop() { server->Shutdown(std::chrono::system_clock::now()); }
};

TEST(ArticleCatalogTest, OneRoundTripPerResolveAndCachedAfterwards) {
  Server s;
  s.articles.Publish("articles/1", "one");
  s.articles.Publish("articles/2", "two");
  ArticleCatalog catalog(MakePeerChannel(absl::StrCat("127.0.0.1:", s.port), {}),
                         {.ttl = absl::Seconds(60)});
  auto l = catalog.Resolve({"articles/1", "articles/2", "articles/3"});
  EXPECT_EQ(s.articles.calls(), 1);
  EXPECT_EQ(l["articles/1"].state, ArticleCatalog::State::kPublished);
  EXPECT_EQ(l["articles/1"].title, "one");
  EXPECT_EQ(l["articles/2"].section, "world");
  EXPECT_EQ(l["articles/3"].state, ArticleCatalog::State::kGone);
  l = catalog.Resolve({"articles/1", "articles/2", "articles/3"});
  EXPECT_EQ(s.articles.calls(), 1);  // all fresh in cache
  EXPECT_EQ(catalog.hits(), 3u);
  EXPECT_EQ(catalog.misses(), 3u);
}

TEST(ArticleCatalogTest, NamesTheArticleServiceCannotHoldAreHiddenWithoutACall) {
  Server s;
  s.articles.Publish("articles/1", "one");
  ArticleCatalog catalog(MakePeerChannel(absl::StrCat("127.0.0.1:", s.port), {}),
                         {.ttl = absl::Seconds(60)});
  // Views may name any [A-Za-z0-9_-] id; sent along, one of them would fail
  // the whole batch with INVALID_ARGUMENT and leave every title unknown.
  auto l = catalog.Resolve({"articles/abc", "articles/007", "articles/-1"});
  EXPECT_EQ(s.articles.calls(), 0);
  for (const char* n : {"articles/abc", "articles/007", "articles/-1"}) {
    EXPECT_EQ(l[n].state, ArticleCatalog::State::kGone) << n;
  }
  l = catalog.Resolve({"articles/abc", "articles/1"});
  EXPECT_EQ(s.articles.calls(), 1);
  EXPECT_EQ(l["articles/1"].state, ArticleCatalog::State::kPublished);
  EXPECT_EQ(l["articles/abc"].state, ArticleCatalog::State::kGone);
}

TEST(ArticleCatalogTest, RemovedArticleIsGoneAfterTheTtl) {
  Server s;
  s.articles.Publish("articles/1", "one");
  ArticleCatalog catalog(MakePeerChannel(absl::StrCat("127.0.0.1:", s.port), {}),
                         {.ttl = absl::Milliseconds(100)});
  EXPECT_EQ(catalog.Resolve({"articles/1"})["articles/1"].state,
            ArticleCatalog::State::kPublished);
  s.articles.Remove("articles/1");
  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_EQ(catalog.Resolve({"articles/1"})["articles/1"].state, ArticleCatalog::State::kGone);
}

// Past half the TTL an entry is still served at once, and refreshed in the
// background: the next read sees the change without waiting for a call.
TEST(ArticleCatalogTest, RefreshesAheadOfTheTtlWithoutMakingReadersWait) {
  Server s;
  s.articles.Publish("articles/1", "one");
  ArticleCatalog catalog(MakePeerChannel(absl::StrCat("127.0.0.1:", s.port), {}),
                         {.ttl = absl::Seconds(2)});
  EXPECT_EQ(catalog.Resolve({"articles/1"})["articles/1"].title, "one");
  ASSERT_EQ(s.articles.calls(), 1);
  s.articles.Publish("articles/1", "one, updated");
  EXPECT_EQ(catalog.Resolve({"articles/1"})["articles/1"].title, "one");  // fresh: no call
  EXPECT_EQ(s.articles.calls(), 1);
  absl::SleepFor(absl::Milliseconds(1100));  // past ttl/2, before the ttl
  EXPECT_EQ(catalog.Resolve({"articles/1"})["articles/1"].title, "one");  // served as is
  for (int i = 0; i < 200 && s.articles.calls() < 2; ++i) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(s.articles.calls(), 2);  // the background refresh
  std::string title;
  for (int i = 0; i < 100 && title != "one, updated"; ++i) {
    title = catalog.Resolve({"articles/1"})["articles/1"].title;  // never waits
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(title, "one, updated");
  EXPECT_EQ(s.articles.calls(), 2);  // the readers made none
  EXPECT_EQ(catalog.round_trips(), 2u);
}

TEST(ArticleCatalogTest, ServesFromCacheWhenThePeerIsDown) {
  Server s;
  s.articles.Publish("articles/1", "one");
  ArticleCatalog catalog(MakePeerChannel(absl::StrCat("127.0.0.1:", s.port), {}),
                         {.ttl = absl::Milliseconds(10)});
  catalog.Resolve({"articles/1"});
  s.Stop();
  absl::SleepFor(absl::Milliseconds(20));
  auto l = catalog.Resolve({"articles/1", "articles/9"});
  EXPECT_FALSE(catalog.peer_reachable());
  EXPECT_EQ(l["articles/1"].state, ArticleCatalog::State::kPublished);  // stale but served
  EXPECT_EQ(l["articles/1"].title, "one");
  EXPECT_EQ(l["articles/9"].state, ArticleCatalog::State::kUnknown);
}

}  // namespace
}  // namespace newsgrid::trending
