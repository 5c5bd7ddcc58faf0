// The resource name of an article, "articles/{id}", parsed by one rule for
// every service:
//
//   {id} is 1 to 128 characters of [A-Za-z0-9_-].
//
// The trending service counts views for any such id. The article service
// assigns a narrower kind: a positive decimal int64 written canonically
// (no sign, no leading zero, at most 9223372036854775807), which
// ParseArticleServiceId accepts and nothing else; the trending service uses
// it to tell which names the article service could ever hold.
//
//   std::optional<absl::string_view> id = ParseArticleName("articles/abc-1");
//   // *id == "abc-1"
//   std::optional<int64_t> n = ParseArticleServiceId("articles/42");  // 42
//   std::string name = ArticleServiceName(42);                          // "articles/42"
#ifndef NEWSGRID_RUNTIME_ARTICLE_NAME_H_
#define NEWSGRID_RUNTIME_ARTICLE_NAME_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace newsgrid {

inline constexpr absl::string_view kArticleNamePrefix = "articles/";
inline constexpr size_t kMaxArticleIdLength = 128;

// The {id} of `name` (a view into it); nullopt when `name` is not
// "articles/{id}" by the rule above.
std::optional<absl::string_view> ParseArticleName(absl::string_view name);

// The id of `name` when it is an article service name; nullopt otherwise.
std::optional<int64_t> ParseArticleServiceId(absl::string_view name);

// "articles/{id}" for an article service id.
std::string ArticleServiceName(int64_t id);

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_ARTICLE_NAME_H_
