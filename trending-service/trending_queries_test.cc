#include "trending-service/trending_queries.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/status.h"

namespace newsgrid::trending {
namespace {

namespace pb = news::trending::v1;

constexpr absl::Duration kRetention = absl::Hours(24 * 7);

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : GetFieldViolations(s)) out.push_back(v.field);
  return out;
}

TEST(QueryFromProtoTest, DefaultsForAnEmptyRequest) {
  absl::StatusOr<TrendingQuery> q = QueryFromProto(pb::GetTrendingRequest(), kRetention);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->window, absl::Hours(1));
  EXPECT_EQ(q->metric, RankMetric::kViews);
  EXPECT_EQ(q->limit, 10);
  EXPECT_FALSE(q->filtered());
}

TEST(QueryFromProtoTest, ConvertsEveryField) {
  pb::GetTrendingRequest req;
  req.mutable_window()->set_seconds(90 * 60);
  req.mutable_window()->set_nanos(500'000'000);
  req.set_metric(pb::HOT);
  req.set_limit(25);
  req.set_section("world");
  req.add_exclude("articles/a1");
  absl::StatusOr<TrendingQuery> q = QueryFromProto(req, kRetention);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->window, absl::Minutes(90) + absl::Milliseconds(500));
  EXPECT_EQ(q->metric, RankMetric::kHot);
  EXPECT_EQ(q->limit, 25);
  EXPECT_EQ(q->section, "world");
  EXPECT_TRUE(q->exclude.contains("a1"));
}

TEST(QueryFromProtoTest, NamesEveryBadFieldUnderThePrefix) {
  pb::GetTrendingRequest req;
  req.mutable_window()->set_seconds(30);
  req.set_metric(static_cast<pb::Metric>(99));
  req.set_limit(101);
  req.set_tag(std::string(201, 't'));
  req.add_exclude("not-a-name");
  absl::StatusOr<TrendingQuery> q = QueryFromProto(req, kRetention, "query.");
  ASSERT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fields(q.status()), (std::vector<std::string>{"query.window", "query.metric",
                                                          "query.limit", "query.tag",
                                                          "query.exclude[0]"}));
}

// A window whose seconds would overflow a nanosecond count stays huge (and
// is refused) instead of wrapping into an accepted one.
TEST(QueryFromProtoTest, AHugeWindowIsRefusedNotWrapped) {
  for (int64_t seconds : {int64_t{18'446'744'074}, int64_t{9'223'372'037}, int64_t{1} << 62}) {
    pb::GetTrendingRequest req;
    req.mutable_window()->set_seconds(seconds);
    EXPECT_EQ(Fields(QueryFromProto(req, kRetention).status()),
              (std::vector<std::string>{"window"}))
        << seconds;
  }
}

TEST(WatchQueryFromProtoTest, DefaultIntervalAndEveryViolationAtOnce) {
  pb::WatchTrendingRequest req;
  absl::StatusOr<WatchQuery> w = WatchQueryFromProto(req, kRetention);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->min_interval, absl::Seconds(1));
  EXPECT_EQ(w->query.limit, 10);

  req.mutable_min_interval()->set_nanos(250'000'000);
  w = WatchQueryFromProto(req, kRetention);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->min_interval, absl::Milliseconds(250));

  req.mutable_query()->set_limit(-1);
  EXPECT_EQ(Fields(WatchQueryFromProto(req, kRetention).status()),
            (std::vector<std::string>{"query.limit"}));
  req.mutable_min_interval()->set_nanos(50'000'000);
  absl::Status s = WatchQueryFromProto(req, kRetention).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fields(s), (std::vector<std::string>{"query.limit", "min_interval"}));
}

TEST(StatsQueryFromProtoTest, DefaultsAndGranularity) {
  pb::GetArticleStatsRequest req;
  req.set_article("articles/a1");
  absl::StatusOr<StatsQuery> s = StatsQueryFromProto(req, kRetention);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->article, "a1");
  EXPECT_EQ(s->window, absl::Hours(24));
  EXPECT_EQ(s->granularity_min, 60);

  req.mutable_window()->set_seconds(30 * 60);
  s = StatsQueryFromProto(req, kRetention);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->granularity_min, 1);

  req.mutable_granularity()->set_seconds(5 * 60);
  s = StatsQueryFromProto(req, kRetention);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->granularity_min, 5);
}

