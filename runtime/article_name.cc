#include "runtime/article_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace newsgrid {

std::optional<absl::string_view> ParseArticleName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, kArticleNamePrefix)) return std::nullopt;
  if (name.empty() || name.size() > kMaxArticleIdLength) return std::nullopt;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return std::nullopt;
    }
  }
  return name;
}

std::optional<int64_t> ParseArticleServiceId(absl::string_view name) {
  std::optional<absl::string_view> id = ParseArticleName(name);
  if (!id || id->front() < '1' || id->front() > '9') return std::nullopt;
  for (char c : *id) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int64_t n = 0;
  // Digits only and no leading zero: SimpleAtoi fails only on overflow.
  if (!absl::SimpleAtoi(*id, &n)) return std::nullopt;
  return n;
}

std::string ArticleServiceName(int64_t id) { return absl::StrCat(kArticleNamePrefix, id); }

}  // namespace newsgrid
