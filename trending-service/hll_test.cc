#include "trending-service/hll.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "trending-service/visitor_hash.h"

namespace newsgrid::trending {
namespace {

uint64_t VisitorHash(int i) { return SipHash24(1, 2, absl::StrCat("visitor-", i)); }

double RelativeError(double estimate, double truth) { return std::fabs(estimate - truth) / truth; }

// Visitors 0..29999 into `a`, 20000..49999 into `b`, all 50000 into `both`.
void AddOverlapping(Hll& a, Hll& b, Hll& both) {
  for (int i = 0; i < 30000; ++i) {
    a.Add(VisitorHash(i));
    both.Add(VisitorHash(i));
  }
  for (int i = 20000; i < 50000; ++i) {
    b.Add(VisitorHash(i));
    both.Add(VisitorHash(i));
  }
}

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
  AddOverlapping(a, b, both);
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

// Folding gives exactly the sketch the lower precision builds from the
// same visitors, sparse or dense, and mixed precisions merge at the lower.
TEST(HllTest, FoldingEqualsBuildingAtTheLowerPrecision) {
  for (int n : {0, 20, 3000, 100000}) {
    for (int p : {13, 11, 8, 4}) {
      Hll full;
      Hll direct(p);
      for (int i = 0; i < n; ++i) {
        full.Add(VisitorHash(i));
        direct.Add(VisitorHash(i));
      }
      Hll folded = full;
      folded.FoldTo(p);
      EXPECT_EQ(folded.precision(), p);
      EXPECT_EQ(folded.Serialize(), direct.Serialize()) << "n=" << n << " p=" << p;
      EXPECT_EQ(folded.Estimate(), direct.Estimate());
      // Raising full-precision registers into a folded sketch lands where
      // the lower precision would have put them.
      Hll raised(p);
      full.ForEachRegister([&](uint32_t i, uint8_t r) { raised.Raise(i, r); });
      EXPECT_EQ(raised.Serialize(), direct.Serialize());
    }
  }
  Hll big;
  for (int i = 0; i < 100000; ++i) big.Add(VisitorHash(i));
  big.FoldTo(11);
  EXPECT_EQ(big.MemoryBytes(), 2048u);
  EXPECT_LE(RelativeError(big.Estimate(), 100000), 0.06);
  big.FoldTo(8);
  EXPECT_EQ(big.MemoryBytes(), 256u);
  EXPECT_LE(RelativeError(big.Estimate(), 100000), 0.20);
  big.FoldTo(12);  // never back up
  EXPECT_EQ(big.precision(), 8);
}

TEST(HllTest, MixedPrecisionsMergeAtTheLowerOne) {
  Hll a, b(10), both(10);
  AddOverlapping(a, b, both);
  Hll ab = a;
  ab.Merge(b);
  Hll ba = b;
  ba.Merge(a);
  EXPECT_EQ(ab.precision(), 10);
  EXPECT_EQ(ab.Serialize(), both.Serialize());
  EXPECT_EQ(ba.Serialize(), both.Serialize());
}

// The guess-and-walk search answers like std::lower_bound for any sorted
// list: even indexes (hashed visitors, the case it is fast for), indexes
// crowded into a narrow band (long walks), at every precision and length.
TEST(HllTest, SparseLowerBoundMatchesStdLowerBound) {
  uint64_t x = 42;
  auto next = [&x] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(x >> 33);
  };
  for (int precision : {4, 8, 11, 14}) {
    const uint32_t m = 1u << precision;
    for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, size_t{100}, size_t{1024}}) {
      for (bool crowded : {false, true}) {
        // Distinct indexes (a register appears once), each with a rank:
        // the top k registers, or each register with probability k / m.
        const auto k = static_cast<uint32_t>(std::min<size_t>(n, m));
        std::vector<uint32_t> indexes;
        for (uint32_t i = 0; i < m; ++i) {
          if (crowded ? i >= m - k : next() % m < k) indexes.push_back(i);
        }
        std::vector<uint32_t> sorted;
        for (uint32_t i : indexes) sorted.push_back(i << 8 | (1 + next() % 50));
        for (uint32_t q = 0; q < m; ++q) {
          const size_t want =
              std::lower_bound(sorted.begin(), sorted.end(), q << 8) - sorted.begin();
          ASSERT_EQ(Hll::SparseLowerBound(sorted.data(), sorted.size(), q, precision), want)
              << "precision " << precision << " n " << sorted.size() << " crowded " << crowded
              << " index " << q;
        }
      }
    }
  }
}

// Raises while sparse (the sorted part, the tail, and the merges between
// them) keep exactly the highest rank of each register, and say whether a
// register rose, like a plain array of registers.
TEST(HllTest, SparseRaisesMatchPlainRegisters) {
  uint64_t x = 7;
  auto next = [&x] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(x >> 33);
  };
  for (int band : {Hll::kRegisters, 300}) {  // even indexes; then crowded ones
    Hll h;
    std::vector<uint8_t> plain(Hll::kRegisters, 0);
    int registers = 0;
    // Up to 1,000 registers set: below the switch to dense (1,024).
    for (int i = 0; i < 5000 && registers < 1000; ++i) {
      const uint32_t index = Hll::kRegisters - 1 - next() % band;
      const auto rho = static_cast<uint8_t>(1 + next() % 20);
      const bool rose = rho > plain[index];
      if (plain[index] == 0) ++registers;
      if (rose) plain[index] = rho;
      ASSERT_EQ(h.Raise(index, rho), rose) << "raise " << i;
    }
    ASSERT_FALSE(h.is_dense());
    std::vector<uint8_t> seen(Hll::kRegisters, 0);
    h.ForEachRegister([&](uint32_t i, uint8_t r) { seen[i] = r; });
    EXPECT_EQ(seen, plain) << "band " << band;
  }
}

TEST(HllTest, FromEntriesKeepsTheHighestRankOfEachRegister) {
  Hll direct;
  std::vector<uint32_t> entries;
  for (int i = 0; i < 5000; ++i) {
    uint32_t index = 0;
    uint8_t rho = 0;
    Hll::Split(VisitorHash(i % 2500), index, rho);
    direct.Raise(index, rho);
    entries.push_back(index << 8 | rho);
    entries.push_back(index << 8 | 1);  // a lower rank of the same register
  }
  EXPECT_EQ(Hll::FromEntries(entries).Serialize(), direct.Serialize());
  EXPECT_TRUE(Hll::FromEntries({}).empty());
}

TEST(HllTest, FoldedSketchesRoundTrip) {
  for (int n : {0, 5, 3000}) {
    Hll h;
    for (int i = 0; i < n; ++i) h.Add(VisitorHash(i));
    h.FoldTo(9);
    absl::StatusOr<Hll> back = Hll::Parse(h.Serialize());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->precision(), 9);
    EXPECT_EQ(back->Serialize(), h.Serialize());
    EXPECT_EQ(back->Estimate(), h.Estimate());
  }
  EXPECT_FALSE(Hll::Parse(std::string("s\x0e")).ok());   // precision 14 needs the old tag
  EXPECT_FALSE(Hll::Parse(std::string("s")).ok());
  EXPECT_FALSE(Hll::Parse(std::string("d\x08") + std::string(255, '\x01')).ok());
  EXPECT_FALSE(Hll::Parse(std::string("d\x08") + std::string(256, '\x40')).ok());  // rank 64 > 57
}

}  // namespace
}  // namespace newsgrid::trending