TEST(StatsQueryFromProtoTest, NamesEveryBadField) {
  pb::GetArticleStatsRequest req;
  req.set_article("a1");
  req.mutable_window()->set_seconds(kRetention / absl::Seconds(1) + 3600);
  req.mutable_granularity()->set_seconds(90);
  EXPECT_EQ(Fields(StatsQueryFromProto(req, kRetention).status()),
            (std::vector<std::string>{"article", "window", "granularity"}));
  // Too many points: hourly over 60 days (1440 of them).
  const absl::Duration long_retention = absl::Hours(24 * 90);
  pb::GetArticleStatsRequest many;
  many.set_article("articles/a1");
  many.mutable_window()->set_seconds(40 * 24 * 3600);
  many.mutable_granularity()->set_seconds(3600);
  EXPECT_TRUE(StatsQueryFromProto(many, long_retention).ok());
  many.mutable_window()->set_seconds(60 * 24 * 3600);
  EXPECT_EQ(Fields(StatsQueryFromProto(many, long_retention).status()),
            (std::vector<std::string>{"granularity"}));
}

TEST(ViewFromProtoTest, ConvertsTimeAndMetadata) {
  pb::ViewEvent e;
  e.set_article("articles/a1");
  e.mutable_view_time()->set_seconds(1'714'565'250);
  e.mutable_view_time()->set_nanos(123'456'789);
  e.set_visitor_id("v");
  e.mutable_metadata()->set_section("world");
  e.mutable_metadata()->add_tags("x");
  ArticleMetadata m;
  const RawView v = ViewFromProto(e, m);
  EXPECT_EQ(v.article_name, "articles/a1");
  EXPECT_EQ(v.view_time, absl::FromUnixNanos(1'714'565'250'123'456'789));
  EXPECT_EQ(v.visitor_id, "v");
  ASSERT_EQ(v.metadata, &m);
  EXPECT_EQ(m.section, "world");
  EXPECT_EQ(m.tags, std::vector<std::string>{"x"});
}

TEST(ViewFromProtoTest, UnsetTimeMeansNowAndFarTimesStayFar) {
  ArticleMetadata m;
  pb::ViewEvent e;
  EXPECT_EQ(ViewFromProto(e, m).view_time, absl::InfinitePast());
  EXPECT_EQ(ViewFromProto(e, m).metadata, nullptr);
  e.mutable_view_time()->set_seconds(253'402'300'799);  // 9999-12-31T23:59:59Z
  EXPECT_EQ(ViewFromProto(e, m).view_time, absl::FromUnixSeconds(253'402'300'799));
  e.mutable_view_time()->set_seconds(-62'135'596'800);  // 0001-01-01T00:00:00Z
  EXPECT_EQ(ViewFromProto(e, m).view_time, absl::FromUnixSeconds(-62'135'596'800));
  e.mutable_view_time()->set_seconds(-1);
  e.mutable_view_time()->set_nanos(500'000'000);
  EXPECT_EQ(ViewFromProto(e, m).view_time, absl::FromUnixMillis(-500));
}

TEST(IngestChecksTest, RequestEventAndBatch) {
  pb::RecordViewRequest req;
  EXPECT_EQ(Fields(CheckRecordViewRequest(req)), std::vector<std::string>{"event"});
  req.mutable_event()->set_article("articles/a1");
  EXPECT_TRUE(CheckRecordViewRequest(req).ok());

  ArticleMetadata m;
  EXPECT_TRUE(CheckViewEvent(ViewFromProto(req.event(), m)).ok());
  req.mutable_event()->set_article("a1");
  EXPECT_EQ(Fields(CheckViewEvent(ViewFromProto(req.event(), m))),
            std::vector<std::string>{"event.article"});

  pb::RecordViewsRequest batch;
  EXPECT_TRUE(CheckViewsBatch(batch).ok());
  batch.set_batch_id(std::string("a\0b", 3));
  for (int i = 0; i < 1001; ++i) batch.add_events();
  EXPECT_EQ(Fields(CheckViewsBatch(batch)), (std::vector<std::string>{"events", "batch_id"}));
}

TEST(ResultToProtoTest, TimesRanksAndMetric) {
  TrendingResult r;
  r.compute_time = absl::FromUnixNanos(-1'500'000'000);  // before the epoch: nanos stay >= 0
  r.window = absl::Hours(1) + absl::Nanoseconds(7);
  r.resolution = absl::Minutes(1);
  RankedEntry e;
  e.article = "a1";
  e.views = 5;
  e.rank = 1;
  e.previous_rank = 3;
  e.summary = ArticleSummary{.title = "T", .publish_time = absl::FromUnixSeconds(100)};
  r.entries.push_back(e);
  pb::GetTrendingResponse out;
  ResultToProto(r, RankMetric::kUniqueVisitors, &out);
  EXPECT_EQ(out.compute_time().seconds(), -2);
  EXPECT_EQ(out.compute_time().nanos(), 500'000'000);
  EXPECT_EQ(out.window().seconds(), 3600);
  EXPECT_EQ(out.window().nanos(), 7);
  EXPECT_EQ(out.resolution().seconds(), 60);
  EXPECT_EQ(out.metric(), pb::UNIQUE_VISITORS);
  ASSERT_EQ(out.entries_size(), 1);
  EXPECT_EQ(out.entries(0).article(), "articles/a1");
  EXPECT_EQ(out.entries(0).rank_change(), 2);
  EXPECT_TRUE(out.entries(0).hydrated());
  EXPECT_EQ(out.entries(0).summary().publish_time().seconds(), 100);
}

TEST(StatsToProtoTest, PointsAtMinuteStarts) {
  ArticleSeries s;
  s.points = {{.start_min = 10, .views = 3, .unique_visitors = 2}};
  s.total_views = 3;
  s.granularity_min = 5;
  s.compute_time = absl::FromUnixSeconds(1000);
  pb::ArticleStats out;
  StatsToProto(s, "articles/a1", &out);
  EXPECT_EQ(out.article(), "articles/a1");
  ASSERT_EQ(out.points_size(), 1);
  EXPECT_EQ(out.points(0).start_time().seconds(), 600);
  EXPECT_EQ(out.points(0).views(), 3);
  EXPECT_EQ(out.granularity().seconds(), 300);
  EXPECT_EQ(out.compute_time().seconds(), 1000);
}

TEST(ViewFromProtoTest, ConvertsAPing) {
  pb::ViewEvent e;
  e.set_article("articles/a1");
  e.set_kind(pb::ENGAGEMENT);
  e.set_page_view_id("pv-1");
  e.mutable_engaged_duration()->set_seconds(14);
  e.mutable_engaged_duration()->set_nanos(500'000'000);
  ArticleMetadata m;
  RawView v = ViewFromProto(e, m);
  EXPECT_EQ(v.kind, EventKind::kEngagement);
  EXPECT_EQ(v.page_view_id, "pv-1");
  EXPECT_EQ(v.engaged, absl::Milliseconds(14'500));
  EXPECT_TRUE(CheckViewEvent(v).ok());
  // A view without engaged_duration, and a kind this version does not know.
  e.set_kind(pb::VIEW);
  e.clear_engaged_duration();
  v = ViewFromProto(e, m);
  EXPECT_EQ(v.kind, EventKind::kView);
  EXPECT_EQ(v.engaged, -absl::InfiniteDuration());
  e.set_kind(static_cast<pb::EventKind>(7));
  EXPECT_EQ(Fields(CheckViewEvent(ViewFromProto(e, m))), std::vector<std::string>{"event.kind"});
}

TEST(QueryFromProtoTest, EveryMetricBothWays) {
  for (pb::Metric m : {pb::VIEWS, pb::UNIQUE_VISITORS, pb::HOT, pb::ENGAGED_TIME,
                       pb::AVERAGE_ENGAGED_TIME, pb::CONCURRENT_READERS}) {
    pb::GetTrendingRequest req;
    req.set_metric(m);
    absl::StatusOr<TrendingQuery> q = QueryFromProto(req, kRetention);
    ASSERT_TRUE(q.ok()) << q.status();
    pb::GetTrendingResponse out;
    ResultToProto(TrendingResult(), q->metric, &out);
    EXPECT_EQ(out.metric(), m);
  }
  pb::GetTrendingRequest bad;
  bad.set_metric(static_cast<pb::Metric>(42));
  EXPECT_EQ(Fields(QueryFromProto(bad, kRetention).status()), std::vector<std::string>{"metric"});
}

TEST(ResultToProtoTest, EngagementAsDurations) {
  TrendingResult r;
  RankedEntry e;
  e.article = "a1";
  e.engaged_seconds = 75;
  e.average_engaged_seconds = 12.5;
  e.concurrent_readers = 4;
  r.entries.push_back(e);
  pb::GetTrendingResponse out;
  ResultToProto(r, RankMetric::kEngagedTime, &out);
  ASSERT_EQ(out.entries_size(), 1);
  EXPECT_EQ(out.entries(0).engaged_time().seconds(), 75);
  EXPECT_EQ(out.entries(0).average_engaged_time().seconds(), 12);
  EXPECT_EQ(out.entries(0).average_engaged_time().nanos(), 500'000'000);
  EXPECT_EQ(out.entries(0).concurrent_readers(), 4);
  ArticleSeries s;
  s.points = {{.start_min = 10, .views = 3, .unique_visitors = 2, .engaged_seconds = 40}};
  s.engaged_seconds = 40;
  s.average_engaged_seconds = 20;
  s.concurrent_readers = 1;
  pb::ArticleStats stats;
  StatsToProto(s, "articles/a1", &stats);
  EXPECT_EQ(stats.points(0).engaged_time().seconds(), 40);
  EXPECT_EQ(stats.engaged_time().seconds(), 40);
  EXPECT_EQ(stats.average_engaged_time().seconds(), 20);
  EXPECT_EQ(stats.concurrent_readers(), 1);
}

}  // namespace
}  // namespace newsgrid::trending
