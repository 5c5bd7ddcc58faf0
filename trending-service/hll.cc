#include "trending-service/hll.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace newsgrid::trending {
namespace {

constexpr char kSparseTag = 'S';  // full precision
constexpr char kDenseTag = 'D';
constexpr char kSparseAtTag = 's';  // a precision byte follows
constexpr char kDenseAtTag = 'd';

// Ertl's sigma and tau functions (see header).
double Sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0;
  double z = x;
  for (;;) {
    x *= x;
    const double z_old = z;
    z += x * y;
    y += y;
    if (z == z_old) return z;
  }
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0;
  double z = 1.0 - x;
  for (;;) {
    x = std::sqrt(x);
    const double z_old = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
    if (z == z_old) return z / 3.0;
  }
}

// A register (index, rho) of a sketch at precision `from` as it lands in a
// sketch at precision `to` <= from: the top `to` bits of the index pick the
// new register; the remaining index bits come first in the new rank.
inline void MapRegister(uint32_t index, uint8_t rho, int from, int to, uint32_t& out_index,
                        uint8_t& out_rho) {
  const int shift = from - to;
  out_index = index >> shift;
  const uint32_t low = index & ((1u << shift) - 1);
  out_rho = low != 0 ? static_cast<uint8_t>(shift - (32 - __builtin_clz(low)) + 1)
                     : static_cast<uint8_t>(shift + rho);
}

int MaxRho(int precision) { return 64 - precision + 1; }

}  // namespace

Hll::Hll(int precision)
    : precision_(std::max(kMinPrecision, std::min(kPrecision, precision))) {}

Hll::Hll(const Hll& other)
    : precision_(other.precision_), sorted_(other.sorted_), sparse_(other.sparse_) {
  if (other.dense_) {
    const size_t m = size_t{1} << precision_;
    dense_ = std::make_unique<uint8_t[]>(m);
    std::memcpy(dense_.get(), other.dense_.get(), m);
  }
}

Hll& Hll::operator=(const Hll& other) {
  if (this != &other) *this = Hll(other);
  return *this;
}

void Hll::Split(uint64_t hash, uint32_t& index, uint8_t& rho) {
  index = static_cast<uint32_t>(hash >> (64 - kPrecision));
  // The remaining bits, with a guard bit so rho <= kMaxRho.
  const uint64_t rest = (hash << kPrecision) | (uint64_t{1} << (kPrecision - 1));
  rho = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
}

bool Hll::Add(uint64_t hash) {
  uint32_t index = 0;
  uint8_t rho = 0;
  Split(hash, index, rho);
  return Raise(index, rho);
}

bool Hll::Raise(uint32_t index, uint8_t rho) {
  if (precision_ == kPrecision) return RaiseAt(index, rho);
  uint32_t i = 0;
  uint8_t r = 0;
  MapRegister(index, rho, kPrecision, precision_, i, r);
  return RaiseAt(i, r);
}

void Hll::PrefetchRaise(uint32_t index) const {
  const uint32_t i = index >> (kPrecision - precision_);
  if (dense_) {
    __builtin_prefetch(&dense_[i]);
    return;
  }
  if (sorted_ > 0) __builtin_prefetch(sparse_.data() + SparseGuess(i, sorted_, precision_));
  if (sorted_ < sparse_.size()) __builtin_prefetch(sparse_.data() + sorted_);
}

bool Hll::RaiseAt(uint32_t index, uint8_t rho) {
  if (dense_) {
    if (dense_[index] >= rho) return false;
    dense_[index] = rho;
    return true;
  }
  const auto sorted_end = sparse_.begin() + sorted_;
  auto it = sparse_.begin() + SparseLowerBound(sparse_.data(), sorted_, index, precision_);
  if (it == sorted_end || (*it >> 8) != index) {
    it = std::find_if(sorted_end, sparse_.end(), [&](uint32_t e) { return (e >> 8) == index; });
  }
  if (it != sparse_.end()) {
    if ((*it & 0xff) >= rho) return false;
    *it = (index << 8) | rho;
    return true;
  }
  sparse_.push_back((index << 8) | rho);
  if (sparse_.size() > SparseMax()) {
    ToDense();
  } else if (sparse_.size() - sorted_ >= kTail) {
    SortSparse();
  }
  return true;
}

