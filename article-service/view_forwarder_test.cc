#include "article-service/view_forwarder.h"

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/peer_channel.h"

namespace newsgrid::article {
namespace {

using news::trending::v1::RecordViewsRequest;
using news::trending::v1::RecordViewsResponse;
using news::trending::v1::ViewEvent;

// A TrendingService on loopback that records what RecordViews receives.
// Synchronous on purpose, like the fake in article_catalog_test.cc: the
// forwarder's client side is under test, and a callback-API fake's reactor
// handover through gRPC's uninstrumented core shows up in TSan as races.
class RecordingTrending final : public news::trending::v1::TrendingService::Service {
 public:
  grpc::Status RecordViews(grpc::ServerContext*, grpc::ServerReader<RecordViewsRequest>* reader,
                           RecordViewsResponse* response) override {
    RecordViewsRequest request;
    while (reader->Read(&request)) {
      absl::MutexLock lock(&mu_);
      batch_sizes_.push_back(request.events_size());
      for (const auto& e : request.events()) events_.push_back(e);
      response->set_accepted(response->accepted() + request.events_size());
    }
    return grpc::Status::OK;
  }

  std::vector<ViewEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  std::vector<int> batch_sizes() {
    absl::MutexLock lock(&mu_);
    return batch_sizes_;
  }

 private:
  absl::Mutex mu_;
  std::vector<ViewEvent> events_;
  std::vector<int> batch_sizes_;
};

struct TestServer {
  RecordingTrending service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  explicit TestServer(int want_port = 0) {
    grpc::ServerBuilder b;
    b.AddListeningPort(absl::StrCat("127.0.0.1:", want_port), grpc::InsecureServerCredentials(),
                       &port);
    b.RegisterService(&service);
    server = b.BuildAndStart();
  }
  ~TestServer() { server->Shutdown(std::chrono::system_clock::now()); }
};

ArticleViewEvent View(int i) {
  news::article::v1::Article a;
  a.set_name(absl::StrCat("articles/", i));
  a.set_section("world");
  a.add_tags("t1");
  a.add_tags("t2");
  return {.article = ArticleVersion::Make(a),
          .visitor_id = absl::StrCat("v", i),
          .time = absl::FromUnixMicros(1700000000123456)};
}

bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return cond();
}

int FreePort() {
  TestServer probe;
  return probe.port;  // released when probe dies
}

ViewForwarderOptions FastOptions() {
  return {.buffer_size = 1000,
          .batch_size = 50,
          .linger = absl::Milliseconds(20),
          .stream_max_age = absl::Milliseconds(200),
          .initial_backoff = absl::Milliseconds(20),
          .max_backoff = absl::Milliseconds(200)};
}

TEST(ViewForwarderTest, DeliversEveryViewInBoundedBatchesWithUniqueIds) {
  TestServer server;
  ViewForwarder f(FastOptions(), MakePeerChannel(absl::StrCat("127.0.0.1:", server.port), {}));
  for (int i = 0; i < 230; ++i) f.RecordReaderView(View(i));
  ASSERT_TRUE(WaitFor([&] { return f.delivered() == 230; })) << f.delivered();
  const auto events = server.service.events();
  ASSERT_EQ(events.size(), 230u);
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e.event_id());
  EXPECT_EQ(ids.size(), 230u);
  EXPECT_EQ(events.front().article(), "articles/0");  // order kept
  EXPECT_EQ(events.back().article(), "articles/229");
  // The event carries the article's metadata and the read's time.
  EXPECT_EQ(events.front().visitor_id(), "v0");
  EXPECT_EQ(events.front().metadata().section(), "world");
  ASSERT_EQ(events.front().metadata().tags_size(), 2);
  EXPECT_EQ(events.front().metadata().tags(1), "t2");
  EXPECT_EQ(events.front().view_time().seconds(), 1700000000);
  EXPECT_EQ(events.front().view_time().nanos(), 123456000);
  for (int n : server.service.batch_sizes()) EXPECT_LE(n, 50);
  EXPECT_EQ(f.depth(), 0u);
  EXPECT_TRUE(f.peer_reachable());
}

