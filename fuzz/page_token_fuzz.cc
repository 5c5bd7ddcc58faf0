// libFuzzer target: page-token decoding. Arbitrary tokens must be refused
// with INVALID_ARGUMENT unless they carry a valid MAC; an encoded cursor
// decodes to itself and only for its own query.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "article-service/page_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using newsgrid::article::PageCursor;
  using newsgrid::article::PageTokenCodec;
  static const PageTokenCodec codec("fuzz-page-token-secret-0123456789");
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string fp = newsgrid::article::QueryFingerprint({"list", "section = \"x\""});
  absl::StatusOr<PageCursor> c = codec.Decode(fp, input);
  if (!c.ok() && c.status().code() != absl::StatusCode::kInvalidArgument) std::abort();

  // Round trip of a cursor built from the input.
  PageCursor cursor;
  cursor.key = input.substr(0, std::min<size_t>(input.size(), 64));
  if (size >= 16) {
    std::memcpy(&cursor.id, data + size - 16, 8);
    std::memcpy(&cursor.offset, data + size - 8, 8);
    // Offsets are rows already returned: never negative (Decode refuses one).
    cursor.offset &= INT64_MAX;
  }
  const std::string token = codec.Encode(fp, cursor);
  absl::StatusOr<PageCursor> back = codec.Decode(fp, token);
  if (!back.ok() || back->key != cursor.key || back->id != cursor.id ||
      back->offset != cursor.offset) {
    std::abort();
  }
  const std::string other = newsgrid::article::QueryFingerprint({"list", "section = \"y\""});
  if (codec.Decode(other, token).ok()) std::abort();
  return 0;
}
