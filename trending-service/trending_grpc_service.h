// The gRPC face of the trending service: request handling on the callback
// API, with blocking work handed to the worker pool.
#ifndef NEWSGRID_TRENDING_SERVICE_TRENDING_GRPC_SERVICE_H_
#define NEWSGRID_TRENDING_SERVICE_TRENDING_GRPC_SERVICE_H_

#include "news/trending/v1/trending_service.grpc.pb.h"
#include "runtime/config.h"
#include "runtime/pg_pool.h"
#include "runtime/worker_pool.h"

namespace newsgrid::trending {

class TrendingGrpcService final : public news::trending::v1::TrendingService::CallbackService {
 public:
  static constexpr char kServiceName[] = "news.trending.v1.TrendingService";

  TrendingGrpcService(PgPool& db, WorkerPool& workers, const ServerConfig& config)
      : db_(db), workers_(workers), config_(config) {}

 private:
  [[maybe_unused]] PgPool& db_;
  [[maybe_unused]] WorkerPool& workers_;
  [[maybe_unused]] const ServerConfig& config_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_TRENDING_GRPC_SERVICE_H_
