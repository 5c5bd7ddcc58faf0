#include "bench/loadgen/report.h"

#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "runtime/metrics.h"

namespace newsgrid::bench {
namespace {

using Json = nlohmann::ordered_json;

// Reals with the precision the report is read at (milliseconds to 3
// decimals, microseconds to 1): the JSON stays short and diffable.
double Round(double v, double scale) { return std::round(v * scale) / scale; }
double Num(double v) { return Round(v, 1e3); }
double Us(int64_t ns) { return Round(static_cast<double>(ns) / 1e3, 10); }

Json LatencyJson(const Histogram& h) {
  return {{"count", h.count()},          {"p50", Us(h.Percentile(50))},
          {"p90", Us(h.Percentile(90))}, {"p99", Us(h.Percentile(99))},
          {"p999", Us(h.Percentile(99.9))}, {"max", Us(h.max())},
          {"mean", Num(h.mean() / 1e3)}};
}

const char* StateName(LoadOutcome::State s) {
  switch (s) {
    case LoadOutcome::State::kMeasured: return "measured";
    case LoadOutcome::State::kNotMeasured: return "not_measured";
    case LoadOutcome::State::kFailed: return "failed";
  }
  return "failed";
}

Json LoadJson(const LoadOutcome& o) {
  const LoadSpec& s = o.spec;
  Json out = {{"workload", s.workload},
              {"status", StateName(o.state)},
              {"reason", o.reason},
              {"mode", s.rate > 0 ? "open" : "closed"},
              {"rate", Num(s.rate)},
              {"concurrency", s.concurrency},
              {"channels", s.channels},
              {"duration_s", Num(absl::ToDoubleSeconds(s.duration))},
              {"count", s.count},
              {"warmup_s", Num(absl::ToDoubleSeconds(s.warmup))}};
  if (o.state != LoadOutcome::State::kMeasured) return out;
  const LoadResult& r = o.result;
  out["measured_seconds"] = Num(r.measured_seconds);
  out["ops"] = r.all.count();
  out["ops_per_second"] = Num(r.ops_per_second());
  out["ok_per_second"] = Num(r.ok_per_second());
  out["items_per_second"] = Num(r.items_per_second());
  out["errors"] = r.errors();
  out["kept_up"] = r.kept_up;
  out["scheduled"] = r.scheduled;
  out["send_lag_us"] = LatencyJson(r.send_lag);
  out["latency_us"] = LatencyJson(r.all);
  Json& methods = out["methods"] = Json::array();
  for (const MethodResult& m : r.methods) {
    Json codes = Json::object();
    for (int c = 0; c < static_cast<int>(m.codes.size()); ++c) {
      if (m.codes[c]) codes[std::string(GrpcCodeName(c))] = m.codes[c];
    }
    methods.push_back({{"method", m.method},
                       {"calls", m.calls()},
                       {"ok", m.ok},
                       {"errors", m.errors()},
                       {"items", m.items},
                       {"codes", std::move(codes)},
                       {"last_error", m.last_error},
                       {"latency_us", LatencyJson(m.latency)}});
  }
  Json& counters = out["counters"] = Json::object();
  for (const auto& [k, v] : r.counters) counters[k] = v;
  Json& timeline = out["timeline"] = Json::array();
  for (const IntervalSample& t : r.timeline) {
    timeline.push_back({{"t", Num(t.t)},
                        {"seconds", Num(t.seconds)},
                        {"calls_per_second", Num(t.calls_per_second())},
                        {"items_per_second", Num(t.items_per_second())},
                        {"calls", t.calls},
                        {"errors", t.errors},
                        {"items", t.items},
                        {"p50_us", Us(t.p50_ns)},
                        {"p99_us", Us(t.p99_ns)}});
  }
  return out;
}

}  // namespace

std::string FormatNs(int64_t ns) {
  if (ns < 1'000'000) return absl::StrFormat("%.0fus", static_cast<double>(ns) / 1e3);
  if (ns < 1'000'000'000) return absl::StrFormat("%.2fms", static_cast<double>(ns) / 1e6);
  return absl::StrFormat("%.2fs", static_cast<double>(ns) / 1e9);
}

std::string ResultsJson(const std::string& label, const std::vector<LoadOutcome>& outcomes) {
  Json loads = Json::array();
  for (const LoadOutcome& o : outcomes) loads.push_back(LoadJson(o));
  const Json out = {
      {"label", label},
      {"time", absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone())},
      {"loads", std::move(loads)}};
  // Invalid UTF-8 (an error text from a server) becomes U+FFFD, never an
  // exception.
  return out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string ResultsMarkdown(const std::string& label, const std::vector<LoadOutcome>& outcomes) {
  std::string out = absl::StrCat("## Load run: ", label, "\n\n",
                                 "| Workload | Method | Mode | Calls/s | Items/s | p50 | p90 | p99 | p99.9 | max | Errors |\n"
                                 "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
  std::string notes;
  for (const LoadOutcome& o : outcomes) {
    const LoadSpec& s = o.spec;
    const std::string mode = s.rate > 0 ? absl::StrFormat("open %.0f/s", s.rate)
                                        : absl::StrCat("closed ", s.concurrency);
    if (o.state != LoadOutcome::State::kMeasured) {
      absl::StrAppend(&out, "| ", s.workload, " | | ", mode, " | ",
                      o.state == LoadOutcome::State::kNotMeasured ? "not measured: " : "failed: ",
                      o.reason, " | | | | | | | |\n");
      continue;
    }
    const LoadResult& r = o.result;
    for (const MethodResult& m : r.methods) {
      if (m.calls() == 0) continue;
      std::vector<std::string> errors;
      for (int c = 1; c < static_cast<int>(m.codes.size()); ++c) {
        if (m.codes[c]) errors.push_back(absl::StrCat(GrpcCodeName(c), " ", m.codes[c]));
      }
      const double secs = r.measured_seconds > 0 ? r.measured_seconds : 1;
      absl::StrAppend(&out, "| ", s.workload, " | ", m.method, " | ", mode, " | ",
                      absl::StrFormat("%.0f", m.calls() / secs), " | ",
                      m.items == m.ok ? "" : absl::StrFormat("%.0f", m.items / secs), " | ", FormatNs(m.latency.Percentile(50)),
                      " | ", FormatNs(m.latency.Percentile(90)), " | ", FormatNs(m.latency.Percentile(99)),
                      " | ", FormatNs(m.latency.Percentile(99.9)), " | ", FormatNs(m.latency.max()), " | ",
                      errors.empty() ? "0" : absl::StrJoin(errors, ", "), " |\n");
    }
    if (!r.kept_up) {
      absl::StrAppend(&notes, "- ", s.workload, ": the open loop could not keep up with ",
                      absl::StrFormat("%.0f/s", s.rate), " (send lag p99 ", FormatNs(r.send_lag.Percentile(99)),
                      ", max ", FormatNs(r.send_lag.max()),
                      "); latencies count from the intended send time, so they include that wait.\n");
    }
    for (const auto& [k, v] : r.counters) absl::StrAppend(&notes, "- ", s.workload, ": ", k, " = ", v, "\n");
  }
  if (!notes.empty()) absl::StrAppend(&out, "\n", notes);
  return out;
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace newsgrid::bench
