#include "trending-service/trending_queries.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "runtime/status.h"
#include "runtime/status_macros.h"
#include "trending-service/ingest_rules.h"
#include "trending-service/windows.h"

namespace newsgrid::trending {
namespace {

namespace pb = news::trending::v1;
using google::protobuf::util::TimeUtil;

constexpr int kMaxBatchEvents = 1000;
constexpr size_t kMaxBatchIdLength = 100;
constexpr size_t kMaxFilterLength = 200;
constexpr int kMaxSeriesPoints = 1000;

// TimeUtil counts nanoseconds in an int64: whole seconds up to ±9.2e9
// (years 1678..2262). A request may carry any seconds: beyond that range
// they are taken whole, so a far-off time stays far off (and is rejected as
// such) instead of wrapping around into a plausible one.
constexpr int64_t kMaxSecondsAsNanos = 9'000'000'000;

absl::Time TimeFromProto(const google::protobuf::Timestamp& t) {
  if (t.seconds() > -kMaxSecondsAsNanos && t.seconds() < kMaxSecondsAsNanos) {
    return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
  }
  return absl::FromUnixSeconds(TimeUtil::TimestampToSeconds(t));
}
void TimeToProto(absl::Time t, google::protobuf::Timestamp* out) {
  *out = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}
absl::Duration DurationFromProto(const google::protobuf::Duration& d) {
  if (d.seconds() > -kMaxSecondsAsNanos && d.seconds() < kMaxSecondsAsNanos) {
    return absl::Nanoseconds(TimeUtil::DurationToNanoseconds(d));
  }
  return absl::Seconds(TimeUtil::DurationToSeconds(d));
}
void DurationToProto(absl::Duration d, google::protobuf::Duration* out) {
  *out = TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(d));
}

// The proto's metrics and the store's, in one table for both directions.
constexpr std::pair<pb::Metric, RankMetric> kMetrics[] = {
    {pb::VIEWS, RankMetric::kViews},
    {pb::UNIQUE_VISITORS, RankMetric::kUniqueVisitors},
    {pb::HOT, RankMetric::kHot},
    {pb::ENGAGED_TIME, RankMetric::kEngagedTime},
    {pb::AVERAGE_ENGAGED_TIME, RankMetric::kAverageEngagedTime},
    {pb::CONCURRENT_READERS, RankMetric::kConcurrentReaders},
};

// Seconds (possibly fractional) as a Duration message.
void SecondsToProto(double seconds, google::protobuf::Duration* out) {
  DurationToProto(absl::Milliseconds(std::llround(seconds * 1000)), out);
}

int32_t GranularityFor(const pb::GetArticleStatsRequest& req, absl::Duration window,
                       FieldViolations& v) {
  const int32_t resolution = ResolutionFor(window);
  int32_t g = window <= absl::Hours(1) ? 1 : kMinutesPerHour;
  if (req.has_granularity()) {
    const absl::Duration d = DurationFromProto(req.granularity());
    if (d <= absl::ZeroDuration() || d % absl::Minutes(resolution) != absl::ZeroDuration()) {
      v.Add("granularity", absl::StrCat("must be a positive multiple of ", resolution,
                                        " minute(s) for this window"));
      return 0;
    }
    g = static_cast<int32_t>(absl::ToInt64Minutes(d));
  }
  if (CeilDiv(absl::ToInt64Minutes(absl::Ceil(window, absl::Minutes(1))), g) > kMaxSeriesPoints) {
    v.Add("granularity", absl::StrCat("gives more than ", kMaxSeriesPoints, " points"));
  }
  return g;
}

}  // namespace

RawView ViewFromProto(const pb::ViewEvent& e, ArticleMetadata& metadata) {
  RawView v;
  v.article_name = e.article();
  if (e.has_view_time()) v.view_time = TimeFromProto(e.view_time());
  v.visitor_id = e.visitor_id();
  v.referrer = e.referrer();
  v.user_agent = e.user_agent();
  v.event_id = e.event_id();
  v.page_view_id = e.page_view_id();
  switch (e.kind()) {
    case pb::EVENT_KIND_UNSPECIFIED:
    case pb::VIEW: v.kind = EventKind::kView; break;
    case pb::ENGAGEMENT: v.kind = EventKind::kEngagement; break;
    default: v.kind_known = false;
  }
  if (e.has_engaged_duration()) v.engaged = DurationFromProto(e.engaged_duration());
  if (e.has_metadata()) {
    metadata.section = e.metadata().section();
    metadata.tags.assign(e.metadata().tags().begin(), e.metadata().tags().end());
    metadata.authors.assign(e.metadata().authors().begin(), e.metadata().authors().end());
    v.metadata = &metadata;
  }
  return v;
}

