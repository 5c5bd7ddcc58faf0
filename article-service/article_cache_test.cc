#include "article-service/article_cache.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

using news::article::v1::Article;

// A version of article `id` with `body_bytes` of body.
ArticleRef Make(int64_t id, const std::string& title, size_t body_bytes = 0) {
  Article a;
  a.set_name(absl::StrCat("articles/", id));
  a.set_title(title);
  a.set_body(std::string(body_bytes, 'x'));
  return ArticleVersion::Make(a);
}

TEST(ArticleVersionTest, SerializedOnceAndShared) {
  Article a;
  a.set_name("articles/42");
  a.set_title("Hello");
  a.set_section("world");
  a.add_tags("x");
  a.set_etag("\"1-abc\"");
  ArticleRef v = ArticleVersion::Make(a);
  EXPECT_EQ(v->id(), 42);
  EXPECT_EQ(v->name(), "articles/42");
  EXPECT_EQ(v->section(), "world");
  EXPECT_EQ(v->etag(), "\"1-abc\"");
  ASSERT_EQ(v->tags().size(), 1u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v->serialized().begin()),
                        v->serialized().size()),
            a.SerializeAsString());
  EXPECT_EQ(v->Parse().title(), "Hello");
  EXPECT_GE(v->memory_bytes(), v->serialized().size());
  // A copy of the slice is the same bytes, not a copy of them.
  grpc::Slice shared = v->serialized();
  EXPECT_EQ(shared.begin(), v->serialized().begin());
}

TEST(ArticleCacheTest, HitAfterInsertMissAfterInvalidate) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity_bytes = 1 << 20}, clock);
  EXPECT_EQ(cache.Get(1), nullptr);
  ArticleRef v1 = Make(1, "v1");
  cache.Insert(v1, cache.BeginRead(1));
  ASSERT_NE(cache.Get(1), nullptr);
  EXPECT_EQ(cache.Get(1), v1);  // the same shared version
  cache.Invalidate(1);
  EXPECT_EQ(cache.Get(1), nullptr);
}

TEST(ArticleCacheTest, ReadThatRacedWithAWriteIsNotInserted) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity_bytes = 1 << 20}, clock);
  const uint64_t epoch = cache.BeginRead(1);  // reader starts, reads v1 from the database
  cache.Invalidate(1);                        // writer commits v2 and invalidates
  cache.Insert(Make(1, "v1"), epoch);         // the reader's stale v1 must not land
  EXPECT_EQ(cache.Get(1), nullptr);
  cache.Insert(Make(1, "v2"), cache.BeginRead(1));
  EXPECT_EQ(cache.Get(1)->Parse().title(), "v2");
}

TEST(ArticleCacheTest, TtlIsLongWhileNotifiedAndFallsBackAtOnceForCachedEntriesToo) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity_bytes = 1 << 20,
                      .ttl = absl::Minutes(5),
                      .fallback_ttl = absl::Seconds(2)},
                     clock);
  // Not yet notified (no listener): the fallback TTL.
  EXPECT_EQ(cache.current_ttl(), absl::Seconds(2));
  cache.Insert(Make(1, "a"), cache.BeginRead(1));
  clock.Advance(absl::Milliseconds(1999));
  EXPECT_NE(cache.Get(1), nullptr);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_EQ(cache.Get(1), nullptr);

  cache.SetNotified(true);
  EXPECT_EQ(cache.current_ttl(), absl::Minutes(5));
  cache.Insert(Make(2, "b"), cache.BeginRead(2));
  clock.Advance(absl::Minutes(1));
  EXPECT_NE(cache.Get(2), nullptr);  // a minute old, still served while notified
  // The listener is lost: the same entry is now older than the fallback TTL.
  cache.SetNotified(false);
  EXPECT_EQ(cache.Get(2), nullptr);
  cache.SetNotified(true);
  clock.Advance(absl::Minutes(4));
  EXPECT_EQ(cache.Get(2), nullptr);  // and never older than the TTL
}

