#include "reader-web/reader_cookies.h"

#include <openssl/rand.h>

#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"

namespace newsgrid::reader {

std::optional<std::string> CookieValue(absl::string_view cookie_header, absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(cookie_header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos) continue;
    if (absl::StripAsciiWhitespace(part.substr(0, eq)) != name) continue;
    absl::string_view value = absl::StripAsciiWhitespace(part.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

std::string NewVisitorId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // The CSPRNG failing is not a reason to fail a page view; an id that
    // does not repeat within the process keeps counts apart.
    static std::atomic<uint64_t> counter{0};
    const uint64_t n = counter.fetch_add(1) ^ static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
    for (int i = 0; i < 16; ++i) bytes[i] = static_cast<unsigned char>(n >> ((i % 8) * 8));
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

bool IsValidVisitorId(absl::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) || absl::ascii_isupper(c)) return false;
  }
  return true;
}

std::string VisitorCookieHeader(absl::string_view id) {
  return absl::StrCat(kVisitorCookie, "=", id, "; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax");
}

ReadingPrefs ParsePrefs(absl::string_view value) {
  ReadingPrefs prefs;
  const std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(value, '.');
  int size = 0;
  if ((parts.first != "read" && parts.first != "full") || !absl::SimpleAtoi(parts.second, &size)) {
    return prefs;
  }
  for (int allowed : kFontSizes) {
    if (size == allowed) prefs.font_percent = size;
  }
  prefs.read_mode = parts.first == "read";
  return prefs;
}

std::string FormatPrefs(const ReadingPrefs& prefs) {
  return absl::StrCat(prefs.read_mode ? "read" : "full", ".", prefs.font_percent);
}

std::string PrefsCookieHeader(const ReadingPrefs& prefs) {
  if (prefs.is_default()) return absl::StrCat(kPrefsCookie, "=; Path=/; Max-Age=0; SameSite=Lax");
  return absl::StrCat(kPrefsCookie, "=", FormatPrefs(prefs),
                      "; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax");
}

std::string SafeReturnPath(absl::string_view path) {
  if (path.empty() || path[0] != '/' || absl::StartsWith(path, "//") || path.size() > 2048) {
    return "/";
  }
  for (char c : path) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '\\') return "/";
  }
  return std::string(path);
}

}  // namespace newsgrid::reader
