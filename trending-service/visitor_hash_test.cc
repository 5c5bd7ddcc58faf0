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

// Replicas and restarts depend on the hash never changing: the 64 reference
// vectors of the SipHash paper (appendix A; vectors.h of the reference
// implementation): key 00 01 .. 0f, message 00 01 .. (n-1) for n = 0..63,
// each 8-byte output read little-endian. Every tail length (0..7 bytes
// after the full words) is covered several times.
constexpr uint64_t kSipHash24ReferenceVectors[64] = {
    0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
    0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
    0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
    0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
    0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
    0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
    0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
    0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
    0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
    0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
    0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
    0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
    0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
    0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
    0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
    0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
    0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
    0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
    0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
    0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
    0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
    0x958a324ceb064572ULL,
};

TEST(SipHash24Test, ReferenceVectors) {
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(0)), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(1)), 0x74f839c593dc67fdULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(2)), 0x0d6c8009d9a94f5aULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(3)), 0x85676696d7fb7e2dULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(15)), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(63)), 0x958a324ceb064572ULL);
}

TEST(SipHash24Test, AllSixtyFourReferenceVectors) {
  for (size_t n = 0; n < 64; ++n) {
    EXPECT_EQ(SipHash24(kRefK0, kRefK1, Bytes0ToN(n)), kSipHash24ReferenceVectors[n])
        << "message of " << n << " bytes";
  }
}

// The key is two little-endian words, k0 = bytes 0..7: swapped words are
// another key (a caller passing them in the wrong order is caught).
TEST(SipHash24Test, KeyWordsAreNotInterchangeable) {
  EXPECT_NE(SipHash24(kRefK1, kRefK0, Bytes0ToN(0)), kSipHash24ReferenceVectors[0]);
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