absl::Status CheckRecordViewRequest(const pb::RecordViewRequest& req) {
  if (!req.has_event()) return InvalidFieldError("event", "is required");
  return absl::OkStatus();
}

absl::Status CheckViewEvent(const RawView& view) {
  FieldViolations v;
  for (FieldProblem& p : CheckViewFields(view)) v.Add("event." + p.field, std::move(p.description));
  return v.ToStatus();
}

absl::Status CheckViewsBatch(const pb::RecordViewsRequest& req) {
  FieldViolations v;
  if (req.events_size() > kMaxBatchEvents) {
    v.Add("events", absl::StrCat("has more than ", kMaxBatchEvents, " events"));
  }
  if (req.batch_id().size() > kMaxBatchIdLength || req.batch_id().find('\0') != std::string::npos) {
    v.Add("batch_id", "must be at most 100 characters, without NUL");
  }
  return v.ToStatus();
}

absl::StatusOr<TrendingQuery> QueryFromProto(const pb::GetTrendingRequest& req,
                                             absl::Duration retention,
                                             const std::string& prefix) {
  FieldViolations v;
  TrendingQuery q;
  if (req.has_window()) {
    q.window = DurationFromProto(req.window());
    if (q.window < absl::Minutes(1) || q.window > retention) {
      v.Add(prefix + "window", absl::StrCat("must be between 1m and the retention (",
                                            absl::FormatDuration(retention), ")"));
    }
  }
  if (req.metric() == pb::METRIC_UNSPECIFIED) {
    q.metric = RankMetric::kViews;
  } else {
    const auto* m = std::find_if(std::begin(kMetrics), std::end(kMetrics),
                                 [&](const auto& e) { return e.first == req.metric(); });
    if (m == std::end(kMetrics)) {
      v.Add(prefix + "metric", "is not a known metric");
    } else {
      q.metric = m->second;
    }
  }
  if (req.limit() == 0) {
    q.limit = 10;
  } else if (req.limit() < 0 || req.limit() > 100) {
    v.Add(prefix + "limit", "must be between 1 and 100");
  } else {
    q.limit = req.limit();
  }
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"section", &req.section()},
                                    {"tag", &req.tag()},
                                    {"author", &req.author()}}) {
    if (value->size() > kMaxFilterLength) {
      v.Add(prefix + name, absl::StrCat("is longer than ", kMaxFilterLength, " characters"));
    }
  }
  q.section = req.section();
  q.tag = req.tag();
  q.author = req.author();
  if (req.exclude_size() > 100) v.Add(prefix + "exclude", "has more than 100 entries");
  for (int i = 0; i < req.exclude_size() && i < 100; ++i) {
    std::optional<absl::string_view> id = ParseArticleName(req.exclude(i));
    if (!id) {
      v.Add(absl::StrCat(prefix, "exclude[", i, "]"), "must be \"articles/{article}\"");
    } else {
      q.exclude.insert(std::string(*id));
    }
  }
  RETURN_IF_ERROR(v.ToStatus());
  return q;
}

absl::StatusOr<WatchQuery> WatchQueryFromProto(const pb::WatchTrendingRequest& req,
                                               absl::Duration retention) {
  absl::StatusOr<TrendingQuery> q = QueryFromProto(req.query(), retention, "query.");
  WatchQuery watch;
  absl::Status status = q.status();
  if (req.has_min_interval()) {
    watch.min_interval = DurationFromProto(req.min_interval());
    if (watch.min_interval < absl::Milliseconds(100)) {
      // Every violation at once: the query's and this one.
      FieldViolations v;
      for (FieldViolation& f : GetFieldViolations(q.status())) {
        v.Add(std::move(f.field), std::move(f.description));
      }
      v.Add("min_interval", "must be at least 100ms");
      status = v.ToStatus();
    }
  }
  RETURN_IF_ERROR(status);
  watch.query = *std::move(q);
  return watch;
}

