#include "runtime/http_server.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/server.h"

namespace newsgrid {
namespace {

// The request being served by this thread: httplib serves each connection
// on one pool thread from reading the request to logging it.
thread_local const char* current_route = "other";
thread_local absl::Time request_start;

class HttpMetrics {
 public:
  static HttpMetrics& Get() {
    static HttpMetrics* m = new HttpMetrics();
    return *m;
  }
  void Observe(const char* route, int status, double seconds) {
    // Family::Add hashes the labels under the family's lock; each thread
    // remembers its series instead (routes are string literals).
    thread_local absl::flat_hash_map<std::pair<const char*, int>,
                                     std::pair<prometheus::Counter*, prometheus::Histogram*>>
        series;
    auto [it, added] = series.try_emplace({route, status});
    if (added) {
      it->second.first = &requests_.Add({{"route", route}, {"code", absl::StrCat(status)}});
      it->second.second =
          &latency_.Add({{"route", route}}, prometheus::Histogram::BucketBoundaries{
                                                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1, 0.25, 0.5, 1, 2.5});
    }
    it->second.first->Increment();
    it->second.second->Observe(seconds);
  }

 private:
  HttpMetrics()
      : requests_(prometheus::BuildCounter()
                      .Name("http_requests_total")
                      .Help("HTTP requests answered, by route and status code.")
                      .Register(Metrics::Global().registry())),
        latency_(prometheus::BuildHistogram()
                     .Name("http_request_seconds")
                     .Help("Time from a request read to its response written, by route.")
                     .Register(Metrics::Global().registry())) {}
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

int64_t Seconds(absl::Duration d) { return absl::ToInt64Seconds(d); }

}  // namespace

void SetRoute(const char* route) { current_route = route; }

HttpServer::HttpServer(std::string name, ServerConfig config, Options options)
    : name_(std::move(name)),
      config_(std::move(config)),
      options_(options),
      server_(std::make_unique<httplib::Server>()) {
  const int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_keep_alive_max_count(options_.keep_alive_max);
  server_->set_keep_alive_timeout(Seconds(options_.keep_alive_timeout));
  server_->set_read_timeout(Seconds(options_.read_timeout));
  server_->set_write_timeout(Seconds(options_.write_timeout));
  server_->set_payload_max_length(options_.max_payload_bytes);
  server_->set_tcp_nodelay(true);
  // A request with a body is answered after httplib has read it (into
  // req.body, and req.params for a form): httplib reads bodies only after
  // the pre-routing handler, so those go through its POST route.
  server_->Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
    if (handler_) {
      handler_(req, res);
    } else {
      res.status = 404;
    }
  });
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    request_start = absl::Now();
    current_route = "other";
    if (req.method == "POST") return httplib::Server::HandlerResponse::Unhandled;
    if (req.path == "/healthz") {
      SetRoute("healthz");
      res.set_header("Cache-Control", "no-store");
      res.set_content("ok\n", "text/plain");
    } else if (req.path == "/readyz") {
      SetRoute("readyz");
      std::vector<std::string> failing;
      if (shutting_down()) failing.push_back("shutting down");
      {
        absl::MutexLock lock(&mu_);
        for (const auto& [check_name, check] : readiness_) {
          if (!check()) failing.push_back(check_name);
        }
      }
      res.set_header("Cache-Control", "no-store");
      if (failing.empty()) {
        res.set_content("ready\n", "text/plain");
      } else {
        res.status = 503;
        res.set_content(absl::StrCat("not ready: ", absl::StrJoin(failing, ", "), "\n"),
                        "text/plain");
      }
    } else if (handler_) {
      handler_(req, res);
    } else {
      res.status = 404;
    }
    return httplib::Server::HandlerResponse::Handled;
  });
  server_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - request_start);
    HttpMetrics::Get().Observe(current_route, res.status, seconds);
    const LogLevel level = res.status >= 500 ? LogLevel::kWarn : LogLevel::kInfo;
    if (LogEnabled(level)) {
      Log(level, "http",
          {{"method", req.method},
           {"route", current_route},
           {"status", res.status},
           {"latency_ms", seconds * 1000.0},
           {"peer", req.remote_addr}});
    }
  });
}

HttpServer::~HttpServer() = default;

void HttpServer::AddReadinessCheck(std::string name, std::function<bool()> check) {
  absl::MutexLock lock(&mu_);
  readiness_.emplace_back(std::move(name), std::move(check));
}

void HttpServer::OnShutdownStarted(std::function<void()> hook) {
  shutdown_hooks_.push_back(std::move(hook));
}

void HttpServer::RequestShutdown() {
  if (!shutdown_requested_.HasBeenNotified()) shutdown_requested_.Notify();
}

int HttpServer::Run() {
  WatchShutdownSignals([this] { RequestShutdown(); });
  int port = config_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(config_.host);
  } else if (!server_->bind_to_port(config_.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    NG_LOG_ERROR("cannot listen", {{"address", absl::StrCat(config_.host, ":", config_.port)}});
    return 1;
  }
  bound_port_ = port;
  if (config_.metrics_port != 0) {
    if (absl::Status s = Metrics::Global().Serve(config_.host, config_.metrics_port); !s.ok()) {
      NG_LOG_ERROR("cannot serve metrics", {{"error", std::string(s.message())}});
      return 1;
    }
  }
  absl::Notification stopped;
  std::thread listener([this, &stopped] {
    server_->listen_after_bind();
    stopped.Notify();
  });
  NG_LOG_INFO("listening", {{"service", name_}, {"port", port},
                            {"metrics_port", config_.metrics_port}});
  shutdown_requested_.WaitForNotification();
  const absl::Time deadline = absl::Now() + config_.drain_deadline;
  for (auto& hook : shutdown_hooks_) hook();
  // Stops accepting; each connection ends after its current request, and
  // listen_after_bind returns once the pool's threads are joined.
  server_->stop();
  if (stopped.WaitForNotificationWithTimeout(deadline - absl::Now())) {
    listener.join();
  } else {
    NG_LOG_WARN("requests still running at the drain deadline; exiting");
    listener.detach();
  }
  Metrics::Global().StopServing();
  NG_LOG_INFO("stopped", {{"service", name_}});
  return 0;
}

}  // namespace newsgrid
