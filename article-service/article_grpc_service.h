// The gRPC face of the article service: request handling on the callback
// API, with blocking work handed to the worker pool.
#ifndef NEWSGRID_ARTICLE_SERVICE_ARTICLE_GRPC_SERVICE_H_
#define NEWSGRID_ARTICLE_SERVICE_ARTICLE_GRPC_SERVICE_H_

#include "news/article/v1/article_service.grpc.pb.h"
#include "runtime/config.h"
#include "runtime/pg_pool.h"
#include "runtime/worker_pool.h"

namespace newsgrid::article {

class ArticleGrpcService final : public news::article::v1::ArticleService::CallbackService {
 public:
  static constexpr char kServiceName[] = "news.article.v1.ArticleService";

  ArticleGrpcService(PgPool& db, WorkerPool& workers, const ServerConfig& config)
      : db_(db), workers_(workers), config_(config) {}

 private:
  [[maybe_unused]] PgPool& db_;
  [[maybe_unused]] WorkerPool& workers_;
  [[maybe_unused]] const ServerConfig& config_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_GRPC_SERVICE_H_
