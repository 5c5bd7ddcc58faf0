#include "runtime/server.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "absl/time/clock.h"
#include "grpc/grpc.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/support/server_interceptor.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/peer_channel.h"
#include "runtime/reflection_service.h"
#include "runtime/rpc.h"
#include "runtime/tls.h"

namespace newsgrid {
namespace {

// UNIMPLEMENTED without a message for a method of a service this server
// serves: gRPC could not deserialize the request. (A service compiled into
// the binary but not served, e.g. the peer's, stays UNIMPLEMENTED.)
bool IsUnparsableRequest(const grpc::Status& status, const char* method,
                         const std::set<std::string>& services) {
  if (status.error_code() != grpc::StatusCode::UNIMPLEMENTED || !status.error_message().empty() ||
      method == nullptr || method[0] != '/') {
    return false;
  }
  std::string full(method + 1);
  const size_t slash = full.find('/');
  if (slash == std::string::npos || services.count(full.substr(0, slash)) == 0) return false;
  full[slash] = '.';
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full) != nullptr;
}

// Per-RPC access log line and metrics, for every method of every service.
// Also counts the calls in flight (an interceptor lives as long as its call).
class ObservabilityInterceptor : public grpc::experimental::Interceptor {
 public:
  ObservabilityInterceptor(grpc::experimental::ServerRpcInfo* info, std::atomic<int>& in_flight,
                           const std::set<std::string>& services)
      : info_(info), start_(absl::Now()), in_flight_(in_flight), services_(services) {
    in_flight_.fetch_add(1);
  }
  ~ObservabilityInterceptor() override { in_flight_.fetch_sub(1); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (IsUnparsableRequest(status, info_->method(), services_)) {
        // gRPC answers a request it cannot parse (bad wire format, or a
        // string field that is not UTF-8) with a bare UNIMPLEMENTED; it is
        // the caller's bad input.
        status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, kUnparsableRequestMessage);
        methods->ModifySendStatus(status);
      }
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
      const absl::string_view code = GrpcCodeName(status.error_code());
      Metrics::Global().ObserveRpc(info_->method(), code, seconds);
      const LogLevel level = status.error_code() == grpc::StatusCode::INTERNAL ||
                                     status.error_code() == grpc::StatusCode::UNKNOWN
                                 ? LogLevel::kError
                                 : LogLevel::kInfo;
      if (LogEnabled(level)) {
        const std::string peer =
            info_->server_context() != nullptr ? info_->server_context()->peer() : "";
        Log(level, "rpc",
            {{"method", info_->method()},
             {"code", std::string(code)},
             {"latency_ms", seconds * 1000.0},
             {"peer", peer}});
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  const absl::Time start_;
  std::atomic<int>& in_flight_;
  const std::set<std::string>& services_;
};

class ObservabilityInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  ObservabilityInterceptorFactory(std::atomic<int>& in_flight, std::set<std::string> services)
      : in_flight_(in_flight), services_(std::move(services)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ObservabilityInterceptor(info, in_flight_, services_);
  }

 private:
  std::atomic<int>& in_flight_;
  const std::set<std::string> services_;  // full names of the served services
};

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void WatchShutdownSignals(std::function<void()> on_first) {
  std::thread([on_first = std::move(on_first)] {
    sigset_t set = ShutdownSignals();
    int count = 0;
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (++count == 1) {
        NG_LOG_INFO("shutdown signal received; draining", {{"signal", sig}});
        on_first();
      } else {
        NG_LOG_WARN("second shutdown signal; exiting now", {{"signal", sig}});
        _exit(1);
      }
    }
  }).detach();
}

void ConfigureProcess() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

ServerConfig InitServerOrExit(int argc, char** argv, const ServiceDefaults& defaults) {
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  ConfigureProcess();
  ServerConfig config = ConfigOrExit(argv[0], LoadServerConfig(argc, argv, defaults));
  SetMinLogLevel(config.log_level);
  return config;
}

ServerRuntime::ServerRuntime(std::string name, ServerConfig config, MigrationSet migrations)
    : name_(std::move(name)), config_(std::move(config)), migrations_(std::move(migrations)) {}

ServerRuntime::~ServerRuntime() {
  // Run() notifies it on a graceful stop; a second Notify() aborts.
  if (!monitor_stop_.HasBeenNotified()) monitor_stop_.Notify();
  if (workers_) workers_->Shutdown();
}

