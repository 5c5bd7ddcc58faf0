// Results of a load generator run as JSON (for the suite's report and
// charts) and as a Markdown summary (for people).
//
//   std::vector<LoadOutcome> outcomes = ...;
//   WriteFile(path, ResultsJson("article_read", outcomes));
//   std::cout << ResultsMarkdown("article_read", outcomes);
#ifndef NEWSGRID_BENCH_LOADGEN_REPORT_H_
#define NEWSGRID_BENCH_LOADGEN_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/loadgen/driver.h"

namespace newsgrid::bench {

// One load of a run: measured, or why not.
struct LoadOutcome {
  enum class State { kMeasured, kNotMeasured, kFailed };
  State state = State::kMeasured;
  std::string reason;  // kNotMeasured / kFailed
  LoadSpec spec;
  LoadResult result;   // kMeasured
};

std::string ResultsJson(const std::string& label, const std::vector<LoadOutcome>& outcomes);
std::string ResultsMarkdown(const std::string& label, const std::vector<LoadOutcome>& outcomes);

// Human-readable duration of `ns`: "850us", "3.21ms", "1.20s".
std::string FormatNs(int64_t ns);

absl::Status WriteFile(const std::string& path, const std::string& content);

}  // namespace newsgrid::bench

#endif  // NEWSGRID_BENCH_LOADGEN_REPORT_H_
