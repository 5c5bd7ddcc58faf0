// Structured logging: one JSON object per line on stderr.
//
// Every line carries `time` (RFC 3339, UTC), `level`, `msg` and the caller's
// fields. Never pass secrets or article bodies as fields.
//
//   newsgrid::Log(newsgrid::LogLevel::kInfo, "listening", {{"port", 50051}});
//   NG_LOG_WARN("db unreachable", {{"error", status.ToString()}});
#ifndef NEWSGRID_RUNTIME_LOGGING_H_
#define NEWSGRID_RUNTIME_LOGGING_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace newsgrid {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
absl::string_view LogLevelName(LogLevel level);

// A field value: text, whole number, real number or flag.
using LogValue = std::variant<std::string, int64_t, double, bool>;

struct LogField {
  absl::string_view key;
  LogValue value;
  LogField(absl::string_view k, absl::string_view v) : key(k), value(std::string(v)) {}
  LogField(absl::string_view k, const char* v) : key(k), value(std::string(v)) {}
  LogField(absl::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(absl::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, long v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, long long v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, unsigned v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, unsigned long v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, double v) : key(k), value(v) {}
  LogField(absl::string_view k, bool v) : key(k), value(v) {}
};

using LogFields = std::initializer_list<LogField>;

// Appends `s` to `out` as a JSON string literal (quotes included). Invalid
// UTF-8 bytes become U+FFFD so the line always parses.
void AppendJsonString(std::string& out, absl::string_view s);

// The JSON line (with trailing newline) for one log record.
std::string FormatLogLine(absl::Time time, LogLevel level, absl::string_view msg,
                          LogFields fields);

// Records below this level are dropped. Default kInfo.
void SetMinLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// Writes one record to stderr (one write call per line, so lines from
// different threads never interleave).
void Log(LogLevel level, absl::string_view msg, LogFields fields = {});

// Logs at most once per `interval`; reports how many were suppressed since.
// For hot error paths such as a full buffer.
class RateLimitedLog {
 public:
  explicit RateLimitedLog(absl::Duration interval) : interval_(interval) {}
  void Log(LogLevel level, absl::string_view msg, LogFields fields = {});

 private:
  const absl::Duration interval_;
  std::atomic<int64_t> next_allowed_ns_{0};
  std::atomic<int64_t> suppressed_{0};
};

}  // namespace newsgrid

#define NG_LOG_DEBUG(...) ::newsgrid::Log(::newsgrid::LogLevel::kDebug, __VA_ARGS__)
#define NG_LOG_INFO(...) ::newsgrid::Log(::newsgrid::LogLevel::kInfo, __VA_ARGS__)
#define NG_LOG_WARN(...) ::newsgrid::Log(::newsgrid::LogLevel::kWarn, __VA_ARGS__)
#define NG_LOG_ERROR(...) ::newsgrid::Log(::newsgrid::LogLevel::kError, __VA_ARGS__)

#endif  // NEWSGRID_RUNTIME_LOGGING_H_
