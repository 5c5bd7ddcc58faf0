#include "trending-service/ingestor.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace newsgrid::trending {
namespace {

class IngestorTest : public ::testing::Test {
 protected:
  FakeClock clock_{absl::FromUnixSeconds(1'714'565'250)};  // 2024-05-01T12:07:30Z
  ViewStore store_{{}, clock_};
  VisitorHasher hasher_{"secret"};
  Ingestor ingest_{store_, clock_, hasher_, {}};
  uint64_t ticket_ = 0;
  Verdict Record(RawView v) { return ingest_.Record(v, &ticket_); }
  int64_t Views(const char* article) {
    ArticleSeries s = store_.Series(article, absl::Hours(168), 60);
    return s.total_views;
  }
};

TEST_F(IngestorTest, RepeatViewsWithinTheDedupWindowCountOnce) {
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = "v1"}).outcome, Outcome::kAccepted);
  EXPECT_GT(ticket_, 0u);
  clock_.Advance(absl::Minutes(29));
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = "v1"}).outcome,
            Outcome::kDeduplicated);
  // Another article or visitor is not a repeat; no visitor never dedups.
  EXPECT_EQ(Record({.article_name = "articles/b", .visitor_id = "v1"}).outcome, Outcome::kAccepted);
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = "v2"}).outcome, Outcome::kAccepted);
  EXPECT_EQ(Record({.article_name = "articles/a"}).outcome, Outcome::kAccepted);
  EXPECT_EQ(Record({.article_name = "articles/a"}).outcome, Outcome::kAccepted);
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = "v1"}).outcome, Outcome::kAccepted);
  EXPECT_EQ(Views("a"), 5);
}

TEST_F(IngestorTest, ConfigurableDedupWindow) {
  Ingestor short_window(store_, clock_, hasher_, {.dedup_window = absl::Minutes(1)});
  uint64_t t = 0;
  EXPECT_EQ(short_window.Record({.article_name = "articles/c", .visitor_id = "v"}, &t).outcome,
            Outcome::kAccepted);
  clock_.Advance(absl::Seconds(61));
  EXPECT_EQ(short_window.Record({.article_name = "articles/c", .visitor_id = "v"}, &t).outcome,
            Outcome::kAccepted);
}

TEST_F(IngestorTest, RejectionsWithReasons) {
  const absl::Time now = clock_.Now();
  EXPECT_EQ(Record({.article_name = "posts/a"}).reason, RejectReason::kInvalidArticle);
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = std::string(201, 'v')}).reason,
            RejectReason::kInvalidField);
  EXPECT_EQ(Record({.article_name = "articles/a", .user_agent = "Googlebot/2.1"}).reason,
            RejectReason::kBot);
  EXPECT_EQ(Record({.article_name = "articles/a", .view_time = now + absl::Seconds(10)}).reason,
            RejectReason::kFromFuture);
  EXPECT_EQ(Record({.article_name = "articles/a", .view_time = now - absl::Hours(169)}).reason,
            RejectReason::kTooOld);
  EXPECT_EQ(Views("a"), 0);
  EXPECT_EQ(Record({.article_name = "articles/a", .view_time = now - absl::Hours(100)}).outcome,
            Outcome::kAccepted);
  EXPECT_EQ(Views("a"), 1);
}

TEST(CheckViewFieldsTest, NamesEveryMalformedFieldByItsPath) {
  EXPECT_TRUE(CheckViewFields({.article_name = "articles/a-1_B"}).empty());
  const ArticleMetadata metadata{.section = std::string(101, 's'),
                                 .tags = {"ok", std::string(201, 't')},
                                 .authors = std::vector<std::string>(51, "a")};
  const std::vector<FieldProblem> problems = CheckViewFields(
      {.article_name = "articles/", .visitor_id = std::string(201, 'v'),
       .referrer = std::string(2049, 'r'), .user_agent = std::string(1025, 'u'),
       .event_id = std::string(101, 'e'), .metadata = &metadata});
  std::vector<std::string> fields;
  for (const FieldProblem& p : problems) fields.push_back(p.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"article", "visitor_id", "referrer", "user_agent",
                                              "event_id", "metadata.section", "metadata.tags[1]",
                                              "metadata.authors"}));
  EXPECT_EQ(problems[1].description, "is longer than 200 characters");
  // The limits themselves are allowed.
  EXPECT_TRUE(CheckViewFields({.article_name = "articles/" + std::string(128, 'x'),
                               .visitor_id = std::string(200, 'v')})
                  .empty());
}

