#include "trending-service/hll.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "trending-service/visitor_hash.h"

namespace newsgrid::trending {
namespace {

uint64_t VisitorHash(int i) { return SipHash24(1, 2, absl::StrCat("visitor-", i)); }

double RelativeError(double estimate, double truth) { return std::fabs(estimate - truth) / truth; }

TEST(HllTest, EmptyIsZero) {
  Hll h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.Estimate(), 0.0);
}

TEST(HllTest, HundredThousandVisitorsWithinTwoPercent) {
  Hll h;
  for (int i = 0; i < 100000; ++i) h.Add(VisitorHash(i));
  EXPECT_TRUE(h.is_dense());
  EXPECT_LE(RelativeError(h.Estimate(), 100000), 0.02) << h.Estimate();
  // Adding the same visitors again changes nothing.
  for (int i = 0; i < 100000; ++i) EXPECT_FALSE(h.Add(VisitorHash(i)));
  EXPECT_LE(RelativeError(h.Estimate(), 100000), 0.02);
}

TEST(HllTest, AccurateAcrossScales) {
  for (int n : {1, 10, 100, 1000, 5000, 20000, 60000}) {
    Hll h;
    for (int i = 0; i < n; ++i) h.Add(VisitorHash(i + 7 * n));
    const double tolerance = n <= 1000 ? 0.01 : 0.02;
    EXPECT_LE(RelativeError(h.Estimate(), n), tolerance) << "n=" << n << " est=" << h.Estimate();
  }
}

TEST(HllTest, SmallSetsStaySparse) {
  Hll h;
  for (int i = 0; i < 500; ++i) h.Add(VisitorHash(i));
  EXPECT_FALSE(h.is_dense());
  EXPECT_LE(h.MemoryBytes(), 4096u);
}

TEST(HllTest, MergeIsUnion) {
  Hll a, b, both;
  for (int i = 0; i < 30000; ++i) {
    a.Add(VisitorHash(i));
    both.Add(VisitorHash(i));
  }
  for (int i = 20000; i < 50000; ++i) {
    b.Add(VisitorHash(i));
    both.Add(VisitorHash(i));
  }
  Hll merged = a;
  merged.Merge(b);
  EXPECT_EQ(merged.Estimate(), both.Estimate());
  EXPECT_LE(RelativeError(merged.Estimate(), 50000), 0.02);
  // Sparse + sparse.
  Hll s1, s2;
  for (int i = 0; i < 300; ++i) s1.Add(VisitorHash(i));
  for (int i = 200; i < 600; ++i) s2.Add(VisitorHash(i));
  s1.Merge(s2);
  EXPECT_FALSE(s1.is_dense());
  EXPECT_LE(RelativeError(s1.Estimate(), 600), 0.01);
}

TEST(HllTest, SerializeRoundTrip) {
  for (int n : {0, 50, 5000}) {
    Hll h;
    for (int i = 0; i < n; ++i) h.Add(VisitorHash(i));
    absl::StatusOr<Hll> back = Hll::Parse(h.Serialize());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->Estimate(), h.Estimate());
    EXPECT_EQ(back->is_dense(), h.is_dense());
  }
  EXPECT_FALSE(Hll::Parse("X123").ok());
  EXPECT_FALSE(Hll::Parse("S12").ok());
  EXPECT_FALSE(Hll::Parse(std::string("D") + "short").ok());
}

}  // namespace
}  // namespace newsgrid::trending
