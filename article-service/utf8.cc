#include "article-service/utf8.h"

#include <cstdint>

#include "unicode/utf8.h"

namespace newsgrid::article {

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int64_t n = static_cast<int64_t>(s.size());
  for (int64_t i = 0; i < n;) {
    if (p[i] < 0x80) {  // ASCII, most text: no decoding
      ++i;
      continue;
    }
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0) return false;
  }
  return true;
}

size_t CodepointCount(absl::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int64_t n = static_cast<int64_t>(s.size());
  size_t count = 0;
  for (int64_t i = 0; i < n; ++count) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
  }
  return count;
}

}  // namespace newsgrid::article
