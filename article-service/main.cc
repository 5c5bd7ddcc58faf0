// article-service: the article lifecycle on PostgreSQL, over gRPC.
#include "article-service/article_grpc_service.h"
#include "runtime/server.h"

namespace newsgrid {
const MigrationSet& ArticleMigrations();
}

int main(int argc, char** argv) {
  newsgrid::ServerConfig config = newsgrid::InitServerOrExit(
      argc, argv, {.env_prefix = "ARTICLE", .port = 50051, .metrics_port = 9091});
  newsgrid::ServerRuntime runtime("article-service", config, newsgrid::ArticleMigrations());
  if (!runtime.Prepare().ok()) return 1;
  if (config.migrate == newsgrid::MigrateMode::kOnly) return runtime.Run();
  newsgrid::article::ArticleGrpcService service(runtime.db(), runtime.workers(), config);
  runtime.AddService(&service, newsgrid::article::ArticleGrpcService::kServiceName);
  return runtime.Run();
}