TEST_F(IngestorTest, EventAndBatchIds) {
  EXPECT_EQ(Record({.article_name = "articles/a", .event_id = "e1"}).outcome, Outcome::kAccepted);
  EXPECT_EQ(Record({.article_name = "articles/a", .event_id = "e1"}).outcome,
            Outcome::kDeduplicated);
  EXPECT_FALSE(ingest_.BatchSeen("b1"));
  EXPECT_TRUE(ingest_.BatchSeen("b1"));
  ingest_.RememberBatches({"b2"});
  EXPECT_TRUE(ingest_.BatchSeen("b2"));
  clock_.Advance(absl::Minutes(31));
  ingest_.Maintain();
  EXPECT_FALSE(ingest_.BatchSeen("b1"));
}

TEST_F(IngestorTest, CountedViewsLeaveDedupMarksWithTheirFlush) {
  const absl::Time now = clock_.Now();
  Record({.article_name = "articles/a", .view_time = now - absl::Minutes(3), .visitor_id = "v1"});
  Record({.article_name = "articles/a", .visitor_id = "v1"});                 // repeat
  Record({.article_name = "articles/a", .visitor_id = "v2", .event_id = "e1"});
  Record({.article_name = "articles/a", .event_id = "e1"});                   // repeated id
  Record({.article_name = "articles/b"});                                     // nothing to mark
  Record({.article_name = "articles/b", .visitor_id = "v1", .user_agent = "Googlebot"});
  PendingBatch batch = store_.TakePending();
  ASSERT_EQ(batch.seen.visitors.size(), 2u);
  ASSERT_EQ(batch.seen.events.size(), 1u);
  // Marks carry the time the view was counted at, like the local filter.
  std::vector<int64_t> times;
  for (const SeenMark& m : batch.seen.visitors) times.push_back(m.view_ns);
  std::sort(times.begin(), times.end());
  EXPECT_EQ(times, (std::vector<int64_t>{absl::ToUnixNanos(now - absl::Minutes(3)),
                                         absl::ToUnixNanos(now)}));
  EXPECT_EQ(batch.seen.events[0].view_ns, absl::ToUnixNanos(now));
  EXPECT_TRUE(store_.TakePending().seen.empty());
}

TEST_F(IngestorTest, MarksOfAnotherReplicaDedupHere) {
  // Replica `other` counts the views; this one learns their marks.
  ViewStore other_store{{}, clock_};
  Ingestor other(other_store, clock_, hasher_, {});
  uint64_t t = 0;
  const absl::Time first = clock_.Now();
  ASSERT_EQ(other.Record({.article_name = "articles/a", .visitor_id = "v1"}, &t).outcome,
            Outcome::kAccepted);
  ASSERT_EQ(other.Record({.article_name = "articles/b", .event_id = "e9"}, &t).outcome,
            Outcome::kAccepted);
  clock_.Advance(absl::Seconds(2));
  ingest_.RememberSeen(other_store.TakePending().seen);
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = "v1"}).outcome,
            Outcome::kDeduplicated);
  EXPECT_EQ(Record({.article_name = "articles/b", .event_id = "e9"}).outcome,
            Outcome::kDeduplicated);
  // Other pairs are not affected, and the mark expires with the window of
  // the remote view, not of its arrival.
  EXPECT_EQ(Record({.article_name = "articles/b", .visitor_id = "v1"}).outcome, Outcome::kAccepted);
  clock_.Set(first + absl::Minutes(30));
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = "v1"}).outcome, Outcome::kAccepted);
  EXPECT_EQ(Views("a"), 1);
}

TEST_F(IngestorTest, VisitorSaltRotatesDaily) {
  const absl::Time t = clock_.Now();
  EXPECT_EQ(hasher_.Hash("v", t), hasher_.Hash("v", t + absl::Hours(1)));
  EXPECT_NE(hasher_.Hash("v", t), hasher_.Hash("v", t + absl::Hours(12)));  // next UTC day
  EXPECT_NE(hasher_.Hash("v", t), VisitorHasher("other").Hash("v", t));
  EXPECT_EQ(hasher_.Hash("v", t), VisitorHasher("secret").Hash("v", t));
}