TEST(ArticleCacheTest, InvalidateAllDropsEverythingAndRefusesReadsInFlight) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity_bytes = 1 << 20}, clock);
  for (int i = 0; i < 40; ++i) cache.Insert(Make(i, "a"), cache.BeginRead(i));
  const uint64_t in_flight = cache.BeginRead(99);
  EXPECT_EQ(cache.size(), 40u);
  cache.InvalidateAll();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  cache.Insert(Make(99, "stale"), in_flight);
  EXPECT_EQ(cache.Get(99), nullptr);
}

TEST(ArticleCacheTest, BoundedByBytesWithSecondChanceEviction) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  const size_t article = Make(0, "a", 10000)->memory_bytes();
  // Room for two of these articles per shard (16 shards).
  ArticleCache cache({.capacity_bytes = 16 * (2 * article + article / 2)}, clock);
  // Ids 0, 16, 32 share shard 0.
  cache.Insert(Make(0, "a", 10000), cache.BeginRead(0));
  cache.Insert(Make(16, "b", 10000), cache.BeginRead(16));
  EXPECT_NE(cache.Get(0), nullptr);  // 0 is referenced: it gets a second chance
  cache.Insert(Make(32, "c", 10000), cache.BeginRead(32));
  EXPECT_NE(cache.Get(0), nullptr);
  EXPECT_EQ(cache.Get(16), nullptr);
  EXPECT_NE(cache.Get(32), nullptr);
  // Small articles: many more fit in the same bytes.
  for (int i = 100; i < 2100; ++i) cache.Insert(Make(i, "x"), cache.BeginRead(i));
  EXPECT_GT(cache.size(), 100u);
  EXPECT_LE(cache.bytes(), 16 * (2 * article + article / 2));
  // Big ones: the bound holds in bytes.
  for (int i = 3000; i < 4000; ++i) cache.Insert(Make(i, "x", 10000), cache.BeginRead(i));
  EXPECT_LE(cache.size(), 32u);
  EXPECT_LE(cache.bytes(), 16 * (2 * article + article / 2));
}

TEST(ArticleCacheTest, DisabledWithZeroCapacity) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity_bytes = 0}, clock);
  EXPECT_FALSE(cache.enabled());
  cache.Insert(Make(1, "a"), cache.BeginRead(1));
  cache.RememberSlug("a", 1);
  EXPECT_EQ(cache.Get(1), nullptr);
  EXPECT_FALSE(cache.IdForSlug("a").has_value());
}

TEST(ArticleCacheTest, SlugIndex) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity_bytes = 1 << 20}, clock);
  cache.RememberSlug("old", 3);
  EXPECT_EQ(cache.IdForSlug("old"), 3);
  EXPECT_FALSE(cache.IdForSlug("new").has_value());
}

// Readers, writers and flushes at once (TSan checks the synchronization):
// every hit is a whole version of the article asked for.
TEST(ArticleCacheTest, ConcurrentReadersWritersAndFlushes) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity_bytes = 64 << 10}, clock);
  cache.SetNotified(true);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::atomic<int> hits{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const int64_t id = (i * 7 + t) % 200;
        if (ArticleRef v = cache.Get(id)) {
          EXPECT_EQ(v->id(), id);
          ++hits;
        } else {
          cache.Insert(Make(id, "x", 300), cache.BeginRead(id));
        }
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; !stop; ++i) {
      cache.Invalidate(i % 200);
      if (i % 500 == 0) cache.InvalidateAll();
      if (i % 300 == 0) cache.SetNotified(i % 600 != 0);
    }
  });
  absl::SleepFor(absl::Milliseconds(300));
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_GT(hits.load(), 0);
  EXPECT_LE(cache.bytes(), size_t{64} << 10);
}

}  // namespace
}  // namespace newsgrid::article
