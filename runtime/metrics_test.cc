#include "runtime/metrics.h"

#include <regex>
#include <sstream>

#include "gtest/gtest.h"

namespace newsgrid {
namespace {

// Every line of the exposition is a comment (# HELP / # TYPE) or a sample
// "name{labels} value" per the Prometheus text format 0.0.4.
void ExpectValidExposition(const std::string& text) {
  static const std::regex kSample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eEInfa]+( [0-9]+)?$)");
  static const std::regex kComment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      EXPECT_TRUE(std::regex_match(line, kComment)) << line;
    } else {
      EXPECT_TRUE(std::regex_match(line, kSample)) << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 0);
}

TEST(MetricsTest, RpcObservationsAppearByMethodAndCode) {
  Metrics metrics;
  metrics.ObserveRpc("/news.article.v1.ArticleService/GetArticle", "OK", 0.002);
  metrics.ObserveRpc("/news.article.v1.ArticleService/GetArticle", "OK", 0.004);
  metrics.ObserveRpc("/news.article.v1.ArticleService/GetArticle", "NOT_FOUND", 0.001);
  const std::string text = metrics.Render();
  ExpectValidExposition(text);
  EXPECT_NE(text.find("# TYPE grpc_server_handled_total counter"), std::string::npos);
  EXPECT_NE(text.find("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"/"
                      "news.article.v1.ArticleService/GetArticle\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("grpc_server_handled_total{grpc_code=\"NOT_FOUND\""), std::string::npos);
  EXPECT_NE(text.find("# TYPE grpc_server_handling_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("grpc_server_handling_seconds_bucket{grpc_code=\"OK\",grpc_method=\"/"
                      "news.article.v1.ArticleService/GetArticle\",le=\"0.0025\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("grpc_server_handling_seconds_count{grpc_code=\"OK\""), std::string::npos);
}

TEST(MetricsTest, PoolGaugesAndStartTime) {
  Metrics metrics;
  metrics.SetDbPool(3, 5);
  const std::string text = metrics.Render();
  ExpectValidExposition(text);
  EXPECT_NE(text.find("db_pool_connections{state=\"in_use\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("db_pool_connections{state=\"idle\"} 5"), std::string::npos);
  EXPECT_NE(text.find("process_start_time_seconds "), std::string::npos);
}

TEST(MetricsTest, GrpcCodeNames) {
  EXPECT_EQ(GrpcCodeName(0), "OK");
  EXPECT_EQ(GrpcCodeName(5), "NOT_FOUND");
  EXPECT_EQ(GrpcCodeName(16), "UNAUTHENTICATED");
  EXPECT_EQ(GrpcCodeName(99), "UNKNOWN");
}

}  // namespace
}  // namespace newsgrid
