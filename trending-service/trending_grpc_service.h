// The gRPC face of the trending service: the reactors of the callback API.
// Request validation and proto <-> domain conversion are the use-case
// layer's (trending_queries.h); errors come back as values and are mapped
// to grpc::Status here, once.
//
// Ingest (RecordView, RecordViews) needs a bearer token with views:write
// (runtime/auth.h; off without --auth_tokens_file); queries are public.
// A RecordViews batch is counted on the service's ingest threads (memory
// work under striped locks, one Ingestor::RecordBatch per message), not on
// gRPC's callback threads: those few threads also read every connection,
// and a query must not queue behind ingest batches. A stream's next batch
// is read once the previous one is counted, so the ingest queue holds at
// most one batch per stream. With --ack_after_flush the answer waits for
// the synchronizer's flush instead (no thread is held). GetTrending is
// answered on the callback thread when the ranking and article caches hold
// the answer, else on the worker pool, like GetArticleStats. WatchTrending
// streams are driven by one watcher thread that recomputes each watched
// ranking at most once per its min_interval and writes only when the
// ranked articles or their order changed; the streams end with OK when
// shutdown starts (EndWatches, from ServerRuntime::OnShutdownStarted).
//
//   TrendingGrpcService service({store, ingestor, sync, rankings, workers, authorizer}, ack,
//                               /*ingest_threads=*/4);
//   runtime.AddService(&service, TrendingGrpcService::kServiceName);
//   runtime.OnShutdownStarted([&] { service.EndWatches(); });
#ifndef NEWSGRID_TRENDING_SERVICE_TRENDING_GRPC_SERVICE_H_
#define NEWSGRID_TRENDING_SERVICE_TRENDING_GRPC_SERVICE_H_

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
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
  // `ingest_threads` count RecordViews batches.
  // max_queued_views: views of batches read and waiting for an ingest
  // thread; past it a stream's next batch is refused (RESOURCE_EXHAUSTED).
  TrendingGrpcService(Deps deps, bool ack_after_flush, int ingest_threads = 4,
                      int64_t max_queued_views = 250'000);
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
  // Destroyed (joined) after the server stopped: no batch is then queued.
  WorkerPool ingest_;
  const int64_t max_queued_views_;
  std::atomic<int64_t> queued_views_{0};
  absl::Mutex watches_mu_;
  std::vector<std::shared_ptr<Watch>> watches_ ABSL_GUARDED_BY(watches_mu_);
  bool watches_ended_ ABSL_GUARDED_BY(watches_mu_) = false;
  absl::Notification stop_watcher_;
  std::thread watcher_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_TRENDING_GRPC_SERVICE_H_
