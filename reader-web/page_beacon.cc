#include "reader-web/page_beacon.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/status_macros.h"

namespace newsgrid::reader {
namespace {

// Digits only: SimpleAtoi would also take signs and surrounding spaces.
bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

absl::StatusOr<std::string> ArticleName(absl::string_view id) {
  int64_t n = 0;
  if (id.size() > 18 || !AllDigits(id) || !absl::SimpleAtoi(id, &n) || n <= 0) {
    return absl::NotFoundError("not an article id");
  }
  return absl::StrCat("articles/", n);
}

// Letters, digits, '-' and '_': what a random id needs, nothing that
// needs escaping anywhere.
absl::Status CheckPageViewId(absl::string_view id) {
  bool valid = !id.empty() && id.size() <= kMaxPageViewIdLength;
  for (char c : id) {
    valid = valid && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  }
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "pv: a page view id is 1 to ", kMaxPageViewIdLength, " letters, digits, - or _"));
}

}  // namespace

absl::StatusOr<PageBeacon> ParseViewBeacon(absl::string_view id, absl::string_view page_view_id) {
  ASSIGN_OR_RETURN(std::string name, ArticleName(id));
  if (!page_view_id.empty()) RETURN_IF_ERROR(CheckPageViewId(page_view_id));
  return PageBeacon{.article_name = std::move(name),
                    .page_view_id = std::string(page_view_id),
                    .engaged = absl::ZeroDuration()};
}

absl::StatusOr<PageBeacon> ParseEngagementPing(absl::string_view id,
                                               absl::string_view page_view_id,
                                               absl::string_view seconds) {
  ASSIGN_OR_RETURN(std::string name, ArticleName(id));
  RETURN_IF_ERROR(CheckPageViewId(page_view_id));
  int n = 0;
  if (seconds.size() > 4 || !AllDigits(seconds) || !absl::SimpleAtoi(seconds, &n) || n < 1 ||
      n > kMaxEngagedSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("s: engaged seconds are a whole number from 1 to ", kMaxEngagedSeconds));
  }
  return PageBeacon{.article_name = std::move(name),
                    .page_view_id = std::string(page_view_id),
                    .engaged = absl::Seconds(n)};
}

int BeaconHttpStatus(const absl::Status& status) {
  return status.code() == absl::StatusCode::kNotFound ? 404 : 400;
}

}  // namespace newsgrid::reader
