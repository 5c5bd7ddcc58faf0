// The runtime of an HTTP (not gRPC) server binary: cpp-httplib with a fixed
// thread pool, Kubernetes probes, an access log line and metrics per
// request, and the same graceful shutdown as ServerRuntime.
//
//   newsgrid::ServerConfig config = newsgrid::InitServerOrExit(
//       argc, argv, {.env_prefix = "READER", .port = 8080, .metrics_port = 9093,
//                    .database = false});
//   newsgrid::HttpServer server("reader-web", config, {.threads = 64});
//   server.SetHandler([](const httplib::Request& req, httplib::Response& res) {
//     newsgrid::SetRoute("home");
//     res.set_content("hello", "text/plain");
//   });
//   server.AddReadinessCheck("article-service", [&] { return article_ok(); });
//   return server.Run();  // until SIGTERM; 0 when drained
//
// Probes: GET /healthz answers 200 while the process serves (liveness: a
// dependency outage never restarts the pod); GET /readyz answers 200 while
// every readiness check passes and no shutdown has started, else 503 naming
// what failed (readiness: the pod leaves the Service's endpoints).
//
// Shutdown: the first SIGTERM/SIGINT turns /readyz to 503, runs the
// shutdown-started hooks (end long-lived responses such as event streams),
// waits --drain_deadline at most for in-flight requests, and Run() returns
// 0. A second signal exits at once (1).
//
// Every request but the probes goes to the one handler, which routes it
// itself (httplib's own routes try a std::regex per route per request).
// `route` in the access log and metrics is the label the handler set with
// SetRoute ("other" if none), so metrics never grow a series per URL.
#ifndef NEWSGRID_RUNTIME_HTTP_SERVER_H_
#define NEWSGRID_RUNTIME_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "httplib.h"
#include "runtime/config.h"

namespace newsgrid {

// The handler names the route of the request it is answering (see above);
// `route` must be a string literal.
void SetRoute(const char* route);

class HttpServer {
 public:
  struct Options {
    int threads = 64;         // connections served at once (keep-alive holds one)
    int keep_alive_max = 1000;  // requests per connection before it is closed
    absl::Duration keep_alive_timeout = absl::Seconds(5);
    absl::Duration read_timeout = absl::Seconds(5);
    absl::Duration write_timeout = absl::Seconds(5);
    size_t max_payload_bytes = 64 << 10;
  };

  HttpServer(std::string name, ServerConfig config, Options options);
  ~HttpServer();

  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // Answers every request except /healthz and /readyz. Set before Run().
  void SetHandler(Handler handler) { handler_ = std::move(handler); }

  // A condition for readiness, e.g. a dependency the server cannot serve
  // without. Checked on every /readyz.
  void AddReadinessCheck(std::string name, std::function<bool()> check);

  // Called when shutdown starts, before waiting for in-flight requests.
  void OnShutdownStarted(std::function<void()> hook);

  bool shutting_down() const { return shutdown_requested_.HasBeenNotified(); }

  // Serves until a shutdown signal or RequestShutdown(); returns the exit
  // code (0 after a graceful drain, 1 if the server could not start).
  int Run();
  void RequestShutdown();

  // Port actually bound (with --port=0 in tests), after Run starts.
  int bound_port() const { return bound_port_.load(); }

 private:
  const std::string name_;
  const ServerConfig config_;
  const Options options_;
  std::unique_ptr<httplib::Server> server_;
  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::function<bool()>>> readiness_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> shutdown_hooks_;
  Handler handler_;
  std::atomic<int> bound_port_{0};
  absl::Notification shutdown_requested_;
};

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_HTTP_SERVER_H_
