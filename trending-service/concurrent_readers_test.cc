#include "trending-service/concurrent_readers.h"

#include <cstdint>
#include <map>
#include <random>

#include "gtest/gtest.h"

namespace newsgrid::trending {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kT0 = 1'714'565'250'000;  // a Unix time in ms, on a second

TEST(ConcurrentReadersTest, AReaderCountsOnceUntilItsLastPingLeavesTheWindow) {
  ConcurrentReaders r(absl::Seconds(60));
  EXPECT_EQ(r.Count(kT0), 0);
  r.Note(1, kT0);
  r.Note(1, kT0 + 10 * kSecond);  // the same reader again
  r.Note(2, kT0 + 20 * kSecond);
  r.Note(1, kT0 + 5 * kSecond);   // late: its last ping stays at +10 s
  EXPECT_EQ(r.Count(kT0 + 20 * kSecond), 2);
  EXPECT_EQ(r.Count(kT0 + 69 * kSecond), 2);  // reader 1's last ping is 59 s old
  EXPECT_EQ(r.Count(kT0 + 71 * kSecond), 1);  // 61 s: it has left
  EXPECT_EQ(r.Count(kT0 + 81 * kSecond), 0);
  // Queries change nothing: an earlier time still sees both.
  EXPECT_EQ(r.Count(kT0 + 30 * kSecond), 2);
}

TEST(ConcurrentReadersTest, ExpiryDropsAGenerationOnceAllOfItHasLeft) {
  ConcurrentReaders r(absl::Seconds(60));
  for (uint64_t v = 0; v < 100; ++v) r.Note(v, kT0);
  r.Expire(kT0);  // the first generation starts aging
  for (uint64_t v = 100; v < 150; ++v) r.Note(v, kT0 + 30 * kSecond);
  EXPECT_EQ(r.size(), 150u);
  r.Expire(kT0 + 59 * kSecond);  // the first 100 may still be reading
  EXPECT_EQ(r.size(), 150u);
  EXPECT_EQ(r.Count(kT0 + 59 * kSecond), 150);
  r.Expire(kT0 + 61 * kSecond);  // they have left: dropped whole
  EXPECT_EQ(r.size(), 50u);
  EXPECT_EQ(r.Count(kT0 + 61 * kSecond), 50);
  // A reader of the dropped generation coming back counts once.
  r.Note(7, kT0 + 62 * kSecond);
  EXPECT_EQ(r.Count(kT0 + 62 * kSecond), 51);
  r.Expire(kT0 + 200 * kSecond);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.Bytes(), 0u);
  EXPECT_EQ(r.Count(kT0 + 200 * kSecond), 0);
}

TEST(ConcurrentReadersTest, AReaderMovingToTheNewGenerationIsNotCountedTwice) {
  ConcurrentReaders r(absl::Seconds(60));
  r.Note(1, kT0);
  r.Note(2, kT0);
  r.Expire(kT0 + kSecond);  // both in the older generation now
  r.Note(1, kT0 + 40 * kSecond);
  EXPECT_EQ(r.Count(kT0 + 40 * kSecond), 2);
  EXPECT_EQ(r.Count(kT0 + 80 * kSecond), 1);  // reader 2 left at +60 s
  r.Expire(kT0 + 80 * kSecond);               // the older generation goes
  EXPECT_EQ(r.Count(kT0 + 80 * kSecond), 1);
  r.Note(1, kT0 + 90 * kSecond);
  EXPECT_EQ(r.Count(kT0 + 90 * kSecond), 1);
}

// Against a plain map of last pings, counted at the slot's edge: random
// readers, late pings, expiry and large generations (split maps).
TEST(ConcurrentReadersTest, CountsLikeAMapOfLastPings) {
  const int64_t window = 60 * kSecond;
  ConcurrentReaders r(absl::Milliseconds(window));
  std::map<uint64_t, int64_t> last;
  std::mt19937_64 rng(42);
  int64_t now = kT0;
  for (int step = 0; step < 400; ++step) {
    now += 250 + static_cast<int64_t>(rng() % 500);
    const int pings = step < 100 ? 1000 : 100;  // a spike: the maps split
    for (int i = 0; i < pings; ++i) {
      const uint64_t reader = rng() % 60'000 * 0x9E3779B97F4A7C15ull;  // spread top bits
      const int64_t t = now - static_cast<int64_t>(rng() % 3000);        // up to 3 s late
      r.Note(reader, t);
      int64_t& l = last[reader];
      l = std::max(l, t);
    }
    if (step % 20 == 0) r.Expire(now);
    // A reader counts when its last ping's second is later than the second
    // of now - window (slots are a second at this window).
    const int64_t edge = (now - window) / kSecond;
    int64_t expected = 0;
    for (const auto& [reader, t] : last) expected += t / kSecond > edge;
    ASSERT_EQ(r.Count(now), expected) << "step " << step;
  }
  EXPECT_GT(r.Bytes(), 0u);
}

TEST(ConcurrentReadersTest, ShortWindowsUseShortSlots) {
  ConcurrentReaders r(absl::Seconds(2));
  r.Note(1, kT0);
  r.Note(2, kT0 + 1500);
  EXPECT_EQ(r.Count(kT0 + 1500), 2);
  EXPECT_EQ(r.Count(kT0 + 2100), 1);  // reader 1: 2.1 s, beyond the window
  EXPECT_EQ(r.Count(kT0 + 3600), 0);
}

}  // namespace
}  // namespace newsgrid::trending
