#include "trending-service/top_k.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace newsgrid::trending {
namespace {

std::vector<std::string> Ids(const std::vector<RankCandidate>& v) {
  std::vector<std::string> out;
  for (const RankCandidate& c : v) out.push_back(c.article);
  return out;
}

TEST(TopKTest, KeepsTheBestKBestFirst) {
  TopK top(3);
  top.Push(5, "e");
  top.Push(1, "a");
  top.Push(9, "i");
  top.Push(7, "g");
  top.Push(2, "b");
  EXPECT_TRUE(top.full());
  EXPECT_EQ(top.worst(), 5);
  EXPECT_EQ(Ids(std::move(top).Sorted()), (std::vector<std::string>{"i", "g", "e"}));
}

TEST(TopKTest, TiesGoToTheSmallerIdWhateverTheOrderOfArrival) {
  for (const std::vector<std::string>& order :
       {std::vector<std::string>{"c", "a", "b", "d"}, std::vector<std::string>{"d", "b", "a", "c"}}) {
    TopK top(2);
    for (const std::string& id : order) top.Push(4, id);
    EXPECT_EQ(Ids(std::move(top).Sorted()), (std::vector<std::string>{"a", "b"}));
  }
}

TEST(TopKTest, ZeroKeepsNothingAndFewerThanKAreAllKept) {
  TopK none(0);
  none.Push(1, "a");
  EXPECT_TRUE(std::move(none).Sorted().empty());
  TopK top(10);
  top.Push(1, "a");
  top.Push(3, "b");
  EXPECT_FALSE(top.full());
  EXPECT_EQ(Ids(std::move(top).Sorted()), (std::vector<std::string>{"b", "a"}));
}

// The heap agrees with sorting everything, on random scores with many ties.
TEST(TopKTest, AgreesWithAFullSort) {
  std::mt19937 rng(7);
  for (size_t k : {size_t{1}, size_t{5}, size_t{50}}) {
    std::vector<RankCandidate> all;
    TopK top(k);
    for (int i = 0; i < 2000; ++i) {
      const double score = static_cast<double>(rng() % 40);
      const std::string id = absl::StrCat("a", rng() % 100000);
      all.push_back({score, id});
      top.Push(score, id);
    }
    std::sort(all.begin(), all.end());
    all.resize(k);
    const std::vector<RankCandidate> got = std::move(top).Sorted();
    ASSERT_EQ(got.size(), k);
    for (size_t i = 0; i < k; ++i) {
      EXPECT_EQ(got[i].article, all[i].article) << i;
      EXPECT_EQ(got[i].score, all[i].score) << i;
    }
  }
}

TEST(HotRankKeyTest, FloatNoiseDoesNotSeparateEqualScores) {
  const double a = 12.345678;
  EXPECT_EQ(HotRankKey(a), HotRankKey(a + 1e-12));
  EXPECT_EQ(HotRankKey(0.1 + 0.2), HotRankKey(0.3));
  EXPECT_LT(HotRankKey(a), HotRankKey(a + 1e-5));
}

TEST(RanksByArticleTest, OneBasedByPosition) {
  const auto ranks = RanksByArticle({{9, "x"}, {7, "y"}, {1, "z"}});
  EXPECT_EQ(ranks.size(), 3u);
  EXPECT_EQ(ranks.at("x"), 1);
  EXPECT_EQ(ranks.at("y"), 2);
  EXPECT_EQ(ranks.at("z"), 3);
}

// Scores bounded by a cheap bound are computed only while they can rank,
// and the result is the one scoring everything would give.
TEST(PushWhileCanRankTest, ScoresOnlyWhatCanStillMakeTheCut) {
  // bound = views; score = a fraction of it (unique visitors <= views).
  std::vector<BoundedCandidate<int>> candidates;
  for (int i = 0; i < 100; ++i) {
    candidates.push_back({static_cast<double>(1000 - i * 10), absl::StrCat("a", i), i});
  }
  std::vector<int> scored_refs;
  auto score = [&](const BoundedCandidate<int>& c) -> std::optional<double> {
    scored_refs.push_back(c.ref);
    return c.bound - 5;  // every score just under its bound
  };
  std::shuffle(candidates.begin(), candidates.end(), std::mt19937(3));
  TopK top(3);
  const size_t scored = PushWhileCanRank(candidates, top, score);
  EXPECT_EQ(Ids(std::move(top).Sorted()), (std::vector<std::string>{"a0", "a1", "a2"}));
  // a0..a2 fill the top (worst 975); a3's bound 970 cannot beat it.
  EXPECT_EQ(scored, 3u);
  EXPECT_EQ(scored_refs, (std::vector<int>{0, 1, 2}));
}

TEST(PushWhileCanRankTest, AGoneCandidateIsSkippedAndTheNextOneScored) {
  std::vector<BoundedCandidate<int>> candidates = {{10, "a", 0}, {9, "b", 1}, {8, "c", 2}};
  TopK top(2);
  const size_t scored = PushWhileCanRank(
      candidates, top, [](const BoundedCandidate<int>& c) -> std::optional<double> {
        if (c.ref == 0) return std::nullopt;
        return c.bound;
      });
  EXPECT_EQ(scored, 3u);
  EXPECT_EQ(Ids(std::move(top).Sorted()), (std::vector<std::string>{"b", "c"}));
}

// A low bound that ties the worst score is still scored: it may win the tie
// by id.
TEST(PushWhileCanRankTest, ABoundEqualToTheWorstIsStillScored) {
  std::vector<BoundedCandidate<int>> candidates = {{5, "b", 0}, {5, "a", 1}};
  TopK top(1);
  const size_t scored = PushWhileCanRank(
      candidates, top, [](const BoundedCandidate<int>& c) -> std::optional<double> {
        return c.bound;
      });
  EXPECT_EQ(scored, 2u);
  EXPECT_EQ(Ids(std::move(top).Sorted()), (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace newsgrid::trending
