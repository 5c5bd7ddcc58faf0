#include "trending-service/delta_pack.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "gtest/gtest.h"

namespace newsgrid::trending {
namespace {

std::vector<BucketDelta> Sample() {
  std::vector<BucketDelta> d;
  for (int i = 0; i < 50; ++i) {
    BucketDelta x;
    x.article = i % 3 == 0 ? "hot-article" : "a" + std::to_string(i);
    x.start_min = 28'576'087 - i * (i % 2 ? 1 : 60);
    x.width_min = i % 2 ? 1 : 60;
    x.views = i * 1000 + 1;
    x.visitors = i * 999;
    x.hot = 1.5 * i + 0.25;
    if (i % 5 == 0) {
      x.engaged = i * 17;
      for (int k = 0; k < i % 7 + 1; ++k) {
        x.readers.push_back({0xfedcba9876543210ULL + k, int64_t{x.start_min} * 60'000 + k * 1'500 - 700});
      }
    }
    if (i % 4 == 0) {
      for (int k = 0; k < 5 * i + 1; ++k) x.raises.Add(0x9e3779b97f4a7c15ULL * (k + 1) + i);
    }
    d.push_back(std::move(x));
  }
  d[7].start_min = -5;  // before the epoch: zigzag keeps the sign
  return d;
}

TEST(DeltaPackTest, RoundTripsCountsAndRaisesOfARange) {
  const std::vector<BucketDelta> in = Sample();
  std::vector<BucketDelta> counts, raises;
  ASSERT_TRUE(UnpackCounts(PackCounts(in, 5, 45), counts).ok());
  ASSERT_TRUE(UnpackRaises(PackRaises(in, 5, 45), raises).ok());
  ASSERT_EQ(counts.size(), 40u);
  for (size_t i = 0; i < counts.size(); ++i) {
    const BucketDelta& a = in[i + 5];
    EXPECT_EQ(counts[i].article, a.article);
    EXPECT_EQ(counts[i].start_min, a.start_min);
    EXPECT_EQ(counts[i].width_min, a.width_min);
    EXPECT_EQ(counts[i].views, a.views);
    EXPECT_EQ(counts[i].visitors, a.visitors);
    EXPECT_EQ(counts[i].hot, a.hot);
    EXPECT_EQ(counts[i].engaged, a.engaged);
    EXPECT_EQ(counts[i].readers, a.readers);
    EXPECT_TRUE(counts[i].raises.empty());
  }
  size_t j = 0;
  for (size_t i = 5; i < 45; ++i) {
    if (in[i].raises.empty()) continue;
    ASSERT_LT(j, raises.size());
    EXPECT_EQ(raises[j].article, in[i].article);
    EXPECT_EQ(raises[j].start_min, in[i].start_min);
    EXPECT_EQ(raises[j].views, 0);
    EXPECT_EQ(raises[j].raises.Serialize(), in[i].raises.Serialize());
    ++j;
  }
  EXPECT_EQ(j, raises.size());
  // Nothing raised: no value at all.
  std::vector<BucketDelta> none(3);
  EXPECT_EQ(PackRaises(none, 0, 3), "");
  EXPECT_TRUE(UnpackRaises("", raises).ok());
}

TEST(DeltaPackTest, ReadsPacksOfVersionOneWithoutEngagement) {
  // 'C', 1, one article "a", one delta: article 0, start 10 (zigzag 20),
  // width 1, 3 views, 2 visitor views, HOT 1.5 as a little-endian double.
  std::string v1 = {'C', 1, 1, 1, 'a', 1, 0, 20, 1, 3, 2};
  v1 += std::string("\x00\x00\x00\x00\x00\x00\xf8\x3f", 8);
  std::vector<BucketDelta> out;
  ASSERT_TRUE(UnpackCounts(v1, out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].article, "a");
  EXPECT_EQ(out[0].start_min, 10);
  EXPECT_EQ(out[0].views, 3);
  EXPECT_EQ(out[0].visitors, 2);
  EXPECT_EQ(out[0].hot, 1.5);
  EXPECT_EQ(out[0].engaged, 0);
  EXPECT_TRUE(out[0].readers.empty());
}

// A merge's sums equal the deltas of all its packs added up by (article,
// start, width), in key order, whatever the packs' article tables.
TEST(DeltaPackTest, CountSummerAddsPacksUpByKeyInKeyOrder) {
  const std::vector<BucketDelta> in = Sample();
  CountSummer summer;
  // Overlapping ranges: each pack has its own article table (indexes differ).
  ASSERT_TRUE(summer.Add(PackCounts(in, 0, 30)).ok());
  ASSERT_TRUE(summer.Add(PackCounts(in, 10, 50)).ok());
  ASSERT_TRUE(summer.Add(PackCounts(in, 25, 26)).ok());
  std::map<std::tuple<std::string, int32_t, int32_t>, CountSummer::Sums> want;
  auto add = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      CountSummer::Sums& w = want[{in[i].article, in[i].start_min, in[i].width_min}];
      w.views += in[i].views;
      w.visitors += in[i].visitors;
      w.hot += in[i].hot;
      w.engaged += in[i].engaged;
    }
  };
  add(0, 30);
  add(10, 50);
  add(25, 26);
  const std::vector<CountSummer::Row> rows = summer.SortedRows();
  ASSERT_EQ(rows.size(), want.size());
  ASSERT_EQ(summer.size(), want.size());
  size_t i = 0;
  for (const auto& [key, w] : want) {  // std::map: key order
    const CountSummer::Row& r = rows[i++];
    EXPECT_EQ(*r.article, std::get<0>(key));
    EXPECT_EQ(r.start_min, std::get<1>(key));
    EXPECT_EQ(r.width_min, std::get<2>(key));
    EXPECT_EQ(r.sums->views, w.views);
    EXPECT_EQ(r.sums->visitors, w.visitors);
    EXPECT_DOUBLE_EQ(r.sums->hot, w.hot);
    EXPECT_EQ(r.sums->engaged, w.engaged);
  }
  // "hot-article" (every third delta) is one key per bucket across packs.
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(),
                          [](const auto& r) { return *r.article == "hot-article"; }),
            std::count_if(want.begin(), want.end(),
                          [](const auto& w) { return std::get<0>(w.first) == "hot-article"; }));
  // A malformed pack is DATA_LOSS.
  const std::string counts = PackCounts(in, 0, in.size());
  EXPECT_EQ(summer.Add(counts.substr(0, counts.size() / 2)).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(summer.Add(PackRaises(in, 0, in.size())).code(), absl::StatusCode::kDataLoss);
}

TEST(DeltaPackTest, RejectsMalformedPacks) {
  const std::vector<BucketDelta> in = Sample();
  const std::string counts = PackCounts(in, 0, in.size());
  const std::string raises = PackRaises(in, 0, in.size());
  std::vector<BucketDelta> out;
  for (size_t cut : {size_t{0}, size_t{1}, size_t{2}, counts.size() / 2, counts.size() - 1}) {
    EXPECT_EQ(UnpackCounts(counts.substr(0, cut), out).code(), absl::StatusCode::kDataLoss) << cut;
  }
  EXPECT_FALSE(UnpackCounts(counts + "x", out).ok());
  EXPECT_FALSE(UnpackCounts(raises, out).ok());  // the wrong kind
  EXPECT_FALSE(UnpackRaises(raises.substr(0, raises.size() - 3), out).ok());
  std::string bad_version = counts;
  bad_version[1] = 9;
  EXPECT_FALSE(UnpackCounts(bad_version, out).ok());
}

}  // namespace
}  // namespace newsgrid::trending
