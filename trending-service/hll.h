// HyperLogLog sketch for unique visitors per article and time bucket.
//
// Precision 14 (16384 registers): standard error 1.04/sqrt(16384) = 0.81%,
// so estimates stay within 2% on large counts (tested on 100k visitors).
// Memory matters because there is one sketch per article per hour (and per
// minute for the most recent hour): a sketch starts sparse (a sorted list of
// the registers that are set, 4 bytes each) and turns dense (16 KiB, one
// byte per register) only past kSparseMax entries, i.e. past ~2k visitors.
// The estimator is Ertl's improved raw estimator ("New cardinality
// estimation algorithms for HyperLogLog sketches", 2017), accurate over the
// whole range without empirical bias tables.
//
// Sketches merge by register-wise max, so sketches built on different
// replicas (with the same visitor hashing) merge into the union.
//
//   Hll h;
//   h.Add(VisitorHash(...));          // true when a register was raised
//   Hll other; ...; h.Merge(other);
//   double n = h.Estimate();
//   std::string bytes = h.Serialize();  // for PostgreSQL
#ifndef NEWSGRID_TRENDING_SERVICE_HLL_H_
#define NEWSGRID_TRENDING_SERVICE_HLL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace newsgrid::trending {

class Hll {
 public:
  static constexpr int kPrecision = 14;
  static constexpr int kRegisters = 1 << kPrecision;
  static constexpr int kMaxRho = 64 - kPrecision + 1;
  static constexpr size_t kSparseMax = 2048;

  Hll() = default;
  Hll(const Hll& other);
  Hll& operator=(const Hll& other);
  Hll(Hll&&) noexcept = default;
  Hll& operator=(Hll&&) noexcept = default;

  // Adds a 64-bit hash (must be well mixed). True when a register rose.
  bool Add(uint64_t hash);
  // Raises register `index` to at least `rho`. True when it rose.
  bool Raise(uint32_t index, uint8_t rho);
  // Register-wise max with `other`.
  void Merge(const Hll& other);

  // Estimated number of distinct hashes added.
  double Estimate() const;

  bool empty() const { return dense_ == nullptr && sparse_.empty(); }
  bool is_dense() const { return dense_ != nullptr; }
  // Heap bytes held (for memory accounting).
  size_t MemoryBytes() const;

  // Calls fn(index, rho) for every register that is set.
  template <typename Fn>
  void ForEachRegister(Fn&& fn) const {
    if (dense_) {
      for (uint32_t i = 0; i < kRegisters; ++i) {
        if (dense_[i] != 0) fn(i, dense_[i]);
      }
    } else {
      for (uint32_t e : sparse_) fn(e >> 8, static_cast<uint8_t>(e & 0xff));
    }
  }

  // Compact binary form: a list of (index, rho) for small sketches, the
  // registers otherwise. Parse rejects malformed input.
  std::string Serialize() const;
  static absl::StatusOr<Hll> Parse(absl::string_view bytes);

 private:
  void ToDense();

  // Sparse: sorted by index, entry = index << 8 | rho.
  std::vector<uint32_t> sparse_;
  std::unique_ptr<uint8_t[]> dense_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_HLL_H_
