#include "runtime/http_server.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace newsgrid {
namespace {

ServerConfig TestConfig() {
  ServerConfig c;
  c.host = "127.0.0.1";
  c.port = 0;
  c.metrics_port = 0;
  c.drain_deadline = absl::Seconds(5);
  return c;
}

TEST(HttpServerTest, ProbesHandlerAndGracefulStop) {
  HttpServer server("test", TestConfig(), {.threads = 4});
  std::atomic<bool> dependency_up{false};
  server.AddReadinessCheck("dependency", [&] { return dependency_up.load(); });
  absl::Notification release;
  server.SetHandler([&](const httplib::Request& req, httplib::Response& res) {
    SetRoute("page");
    if (req.path == "/slow") release.WaitForNotification();
    std::string body = "page " + req.path;
    for (const auto& [k, v] : req.params) body += " " + k + "=" + v;
    res.set_content(body, "text/plain");
  });
  bool hook_ran = false;
  server.OnShutdownStarted([&] { hook_ran = true; });
  int code = -1;
  std::thread run([&] { code = server.Run(); });
  while (server.bound_port() == 0) absl::SleepFor(absl::Milliseconds(5));
  httplib::Client client("127.0.0.1", server.bound_port());

  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = client.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "not ready: dependency\n");
  dependency_up = true;
  EXPECT_EQ(client.Get("/readyz")->status, 200);
  res = client.Get("/a/b");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "page /a/b");
  // A form post reaches the handler with its body read and parsed, and the
  // connection stays usable for the next request.
  res = client.Post("/form", "a=1&b=two", "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "page /form a=1 b=two");
  EXPECT_EQ(client.Get("/after")->body, "page /after");

  // A request in flight when shutdown starts still gets its answer.
  std::string slow_body = "(no answer)";
  std::thread in_flight([&] {
    httplib::Client other("127.0.0.1", server.bound_port());
    if (auto r = other.Get("/slow")) slow_body = r->body;
  });
  absl::SleepFor(absl::Milliseconds(200));
  server.RequestShutdown();
  absl::SleepFor(absl::Milliseconds(200));
  release.Notify();
  in_flight.join();
  run.join();
  EXPECT_EQ(slow_body, "page /slow");
  EXPECT_TRUE(hook_ran);
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace newsgrid
