#include "trending-service/ingest_rules.h"

#include <memory>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace newsgrid::trending {
namespace {

TEST(IngestRulesTest, ArticleNames) {
  EXPECT_EQ(ParseArticleName("articles/abc-123_X"), "abc-123_X");
  EXPECT_FALSE(ParseArticleName("articles/"));
  EXPECT_FALSE(ParseArticleName("article/abc"));
  EXPECT_FALSE(ParseArticleName("articles/a b"));
  EXPECT_FALSE(ParseArticleName("articles/a/b"));
  EXPECT_FALSE(ParseArticleName("articles/" + std::string(129, 'a')));
}

TEST(IngestRulesTest, BotRulesMatchCaseInsensitively) {
  const BotRules rules = BotRules::Parse(BotRules::kDefaultPatterns);
  EXPECT_TRUE(rules.IsBot("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"));
  EXPECT_TRUE(rules.IsBot("curl/8.1.2"));
  EXPECT_TRUE(rules.IsBot("Mozilla/5.0 HeadlessChrome/120.0"));
  EXPECT_FALSE(rules.IsBot("Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"));
  EXPECT_FALSE(rules.IsBot(""));
  const BotRules custom = BotRules::Parse(" MyMonitor , ,probe ");
  EXPECT_EQ(custom.patterns().size(), 2u);
  EXPECT_TRUE(custom.IsBot("mymonitor/1.0"));
  EXPECT_FALSE(custom.IsBot("Googlebot"));
  EXPECT_FALSE(BotRules::Parse("").IsBot("Googlebot"));
}

TEST(IngestRulesTest, TimeRules) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  const TimeRules rules{.max_clock_skew = absl::Seconds(5), .retention = absl::Hours(168)};
  EXPECT_EQ(CheckViewTime(absl::InfinitePast(), now, rules).time, now);
  TimeCheck skewed = CheckViewTime(now + absl::Seconds(4), now, rules);
  EXPECT_EQ(skewed.reason, RejectReason::kNone);
  EXPECT_EQ(skewed.time, now);
  EXPECT_EQ(CheckViewTime(now + absl::Seconds(6), now, rules).reason, RejectReason::kFromFuture);
  const absl::Time late = now - absl::Hours(100);
  EXPECT_EQ(CheckViewTime(late, now, rules).reason, RejectReason::kNone);
  EXPECT_EQ(CheckViewTime(late, now, rules).time, late);
  EXPECT_EQ(CheckViewTime(now - absl::Hours(168) - absl::Seconds(1), now, rules).reason,
            RejectReason::kTooOld);
}

TEST(IngestRulesTest, DedupWithinWindowOnly) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  DedupFilter dedup(absl::Minutes(30), 1000);
  EXPECT_FALSE(dedup.SeenWithin(42, t0, t0));
  EXPECT_TRUE(dedup.SeenWithin(42, t0 + absl::Minutes(29), t0 + absl::Minutes(29)));
  // Measured from the counted view: 30 minutes after it, it counts again.
  EXPECT_FALSE(dedup.SeenWithin(42, t0 + absl::Minutes(30), t0 + absl::Minutes(30)));
  EXPECT_TRUE(dedup.SeenWithin(42, t0 + absl::Minutes(31), t0 + absl::Minutes(31)));
  EXPECT_FALSE(dedup.SeenWithin(43, t0, t0 + absl::Minutes(31)));
  // A late event far from the counted one is not a repeat.
  EXPECT_FALSE(dedup.SeenWithin(43, t0 - absl::Hours(5), t0 + absl::Minutes(31)));
  // Entries survive one generation change (between one and two windows).
  EXPECT_TRUE(dedup.SeenWithin(42, t0 + absl::Minutes(50), t0 + absl::Minutes(70)));
}

TEST(IngestRulesTest, DedupMemoryIsBounded) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  DedupFilter dedup(absl::Minutes(30), 64 * 100, 64);
  for (uint64_t i = 0; i < 100000; ++i) dedup.SeenWithin(MixHash(i, 7), t0, t0);
  EXPECT_LE(dedup.size(), 64u * 100u);
  // The most recent keys are still remembered.
  EXPECT_TRUE(dedup.SeenWithin(MixHash(99999, 7), t0, t0));
}