TEST_F(IngestorTest, VisitorRateLimitStopsOneVisitorAcrossArticles) {
  Ingestor limited(store_, clock_, hasher_, {.max_views_per_visitor_per_minute = 3});
  uint64_t t = 0;
  for (const char* a : {"articles/r1", "articles/r2", "articles/r3"}) {
    EXPECT_EQ(limited.Record({.article_name = a, .visitor_id = "scraper"}, &t).outcome,
              Outcome::kAccepted);
  }
  const Verdict v = limited.Record({.article_name = "articles/r4", .visitor_id = "scraper"}, &t);
  EXPECT_EQ(v.outcome, Outcome::kRejected);
  EXPECT_EQ(v.reason, RejectReason::kRateLimited);
  EXPECT_EQ(Views("r4"), 0);  // not ranked
  // A repeat is still a repeat, not a use of the budget.
  EXPECT_EQ(limited.Record({.article_name = "articles/r1", .visitor_id = "scraper"}, &t).outcome,
            Outcome::kDeduplicated);
  // Others are unaffected; the next minute restores the budget.
  EXPECT_EQ(limited.Record({.article_name = "articles/r4", .visitor_id = "reader"}, &t).outcome,
            Outcome::kAccepted);
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(limited.Record({.article_name = "articles/r5", .visitor_id = "scraper"}, &t).outcome,
            Outcome::kAccepted);
}

TEST_F(IngestorTest, SourceRateLimitStopsRotatingVisitorsOnOneArticle) {
  Ingestor limited(store_, clock_, hasher_, {.max_views_per_source_per_minute = 5});
  uint64_t t = 0;
  int accepted = 0, limited_count = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string visitor = "rotating-" + std::to_string(i);
    const Verdict v = limited.Record(
        {.article_name = "articles/s1", .visitor_id = visitor, .source = "ipv4:10.0.0.9"}, &t);
    if (v.outcome == Outcome::kAccepted) ++accepted;
    if (v.reason == RejectReason::kRateLimited) ++limited_count;
  }
  // Views without a visitor id (never deduplicated) are limited the same way.
  for (int i = 0; i < 10; ++i) {
    limited.Record({.article_name = "articles/s1", .source = "ipv4:10.0.0.9"}, &t);
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(limited_count, 45);
  EXPECT_EQ(Views("s1"), 5);
  // Per article and per source: another article or another caller still counts.
  EXPECT_EQ(limited.Record({.article_name = "articles/s2", .source = "ipv4:10.0.0.9"}, &t).outcome,
            Outcome::kAccepted);
  EXPECT_EQ(limited.Record({.article_name = "articles/s1", .source = "ipv4:10.0.0.10"}, &t).outcome,
            Outcome::kAccepted);
  // No source (an in-process caller): no per-source limit.
  EXPECT_EQ(limited.Record({.article_name = "articles/s1"}, &t).outcome, Outcome::kAccepted);
  EXPECT_EQ(Views("s1"), 7);
}

// A batch is the same rules in the same order as one view at a time:
// repeats inside the batch, event ids, rate limits, rejections.
RawView PingOf(const char* article, const char* page_view, absl::Duration engaged,
               const char* visitor = "v1") {
  return {.article_name = article, .visitor_id = visitor, .kind = EventKind::kEngagement,
          .page_view_id = page_view, .engaged = engaged};
}

int64_t Engaged(ViewStore& store, const char* article) {
  return store.Series(article, absl::Hours(1), 60).engaged_seconds;
}

TEST_F(IngestorTest, PingsCountOnlyForAPageViewOfTheirArticle) {
  EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Seconds(15))).reason,
            RejectReason::kUnknownPageView);
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = "v1", .page_view_id = "pv1"}).outcome,
            Outcome::kAccepted);
  EXPECT_EQ(Record(PingOf("articles/b", "pv1", absl::Seconds(15))).reason,
            RejectReason::kUnknownPageView);
  EXPECT_EQ(Record(PingOf("articles/a", "pv2", absl::Seconds(15))).reason,
            RejectReason::kUnknownPageView);
  const Verdict v = Record(PingOf("articles/a", "pv1", absl::Seconds(15)));
  EXPECT_EQ(v.outcome, Outcome::kAccepted);
  EXPECT_EQ(Engaged(store_, "a"), 15);
  EXPECT_EQ(Views("a"), 1);  // a ping is not a view
  EXPECT_EQ(store_.Series("a", absl::Hours(1), 60).concurrent_readers, 1);
  // Pings keep their page view alive past the dedup window.
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Minutes(10));
    EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Seconds(15))).outcome, Outcome::kAccepted);
  }
  // Silent for longer than the dedup window: forgotten.
  clock_.Advance(absl::Minutes(31));
  EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Seconds(15))).reason,
            RejectReason::kUnknownPageView);
}