absl::Status ServerRuntime::Prepare() {
  // Signals are watched from here on, so a SIGTERM while waiting for the
  // database ends the wait.
  WatchShutdownSignals([this] { RequestShutdown(); });

  absl::Duration backoff = absl::Milliseconds(200);
  for (;;) {
    absl::Status status;
    if (config_.migrate == MigrateMode::kOff) {
      status = CheckMigrationsCurrent(config_.pg_dsn, migrations_);
    } else {
      absl::StatusOr<int> applied = ApplyMigrations(config_.pg_dsn, migrations_);
      status = applied.status();
      if (applied.ok()) {
        NG_LOG_INFO("schema is current",
                    {{"schema", migrations_.schema}, {"applied_now", *applied}});
      }
    }
    if (status.ok()) break;
    if (status.code() != absl::StatusCode::kUnavailable) {
      NG_LOG_ERROR("schema migration failed", {{"error", std::string(status.message())}});
      return status;
    }
    NG_LOG_WARN("database unreachable at start; retrying",
                {{"retry_in_ms", absl::ToInt64Milliseconds(backoff)}});
    if (shutdown_requested_.WaitForNotificationWithTimeout(backoff)) {
      return absl::CancelledError("shutdown requested before the database was reachable");
    }
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
  if (config_.migrate == MigrateMode::kOnly) {
    migrate_only_ = true;
    return absl::OkStatus();
  }
  db_ = std::make_unique<PgPool>(PgPool::Options{
      .dsn = config_.pg_dsn,
      .size = config_.pg_pool_size,
      .prepared = prepared_,
      .session_setup = absl::StrCat("SET search_path = ", migrations_.schema, ", public"),
  });
  workers_ = std::make_unique<WorkerPool>(config_.worker_threads, config_.worker_queue_limit);
  return absl::OkStatus();
}

void ServerRuntime::AddService(grpc::Service* service, std::string full_name) {
  services_.emplace_back(service, std::move(full_name));
}

void ServerRuntime::AddHealthCheck(std::string full_name, std::function<absl::Status()> check) {
  health_checks_.emplace_back(std::move(full_name), std::move(check));
}

void ServerRuntime::AddDependencyStatus(std::string health_name, std::function<bool()> check) {
  dependencies_.emplace_back(std::move(health_name), std::move(check));
}

void ServerRuntime::OnShutdownStarted(std::function<void()> hook) {
  shutdown_started_hooks_.push_back(std::move(hook));
}

void ServerRuntime::OnDrained(std::function<void(absl::Time)> hook) {
  drained_hooks_.push_back(std::move(hook));
}

void ServerRuntime::RequestShutdown() {
  if (!shutdown_requested_.HasBeenNotified()) shutdown_requested_.Notify();
}

void ServerRuntime::MonitorHealth() {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  std::map<std::string, bool> last;
  do {
    const absl::Status db_status = db_->Ping(std::min(config_.db_check_interval * 2,
                                                      absl::Seconds(2)));
    Metrics::Global().SetDbPool(db_->in_use(), db_->idle());
    if (shutdown_requested_.HasBeenNotified()) break;
    bool all = true;
    for (const auto& [service, full_name] : services_) {
      bool serving = db_status.ok();
      std::string reason = db_status.ok() ? "" : std::string(db_status.message());
      for (const auto& [name, check] : health_checks_) {
        if (name != full_name || !serving) continue;
        absl::Status s = check();
        if (!s.ok()) {
          serving = false;
          reason = std::string(s.message());
        }
      }
      all = all && serving;
      if (last.count(full_name) == 0 || last[full_name] != serving) {
        health->SetServingStatus(full_name, serving);
        last[full_name] = serving;
        Log(serving ? LogLevel::kInfo : LogLevel::kWarn, "health changed",
            {{"service", full_name}, {"serving", serving}, {"reason", reason}});
      }
    }
    if (last.count("") == 0 || last[""] != all) {
      health->SetServingStatus("", all);
      last[""] = all;
    }
    for (const auto& [name, check] : dependencies_) {
      const bool up = check();
      if (last.count(name) == 0 || last[name] != up) {
        health->SetServingStatus(name, up);
        last[name] = up;
      }
    }
  } while (!monitor_stop_.WaitForNotificationWithTimeout(config_.db_check_interval));
}

void ServerRuntime::StopServer(absl::Time drain_deadline) {
  // Shutdown stops accepting, waits for in-flight RPCs until the deadline,
  // then cancels what is left. But gRPC's core also waits for every client
  // connection to close, idle ones included (a client keeps its connection
  // after the GOAWAY until it has something to send), so with any client
  // connected it would always wait out the whole deadline. Once no call is
  // in flight, the connections are closed from here instead: cancelling
  // all calls when there are none only disconnects the transports.
  absl::Notification stopped;
  std::thread shutdown([this, drain_deadline, &stopped] {
    server_->Shutdown(absl::ToChronoTime(drain_deadline));
    stopped.Notify();
  });
  while (!stopped.WaitForNotificationWithTimeout(absl::Milliseconds(10))) {
    if (in_flight_.load() == 0) {
      NG_LOG_DEBUG("drain: no call in flight; closing client connections");
      grpc_server_cancel_all_calls(server_->c_server());
      break;
    }
  }
  shutdown.join();
}

int ServerRuntime::Run() {
  if (migrate_only_) {
    NG_LOG_INFO("migrations applied; exiting (--migrate=only)");
    return 0;
  }
  if (!db_) {
    NG_LOG_ERROR("Run() called without a successful Prepare()");
    return 1;
  }
  grpc::EnableDefaultHealthCheckService(true);
  std::vector<std::string> service_names = {"grpc.health.v1.Health",
                                            ReflectionService::kServiceName};
  for (const auto& [service, name] : services_) service_names.push_back(name);
  ReflectionService reflection(service_names);
  grpc::ServerBuilder builder;
  builder.RegisterService(&reflection);
  // Keepalive agreement with MakePeerChannel's clients (peer_channel.h).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kServerMinPingIntervalMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  int port = 0;
  auto credentials = MakeServerCredentials(config_.tls);
  if (!credentials.ok()) {
    NG_LOG_ERROR("bad TLS configuration", {{"error", std::string(credentials.status().message())}});
    return 1;
  }
  builder.AddListeningPort(absl::StrCat(config_.host, ":", config_.port), *credentials, &port);
  // Limits: oversized messages and connection floods get RESOURCE_EXHAUSTED
  // instead of unbounded memory.
  builder.SetMaxReceiveMessageSize(config_.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, config_.max_concurrent_streams);
  grpc::ResourceQuota quota("newsgrid-server");
  quota.Resize(static_cast<size_t>(config_.grpc_memory_quota_mb) << 20);
  builder.SetResourceQuota(quota);
  for (const auto& [service, name] : services_) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<ObservabilityInterceptorFactory>(
      in_flight_, std::set<std::string>(service_names.begin(), service_names.end())));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    NG_LOG_ERROR("cannot listen", {{"address", absl::StrCat(config_.host, ":", config_.port)}});
    return 1;
  }
  bound_port_ = port;
  if (config_.metrics_port != 0) {
    if (absl::Status s = Metrics::Global().Serve(config_.host, config_.metrics_port); !s.ok()) {
      NG_LOG_ERROR("cannot serve metrics", {{"error", std::string(s.message())}});
      server_->Shutdown(std::chrono::system_clock::now());
      return 1;
    }
  }
  // Not serving until the first database check says otherwise.
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(false);
  health->SetServingStatus(kLivenessHealthName, true);
  std::thread monitor([this] { MonitorHealth(); });
  NG_LOG_INFO("listening", {{"service", name_},
                            {"port", port},
                            {"metrics_port", config_.metrics_port}});

  shutdown_requested_.WaitForNotification();
  const absl::Time drain_deadline = absl::Now() + config_.drain_deadline;
  monitor_stop_.Notify();
  monitor.join();
  NG_LOG_DEBUG("drain: health monitor stopped");
  health->SetServingStatus(false);
  for (auto& hook : shutdown_started_hooks_) hook();
  StopServer(drain_deadline);
  NG_LOG_DEBUG("drain: gRPC server stopped");
  workers_->Shutdown();
  NG_LOG_DEBUG("drain: workers stopped");
  for (auto& hook : drained_hooks_) hook(drain_deadline);
  NG_LOG_DEBUG("drain: buffers flushed");
  Metrics::Global().StopServing();
  NG_LOG_INFO("stopped", {{"service", name_}});
  return 0;
}

}  // namespace newsgrid
