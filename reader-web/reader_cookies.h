// The reader's cookies: a random first-party visitor id that counts page
// views, and the reading preferences (Read mode, font size) that the page
// forms set without JavaScript.
//
//   std::optional<std::string> v = CookieValue(req.get_header_value("Cookie"), kVisitorCookie);
//   if (!v || !IsValidVisitorId(*v)) res.set_header("Set-Cookie", VisitorCookieHeader(NewVisitorId()));
//   ReadingPrefs prefs = ParsePrefs(CookieValue(cookie_header, kPrefsCookie).value_or(""));
#ifndef NEWSGRID_READER_WEB_READER_COOKIES_H_
#define NEWSGRID_READER_WEB_READER_COOKIES_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace newsgrid::reader {

inline constexpr char kVisitorCookie[] = "ngv";
inline constexpr char kPrefsCookie[] = "ngprefs";

// The value of cookie `name` in a Cookie request header ("a=1; b=2").
std::optional<std::string> CookieValue(absl::string_view cookie_header, absl::string_view name);

// 128 random bits as 32 lowercase hex digits: no personal data, nothing
// derived from the request.
std::string NewVisitorId();
bool IsValidVisitorId(absl::string_view id);

// Set-Cookie value for the visitor id: a year, HttpOnly (no script reads
// it), SameSite=Lax (not sent on cross-site subrequests), whole site.
std::string VisitorCookieHeader(absl::string_view id);

// Font sizes offered, in percent; the first is the default.
inline constexpr int kFontSizes[] = {100, 115, 130, 150};

struct ReadingPrefs {
  bool read_mode = false;
  int font_percent = 100;
  bool is_default() const { return !read_mode && font_percent == 100; }
  bool operator==(const ReadingPrefs&) const = default;
};

// "read.130" / "full.100"; anything unknown falls back to the default.
ReadingPrefs ParsePrefs(absl::string_view value);
std::string FormatPrefs(const ReadingPrefs& prefs);
// Set-Cookie value remembering `prefs` for a year (deleting the cookie when
// they are the defaults).
std::string PrefsCookieHeader(const ReadingPrefs& prefs);

// A local path safe to redirect to ("/articles/x?y"): starts with one "/",
// no scheme, no backslash, no control characters; else "/".
std::string SafeReturnPath(absl::string_view path);

}  // namespace newsgrid::reader

#endif  // NEWSGRID_READER_WEB_READER_COOKIES_H_
