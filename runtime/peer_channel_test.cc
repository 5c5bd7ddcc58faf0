#include "runtime/peer_channel.h"

#include "gtest/gtest.h"

namespace newsgrid {
namespace {

TEST(PeerChannelTest, TargetsUseDnsResolverUnlessSchemeGiven) {
  EXPECT_EQ(PeerTarget("trending:50052"), "dns:///trending:50052");
  EXPECT_EQ(PeerTarget("dns:///a.b.svc:1"), "dns:///a.b.svc:1");
  EXPECT_EQ(PeerTarget("unix:/tmp/s"), "unix:/tmp/s");
  EXPECT_EQ(PeerTarget("ipv4:127.0.0.1:5"), "ipv4:127.0.0.1:5");
}

TEST(PeerChannelTest, ServiceConfigHasRoundRobinAndRetriesForIdempotentMethods) {
  const std::string json = PeerServiceConfigJson(
      {.idempotent_methods = {{"news.article.v1.ArticleService", "BatchGetArticles"}}});
  EXPECT_NE(json.find(R"("round_robin")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"service":"news.article.v1.ArticleService","method":"BatchGetArticles"})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("retryableStatusCodes":["UNAVAILABLE"])"), std::string::npos);
  EXPECT_EQ(PeerServiceConfigJson({}), R"({"loadBalancingConfig":[{"round_robin":{}}]})");
}

TEST(PeerChannelTest, ChannelAcceptsTheServiceConfig) {
  // An invalid service config makes the channel fail every call with
  // UNAVAILABLE/INTERNAL; a valid one leaves it IDLE until used.
  auto channel = MakePeerChannel(
      "127.0.0.1:1", {.idempotent_methods = {{"news.article.v1.ArticleService", "GetArticle"}}});
  EXPECT_NE(channel->GetState(false), GRPC_CHANNEL_SHUTDOWN);
}

TEST(PeerChannelTest, WithTlsFilesOrWithout) {
  // No CA: plaintext, as without TLS at all.
  auto plain = MakePeerChannelWithTls("127.0.0.1:1", {}, {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_NE(*plain, nullptr);
  // A CA that cannot be read is a configuration error naming its flag.
  auto bad = MakePeerChannelWithTls("127.0.0.1:1", {.ca = "/nonexistent/ca.pem"}, {});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--peer_tls_ca_file"), std::string::npos)
      << bad.status();
}

}  // namespace
}  // namespace newsgrid