size_t Hll::SparseLowerBound(const uint32_t* sorted, size_t n, uint32_t index, int precision) {
  if (n == 0) return 0;
  const uint32_t key = index << 8;
  size_t pos = SparseGuess(index, n, precision);
  if (sorted[pos] < key) {
    while (++pos < n && sorted[pos] < key) {
    }
  } else {
    while (pos > 0 && sorted[pos - 1] >= key) --pos;
  }
  return pos;
}

void Hll::SortSparse() {
  std::sort(sparse_.begin() + sorted_, sparse_.end());
  std::inplace_merge(sparse_.begin(), sparse_.begin() + sorted_, sparse_.end());
  sorted_ = static_cast<uint32_t>(sparse_.size());
}

std::vector<uint32_t> Hll::SortedSparse() const {
  std::vector<uint32_t> out = sparse_;
  if (sorted_ < out.size()) {
    std::sort(out.begin() + sorted_, out.end());
    std::inplace_merge(out.begin(), out.begin() + sorted_, out.end());
  }
  return out;
}

void Hll::ToDense() {
  const size_t m = size_t{1} << precision_;
  dense_ = std::make_unique<uint8_t[]>(m);
  std::memset(dense_.get(), 0, m);
  for (uint32_t e : sparse_) dense_[e >> 8] = static_cast<uint8_t>(e & 0xff);
  std::vector<uint32_t>().swap(sparse_);
  sorted_ = 0;
}

void Hll::FoldTo(int precision) {
  precision = std::max(kMinPrecision, precision);
  if (precision >= precision_) return;
  Hll out(precision);
  // A dense sketch (over 2^p / 16 registers set) folds into a dense one
  // (at 2^(p-2) registers, already about 900 of 4,096 set): going straight
  // there skips thousands of sparse inserts and their re-sorts, which made
  // a fold pass over 100k articles take seconds under the shard locks.
  if (dense_) out.ToDense();
  ForEachRegister([&](uint32_t i, uint8_t r) {
    uint32_t j = 0;
    uint8_t q = 0;
    MapRegister(i, r, precision_, precision, j, q);
    out.RaiseAt(j, q);
  });
  *this = std::move(out);
}

void Hll::Merge(const Hll& other) {
  if (other.empty()) return;
  if (other.precision_ < precision_) FoldTo(other.precision_);
  if (other.precision_ > precision_) {
    other.ForEachRegister([&](uint32_t i, uint8_t r) {
      uint32_t j = 0;
      uint8_t q = 0;
      MapRegister(i, r, other.precision_, precision_, j, q);
      RaiseAt(j, q);
    });
    return;
  }
  if (other.dense_ && !dense_) ToDense();
  if (dense_) {
    other.ForEachRegister([&](uint32_t i, uint8_t r) {
      if (dense_[i] < r) dense_[i] = r;
    });
    return;
  }
  // Both sparse: a linear merge of two sorted lists.
  SortSparse();
  const std::vector<uint32_t> theirs = other.SortedSparse();
  std::vector<uint32_t> out;
  out.reserve(sparse_.size() + theirs.size());
  size_t a = 0, b = 0;
  while (a < sparse_.size() || b < theirs.size()) {
    if (b == theirs.size() || (a < sparse_.size() && (sparse_[a] >> 8) < (theirs[b] >> 8))) {
      out.push_back(sparse_[a++]);
    } else if (a == sparse_.size() || (theirs[b] >> 8) < (sparse_[a] >> 8)) {
      out.push_back(theirs[b++]);
    } else {
      out.push_back(std::max(sparse_[a++], theirs[b++]));
    }
  }
  sparse_ = std::move(out);
  sorted_ = static_cast<uint32_t>(sparse_.size());
  if (sparse_.size() > SparseMax()) ToDense();
}

