// Test helper: RFC 3339 text to absl::Time, so tests can name exact
// bucket boundaries (a parse error fails the calling test).
//
//   using ::newsgrid::testing::At;
//   absl::Time t = At("2024-05-01T12:07:30Z");
#ifndef NEWSGRID_TESTS_SUPPORT_TEST_TIME_H_
#define NEWSGRID_TESTS_SUPPORT_TEST_TIME_H_

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace newsgrid::testing {

inline absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

}  // namespace newsgrid::testing

#endif  // NEWSGRID_TESTS_SUPPORT_TEST_TIME_H_