absl::StatusOr<StatsQuery> StatsQueryFromProto(const pb::GetArticleStatsRequest& req,
                                               absl::Duration retention) {
  FieldViolations v;
  StatsQuery s;
  const std::optional<absl::string_view> id = ParseArticleName(req.article());
  if (!id) {
    v.Add("article", "must be \"articles/{article}\"");
  } else {
    s.article = std::string(*id);
  }
  if (req.has_window()) {
    s.window = DurationFromProto(req.window());
    if (s.window < absl::Minutes(1) || s.window > retention) {
      v.Add("window", "must be between 1m and the retention");
      s.window = absl::Hours(24);  // the granularity is checked against the default
    }
  }
  s.granularity_min = GranularityFor(req, s.window, v);
  RETURN_IF_ERROR(v.ToStatus());
  return s;
}

pb::RecordViewResponse::Outcome OutcomeToProto(Outcome outcome) {
  return outcome == Outcome::kAccepted       ? pb::RecordViewResponse::ACCEPTED
         : outcome == Outcome::kDeduplicated ? pb::RecordViewResponse::DEDUPLICATED
                                             : pb::RecordViewResponse::REJECTED;
}

pb::RejectReason ReasonToProto(RejectReason r) { return static_cast<pb::RejectReason>(r); }

void ResultToProto(const TrendingResult& r, RankMetric metric, pb::GetTrendingResponse* out) {
  out->Clear();
  for (const RankedEntry& e : r.entries) {
    pb::TrendingEntry* p = out->add_entries();
    p->set_article(absl::StrCat("articles/", e.article));
    if (e.summary) {
      p->set_hydrated(true);
      pb::ArticleSummary* s = p->mutable_summary();
      s->set_title(e.summary->title);
      s->set_slug(e.summary->slug);
      s->set_section(e.summary->section);
      if (e.summary->publish_time != absl::InfinitePast()) {
        TimeToProto(e.summary->publish_time, s->mutable_publish_time());
      }
    }
    p->set_views(e.views);
    p->set_unique_visitors(e.unique_visitors);
    p->set_score(e.score);
    p->set_rank(e.rank);
    p->set_previous_rank(e.previous_rank);
    p->set_rank_change(e.previous_rank == 0 ? 0 : e.previous_rank - e.rank);
    SecondsToProto(static_cast<double>(e.engaged_seconds), p->mutable_engaged_time());
    SecondsToProto(e.average_engaged_seconds, p->mutable_average_engaged_time());
    p->set_concurrent_readers(e.concurrent_readers);
  }
  TimeToProto(r.compute_time, out->mutable_compute_time());
  DurationToProto(r.window, out->mutable_window());
  for (const auto& [proto, store] : kMetrics) {
    if (store == metric) out->set_metric(proto);
  }
  DurationToProto(r.resolution, out->mutable_resolution());
  out->set_partial(r.partial);
}

void StatsToProto(const ArticleSeries& series, const std::string& article_name,
                  pb::ArticleStats* out) {
  out->set_article(article_name);
  for (const SeriesPoint& p : series.points) {
    pb::StatsPoint* point = out->add_points();
    TimeToProto(MinuteStart(p.start_min), point->mutable_start_time());
    point->set_views(p.views);
    point->set_unique_visitors(p.unique_visitors);
    SecondsToProto(static_cast<double>(p.engaged_seconds), point->mutable_engaged_time());
  }
  out->set_total_views(series.total_views);
  out->set_unique_visitors(series.unique_visitors);
  out->set_hot_score(series.hot_score);
  SecondsToProto(static_cast<double>(series.engaged_seconds), out->mutable_engaged_time());
  SecondsToProto(series.average_engaged_seconds, out->mutable_average_engaged_time());
  out->set_concurrent_readers(series.concurrent_readers);
  TimeToProto(series.compute_time, out->mutable_compute_time());
  DurationToProto(absl::Minutes(series.granularity_min), out->mutable_granularity());
}

}  // namespace newsgrid::trending