Hll Hll::FromEntries(std::vector<uint32_t> entries) {
  Hll h;
  std::sort(entries.begin(), entries.end());
  // Sorted by (index, rho): the last entry of each index has the highest rho.
  size_t out = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && (entries[i + 1] >> 8) == (entries[i] >> 8)) continue;
    entries[out++] = entries[i];
  }
  entries.resize(out);
  h.sparse_ = std::move(entries);
  h.sorted_ = static_cast<uint32_t>(h.sparse_.size());
  if (h.sparse_.size() > h.SparseMax()) h.ToDense();
  return h;
}

double Hll::Estimate() const {
  if (empty()) return 0.0;
  int counts[64 + 2] = {0};
  int set = 0;
  ForEachRegister([&](uint32_t, uint8_t r) {
    ++counts[r];
    ++set;
  });
  const int registers = 1 << precision_;
  counts[0] = registers - set;
  const double m = registers;
  const int q = 64 - precision_;
  double z = m * Tau(1.0 - counts[q + 1] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + counts[k]);
  z += m * Sigma(counts[0] / m);
  constexpr double kAlphaInf = 0.7213475204444817;  // 1 / (2 ln 2)
  return kAlphaInf * m * m / z;
}

size_t Hll::MemoryBytes() const {
  return dense_ ? size_t{1} << precision_ : sparse_.capacity() * sizeof(uint32_t);
}

std::string Hll::Serialize() const {
  // Full precision keeps the original tags (rows written before folding
  // existed parse as they did); other precisions carry theirs in a byte.
  const bool full = precision_ == kPrecision;
  std::string out;
  if (dense_) {
    const size_t m = size_t{1} << precision_;
    out.reserve(2 + m);
    out.push_back(full ? kDenseTag : kDenseAtTag);
    if (!full) out.push_back(static_cast<char>(precision_));
    out.append(reinterpret_cast<const char*>(dense_.get()), m);
    return out;
  }
  out.reserve(2 + 3 * sparse_.size());
  out.push_back(full ? kSparseTag : kSparseAtTag);
  if (!full) out.push_back(static_cast<char>(precision_));
  for (uint32_t e : SortedSparse()) {
    // Index (up to 14 bits) and 6-bit rho in 3 bytes.
    const uint32_t packed = ((e >> 8) << 6) | (e & 0x3f);
    out.push_back(static_cast<char>(packed >> 16));
    out.push_back(static_cast<char>((packed >> 8) & 0xff));
    out.push_back(static_cast<char>(packed & 0xff));
  }
  return out;
}

absl::StatusOr<Hll> Hll::Parse(absl::string_view bytes) {
  if (bytes.empty()) return Hll();
  const char tag = bytes[0];
  bytes.remove_prefix(1);
  int precision = kPrecision;
  if (tag == kDenseAtTag || tag == kSparseAtTag) {
    if (bytes.empty()) return absl::DataLossError("sketch without its precision");
    precision = static_cast<unsigned char>(bytes[0]);
    bytes.remove_prefix(1);
    if (precision < kMinPrecision || precision >= kPrecision) {
      return absl::DataLossError("bad sketch precision");
    }
  } else if (tag != kDenseTag && tag != kSparseTag) {
    return absl::DataLossError("bad sketch encoding");
  }
  Hll h(precision);
  const uint32_t m = 1u << precision;
  if (tag == kDenseTag || tag == kDenseAtTag) {
    if (bytes.size() != m) return absl::DataLossError("bad dense sketch size");
    h.dense_ = std::make_unique<uint8_t[]>(m);
    std::memcpy(h.dense_.get(), bytes.data(), m);
    for (uint32_t i = 0; i < m; ++i) {
      if (h.dense_[i] > MaxRho(precision)) return absl::DataLossError("bad register value");
    }
    return h;
  }
  if (bytes.size() % 3 != 0) return absl::DataLossError("bad sketch encoding");
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t packed = (static_cast<uint8_t>(bytes[i]) << 16) |
                            (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                            static_cast<uint8_t>(bytes[i + 2]);
    const uint32_t index = packed >> 6;
    const uint8_t rho = packed & 0x3f;
    if (index >= m || rho == 0 || rho > MaxRho(precision)) {
      return absl::DataLossError("bad sparse entry");
    }
    h.RaiseAt(index, rho);
  }
  return h;
}

}  // namespace newsgrid::trending
