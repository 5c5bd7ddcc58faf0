// libFuzzer target: the ListArticles/SearchArticles filter compiler and the
// search query compiler on arbitrary bytes. Either compiles or returns
// INVALID_ARGUMENT; the compiled SQL only ever references placeholders for
// values (no input byte reaches the SQL text unescaped).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "article-service/filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  newsgrid::article::SqlParams params;
  const std::string now = params.Add("2024-05-01 12:00:00+00");
  absl::StatusOr<std::string> where = newsgrid::article::CompileFilter(input, params, now);
  if (where.ok()) {
    // Quotes would mean a value was spliced into the SQL.
    if (absl::StrContains(*where, "'") || absl::StrContains(*where, ";")) std::abort();
  } else if (where.status().code() != absl::StatusCode::kInvalidArgument) {
    std::abort();
  }
  absl::StatusOr<std::string> q = newsgrid::article::CompileSearchQuery(input);
  if (!q.ok() && q.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  return 0;
}