TEST_F(IngestorTest, PingIntervalCapAndTimeRules) {
  Record({.article_name = "articles/a", .visitor_id = "v1", .page_view_id = "pv1"});
  EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Seconds(60))).outcome, Outcome::kAccepted);
  EXPECT_EQ(Engaged(store_, "a"), 20);  // capped at --max_engaged_per_ping
  clock_.Advance(absl::Seconds(9));
  EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Seconds(9))).reason,
            RejectReason::kTooFrequent);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Milliseconds(9600))).outcome,
            Outcome::kAccepted);
  EXPECT_EQ(Engaged(store_, "a"), 30);  // 9.6 s rounds to 10
  RawView old = PingOf("articles/a", "pv1", absl::Seconds(5));
  old.view_time = clock_.Now() - absl::Minutes(6);
  EXPECT_EQ(Record(old).reason, RejectReason::kTooOld);
  RawView future = PingOf("articles/a", "pv1", absl::Seconds(5));
  future.view_time = clock_.Now() + absl::Minutes(1);
  EXPECT_EQ(Record(future).reason, RejectReason::kFromFuture);
  RawView bot = PingOf("articles/a", "pv1", absl::Seconds(5));
  bot.user_agent = "Googlebot/2.1";
  EXPECT_EQ(Record(bot).reason, RejectReason::kBot);
  EXPECT_EQ(Record(PingOf("articles/a", "", absl::Seconds(5))).reason, RejectReason::kInvalidField);
  EXPECT_EQ(Engaged(store_, "a"), 30);
}

TEST(CheckViewFieldsTest, NamesThePingFields) {
  RawView ping{.article_name = "articles/a", .kind = EventKind::kEngagement};
  std::vector<FieldProblem> p = CheckViewFields(ping);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].field, "page_view_id");
  EXPECT_EQ(p[1].field, "engaged_duration");
  ping.page_view_id = "pv";
  ping.engaged = absl::Seconds(-1);
  p = CheckViewFields(ping);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].description, "must not be negative");
  RawView view{.article_name = "articles/a", .page_view_id = std::string(101, 'p'),
               .engaged = absl::Seconds(3)};
  p = CheckViewFields(view);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].field, "page_view_id");
  EXPECT_EQ(p[1].field, "engaged_duration");
}

TEST_F(IngestorTest, AReloadIsANewPageViewOfACountedView) {
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = "v1", .page_view_id = "pv1"}).outcome,
            Outcome::kAccepted);
  EXPECT_EQ(Record({.article_name = "articles/a", .visitor_id = "v1", .page_view_id = "pv2"}).outcome,
            Outcome::kDeduplicated);
  EXPECT_EQ(Record(PingOf("articles/a", "pv2", absl::Seconds(12))).outcome, Outcome::kAccepted);
  EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Seconds(3))).outcome, Outcome::kAccepted);
  EXPECT_EQ(Engaged(store_, "a"), 15);
  // One visitor in two tabs is one reader.
  EXPECT_EQ(store_.Series("a", absl::Hours(1), 60).concurrent_readers, 1);
}

TEST_F(IngestorTest, RateLimitedVisitorsPingsDoNotCount) {
  Ingestor limited(store_, clock_, hasher_, {.max_views_per_visitor_per_minute = 2});
  uint64_t t = 0;
  EXPECT_EQ(limited.Record({.article_name = "articles/a", .visitor_id = "v9", .page_view_id = "p"}, &t)
                .outcome,
            Outcome::kAccepted);
  EXPECT_EQ(limited.Record({.article_name = "articles/b", .visitor_id = "v9"}, &t).outcome,
            Outcome::kAccepted);
  EXPECT_EQ(limited.Record(PingOf("articles/a", "p", absl::Seconds(15), "v9"), &t).reason,
            RejectReason::kRateLimited);
  EXPECT_EQ(Engaged(store_, "a"), 0);
}

