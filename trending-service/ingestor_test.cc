#include "trending-service/ingestor.h"

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

TEST_F(IngestorTest, VisitorSaltRotatesDaily) {
  const absl::Time t = clock_.Now();
  EXPECT_EQ(hasher_.Hash("v", t), hasher_.Hash("v", t + absl::Hours(1)));
  EXPECT_NE(hasher_.Hash("v", t), hasher_.Hash("v", t + absl::Hours(12)));  // next UTC day
  EXPECT_NE(hasher_.Hash("v", t), VisitorHasher("other").Hash("v", t));
  EXPECT_EQ(hasher_.Hash("v", t), VisitorHasher("secret").Hash("v", t));
}

}  // namespace
}  // namespace newsgrid::trending
