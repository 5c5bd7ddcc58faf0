// The store's translation of a parsed filter (filter.h) to a PostgreSQL
// boolean expression over the `articles` table aliased `a`, every value a
// bound parameter. Also the parameter list and time format the store's
// statements share.
//
//   SqlParams params;
//   const std::string now = params.Add(FormatPgTime(clock.Now()));
//   FilterSql sql = FilterToSql(*ParseFilter(req.filter()), params, now);
//   // sql.where: "((a.section = $2) AND (a.tags @> ARRAY[$3]::text[]))"
#ifndef NEWSGRID_ARTICLE_SERVICE_FILTER_SQL_H_
#define NEWSGRID_ARTICLE_SERVICE_FILTER_SQL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "article-service/filter.h"

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

struct FilterSql {
  std::string where;  // "TRUE" for an empty filter
  // Placeholders of the required tags (FilterExpr::required_tag), in order.
  std::vector<std::string> required_tag_params;
};

// The SQL a `tags:` test compiles to, for the tag in placeholder `param`: a
// list driven from the tag index drops it from the filter (already implied).
std::string TagCondition(absl::string_view param);

// Adds the filter's values to `params`. `now_param` is the placeholder
// holding the current time, used by `state` (a SCHEDULED article whose time
// has come is PUBLISHED).
FilterSql FilterToSql(const FilterExpr& filter, SqlParams& params, absl::string_view now_param);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_FILTER_SQL_H_