TEST_F(IngestorTest, PageViewsAndPingsOfAnotherReplicaApplyHere) {
  // Replica A registers the page view and counts a ping.
  ViewStore store_a({}, clock_);
  Ingestor a(store_a, clock_, hasher_, {});
  uint64_t t = 0;
  a.Record({.article_name = "articles/a", .visitor_id = "v1", .page_view_id = "pv1"}, &t);
  PendingBatch first = store_a.TakePending();
  ASSERT_EQ(first.seen.page_views.size(), 1u);
  clock_.Advance(absl::Seconds(15));
  EXPECT_EQ(a.Record(PingOf("articles/a", "pv1", absl::Seconds(15)), &t).outcome,
            Outcome::kAccepted);
  PendingBatch second = store_a.TakePending();
  ASSERT_EQ(second.seen.pings.size(), 1u);
  // This replica (B) knows nothing of the page view until it applies A's marks.
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Seconds(2))).reason,
            RejectReason::kUnknownPageView);
  ingest_.RememberSeen(first.seen);
  ingest_.RememberSeen(second.seen);
  // A's ping was 2 s ago: the interval holds here too.
  EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Seconds(2))).reason,
            RejectReason::kTooFrequent);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(Record(PingOf("articles/a", "pv1", absl::Seconds(12))).outcome, Outcome::kAccepted);
}

TEST(IngestorBatchTest, ABatchDecidesLikeOneViewAtATime) {
  FakeClock clock{absl::FromUnixSeconds(1'714'565'250)};
  VisitorHasher hasher{"secret"};
  const IngestOptions options{.max_views_per_visitor_per_minute = 3,
                              .max_views_per_source_per_minute = 5};
  ViewStore one_store({.shards = 4}, clock), batch_store({.shards = 4}, clock);
  Ingestor one(one_store, clock, hasher, options), batched(batch_store, clock, hasher, options);
  std::vector<RawView> views;
  std::vector<std::string> names, visitors, events;
  for (int i = 0; i < 400; ++i) {
    names.push_back("articles/a" + std::to_string(i % 13));
    visitors.push_back(i % 5 == 0 ? "" : "v" + std::to_string(i % 37));
    events.push_back(i % 7 == 0 ? "e" + std::to_string(i % 21) : "");
  }
  for (int i = 0; i < 400; ++i) {
    RawView v{.article_name = names[i], .visitor_id = visitors[i], .event_id = events[i],
              .source = i % 3 == 0 ? "ipv4:10.0.0.1" : ""};
    if (i % 50 == 0) v.user_agent = "crawler";
    if (i % 61 == 0) v.article_name = "nope";
    views.push_back(v);
  }
  std::vector<Verdict> expected, got(views.size());
  uint64_t t1 = 0, t2 = 0;
  for (const RawView& v : views) expected.push_back(one.Record(v, &t1));
  batched.RecordBatch(views, got.data(), &t2);
  int counted = 0;
  for (size_t i = 0; i < views.size(); ++i) {
    EXPECT_EQ(got[i].outcome, expected[i].outcome) << i;
    EXPECT_EQ(got[i].reason, expected[i].reason) << i;
    counted += got[i].outcome == Outcome::kAccepted;
  }
  EXPECT_GT(counted, 50);
  EXPECT_LT(counted, 350);
  EXPECT_EQ(t1, t2);
  const TrendingResult a = one_store.Trending({.window = absl::Hours(1), .limit = 20});
  const TrendingResult b = batch_store.Trending({.window = absl::Hours(1), .limit = 20});
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    EXPECT_EQ(a.entries[i].article, b.entries[i].article);
    EXPECT_EQ(a.entries[i].views, b.entries[i].views);
  }
}

// A view the store cannot take (full) is rejected and leaves no dedup
// record behind: its repeat counts once there is room.
TEST(IngestorBatchTest, AFullStoreRejectsNewArticlesAndForgetsTheirKeys) {
  FakeClock clock{absl::FromUnixSeconds(1'714'565'250)};
  VisitorHasher hasher{"secret"};
  ViewStore store({.shards = 2, .max_articles = 1}, clock);
  Ingestor ingest(store, clock, hasher, {});
  uint64_t ticket = 0;
  EXPECT_EQ(ingest.Record({.article_name = "articles/a", .visitor_id = "v"}, &ticket).outcome,
            Outcome::kAccepted);
  const Verdict full = ingest.Record({.article_name = "articles/b", .visitor_id = "v", .event_id = "e1"}, &ticket);
  EXPECT_EQ(full.outcome, Outcome::kRejected);
  EXPECT_EQ(full.reason, RejectReason::kStoreFull);
  clock.Advance(absl::Hours(24 * 8));
  store.TakePending();
  store.Maintain();  // "a" expired: room again
  EXPECT_EQ(ingest.Record({.article_name = "articles/b", .visitor_id = "v", .event_id = "e1"}, &ticket).outcome,
            Outcome::kAccepted);
}

}  // namespace
}  // namespace newsgrid::trending
