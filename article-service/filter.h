// The ListArticles / SearchArticles filter language: a subset of AIP-160,
// parsed into a small syntax tree and compiled to a parameterized SQL
// boolean expression over the `articles` table aliased `a`.
//
// Supported: comparisons `section = "world"`, `slug != "x"`,
// `state = PUBLISHED`, `publish_time > "2023-06-01T00:00:00Z"` (also
// create_time, update_time; = != < <= > >=), has-tests `tags:"china"` and
// `authors:"Ada Lovelace"`, combined with AND, OR, NOT (or a leading `-`) and
// parentheses. As in AIP-160, OR binds tighter than AND. Anything else is
// INVALID_ARGUMENT on field "filter" naming the position (1-based).
//
//   SqlParams params;
//   std::string now = params.Add(FormatPgTime(now));
//   absl::StatusOr<std::string> where = CompileFilter(req.filter(), params, now);
//   // *where: "((a.section = $2) AND (a.tags @> ARRAY[$3]::text[]))"
#ifndef NEWSGRID_ARTICLE_SERVICE_FILTER_H_
#define NEWSGRID_ARTICLE_SERVICE_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace newsgrid::article {

// Positional SQL parameters, all passed as text (the SQL casts them).
class SqlParams {
 public:
  // Appends a value and returns its placeholder, "$n".
  std::string Add(std::string value);
  const std::vector<std::string>& values() const { return values_; }

 private:
  std::vector<std::string> values_;
};

// A time as PostgreSQL timestamptz input, microsecond precision, UTC.
std::string FormatPgTime(absl::Time t);

inline constexpr size_t kMaxFilterLength = 2000;

// What a compiled filter implies beyond its SQL, for choosing the plan.
struct FilterFacts {
  // Placeholders of the tags every match must have: top-level AND terms
  // `tags:"x"` (not under OR, NOT or parentheses). A list can then be driven
  // from the (tag, publish_time) index by the first one.
  std::vector<std::string> required_tag_params;
};

// The SQL a `tags:` test compiles to, for the tag in placeholder `param`: a
// list driven from the tag index drops it from the filter (already implied).
std::string TagCondition(absl::string_view param);

// Compiles `filter` (empty: "TRUE"). `now_param` is the placeholder holding
// the current time, used by `state` (a SCHEDULED article whose time has come
// is PUBLISHED). Errors name `field`. `facts`, when given, is filled.
absl::StatusOr<std::string> CompileFilter(absl::string_view filter, SqlParams& params,
                                          absl::string_view now_param,
                                          absl::string_view field = "filter",
                                          FilterFacts* facts = nullptr);

}  // namespace newsgrid::article


namespace newsgrid::article {

// Compiles a SearchArticles query to PostgreSQL tsquery text (for
// to_tsquery('english', ...)): words must all match, `word*` is a prefix,
// "quoted phrases" match in order, `-word` excludes, `OR` between two terms
// makes either match. Only letters and digits reach the tsquery; everything
// else separates words. INVALID_ARGUMENT on `field` when no positive term is
// left or the query is too long.
absl::StatusOr<std::string> CompileSearchQuery(absl::string_view query,
                                               absl::string_view field = "query");

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_FILTER_H_
