// libFuzzer target: the ListArticles/SearchArticles filter parser with the
// store's SQL translation, and the search query compiler, on arbitrary
// bytes. Either parses or returns INVALID_ARGUMENT; the SQL of a parsed
// filter only ever references placeholders for values (no input byte
// reaches the SQL text unescaped).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "article-service/filter.h"
#include "article-service/filter_sql.h"
#include "article-service/search_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<newsgrid::article::FilterExpr> filter = newsgrid::article::ParseFilter(input);
  if (filter.ok()) {
    newsgrid::article::SqlParams params;
    const std::string now = params.Add("2024-05-01 12:00:00+00");
    const std::string where = newsgrid::article::FilterToSql(*filter, params, now).where;
    // Quotes would mean a value was spliced into the SQL.
    if (absl::StrContains(where, "'") || absl::StrContains(where, ";")) std::abort();
  } else if (filter.status().code() != absl::StatusCode::kInvalidArgument) {
    std::abort();
  }
  absl::StatusOr<std::string> q = newsgrid::article::CompileSearchQuery(input);
  if (!q.ok() && q.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  return 0;
}
