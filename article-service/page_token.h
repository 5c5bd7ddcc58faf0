// Opaque, tamper-evident page tokens (AIP-158).
//
// A token carries where the previous page ended (the sort key and id of its
// last row, or an offset) and an HMAC-SHA256 over that position and a
// fingerprint of the query (method, filter, order, view...). A token that
// was edited, or that came from a different query, fails the check and is
// INVALID_ARGUMENT on `page_token`.
//
//   PageTokenCodec codec(secret);
//   std::string fp = QueryFingerprint({"list", filter, order_by, "reader"});
//   std::string token = codec.Encode(fp, {.key = "1690000000000000", .id = 42});
//   absl::StatusOr<PageCursor> c = codec.Decode(fp, token);
#ifndef NEWSGRID_ARTICLE_SERVICE_PAGE_TOKEN_H_
#define NEWSGRID_ARTICLE_SERVICE_PAGE_TOKEN_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace newsgrid::article {

struct PageCursor {
  std::string key;     // sort key of the last row (keyset pagination)
  int64_t id = 0;      // id of the last row (tie breaker)
  int64_t offset = 0;  // rows already returned (offset pagination)
};

// Joins the parts that define a query into one unambiguous string.
std::string QueryFingerprint(std::initializer_list<absl::string_view> parts);

class PageTokenCodec {
 public:
  explicit PageTokenCodec(std::string secret) : secret_(std::move(secret)) {}

  std::string Encode(absl::string_view fingerprint, const PageCursor& cursor) const;
  // INVALID_ARGUMENT (field `field`) when malformed, tampered with, or
  // issued for another query.
  absl::StatusOr<PageCursor> Decode(absl::string_view fingerprint, absl::string_view token,
                                    absl::string_view field = "page_token") const;

 private:
  std::string Mac(absl::string_view fingerprint, absl::string_view payload) const;
  const std::string secret_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_PAGE_TOKEN_H_
