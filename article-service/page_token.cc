#include "article-service/page_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/status.h"

namespace newsgrid::article {
namespace {

constexpr size_t kMacBytes = 16;  // truncated HMAC-SHA256: 128 bits
constexpr absl::string_view kVersion = "1";

}  // namespace

std::string QueryFingerprint(std::initializer_list<absl::string_view> parts) {
  std::string out;
  // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  for (absl::string_view p : parts) absl::StrAppend(&out, p.size(), ":", p, ";");
  return out;
}

std::string PageTokenCodec::Mac(absl::string_view fingerprint, absl::string_view payload) const {
  const std::string message = absl::StrCat(fingerprint.size(), ":", fingerprint, payload);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &len);
  return std::string(reinterpret_cast<const char*>(digest), std::min<size_t>(len, kMacBytes));
}

std::string PageTokenCodec::Encode(absl::string_view fingerprint, const PageCursor& c) const {
  const std::string payload = absl::StrCat(kVersion, "|", c.id, "|", c.offset, "|", c.key);
  std::string raw = Mac(fingerprint, payload);
  raw += payload;
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<PageCursor> PageTokenCodec::Decode(absl::string_view fingerprint,
                                                  absl::string_view token,
                                                  absl::string_view field) const {
  const absl::Status invalid = InvalidFieldError(
      std::string(field), "is malformed or was issued for a different query; start again "
                          "without a page_token");
  std::string raw;
  if (token.size() > 4096 || !absl::WebSafeBase64Unescape(token, &raw) || raw.size() <= kMacBytes) {
    return invalid;
  }
  const absl::string_view mac = absl::string_view(raw).substr(0, kMacBytes);
  const absl::string_view payload = absl::string_view(raw).substr(kMacBytes);
  const std::string expected = Mac(fingerprint, payload);
  if (CRYPTO_memcmp(expected.data(), mac.data(), kMacBytes) != 0) return invalid;
  std::vector<absl::string_view> parts = absl::StrSplit(payload, absl::MaxSplits('|', 3));
  PageCursor c;
  if (parts.size() != 4 || parts[0] != kVersion || !absl::SimpleAtoi(parts[1], &c.id) ||
      !absl::SimpleAtoi(parts[2], &c.offset) || c.offset < 0) {
    return invalid;
  }
  c.key = std::string(parts[3]);
  return c;
}

}  // namespace newsgrid::article
