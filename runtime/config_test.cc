#include "runtime/config.h"

#include <map>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gtest/gtest.h"

namespace newsgrid {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class ConfigTest : public ::testing::Test {
 protected:
  absl::FlagSaver saver_;  // every test starts from the defaults
  void SetUp() override {
    absl::SetFlag(&FLAGS_port, 50051);
    absl::SetFlag(&FLAGS_metrics_port, 9091);
    absl::SetFlag(&FLAGS_pg_dsn, "host=/tmp dbname=x");
  }
};

TEST_F(ConfigTest, EnvVarNameIsPrefixPlusUpperFlagName) {
  EXPECT_EQ(EnvVarForFlag("ARTICLE", "port"), "ARTICLE_PORT");
  EXPECT_EQ(EnvVarForFlag("TRENDING", "pg_pool_size"), "TRENDING_PG_POOL_SIZE");
}

TEST_F(ConfigTest, DefaultsValidate) {
  absl::StatusOr<ServerConfig> c = ServerConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->port, 50051);
  EXPECT_EQ(c->pg_pool_size, 8);
  EXPECT_EQ(c->drain_deadline, absl::Seconds(10));
  EXPECT_EQ(c->migrate, MigrateMode::kAuto);
  EXPECT_EQ(c->log_level, LogLevel::kInfo);
}

TEST_F(ConfigTest, EnvironmentSetsFlags) {
  ASSERT_TRUE(ApplyEnvironment("ARTICLE", FakeEnv({{"ARTICLE_PORT", "6000"},
                                                   {"ARTICLE_DRAIN_DEADLINE", "3s"},
                                                   {"ARTICLE_LOG_LEVEL", "debug"},
                                                   {"TRENDING_PORT", "7000"}}))
                  .ok());
  absl::StatusOr<ServerConfig> c = ServerConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->port, 6000);  // the other service's variable is ignored
  EXPECT_EQ(c->drain_deadline, absl::Seconds(3));
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
}

TEST_F(ConfigTest, DatabaseUrlIsFallbackForPgDsn) {
  ASSERT_TRUE(ApplyEnvironment("ARTICLE", FakeEnv({{"DATABASE_URL", "postgresql://a@b/c"}})).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_pg_dsn), "postgresql://a@b/c");
  ASSERT_TRUE(ApplyEnvironment("ARTICLE", FakeEnv({{"DATABASE_URL", "postgresql://a@b/c"},
                                                   {"ARTICLE_PG_DSN", "host=x"}}))
                  .ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_pg_dsn), "host=x");
}

TEST_F(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  absl::Status s = ApplyEnvironment("ARTICLE", FakeEnv({{"ARTICLE_PORT", "eighty"}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ARTICLE_PORT"), absl::string_view::npos) << s;
}

TEST_F(ConfigTest, OutOfRangeValuesAreRejectedWithTheFlagName) {
  absl::SetFlag(&FLAGS_port, 70000);
  absl::StatusOr<ServerConfig> c = ServerConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--port"), absl::string_view::npos) << c.status();

  absl::SetFlag(&FLAGS_port, 50051);
  absl::SetFlag(&FLAGS_pg_pool_size, 0);
  c = ServerConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--pg_pool_size"), absl::string_view::npos);
}

TEST_F(ConfigTest, MissingDsnIsRejected) {
  absl::SetFlag(&FLAGS_pg_dsn, "");
  absl::StatusOr<ServerConfig> c = ServerConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("DATABASE_URL"), absl::string_view::npos);
  // A binary without a database (reader-web) needs none.
  EXPECT_TRUE(ServerConfigFromFlags(/*database=*/false).ok());
}

TEST_F(ConfigTest, MetricsPortMustDifferFromPort) {
  absl::SetFlag(&FLAGS_metrics_port, 50051);
  EXPECT_FALSE(ServerConfigFromFlags().ok());
}

TEST_F(ConfigTest, BadLogLevelAndMigrateModeAreRejected) {
  absl::SetFlag(&FLAGS_log_level, "loud");
  EXPECT_FALSE(ServerConfigFromFlags().ok());
  absl::SetFlag(&FLAGS_log_level, "warn");
  absl::SetFlag(&FLAGS_migrate, "sometimes");
  absl::StatusOr<ServerConfig> c = ServerConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--migrate"), absl::string_view::npos);
  absl::SetFlag(&FLAGS_migrate, "only");
  c = ServerConfigFromFlags();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->migrate, MigrateMode::kOnly);
  EXPECT_EQ(c->log_level, LogLevel::kWarn);
}

TEST_F(ConfigTest, DurationBoundsAreChecked) {
  absl::SetFlag(&FLAGS_db_check_interval, absl::Milliseconds(1));
  EXPECT_FALSE(ServerConfigFromFlags().ok());
  absl::SetFlag(&FLAGS_db_check_interval, absl::Seconds(1));
  absl::SetFlag(&FLAGS_drain_deadline, absl::Seconds(-1));
  EXPECT_FALSE(ServerConfigFromFlags().ok());
}

TEST_F(ConfigTest, TlsFlagsReachTheConfig) {
  absl::SetFlag(&FLAGS_peer_tls_ca_file, "/etc/ca.pem");
  absl::SetFlag(&FLAGS_peer_tls_server_name, "articles.internal");
  absl::StatusOr<ServerConfig> c = ServerConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->peer_tls.ca, "/etc/ca.pem");
  EXPECT_EQ(c->peer_tls.server_name, "articles.internal");
  EXPECT_TRUE(c->tls.cert.empty());

  // The server's files are checked with the rest of the configuration.
  absl::SetFlag(&FLAGS_tls_cert_file, "/nonexistent/cert.pem");
  absl::SetFlag(&FLAGS_tls_key_file, "/nonexistent/key.pem");
  c = ServerConfigFromFlags();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("--tls_cert_file"), std::string::npos) << c.status();
}

TEST(ConfigOrExitTest, ReturnsTheValueOfAValidConfiguration) {
  EXPECT_EQ(ConfigOrExit("prog", absl::StatusOr<int>(7)), 7);
  ExitIfInvalidConfig("prog", absl::OkStatus());  // returns
}

TEST(ConfigOrExitTest, ExitsWithStatus2NamingTheProgramAndTheError) {
  EXPECT_EXIT(ConfigOrExit("article-service",
                           absl::StatusOr<int>(absl::InvalidArgumentError("--port=0 is bad"))),
              ::testing::ExitedWithCode(2),
              "^article-service: invalid configuration: --port=0 is bad\n$");
  EXPECT_EXIT(ExitIfInvalidConfig("reader-web", absl::InvalidArgumentError("--x")),
              ::testing::ExitedWithCode(2), "reader-web: invalid configuration: --x");
}

}  // namespace
}  // namespace newsgrid
