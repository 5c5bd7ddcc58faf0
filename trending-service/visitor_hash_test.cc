#include "trending-service/visitor_hash.h"

#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace newsgrid::trending {
namespace {

// The key 00 01 .. 0f of the SipHash reference vectors, as (k0, k1).
constexpr uint64_t kRefK0 = 0x0706050403020100ULL;
constexpr uint64_t kRefK1 = 0x0f0e0d0c0b0a0908ULL;

std::string Bytes0ToN(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i);
  return s;
}

// SipHash-2-4 with 64-bit output as OpenSSL 3 computes it: an independent
// implementation to check ours against.
uint64_t OpenSslSipHash24(uint64_t k0, uint64_t k1, const std::string& data) {
  unsigned char key[16];
  for (int i = 0; i < 8; ++i) {
    key[i] = static_cast<unsigned char>(k0 >> (8 * i));
    key[8 + i] = static_cast<unsigned char>(k1 >> (8 * i));
  }
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  size_t size = 8;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t("size", &size), OSSL_PARAM_construct_end()};
  EXPECT_EQ(EVP_MAC_init(ctx, key, sizeof(key), params), 1);
  EXPECT_EQ(EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()),
            1);
  unsigned char out[16];
  size_t out_len = 0;
  EXPECT_EQ(EVP_MAC_final(ctx, out, &out_len, sizeof(out)), 1);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  EXPECT_EQ(out_len, 8u);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | out[i];
  return v;
}

// Replicas and restarts depend on the hash never changing: these are the
// reference vectors of the SipHash paper (key 00..0f, message 00..n-1).
TEST(SipHash24Test, ReferenceVectors) {
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(0)), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(1)), 0x74f839c593dc67fdULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(2)), 0x0d6c8009d9a94f5aULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(3)), 0x85676696d7fb7e2dULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(15)), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(63)), 0x958a324ceb064572ULL);
}

TEST(SipHash24Test, AgreesWithOpenSslOnEveryLengthAndRandomKeys) {
  std::mt19937_64 rng(42);
  for (size_t n = 0; n <= 200; ++n) {
    std::string data(n, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    const uint64_t k0 = rng(), k1 = rng();
    ASSERT_EQ(SipHash24(k0, k1, data), OpenSslSipHash24(k0, k1, data)) << "length " << n;
  }
}

TEST(VisitorHasherTest, SameSecretAndDayGiveTheSameHashOnEveryInstance) {
  const absl::Time t = absl::FromUnixSeconds(1700000000);
  VisitorHasher a("secret"), b("secret");
  EXPECT_EQ(a.Hash("cookie-1", t), b.Hash("cookie-1", t));
  EXPECT_EQ(a.Hash("cookie-1", t), a.Hash("cookie-1", t + absl::Hours(1)));
  EXPECT_NE(a.Hash("cookie-1", t), a.Hash("cookie-2", t));
  // Instances interleaved on one thread share a per-thread key cache.
  VisitorHasher other("another secret");
  EXPECT_NE(a.Hash("cookie-1", t), other.Hash("cookie-1", t));
  EXPECT_EQ(a.Hash("cookie-1", t), b.Hash("cookie-1", t));
}

TEST(VisitorHasherTest, TheSaltChangesAtMidnightUtc) {
  const absl::Time midnight = absl::FromUnixSeconds(19675 * 86400);  // 2023-11-14T00:00Z
  VisitorHasher h("secret");
  EXPECT_EQ(VisitorHasher::UtcDay(midnight), 19675);
  EXPECT_EQ(VisitorHasher::UtcDay(midnight - absl::Nanoseconds(1)), 19674);
  EXPECT_EQ(VisitorHasher::UtcDay(absl::FromUnixSeconds(-1)), -1);
  EXPECT_NE(h.Hash("cookie-1", midnight - absl::Seconds(1)), h.Hash("cookie-1", midnight));
  EXPECT_EQ(h.Hash("cookie-1", midnight), h.Hash("cookie-1", midnight + absl::Hours(23)));
}

TEST(VisitorHasherTest, StableAcrossBuildsAndProcesses) {
  // Pinned values: a change of the derivation would split every replica's
  // and every stored sketch's visitors in two, and break the dedup marks.
  VisitorHasher h("newsgrid");
  const absl::Time t = absl::FromUnixSeconds(1700000000);  // 2023-11-14T22:13:20Z
  EXPECT_EQ(h.Hash("reader-1", t), 0xd11a816d366fdea5ULL);
  EXPECT_EQ(h.Hash("reader-1", t + absl::Hours(2)), 0xa35e24bad19c372bULL);  // the next UTC day
}

}  // namespace
}  // namespace newsgrid::trending
