// The server bootstrap shared by both services: configuration, logging,
// database pool and migrations, gRPC server with health and reflection,
// access log and metrics for every RPC, and graceful shutdown.
//
//   int main(int argc, char** argv) {
//     newsgrid::ServerConfig config = newsgrid::InitServerOrExit(
//         argc, argv, {.env_prefix = "ARTICLE", .port = 50051, .metrics_port = 9091});
//     newsgrid::ServerRuntime runtime("article-service", config, ArticleMigrations());
//     if (!runtime.Prepare().ok()) return 1;   // pool, migrations
//     MyService service(runtime.db(), runtime.workers());
//     runtime.AddService(&service, "news.article.v1.ArticleService");
//     return runtime.Run();                       // until SIGTERM; 0 when drained
//   }
//
// Health: the default grpc.health.v1 service reports each added service and
// "" (overall), plus "liveness", SERVING from the start of serving until
// shutdown whatever the database does (for Kubernetes liveness probes: a
// database outage must not restart pods). A service is SERVING while PostgreSQL answers and every extra
// dependency check of that service passes; the check runs every
// --db_check_interval, so health recovers with no restart.
//
// Shutdown: the first SIGTERM/SIGINT marks everything NOT_SERVING, runs the
// shutdown-started hooks (end long streams), stops accepting RPCs, lets
// in-flight ones finish until --drain_deadline, then runs the drained hooks
// (flush buffers) and Run() returns 0. A second signal exits at once (1).
// Client connections left idle are closed as soon as no call is in flight,
// so a stop with nothing in flight takes milliseconds, not the deadline.
#ifndef NEWSGRID_RUNTIME_SERVER_H_
#define NEWSGRID_RUNTIME_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"
#include "runtime/config.h"
#include "runtime/migrations.h"
#include "runtime/pg_pool.h"
#include "runtime/worker_pool.h"

namespace newsgrid {

// Process-wide settings of every server binary (InitServerOrExit applies
// them): Abseil's mutex deadlock detection is off. Debian's Abseil is built
// with it on, and it records every lock acquisition in one global graph
// under one global lock: several percent of the CPU of both services in
// benchmark profiles, and a contention point on the ingest path, which
// takes a few striped locks per event. Lock order is checked by the TSan
// runs of the test suite instead.
void ConfigureProcess();

// Blocks SIGTERM/SIGINT/SIGPIPE in this thread (call first in main, before
// any thread starts, so every thread inherits the mask), applies
// ConfigureProcess, loads and validates the shared configuration, sets the
// log level. Prints the error and exits 2 on a bad value.
ServerConfig InitServerOrExit(int argc, char** argv, const ServiceDefaults& defaults);

// Waits for SIGTERM/SIGINT (blocked in every thread by InitServerOrExit) on
// a thread of its own: the first calls `on_first`, a second exits at once
// (1). Every server binary stops this way (ServerRuntime, HttpServer).
void WatchShutdownSignals(std::function<void()> on_first);

inline constexpr char kLivenessHealthName[] = "liveness";

class ServerRuntime {
 public:
  ServerRuntime(std::string name, ServerConfig config, MigrationSet migrations);
  ~ServerRuntime();

  // Applies migrations per --migrate (retrying while the database is
  // unreachable, until a shutdown signal) and creates the pool and workers.
  // With --migrate=only, returns OK and Run() exits at once.
  absl::Status Prepare();

  // Statements to prepare on every pool connection; call before Prepare().
  void AddPreparedStatements(std::vector<PreparedStatement> statements) {
    for (auto& s : statements) prepared_.push_back(std::move(s));
  }

  PgPool& db() { return *db_; }
  WorkerPool& workers() { return *workers_; }
  const ServerConfig& config() const { return config_; }

  // Registers a service; `full_name` is its health name, e.g.
  // "news.article.v1.ArticleService".
  void AddService(grpc::Service* service, std::string full_name);
  void AddService(grpc::CallbackGenericService* service) = delete;

  // An extra condition for a service's health (e.g. a peer being reachable
  // when the service cannot work without it). OK means healthy.
  void AddHealthCheck(std::string full_name, std::function<absl::Status()> check);

  // A soft dependency (one the service keeps working without, e.g. the peer
  // service): reported under its own health name, e.g.
  // "newsgrid.dependency.trending-service", SERVING while `check` is true.
  // It never changes the service's or the overall status.
  void AddDependencyStatus(std::string health_name, std::function<bool()> check);

  // Called when shutdown starts, before the server stops accepting.
  void OnShutdownStarted(std::function<void()> hook);
  // Called after in-flight RPCs finished or were cancelled; must finish by
  // `deadline` (flush buffers).
  void OnDrained(std::function<void(absl::Time deadline)> hook);

  // Serves until a shutdown signal or RequestShutdown(); returns the exit
  // code (0 after a graceful drain, 1 if the server could not start).
  int Run();

  // Starts the same graceful shutdown as SIGTERM (tests, fatal conditions).
  void RequestShutdown();

  // Port actually bound (useful with --port=0 in tests), after Run starts.
  int bound_port() const { return bound_port_.load(); }

 private:
  void MonitorHealth();
  // Stops the gRPC server: in-flight calls get until `drain_deadline`;
  // once none is left, idle client connections are closed at once.
  void StopServer(absl::Time drain_deadline);

  const std::string name_;
  const ServerConfig config_;
  const MigrationSet migrations_;
  std::vector<PreparedStatement> prepared_;
  std::unique_ptr<PgPool> db_;
  std::unique_ptr<WorkerPool> workers_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::vector<std::pair<std::string, std::function<absl::Status()>>> health_checks_;
  std::vector<std::pair<std::string, std::function<bool()>>> dependencies_;
  std::vector<std::function<void()>> shutdown_started_hooks_;
  std::vector<std::function<void(absl::Time)>> drained_hooks_;
  std::unique_ptr<grpc::Server> server_;
  absl::Notification shutdown_requested_;
  absl::Notification monitor_stop_;
  std::atomic<int> bound_port_{0};
  std::atomic<bool> migrate_only_{false};
  std::atomic<int> in_flight_{0};  // RPCs started and not yet done
};

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_SERVER_H_