// A page view and its pings: the view names its page view; each ping is an
// ENGAGEMENT event of the same page view with its engaged time, in order,
// with event ids of their own.
TEST(ViewForwarderTest, PageViewsAndEngagementPingsNameTheirPageView) {
  TestServer server;
  ViewForwarder f(FastOptions(), MakePeerChannel(absl::StrCat("127.0.0.1:", server.port), {}));
  const PageEvent page{.article_name = "articles/7",
                       .page_view_id = "pv-1",
                       .visitor_id = "visitor",
                       .user_agent = "Mozilla/5.0",
                       .time = absl::FromUnixSeconds(1700000000)};
  f.RecordPageView(page);
  PageEvent ping = page;
  ping.time = absl::FromUnixSeconds(1700000015);
  f.RecordEngagement(ping, absl::Seconds(14));
  ping.time = absl::FromUnixSeconds(1700000030);
  f.RecordEngagement(ping, absl::Milliseconds(2500));
  // A view without a page view id (no script on the page) stays a plain view.
  f.RecordPageView({.article_name = "articles/8", .visitor_id = "other", .time = page.time});
  ASSERT_TRUE(WaitFor([&] { return f.delivered() == 4; })) << f.delivered();
  const auto events = server.service.events();
  ASSERT_EQ(events.size(), 4u);
  const ViewEvent& view = events[0];
  EXPECT_EQ(view.kind(), news::trending::v1::EVENT_KIND_UNSPECIFIED);  // VIEW
  EXPECT_EQ(view.article(), "articles/7");
  EXPECT_EQ(view.page_view_id(), "pv-1");
  EXPECT_EQ(view.visitor_id(), "visitor");
  EXPECT_EQ(view.user_agent(), "Mozilla/5.0");
  EXPECT_FALSE(view.has_engaged_duration());
  EXPECT_EQ(view.view_time().seconds(), 1700000000);
  for (int i : {1, 2}) {
    const ViewEvent& p = events[i];
    EXPECT_EQ(p.kind(), news::trending::v1::ENGAGEMENT) << i;
    EXPECT_EQ(p.article(), "articles/7");
    EXPECT_EQ(p.page_view_id(), "pv-1");
    EXPECT_EQ(p.visitor_id(), "visitor");
    EXPECT_EQ(p.user_agent(), "Mozilla/5.0");
    ASSERT_TRUE(p.has_engaged_duration());
  }
  EXPECT_EQ(events[1].engaged_duration().seconds(), 14);
  EXPECT_EQ(events[1].engaged_duration().nanos(), 0);
  EXPECT_EQ(events[1].view_time().seconds(), 1700000015);
  EXPECT_EQ(events[2].engaged_duration().seconds(), 2);
  EXPECT_EQ(events[2].engaged_duration().nanos(), 500000000);
  EXPECT_EQ(events[2].view_time().seconds(), 1700000030);
  EXPECT_EQ(events[3].article(), "articles/8");
  EXPECT_EQ(events[3].page_view_id(), "");
  EXPECT_EQ(events[3].kind(), news::trending::v1::EVENT_KIND_UNSPECIFIED);
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e.event_id());
  EXPECT_EQ(ids.size(), 4u);
}

TEST(ViewForwarderTest, BuffersWhileThePeerIsDownAndDeliversWhenItReturns) {
  const int port = FreePort();
  ViewForwarder f(FastOptions(), MakePeerChannel(absl::StrCat("127.0.0.1:", port), {}));
  for (int i = 0; i < 100; ++i) f.RecordReaderView(View(i));
  ASSERT_TRUE(WaitFor([&] { return !f.peer_reachable(); }));
  EXPECT_EQ(f.depth(), 100u);
  EXPECT_EQ(f.delivered(), 0u);
  TestServer server(port);
  ASSERT_EQ(server.port, port);
  ASSERT_TRUE(WaitFor([&] { return f.delivered() == 100; }, absl::Seconds(20)));
  EXPECT_TRUE(f.peer_reachable());
  std::set<std::string> articles;
  for (const auto& e : server.service.events()) articles.insert(e.article());
  EXPECT_EQ(articles.size(), 100u);
}

