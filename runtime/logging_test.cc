#include "runtime/logging.h"

#include "gtest/gtest.h"

namespace newsgrid {
namespace {

const absl::Time kTime = absl::FromUnixMicros(1700000000123456);

TEST(LoggingTest, LineIsOneJsonObjectWithTimeLevelMessageAndFields) {
  const std::string line = FormatLogLine(kTime, LogLevel::kWarn, "db down",
                                         {{"port", 5432}, {"retry", true}, {"ratio", 0.5},
                                          {"peer", "ipv4:127.0.0.1:1"}});
  EXPECT_EQ(line,
            "{\"time\":\"2023-11-14T22:13:20.123456Z\",\"level\":\"warn\",\"msg\":\"db down\","
            "\"port\":5432,\"retry\":true,\"ratio\":0.5,\"peer\":\"ipv4:127.0.0.1:1\"}\n");
}

TEST(LoggingTest, StringsAreEscaped) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\nd\te\x01");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

TEST(LoggingTest, Utf8IsKeptAndInvalidBytesReplaced) {
  std::string out;
  AppendJsonString(out, "caf\xC3\xA9 \xE4\xB8\xAD");
  EXPECT_EQ(out, "\"caf\xC3\xA9 \xE4\xB8\xAD\"");
  out.clear();
  AppendJsonString(out, "x\xFFy\xC3");
  EXPECT_EQ(out, "\"x\\ufffdy\\ufffd\"");
}

TEST(LoggingTest, NonFiniteNumbersBecomeNull) {
  const std::string line =
      FormatLogLine(kTime, LogLevel::kInfo, "m", {{"x", std::numeric_limits<double>::infinity()}});
  EXPECT_NE(line.find("\"x\":null"), std::string::npos) << line;
}

TEST(LoggingTest, LevelsParseAndFilter) {
  EXPECT_EQ(*ParseLogLevel("DEBUG"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("verbose").ok());
  SetMinLogLevel(LogLevel::kWarn);
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  SetMinLogLevel(LogLevel::kInfo);
  EXPECT_TRUE(LogEnabled(LogLevel::kInfo));
}

TEST(LoggingTest, RateLimitedLogWritesOncePerInterval) {
  testing::internal::CaptureStderr();
  RateLimitedLog limited(absl::Hours(1));
  for (int i = 0; i < 5; ++i) limited.Log(LogLevel::kWarn, "buffer full");
  const std::string err = testing::internal::GetCapturedStderr();
  size_t lines = 0;
  for (char c : err) lines += c == '\n';
  EXPECT_EQ(lines, 1u) << err;
}

}  // namespace
}  // namespace newsgrid
