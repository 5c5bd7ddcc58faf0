// The gRPC face of the trending service: request validation and proto <->
// domain conversion on the callback API.
//
// Ingest (RecordView, RecordViews) needs a bearer token with views:write
// (runtime/auth.h; off without --auth_tokens_file); queries are public.
// Ingest is memory work under striped locks and
// runs inline on the callback threads; with --ack_after_flush the answer
// waits for the synchronizer's flush instead (no thread is held). Queries
// (GetTrending, GetArticleStats) run on the worker pool. WatchTrending
// streams are driven by one watcher thread that recomputes each watched
// ranking at most once per its min_interval and writes only when the
// ranked articles or their order changed; the streams end with OK when
// shutdown starts (EndWatches, from ServerRuntime::OnShutdownStarted).
//
//   TrendingGrpcService service({store, ingestor, sync, rankings, workers, authorizer}, ack);
//   runtime.AddService(&service, TrendingGrpcService::kServiceName);
//   runtime.OnShutdownStarted([&] { service.EndWatches(); });
#ifndef NEWSGRID_TRENDING_SERVICE_TRENDING_GRPC_SERVICE_H_
#define NEWSGRID_TRENDING_SERVICE_TRENDING_GRPC_SERVICE_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "news/trending/v1/trending_service.grpc.pb.h"
#include "runtime/auth.h"
#include "runtime/config.h"
#include "runtime/worker_pool.h"
#include "trending-service/ingestor.h"
#include "trending-service/rankings.h"
#include "trending-service/synchronizer.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

// Validates a GetTrendingRequest into a query (INVALID_ARGUMENT with field
// violations under `prefix`).
absl::StatusOr<TrendingQuery> QueryFromProto(const news::trending::v1::GetTrendingRequest& req,
                                             absl::Duration retention,
                                             const std::string& prefix = "");
// Converts a proto event for the Ingestor (views into `e`); `metadata`
// receives the event metadata if any.
RawView ViewFromProto(const news::trending::v1::ViewEvent& e, ArticleMetadata& metadata);
void ResultToProto(const TrendingResult& result, RankMetric metric,
                   news::trending::v1::GetTrendingResponse* out);

class TrendingGrpcService final : public news::trending::v1::TrendingService::CallbackService {
 public:
  static constexpr char kServiceName[] = "news.trending.v1.TrendingService";

  struct Deps {
    ViewStore& store;
    Ingestor& ingestor;
    Synchronizer& sync;
    Rankings& rankings;
    WorkerPool& workers;
    Authorizer& auth;
  };
  TrendingGrpcService(Deps deps, bool ack_after_flush);
  ~TrendingGrpcService() override;

  // Ends every WatchTrending stream with OK and stops the watcher thread.
  void EndWatches();

  grpc::ServerUnaryReactor* RecordView(grpc::CallbackServerContext* ctx,
                                       const news::trending::v1::RecordViewRequest* req,
                                       news::trending::v1::RecordViewResponse* resp) override;
  grpc::ServerReadReactor<news::trending::v1::RecordViewsRequest>* RecordViews(
      grpc::CallbackServerContext* ctx, news::trending::v1::RecordViewsResponse* resp) override;
  grpc::ServerUnaryReactor* GetTrending(grpc::CallbackServerContext* ctx,
                                        const news::trending::v1::GetTrendingRequest* req,
                                        news::trending::v1::GetTrendingResponse* resp) override;
  grpc::ServerUnaryReactor* GetArticleStats(grpc::CallbackServerContext* ctx,
                                            const news::trending::v1::GetArticleStatsRequest* req,
                                            news::trending::v1::ArticleStats* resp) override;
  grpc::ServerWriteReactor<news::trending::v1::GetTrendingResponse>* WatchTrending(
      grpc::CallbackServerContext* ctx,
      const news::trending::v1::WatchTrendingRequest* req) override;

  class Watch;
  class ViewsReader;

 private:
  void RunWatcher();

  Deps deps_;
  const bool ack_after_flush_;
  absl::Mutex watches_mu_;
  std::vector<std::shared_ptr<Watch>> watches_ ABSL_GUARDED_BY(watches_mu_);
  bool watches_ended_ ABSL_GUARDED_BY(watches_mu_) = false;
  absl::Notification stop_watcher_;
  std::thread watcher_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_TRENDING_GRPC_SERVICE_H_
