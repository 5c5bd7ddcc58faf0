// The SearchArticles query language, compiled to PostgreSQL tsquery text:
// words must all match, `word*` is a prefix, "quoted phrases" match in
// order, `-word` excludes, `OR` between two terms makes either match. Only
// letters and digits reach the tsquery (each lexeme quoted); everything else
// separates words, so the text is safe to bind as a parameter of
// to_tsquery('english', $n). INVALID_ARGUMENT on `field` when no positive
// term is left or the query is too long.
//
//   absl::StatusOr<std::string> tsquery = CompileSearchQuery(req.query());
//   // "climate change -opinion" -> "('climate') & ('change') & !('opinion')"
#ifndef NEWSGRID_ARTICLE_SERVICE_SEARCH_QUERY_H_
#define NEWSGRID_ARTICLE_SERVICE_SEARCH_QUERY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace newsgrid::article {

inline constexpr size_t kMaxSearchQueryChars = 500;

absl::StatusOr<std::string> CompileSearchQuery(absl::string_view query,
                                               absl::string_view field = "query");

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_SEARCH_QUERY_H_
