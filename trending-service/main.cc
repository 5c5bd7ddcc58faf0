// trending-service: article views aggregated into rankings, over gRPC.
#include "trending-service/trending_grpc_service.h"
#include "runtime/server.h"

namespace newsgrid {
const MigrationSet& TrendingMigrations();
}

int main(int argc, char** argv) {
  newsgrid::ServerConfig config = newsgrid::InitServerOrExit(
      argc, argv, {.env_prefix = "TRENDING", .port = 50052, .metrics_port = 9092});
  newsgrid::ServerRuntime runtime("trending-service", config, newsgrid::TrendingMigrations());
  if (!runtime.Prepare().ok()) return 1;
  if (config.migrate == newsgrid::MigrateMode::kOnly) return runtime.Run();
  newsgrid::trending::TrendingGrpcService service(runtime.db(), runtime.workers(), config);
  runtime.AddService(&service, newsgrid::trending::TrendingGrpcService::kServiceName);
  return runtime.Run();
}
