// The requests of the article page's script: the page-view beacon
// (GET /views/{id}?pv=) and the engagement pings (POST /engaged/{id} with
// pv= and s=, form-encoded or in the query), checked before anything is
// forwarded to the trending service.
//
//   absl::StatusOr<PageBeacon> view = ParseViewBeacon("7", "5f0c1d...");
//   absl::StatusOr<PageBeacon> ping = ParseEngagementPing("7", "5f0c1d...", "15");
//   if (!ping.ok()) res.status = BeaconHttpStatus(ping.status());  // 404 or 400
#ifndef NEWSGRID_READER_WEB_PAGE_BEACON_H_
#define NEWSGRID_READER_WEB_PAGE_BEACON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace newsgrid::reader {

// Page view ids: what the page's script makes (32 hex digits) fits well
// under this; the trending service takes up to 100 characters.
inline constexpr size_t kMaxPageViewIdLength = 100;
// Engaged seconds of one ping: the page sends at most its ping interval's
// worth (the trending service counts at most 20 s of a ping).
inline constexpr int kMaxEngagedSeconds = 3600;

struct PageBeacon {
  std::string article_name;  // "articles/7"
  std::string page_view_id;  // empty: a view without pings (no script)
  absl::Duration engaged;    // pings only
};

// {id} of /views/{id}; `page_view_id` is the pv parameter, empty when the
// page has no script. NOT_FOUND when {id} is not an article id (a positive
// integer), INVALID_ARGUMENT when the page view id is malformed.
absl::StatusOr<PageBeacon> ParseViewBeacon(absl::string_view id, absl::string_view page_view_id);

// {id} of /engaged/{id}, the pv and s parameters: the page view id is
// required, the engaged seconds a whole number from 1 to
// kMaxEngagedSeconds (the page sends no ping without engaged time).
absl::StatusOr<PageBeacon> ParseEngagementPing(absl::string_view id,
                                               absl::string_view page_view_id,
                                               absl::string_view seconds);

// The HTTP status of a rejected beacon request: 404 for NOT_FOUND, 400
// otherwise.
int BeaconHttpStatus(const absl::Status& status);

}  // namespace newsgrid::reader

#endif  // NEWSGRID_READER_WEB_PAGE_BEACON_H_
