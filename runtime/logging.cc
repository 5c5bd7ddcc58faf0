#include "runtime/logging.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace newsgrid {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; }
  else return 0;
  if (i + len > s.size()) return 0;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "debug") return LogLevel::kDebug;
  if (n == "info") return LogLevel::kInfo;
  if (n == "warn" || n == "warning") return LogLevel::kWarn;
  if (n == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", name, "\" (want debug, info, warn or error)"));
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

// Hand-written, not nlohmann-json (used for the other JSON of the project):
// a log line is formatted for every RPC, and nlohmann was measured slower on
// the access-log line of bench/micro/logging_bench.cc, side by side in one
// run (5 repetitions, medians): this code 623 ns, nlohmann's serializer
// writing each value into one preallocated string 778 ns (+25%), a whole
// ordered_json object dumped 1267 ns (+103%); the budget was +20%. It would
// also change the output: invalid UTF-8 became raw U+FFFD bytes instead of
// "\ufffd" (or, with ensure_ascii, every non-ASCII character an escape), and
// DEL went unescaped.
void AppendJsonString(std::string& out, absl::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append(absl::StrFormat("\\u%04x", c));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string FormatLogLine(absl::Time time, LogLevel level, absl::string_view msg,
                          LogFields fields) {
  std::string out;
  out.reserve(128);
  out.append("{\"time\":");
  AppendJsonString(out, absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone()));
  out.append(",\"level\":");
  AppendJsonString(out, LogLevelName(level));
  out.append(",\"msg\":");
  AppendJsonString(out, msg);
  for (const LogField& f : fields) {
    out.push_back(',');
    AppendJsonString(out, f.key);
    out.push_back(':');
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      AppendJsonString(out, *s);
    } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
      absl::StrAppend(&out, *i);
    } else if (const auto* d = std::get_if<double>(&f.value)) {
      // JSON has no NaN/Inf: write them as null.
      if (std::isfinite(*d)) {
        absl::StrAppend(&out, absl::StrFormat("%.6g", *d));
      } else {
        out.append("null");
      }
    } else {
      out.append(std::get<bool>(f.value) ? "true" : "false");
    }
  }
  out.append("}\n");
  return out;
}

void SetMinLogLevel(LogLevel level) { g_min_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_min_level.load(); }

void Log(LogLevel level, absl::string_view msg, LogFields fields) {
  if (!LogEnabled(level)) return;
  const std::string line = FormatLogLine(absl::Now(), level, msg, fields);
  // One write(2) per line: atomic for pipes up to PIPE_BUF and never
  // interleaved by stdio buffering.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void RateLimitedLog::Log(LogLevel level, absl::string_view msg, LogFields fields) {
  const int64_t now = absl::ToUnixNanos(absl::Now());
  int64_t next = next_allowed_ns_.load();
  if (now < next || !next_allowed_ns_.compare_exchange_strong(
                        next, now + absl::ToInt64Nanoseconds(interval_))) {
    suppressed_.fetch_add(1);
    return;
  }
  const int64_t suppressed = suppressed_.exchange(0);
  if (suppressed == 0) {
    ::newsgrid::Log(level, msg, fields);
    return;
  }
  const std::string with_count = absl::StrCat(msg, " (", suppressed, " similar suppressed)");
  ::newsgrid::Log(level, with_count, fields);
}

}  // namespace newsgrid
