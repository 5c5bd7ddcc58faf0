// The ListArticles / SearchArticles filter language: a subset of AIP-160,
// parsed into a small syntax tree (FilterExpr). The tree says what to
// match, in the article's terms; the store translates it to SQL with bound
// parameters (filter_sql.h).
//
// Supported: comparisons `section = "world"`, `slug != "x"`,
// `state = PUBLISHED`, `publish_time > "2023-06-01T00:00:00Z"` (also
// create_time, update_time; = != < <= > >=), has-tests `tags:"china"` and
// `authors:"Ada Lovelace"`, combined with AND, OR, NOT (or a leading `-`) and
// parentheses. As in AIP-160, OR binds tighter than AND. Anything else is
// INVALID_ARGUMENT on field "filter" naming the position (1-based).
//
//   absl::StatusOr<FilterExpr> f = ParseFilter(req.filter());
//   // section = World AND tags:China ->
//   //   kAnd{ kCompare{kSection, kEq, "world"}, kCompare{kTags, kHas, "china"} }
//   std::vector<std::string> tags = RequiredTags(*f);  // {"china"}
#ifndef NEWSGRID_ARTICLE_SERVICE_FILTER_H_
#define NEWSGRID_ARTICLE_SERVICE_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "news/article/v1/article_service.pb.h"

namespace newsgrid::article {

inline constexpr size_t kMaxFilterLength = 2000;

enum class FilterField {
  kSection,
  kSlug,
  kState,
  kPublishTime,
  kCreateTime,
  kUpdateTime,
  kTags,
  kAuthors,
};

enum class FilterOp { kEq, kNe, kLt, kLe, kGt, kGe, kHas };

// One node of a parsed filter. An AND or OR has two or more children, a NOT
// one; a single condition is not wrapped.
struct FilterExpr {
  enum class Kind { kMatchAll, kAnd, kOr, kNot, kCompare };
  Kind kind = Kind::kMatchAll;
  std::vector<FilterExpr> children;  // kAnd, kOr, kNot

  // kCompare: `field op value`. Values are normalized as stored: sections
  // lower case, tags as NormalizeTag makes them.
  FilterField field = FilterField::kSection;
  FilterOp op = FilterOp::kEq;
  std::string text;                  // section, slug, tags, authors
  absl::Time time;                   // publish_time, create_time, update_time
  news::article::v1::Article::State state =
      news::article::v1::Article::STATE_UNSPECIFIED;  // state (DRAFT, SCHEDULED, PUBLISHED)

  // A `tags:` test at the top level of the filter's AND chain (not under
  // OR, NOT or parentheses): every match has the tag, so a list can be
  // driven from the tag's index.
  bool required_tag = false;
};

// Parses `filter` (empty: kMatchAll). Errors name `field`.
absl::StatusOr<FilterExpr> ParseFilter(absl::string_view filter,
                                       absl::string_view field = "filter");

// The tags of the tree's required_tag nodes, in filter order.
std::vector<std::string> RequiredTags(const FilterExpr& filter);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_FILTER_H_
