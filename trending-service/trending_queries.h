// The trending service's use-case layer between the gRPC reactors
// (trending_grpc_service.h) and the domain (view_store.h, ingestor.h):
// requests are validated into domain queries (INVALID_ARGUMENT naming every
// bad field, as a google.rpc.BadRequest) and results converted back to
// protos; times and durations go through protobuf's TimeUtil. Errors are
// values here; the reactors map them to grpc::Status once (ToGrpcStatus).
// Nothing here touches gRPC, threads or locks, so the request fuzzer links
// it alone.
//
//   ASSIGN_OR_RETURN(TrendingQuery q, QueryFromProto(req, store.options().retention));
//   ResultToProto(rankings.Get(q), q.metric, &resp);
//   ASSIGN_OR_RETURN(StatsQuery s, StatsQueryFromProto(stats_req, store.options().retention));
//   StatsToProto(store.Series(s.article, s.window, s.granularity_min), stats_req.article(), &out);
#ifndef NEWSGRID_TRENDING_SERVICE_TRENDING_QUERIES_H_
#define NEWSGRID_TRENDING_SERVICE_TRENDING_QUERIES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "news/trending/v1/trending_service.pb.h"
#include "trending-service/article_metadata.h"
#include "trending-service/ingestor.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

// Validates a GetTrendingRequest into a query (INVALID_ARGUMENT with field
// violations under `prefix`).
absl::StatusOr<TrendingQuery> QueryFromProto(const news::trending::v1::GetTrendingRequest& req,
                                             absl::Duration retention,
                                             const std::string& prefix = "");

// A WatchTrending stream's query and push interval.
struct WatchQuery {
  TrendingQuery query;
  absl::Duration min_interval = absl::Seconds(1);
};
// Validates a WatchTrendingRequest: the query's fields under "query.", and
// min_interval (at least 100ms), all violations in one status.
absl::StatusOr<WatchQuery> WatchQueryFromProto(const news::trending::v1::WatchTrendingRequest& req,
                                               absl::Duration retention);

// An article's series as GetArticleStats asks for it.
struct StatsQuery {
  std::string article;  // {article} id
  absl::Duration window = absl::Hours(24);
  int32_t granularity_min = 1;
};
// Validates a GetArticleStatsRequest (article name, window within the
// retention, a granularity the window's resolution divides, at most 1000
// points).
absl::StatusOr<StatsQuery> StatsQueryFromProto(
    const news::trending::v1::GetArticleStatsRequest& req, absl::Duration retention);

// Converts a proto event for the Ingestor (views into `e`); `metadata`
// receives the event metadata if any.
RawView ViewFromProto(const news::trending::v1::ViewEvent& e, ArticleMetadata& metadata);
// RecordView's request: an event is required, and a malformed one is the
// caller's error (AIP-193; fields under "event."). Only the counting rules
// (bots, time, dedup, rate limits) are answered as outcomes.
absl::Status CheckRecordViewRequest(const news::trending::v1::RecordViewRequest& req);
absl::Status CheckViewEvent(const RawView& view);
// A RecordViews batch: at most 1000 events, a batch id of at most 100
// characters without NUL.
absl::Status CheckViewsBatch(const news::trending::v1::RecordViewsRequest& req);

news::trending::v1::RecordViewResponse::Outcome OutcomeToProto(Outcome outcome);
news::trending::v1::RejectReason ReasonToProto(RejectReason reason);
void ResultToProto(const TrendingResult& result, RankMetric metric,
                   news::trending::v1::GetTrendingResponse* out);
// `article_name` is the request's "articles/{article}".
void StatsToProto(const ArticleSeries& series, const std::string& article_name,
                  news::trending::v1::ArticleStats* out);

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_TRENDING_QUERIES_H_
