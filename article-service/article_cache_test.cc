#include "article-service/article_cache.h"

#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

std::shared_ptr<const Article> Make(const std::string& title) {
  auto a = std::make_shared<Article>();
  a->set_title(title);
  return a;
}

TEST(ArticleCacheTest, HitAfterInsertMissAfterInvalidate) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity = 100, .ttl = absl::Seconds(2)}, clock);
  EXPECT_EQ(cache.Get(1), nullptr);
  cache.Insert(1, Make("v1"), cache.BeginRead(1));
  ASSERT_NE(cache.Get(1), nullptr);
  EXPECT_EQ(cache.Get(1)->title(), "v1");
  cache.Invalidate(1);
  EXPECT_EQ(cache.Get(1), nullptr);
}

TEST(ArticleCacheTest, ReadThatRacedWithAWriteIsNotInserted) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity = 100}, clock);
  const uint64_t epoch = cache.BeginRead(1);  // reader starts, reads v1 from the database
  cache.Invalidate(1);                        // writer commits v2 and invalidates
  cache.Insert(1, Make("v1"), epoch);         // the reader's stale v1 must not land
  EXPECT_EQ(cache.Get(1), nullptr);
  cache.Insert(1, Make("v2"), cache.BeginRead(1));
  EXPECT_EQ(cache.Get(1)->title(), "v2");
}

TEST(ArticleCacheTest, EntriesExpireAfterTtl) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity = 100, .ttl = absl::Seconds(2)}, clock);
  cache.Insert(1, Make("v1"), cache.BeginRead(1));
  clock.Advance(absl::Milliseconds(1999));
  EXPECT_NE(cache.Get(1), nullptr);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_EQ(cache.Get(1), nullptr);
}

TEST(ArticleCacheTest, BoundedWithLeastRecentlyUsedEviction) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity = 32}, clock);  // 2 per shard
  // Ids 0, 16, 32 share shard 0.
  cache.Insert(0, Make("a"), cache.BeginRead(0));
  cache.Insert(16, Make("b"), cache.BeginRead(16));
  EXPECT_NE(cache.Get(0), nullptr);  // 0 is now the most recent
  cache.Insert(32, Make("c"), cache.BeginRead(32));
  EXPECT_NE(cache.Get(0), nullptr);
  EXPECT_EQ(cache.Get(16), nullptr);
  EXPECT_NE(cache.Get(32), nullptr);
  for (int i = 0; i < 1000; ++i) cache.Insert(i, Make("x"), cache.BeginRead(i));
  EXPECT_LE(cache.size(), 32u);
}

TEST(ArticleCacheTest, DisabledWithZeroCapacity) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity = 0}, clock);
  cache.Insert(1, Make("a"), cache.BeginRead(1));
  cache.RememberSlug("a", 1);
  EXPECT_EQ(cache.Get(1), nullptr);
  EXPECT_FALSE(cache.IdForSlug("a").has_value());
}

TEST(ArticleCacheTest, SlugIndex) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  ArticleCache cache({.capacity = 16}, clock);
  cache.RememberSlug("old", 3);
  EXPECT_EQ(cache.IdForSlug("old"), 3);
  EXPECT_FALSE(cache.IdForSlug("new").has_value());
}

}  // namespace
}  // namespace newsgrid::article