TEST(ViewForwarderTest, FullBufferDropsTheOldest) {
  const int port = FreePort();
  ViewForwarderOptions options = FastOptions();
  options.buffer_size = 10;
  // A long backoff after the first failure: the sender holds view 0 for its
  // retry and takes nothing more while the other 24 arrive (its wait is
  // random from 1 ms up, so the pushes below, a few microseconds, come first).
  options.initial_backoff = options.max_backoff = absl::Seconds(3);
  ViewForwarder f(options, MakePeerChannel(absl::StrCat("127.0.0.1:", port), {}));
  f.RecordReaderView(View(0));
  ASSERT_TRUE(WaitFor([&] { return !f.peer_reachable(); }));
  // Engagement pings (the odd ones) share the bound with views.
  for (int i = 1; i < 25; ++i) {
    if (i % 2 == 0) {
      f.RecordReaderView(View(i));
    } else {
      f.RecordEngagement({.article_name = absl::StrCat("articles/", i), .page_view_id = "pv"},
                         absl::Seconds(i));
    }
  }
  EXPECT_EQ(f.depth(), 10u);
  EXPECT_EQ(f.dropped(), 15u);
  TestServer server(port);
  ASSERT_TRUE(WaitFor([&] { return f.delivered() == 10; }, absl::Seconds(20)));
  const auto events = server.service.events();
  ASSERT_EQ(events.size(), 10u);
  // The view awaiting its retry is never dropped; of the queued ones the
  // newest nine were kept, delivered in order after it.
  std::vector<std::string> delivered;
  for (const auto& e : events) {
    delivered.push_back(e.article());
    const int i = std::stoi(e.article().substr(9));
    EXPECT_EQ(e.kind() == news::trending::v1::ENGAGEMENT, i % 2 == 1) << i;
    if (i % 2 == 1) EXPECT_EQ(e.engaged_duration().seconds(), i);
  }
  std::vector<std::string> want = {"articles/0"};
  for (int i = 16; i < 25; ++i) want.push_back(absl::StrCat("articles/", i));
  EXPECT_EQ(delivered, want);
}

// Many reader threads at once, no lock on their path: every view arrives
// exactly once with a distinct event id.
TEST(ViewForwarderTest, ConcurrentReadersLoseNothingBelowTheBound) {
  TestServer server;
  ViewForwarderOptions options = FastOptions();
  options.buffer_size = 100000;
  ViewForwarder f(options, MakePeerChannel(absl::StrCat("127.0.0.1:", server.port), {}));
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&f, t] {
      for (int i = 0; i < 2000; ++i) f.RecordReaderView(View(t * 10000 + i));
    });
  }
  for (auto& r : readers) r.join();
  ASSERT_TRUE(WaitFor([&] { return f.delivered() == 8000; }, absl::Seconds(20))) << f.delivered();
  std::set<std::string> ids, articles;
  for (const auto& e : server.service.events()) {
    ids.insert(e.event_id());
    articles.insert(e.article());
  }
  EXPECT_EQ(ids.size(), 8000u);
  EXPECT_EQ(articles.size(), 8000u);
  EXPECT_EQ(f.dropped(), 0u);
}

TEST(ViewForwarderTest, ShutdownFlushesWithinTheDeadline) {
  TestServer server;
  ViewForwarderOptions options = FastOptions();
  options.linger = absl::Seconds(5);  // would hold events without the flush
  options.stream_max_age = absl::Seconds(30);
  ViewForwarder f(options, MakePeerChannel(absl::StrCat("127.0.0.1:", server.port), {}));
  for (int i = 0; i < 7; ++i) f.RecordReaderView(View(i));
  const absl::Time start = absl::Now();
  EXPECT_EQ(f.Shutdown(absl::Now() + absl::Seconds(3)), 0u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(server.service.events().size(), 7u);
}

TEST(ViewForwarderTest, ShutdownGivesUpAtTheDeadlineWhenThePeerIsDown) {
  const int port = FreePort();
  ViewForwarder f(FastOptions(), MakePeerChannel(absl::StrCat("127.0.0.1:", port), {}));
  for (int i = 0; i < 5; ++i) f.RecordReaderView(View(i));
  const absl::Time start = absl::Now();
  EXPECT_EQ(f.Shutdown(absl::Now() + absl::Milliseconds(500)), 5u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

}  // namespace
}  // namespace newsgrid::article
