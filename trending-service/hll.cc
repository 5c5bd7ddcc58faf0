#include "trending-service/hll.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace newsgrid::trending {
namespace {

constexpr char kSparseTag = 'S';
constexpr char kDenseTag = 'D';

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

}  // namespace

Hll::Hll(const Hll& other) : sparse_(other.sparse_) {
  if (other.dense_) {
    dense_ = std::make_unique<uint8_t[]>(kRegisters);
    std::memcpy(dense_.get(), other.dense_.get(), kRegisters);
  }
}

Hll& Hll::operator=(const Hll& other) {
  if (this != &other) *this = Hll(other);
  return *this;
}

bool Hll::Add(uint64_t hash) {
  const uint32_t index = static_cast<uint32_t>(hash >> (64 - kPrecision));
  // The remaining bits, with a guard bit so rho <= kMaxRho.
  const uint64_t rest = (hash << kPrecision) | (uint64_t{1} << (kPrecision - 1));
  const uint8_t rho = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
  return Raise(index, rho);
}

bool Hll::Raise(uint32_t index, uint8_t rho) {
  if (dense_) {
    if (dense_[index] >= rho) return false;
    dense_[index] = rho;
    return true;
  }
  auto it = std::lower_bound(sparse_.begin(), sparse_.end(), index << 8);
  if (it != sparse_.end() && (*it >> 8) == index) {
    if ((*it & 0xff) >= rho) return false;
    *it = (index << 8) | rho;
    return true;
  }
  sparse_.insert(it, (index << 8) | rho);
  if (sparse_.size() > kSparseMax) ToDense();
  return true;
}

void Hll::ToDense() {
  dense_ = std::make_unique<uint8_t[]>(kRegisters);
  std::memset(dense_.get(), 0, kRegisters);
  for (uint32_t e : sparse_) dense_[e >> 8] = static_cast<uint8_t>(e & 0xff);
  std::vector<uint32_t>().swap(sparse_);
}

void Hll::Merge(const Hll& other) {
  if (other.dense_ && !dense_) ToDense();
  if (dense_) {
    other.ForEachRegister([&](uint32_t i, uint8_t r) {
      if (dense_[i] < r) dense_[i] = r;
    });
    return;
  }
  // Both sparse: a linear merge of two sorted lists.
  std::vector<uint32_t> out;
  out.reserve(sparse_.size() + other.sparse_.size());
  size_t a = 0, b = 0;
  while (a < sparse_.size() || b < other.sparse_.size()) {
    if (b == other.sparse_.size() ||
        (a < sparse_.size() && (sparse_[a] >> 8) < (other.sparse_[b] >> 8))) {
      out.push_back(sparse_[a++]);
    } else if (a == sparse_.size() || (other.sparse_[b] >> 8) < (sparse_[a] >> 8)) {
      out.push_back(other.sparse_[b++]);
    } else {
      out.push_back(std::max(sparse_[a++], other.sparse_[b++]));
    }
  }
  sparse_ = std::move(out);
  if (sparse_.size() > kSparseMax) ToDense();
}

double Hll::Estimate() const {
  if (empty()) return 0.0;
  int counts[kMaxRho + 1] = {0};
  int set = 0;
  ForEachRegister([&](uint32_t, uint8_t r) {
    ++counts[r];
    ++set;
  });
  counts[0] = kRegisters - set;
  const double m = kRegisters;
  constexpr int q = 64 - kPrecision;
  double z = m * Tau(1.0 - counts[q + 1] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + counts[k]);
  z += m * Sigma(counts[0] / m);
  constexpr double kAlphaInf = 0.7213475204444817;  // 1 / (2 ln 2)
  return kAlphaInf * m * m / z;
}

size_t Hll::MemoryBytes() const {
  return dense_ ? static_cast<size_t>(kRegisters) : sparse_.capacity() * sizeof(uint32_t);
}

std::string Hll::Serialize() const {
  std::string out;
  if (dense_) {
    out.reserve(1 + kRegisters);
    out.push_back(kDenseTag);
    out.append(reinterpret_cast<const char*>(dense_.get()), kRegisters);
    return out;
  }
  out.reserve(1 + 3 * sparse_.size());
  out.push_back(kSparseTag);
  for (uint32_t e : sparse_) {
    // 14-bit index and 6-bit rho in 3 bytes.
    const uint32_t packed = ((e >> 8) << 6) | (e & 0x3f);
    out.push_back(static_cast<char>(packed >> 16));
    out.push_back(static_cast<char>((packed >> 8) & 0xff));
    out.push_back(static_cast<char>(packed & 0xff));
  }
  return out;
}

absl::StatusOr<Hll> Hll::Parse(absl::string_view bytes) {
  Hll h;
  if (bytes.empty()) return h;
  if (bytes[0] == kDenseTag) {
    if (bytes.size() != 1 + kRegisters) return absl::DataLossError("bad dense sketch size");
    h.dense_ = std::make_unique<uint8_t[]>(kRegisters);
    std::memcpy(h.dense_.get(), bytes.data() + 1, kRegisters);
    for (int i = 0; i < kRegisters; ++i) {
      if (h.dense_[i] > kMaxRho) return absl::DataLossError("bad register value");
    }
    return h;
  }
  if (bytes[0] != kSparseTag || (bytes.size() - 1) % 3 != 0) {
    return absl::DataLossError("bad sketch encoding");
  }
  for (size_t i = 1; i < bytes.size(); i += 3) {
    const uint32_t packed = (static_cast<uint8_t>(bytes[i]) << 16) |
                            (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                            static_cast<uint8_t>(bytes[i + 2]);
    const uint32_t index = packed >> 6;
    const uint8_t rho = packed & 0x3f;
    if (index >= kRegisters || rho == 0 || rho > kMaxRho) {
      return absl::DataLossError("bad sparse entry");
    }
    h.Raise(index, rho);
  }
  return h;
}

}  // namespace newsgrid::trending