// Keys spread evenly, so shards with equal generations all retired theirs
// (and allocated new maps) at the same insert. Shard i's first generation
// ends at (i + 1) / shards of the bound, so they retire at different times
// from then on, and each still keeps a key for a whole generation.
TEST(IngestRulesTest, DedupShardsRetireTheirGenerationsAtDifferentTimes) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  constexpr int kShards = 16;
  DedupFilter dedup(absl::Hours(1), 2 * kShards * 64, kShards);  // 64 per generation
  auto key_in = [](int shard, int n) { return (uint64_t{static_cast<uint32_t>(shard)} << 40) | n; };
  std::vector<int> forgotten_at(kShards, -1);
  for (int round = 1; round <= 200; ++round) {
    for (int s = 0; s < kShards; ++s) EXPECT_FALSE(dedup.SeenWithin(key_in(s, round), t0, t0));
    for (int s = 0; s < kShards; ++s) {
      if (forgotten_at[s] < 0 && !dedup.Holds(key_in(s, 1), t0)) forgotten_at[s] = round;
    }
  }
  std::set<int> rounds;
  for (int s = 0; s < kShards; ++s) {
    EXPECT_GT(forgotten_at[s], 64) << "shard " << s;  // kept for a whole generation
    rounds.insert(forgotten_at[s]);
  }
  EXPECT_EQ(rounds.size(), static_cast<size_t>(kShards));
  EXPECT_LE(dedup.size(), 2u * kShards * 64);
}

// Every key is still found after its generation retires (the next one
// reserved like it), by single and batched checks alike, and forgotten once
// a whole generation has passed without it.
TEST(IngestRulesTest, DedupKeysSurviveOneRetirementAndNotTwo) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  DedupFilter dedup(absl::Minutes(30), 1'000'000, 4);
  auto key = [](uint64_t i) { return (i + 1) * 0x9E3779B97F4A7C15ull; };  // distinct, spread
  constexpr uint64_t kKeys = 20000;
  uint64_t next = 0;
  std::vector<uint64_t> keys;
  for (; next < kKeys; ++next) keys.push_back(key(next));
  for (uint64_t k : keys) ASSERT_FALSE(dedup.SeenWithin(k, t0, t0));
  EXPECT_EQ(dedup.size(), kKeys);
  // New keys at `at` reach every shard, which retires its generation then.
  auto new_keys_at = [&](absl::Time at) {
    for (int i = 0; i < 1000; ++i) EXPECT_FALSE(dedup.SeenWithin(key(next++), at, at));
  };
  const absl::Time later = t0 + absl::Minutes(31);
  new_keys_at(later);
  // The first keys, now in the retired generation, are still repeats for
  // views within the window of them.
  const absl::Time view_time = t0 + absl::Minutes(29);
  for (uint64_t k : keys) EXPECT_TRUE(dedup.Holds(k, view_time));
  std::vector<int64_t> times(kKeys, absl::ToUnixNanos(view_time));
  auto seen = std::make_unique<bool[]>(kKeys);
  dedup.SeenWithinBatch(keys, times, later, seen.get());
  for (uint64_t i = 0; i < kKeys; ++i) EXPECT_TRUE(seen[i]) << i;
  // Those repeats carried them into the current generation; two more
  // retirements without them and they are gone.
  new_keys_at(later + absl::Minutes(31));
  new_keys_at(later + absl::Minutes(62));
  for (uint64_t k : keys) EXPECT_FALSE(dedup.Holds(k, view_time));
  EXPECT_EQ(dedup.size(), 2000u);
}

TEST(IngestRulesTest, RememberedMarksDedupByTheirViewTime) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  const int64_t t0_ns = absl::ToUnixNanos(t0);
  DedupFilter dedup(absl::Minutes(30), 1000);
  // Views counted elsewhere at t0 (key 7) and 10 minutes later (key 8).
  dedup.Remember({{7, t0_ns}, {8, t0_ns + absl::ToInt64Nanoseconds(absl::Minutes(10))}},
                 t0 + absl::Seconds(2));
  EXPECT_EQ(dedup.size(), 2u);
  // Keyed by the remote view's time, as if counted here: a repeat until 30
  // minutes after it, whenever the mark arrived.
  EXPECT_TRUE(dedup.SeenWithin(7, t0 + absl::Seconds(1), t0 + absl::Seconds(3)));
  EXPECT_TRUE(dedup.SeenWithin(7, t0 + absl::Minutes(29), t0 + absl::Minutes(29)));
  EXPECT_TRUE(dedup.SeenWithin(8, t0 + absl::Minutes(39), t0 + absl::Minutes(39)));
  EXPECT_FALSE(dedup.SeenWithin(7, t0 + absl::Minutes(30), t0 + absl::Minutes(30)));
  // Unknown keys are untouched.
  EXPECT_FALSE(dedup.SeenWithin(9, t0, t0 + absl::Minutes(30)));
}

