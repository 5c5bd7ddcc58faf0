// ServerRuntime on a real PostgreSQL and a real gRPC server on loopback:
// health transitions and the order of the shutdown steps.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "news/trending/v1/trending_service.grpc.pb.h"
#include "runtime/server.h"
#include "tests/support/test_database.h"

namespace newsgrid {
namespace {

namespace health = grpc::health::v1;
namespace pb = news::trending::v1;
constexpr char kService[] = "news.trending.v1.TrendingService";

// A service whose GetTrending calls stay in flight until released.
class HeldCalls final : public pb::TrendingService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetTrending(grpc::CallbackServerContext* ctx,
                                        const pb::GetTrendingRequest*,
                                        pb::GetTrendingResponse*) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::MutexLock lock(&mu_);
    held_.push_back(reactor);
    return reactor;
  }
  int held() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(held_.size());
  }
  void ReleaseAll() {
    absl::MutexLock lock(&mu_);
    for (grpc::ServerUnaryReactor* r : held_) r->Finish(grpc::Status::OK);
    held_.clear();
  }

 private:
  absl::Mutex mu_;
  std::vector<grpc::ServerUnaryReactor*> held_ ABSL_GUARDED_BY(mu_);
};

// What happened, in order, across threads.
class EventLog {
 public:
  void Add(std::string e) {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

class ServerRuntimePgTest : public ::testing::Test {
 protected:
  ServerConfig Config() {
    ServerConfig c;
    c.host = "127.0.0.1";
    c.port = 0;
    c.metrics_port = 0;
    c.pg_dsn = db_.dsn();
    c.pg_pool_size = 2;
    c.worker_threads = 2;
    c.worker_queue_limit = 16;
    c.drain_deadline = absl::Seconds(20);
    c.db_check_interval = absl::Milliseconds(50);
    c.default_rpc_deadline = absl::Seconds(5);
    c.max_receive_message_bytes = 1 << 20;
    c.max_concurrent_streams = 16;
    c.grpc_memory_quota_mb = 64;
    return c;
  }
  static MigrationSet Migrations() {
    return {"srt", {{1, "0001_t.sql", "CREATE TABLE srt.t (id int)"}}};
  }

  std::string Health(int port, const std::string& service) {
    auto stub = health::Health::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    health::HealthCheckRequest req;
    req.set_service(service);
    health::HealthCheckResponse resp;
    const grpc::Status s = stub->Check(&ctx, req, &resp);
    if (!s.ok()) return absl::StrCat("error ", s.error_code());
    return health::HealthCheckResponse::ServingStatus_Name(resp.status());
  }
  void WaitForHealth(int port, const std::string& service, const std::string& want) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::string got;
    while (absl::Now() < deadline) {
      got = Health(port, service);
      if (got == want) return;
      absl::SleepFor(absl::Milliseconds(20));
    }
    FAIL() << service << ": " << got << ", want " << want;
  }
  static int WaitForPort(ServerRuntime& runtime) {
    for (int i = 0; i < 500 && runtime.bound_port() == 0; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return runtime.bound_port();
  }

  testing::TestDatabase db_;
};

TEST_F(ServerRuntimePgTest, HealthFollowsChecksAndDependenciesStandApart) {
  ServerRuntime runtime("srt", Config(), Migrations());
  ASSERT_TRUE(runtime.Prepare().ok());
  HeldCalls service;
  runtime.AddService(&service, kService);
  std::atomic<bool> healthy{false};
  std::atomic<bool> peer_up{false};
  runtime.AddHealthCheck(kService, [&healthy] {
    return healthy ? absl::OkStatus() : absl::UnavailableError("warming up");
  });
  runtime.AddDependencyStatus("newsgrid.dependency.peer", [&peer_up] { return peer_up.load(); });
  int exit_code = -1;
  std::thread run([&] { exit_code = runtime.Run(); });
  const int port = WaitForPort(runtime);
  ASSERT_NE(port, 0);

  // Liveness is SERVING from the start; the service follows its check.
  EXPECT_EQ(Health(port, kLivenessHealthName), "SERVING");
  WaitForHealth(port, kService, "NOT_SERVING");
  WaitForHealth(port, "", "NOT_SERVING");
  WaitForHealth(port, "newsgrid.dependency.peer", "NOT_SERVING");
  healthy = true;
  WaitForHealth(port, kService, "SERVING");
  WaitForHealth(port, "", "SERVING");
  // A soft dependency changes its own name only.
  peer_up = true;
  WaitForHealth(port, "newsgrid.dependency.peer", "SERVING");
  peer_up = false;
  WaitForHealth(port, "newsgrid.dependency.peer", "NOT_SERVING");
  EXPECT_EQ(Health(port, kService), "SERVING");
  EXPECT_EQ(Health(port, ""), "SERVING");
  // And back: a failing check takes the service and the overall status down.
  healthy = false;
  WaitForHealth(port, kService, "NOT_SERVING");
  WaitForHealth(port, "", "NOT_SERVING");
  EXPECT_EQ(Health(port, kLivenessHealthName), "SERVING");

  runtime.RequestShutdown();
  run.join();
  EXPECT_EQ(exit_code, 0);
}

// Shutdown: NOT_SERVING first, then the shutdown-started hooks (while the
// server still answers), then in-flight calls finish, then the drained
// hooks, and Run returns 0.
TEST_F(ServerRuntimePgTest, ShutdownStepsRunInOrder) {
  ServerRuntime runtime("srt", Config(), Migrations());
  ASSERT_TRUE(runtime.Prepare().ok());
  HeldCalls service;
  runtime.AddService(&service, kService);
  EventLog log;
  std::atomic<int> port{0};
  runtime.OnShutdownStarted([&] {
    log.Add(absl::StrCat("shutdown started; health ", Health(port, kService), "; held ",
                         service.held()));
  });
  runtime.OnDrained([&](absl::Time deadline) {
    log.Add(absl::StrCat("drained; held ", service.held(), "; deadline ahead ",
                         deadline > absl::Now()));
  });
  int exit_code = -1;
  std::thread run([&] {
    exit_code = runtime.Run();
    log.Add("run returned");
  });
  port = WaitForPort(runtime);
  ASSERT_NE(port.load(), 0);
  WaitForHealth(port, kService, "SERVING");

  // One call in flight.
  auto stub = pb::TrendingService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port.load()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  pb::GetTrendingRequest req;
  pb::GetTrendingResponse resp;
  absl::Notification call_done;
  grpc::Status call_status;
  stub->async()->GetTrending(&ctx, &req, &resp, [&](grpc::Status s) {
    call_status = s;
    call_done.Notify();
  });
  for (int i = 0; i < 500 && service.held() == 0; ++i) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(service.held(), 1);

  runtime.RequestShutdown();
  // The drain waits for the call: nothing is drained while it is held.
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(log.events(),
            std::vector<std::string>{"shutdown started; health NOT_SERVING; held 1"});
  log.Add("call released");
  service.ReleaseAll();
  ASSERT_TRUE(call_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  run.join();
  EXPECT_TRUE(call_status.ok()) << call_status.error_message();
  EXPECT_EQ(exit_code, 0);
  const std::vector<std::string> events = log.events();
  ASSERT_EQ(events.size(), 4u) << ::testing::PrintToString(events);
  EXPECT_EQ(events[0], "shutdown started; health NOT_SERVING; held 1");
  EXPECT_EQ(events[1], "call released");
  EXPECT_EQ(events[2], "drained; held 0; deadline ahead 1");
  EXPECT_EQ(events[3], "run returned");
}

}  // namespace
}  // namespace newsgrid
