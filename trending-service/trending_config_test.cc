// TrendingConfigFromFlags: defaults, derived options, and every refusal
// naming its flag (a bad flag must stop the service at start, not later).
#include "trending-service/trending_config.h"

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(absl::Duration, retention);
ABSL_DECLARE_FLAG(absl::Duration, dedup_window);
ABSL_DECLARE_FLAG(int64_t, dedup_max_entries);
ABSL_DECLARE_FLAG(absl::Duration, flush_interval);
ABSL_DECLARE_FLAG(std::string, visitor_salt_secret);
ABSL_DECLARE_FLAG(std::string, replica_id);
ABSL_DECLARE_FLAG(std::string, bot_user_agents);
ABSL_DECLARE_FLAG(int, store_shards);
ABSL_DECLARE_FLAG(int, ingest_threads);
ABSL_DECLARE_FLAG(int64_t, max_queued_views);
ABSL_DECLARE_FLAG(int64_t, sketch_memory_limit_mb);
ABSL_DECLARE_FLAG(int64_t, max_unflushed_views);
ABSL_DECLARE_FLAG(bool, ack_after_flush);

namespace newsgrid::trending {
namespace {

using ::testing::HasSubstr;

class TrendingConfigTest : public ::testing::Test {
  absl::FlagSaver saver_;  // every test starts from the defaults
};

TEST_F(TrendingConfigTest, DefaultsAreValidAndDerivedOptionsFollowThem) {
  absl::StatusOr<TrendingConfig> c = TrendingConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->store.retention, absl::Hours(24 * 7));
  EXPECT_EQ(c->ingest.time.retention, c->store.retention);
  EXPECT_EQ(c->ingest.dedup_window, absl::Minutes(30));
  // Within the dedup window counted visitor views are the unique visitors,
  // and pending marks are bounded like the filter they feed.
  EXPECT_EQ(c->store.exact_uniques_within, c->ingest.dedup_window);
  EXPECT_EQ(c->store.max_pending_seen, c->ingest.dedup_max_entries);
  EXPECT_EQ(c->store.sketch_memory_limit, size_t{256} << 20);
  EXPECT_EQ(c->sync.flush_interval, absl::Seconds(1));
  EXPECT_EQ(c->sync.max_unflushed_views, 2'000'000);
  EXPECT_FALSE(c->ack_after_flush);
  EXPECT_EQ(c->ingest_threads, 4);
  EXPECT_EQ(c->max_queued_views, 250'000);
}

TEST_F(TrendingConfigTest, WithoutSecretOrReplicaIdRandomOnesAreMadePerStart) {
  absl::StatusOr<TrendingConfig> a = TrendingConfigFromFlags();
  absl::StatusOr<TrendingConfig> b = TrendingConfigFromFlags();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->visitor_salt_secret_generated);
  EXPECT_EQ(a->visitor_salt_secret.size(), 32u);
  EXPECT_NE(a->visitor_salt_secret, b->visitor_salt_secret);
  EXPECT_TRUE(absl::StartsWith(a->replica_id, "r-")) << a->replica_id;
  EXPECT_NE(a->replica_id, b->replica_id);
}

TEST_F(TrendingConfigTest, GivenValuesAreTakenAsGiven) {
  absl::SetFlag(&FLAGS_visitor_salt_secret, "a shared secret");
  absl::SetFlag(&FLAGS_replica_id, "replica-7");
  absl::SetFlag(&FLAGS_retention, absl::Hours(48));
  absl::SetFlag(&FLAGS_dedup_window, absl::Minutes(5));
  absl::SetFlag(&FLAGS_dedup_max_entries, 4096);
  absl::SetFlag(&FLAGS_flush_interval, absl::Milliseconds(250));
  absl::SetFlag(&FLAGS_sketch_memory_limit_mb, 3);
  absl::SetFlag(&FLAGS_store_shards, 16);
  absl::SetFlag(&FLAGS_ack_after_flush, true);
  absl::SetFlag(&FLAGS_bot_user_agents, "");
  absl::StatusOr<TrendingConfig> c = TrendingConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->visitor_salt_secret, "a shared secret");
  EXPECT_FALSE(c->visitor_salt_secret_generated);
  EXPECT_EQ(c->replica_id, "replica-7");
  EXPECT_EQ(c->store.retention, absl::Hours(48));
  EXPECT_EQ(c->ingest.time.retention, absl::Hours(48));
  EXPECT_EQ(c->store.exact_uniques_within, absl::Minutes(5));
  EXPECT_EQ(c->store.max_pending_seen, 4096u);
  EXPECT_EQ(c->sync.flush_interval, absl::Milliseconds(250));
  EXPECT_EQ(c->store.sketch_memory_limit, size_t{3} << 20);
  EXPECT_EQ(c->store.shards, 16);
  EXPECT_TRUE(c->ack_after_flush);
}

// Each refusal is INVALID_ARGUMENT and names the flag (the operator reads
// it at start-up).
TEST_F(TrendingConfigTest, RefusesOutOfRangeValuesNamingTheFlag) {
  struct Case {
    const char* flag;
    void (*set)();
  };
  const Case cases[] = {
      {"--visitor_salt_secret", [] { absl::SetFlag(&FLAGS_visitor_salt_secret, "short"); }},
      {"--replica_id", [] { absl::SetFlag(&FLAGS_replica_id, std::string(65, 'r')); }},
      {"--retention", [] { absl::SetFlag(&FLAGS_retention, absl::Hours(24)); }},
      {"--dedup_window", [] { absl::SetFlag(&FLAGS_dedup_window, absl::Hours(25)); }},
      {"--dedup_max_entries", [] { absl::SetFlag(&FLAGS_dedup_max_entries, 10); }},
      {"--flush_interval", [] { absl::SetFlag(&FLAGS_flush_interval, absl::Milliseconds(1)); }},
      {"--store_shards", [] { absl::SetFlag(&FLAGS_store_shards, 0); }},
      {"--ingest_threads", [] { absl::SetFlag(&FLAGS_ingest_threads, 65); }},
      {"--sketch_memory_limit_mb", [] { absl::SetFlag(&FLAGS_sketch_memory_limit_mb, 0); }},
      {"--max_unflushed_views", [] { absl::SetFlag(&FLAGS_max_unflushed_views, 999); }},
      {"--max_queued_views", [] { absl::SetFlag(&FLAGS_max_queued_views, 0); }},
  };
  for (const Case& c : cases) {
    absl::FlagSaver saver;
    c.set();
    absl::StatusOr<TrendingConfig> config = TrendingConfigFromFlags();
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << c.flag;
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.flag));
  }
}

}  // namespace
}  // namespace newsgrid::trending