TEST(IngestRulesTest, RememberIsIdempotentAndOrderIndependent) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  const int64_t early = absl::ToUnixNanos(t0);
  const int64_t late = absl::ToUnixNanos(t0 + absl::Minutes(20));
  // Two views of one pair counted on two replicas within the staleness
  // bound: whichever order the marks arrive in, both filters keep the later.
  DedupFilter a(absl::Minutes(30), 1000);
  DedupFilter b(absl::Minutes(30), 1000);
  EXPECT_FALSE(a.SeenWithin(5, t0, t0));  // counted locally at `early`
  a.Remember({{5, late}}, t0 + absl::Minutes(20));
  const size_t held = a.size();
  a.Remember({{5, late}, {5, early}}, t0 + absl::Minutes(20));  // again, and older
  EXPECT_EQ(a.size(), held);  // nothing new
  b.Remember({{5, late}}, t0 + absl::Minutes(20));
  b.Remember({{5, early}}, t0 + absl::Minutes(20));
  const absl::Time probe = t0 + absl::Minutes(45);  // within 30 min of `late` only
  EXPECT_TRUE(a.SeenWithin(5, probe, probe));
  EXPECT_TRUE(b.SeenWithin(5, probe, probe));
  // A mark for a key whose local entry moved to the previous generation
  // keeps the later time too.
  DedupFilter c(absl::Minutes(30), 1000);
  EXPECT_FALSE(c.SeenWithin(6, t0 + absl::Minutes(20), t0));
  c.Remember({{6, early}}, t0 + absl::Minutes(31));  // retires the first generation
  EXPECT_TRUE(c.SeenWithin(6, t0 + absl::Minutes(49), t0 + absl::Minutes(49)));
}

TEST(IngestRulesTest, RememberedMarksStayBounded) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  DedupFilter dedup(absl::Minutes(30), 64 * 100, 64);
  std::vector<SeenMark> marks;
  for (uint64_t i = 0; i < 100000; ++i) marks.push_back({MixHash(i, 3), absl::ToUnixNanos(t0)});
  dedup.Remember(marks, t0);
  EXPECT_LE(dedup.size(), 64u * 100u);
  // Applied in order: the newest marks are the ones kept.
  EXPECT_TRUE(dedup.SeenWithin(MixHash(99999, 3), t0, t0));
}

TEST(RateLimiterTest, AllowsTheLimitPerKeyPerMinute) {
  RateLimiter limit(3, 1000);
  const absl::Time t = absl::FromUnixSeconds(1'714'565'220);  // 12:07:00 UTC
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limit.Allow(1, t + absl::Seconds(i)));
  EXPECT_FALSE(limit.Allow(1, t + absl::Seconds(10)));
  EXPECT_FALSE(limit.Allow(1, t + absl::Seconds(59)));
  EXPECT_TRUE(limit.Allow(2, t + absl::Seconds(59)));  // other keys keep their own budget
  // The next minute starts a new budget.
  EXPECT_TRUE(limit.Allow(1, t + absl::Seconds(60)));
  EXPECT_EQ(limit.size(), 1u);
}

TEST(RateLimiterTest, ZeroIsNoLimit) {
  RateLimiter limit(0, 1000);
  EXPECT_FALSE(limit.enabled());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limit.Allow(7, absl::UnixEpoch()));
  EXPECT_EQ(limit.size(), 0u);
}

TEST(RateLimiterTest, MemoryStaysBounded) {
  RateLimiter limit(1, /*max_keys=*/64, /*shards=*/4);
  const absl::Time t = absl::FromUnixSeconds(600);
  for (uint64_t k = 0; k < 100000; ++k) limit.Allow(MixHash(k, 1), t);
  EXPECT_LE(limit.size(), 64u);
  // A key tracked before the table filled keeps its limit.
  RateLimiter small(1, 64, 4);
  EXPECT_TRUE(small.Allow(42, t));
  for (uint64_t k = 0; k < 100000; ++k) small.Allow(MixHash(k, 2), t);
  EXPECT_FALSE(small.Allow(42, t));
}

}  // namespace
}  // namespace newsgrid::trending
