#include "trending-service/visitor_hash.h"

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace newsgrid::trending {
namespace {

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

inline void SipRound(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1; v1 = Rotl(v1, 13); v1 ^= v0; v0 = Rotl(v0, 32);
  v2 += v3; v3 = Rotl(v3, 16); v3 ^= v2;
  v0 += v3; v3 = Rotl(v3, 21); v3 ^= v0;
  v2 += v1; v1 = Rotl(v1, 17); v1 ^= v2; v2 = Rotl(v2, 32);
}

// Fixed keys for deriving key material from the secret (any constants do).
constexpr uint64_t kDeriveA0 = 0x6e65777367726964ULL;  // "newsgrid"
constexpr uint64_t kDeriveA1 = 0x7472656e64696e67ULL;  // "trending"

// The day key cache: the last computed day per thread (days change rarely).
struct CachedDay {
  uint64_t owner = 0;
  int64_t day = INT64_MIN;
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};
thread_local CachedDay cached_day;
std::atomic<uint64_t> next_hasher_id{1};

}  // namespace

uint64_t SipHash24(uint64_t k0, uint64_t k1, absl::string_view data) {
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
  uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
  uint64_t v3 = 0x7465646279746573ULL ^ k1;
  const size_t n = data.size();
  const char* p = data.data();
  const size_t full = n & ~size_t{7};
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m;
    std::memcpy(&m, p + i, 8);  // little-endian hosts (x86-64, arm64)
    v3 ^= m;
    SipRound(v0, v1, v2, v3);
    SipRound(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t b = static_cast<uint64_t>(n) << 56;
  for (size_t i = full; i < n; ++i) {
    b |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * (i - full));
  }
  v3 ^= b;
  SipRound(v0, v1, v2, v3);
  SipRound(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) SipRound(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

VisitorHasher::VisitorHasher(absl::string_view secret)
    : id_(next_hasher_id.fetch_add(1)),
      secret_k0_(SipHash24(kDeriveA0, kDeriveA1, absl::StrCat("k0:", secret))),
      secret_k1_(SipHash24(kDeriveA0, kDeriveA1, absl::StrCat("k1:", secret))) {}

int64_t VisitorHasher::UtcDay(absl::Time when) {
  const int64_t s = absl::ToUnixSeconds(when);
  return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

VisitorHasher::DayKey VisitorHasher::KeyForDay(int64_t day) const {
  const std::string date =
      absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(day * 86400), absl::UTCTimeZone());
  return {SipHash24(secret_k0_, secret_k1_, absl::StrCat("day0:", date)),
          SipHash24(secret_k0_, secret_k1_, absl::StrCat("day1:", date))};
}

uint64_t VisitorHasher::Hash(absl::string_view visitor_id, absl::Time when) const {
  const int64_t day = UtcDay(when);
  CachedDay& c = cached_day;
  if (c.owner != id_ || c.day != day) {
    const DayKey k = KeyForDay(day);
    c = {id_, day, k.k0, k.k1};
  }
  return SipHash24(c.k0, c.k1, visitor_id);
}

}  // namespace newsgrid::trending
