// libFuzzer target: the PostgreSQL text[] output parser (it replaced
// libpqxx's array_parser, which aborted on some stored values).
#include <cstdint>
#include <string>

#include "article-service/pg_array.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)newsgrid::article::ParsePgTextArray(input);
  return 0;
}
