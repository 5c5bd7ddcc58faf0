// Parses PostgreSQL's text output of a one-dimensional text[] value
// (`{a,"b c","say \"hi\"",NULL}`) into its elements; NULL elements are
// skipped. Replaces libpqxx 6.4's array_parser, which fails an assertion
// (aborting the process) on some values ending in a backslash or quote.
//
//   std::vector<std::string> tags = ParsePgTextArray(row["tags"].c_str());
#ifndef NEWSGRID_ARTICLE_SERVICE_PG_ARRAY_H_
#define NEWSGRID_ARTICLE_SERVICE_PG_ARRAY_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace newsgrid::article {

// Malformed input never crashes: parsing stops at the first error and the
// elements read so far are returned.
std::vector<std::string> ParsePgTextArray(absl::string_view text);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_PG_ARRAY_H_
