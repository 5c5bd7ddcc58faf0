#include "bench/loadgen/driver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace newsgrid::bench {

namespace {

// Below this, the pacer spins (yielding) instead of sleeping: sleeping
// overshoots by tens of microseconds, which would show up as latency.
constexpr int64_t kSpinNs = 80'000;
// An open loop whose sends lag the schedule by more than this at p99 did not
// keep up. Scheduling noise on a busy machine reaches a few milliseconds; a
// generator that cannot sustain the rate falls behind without bound.
constexpr int64_t kMaxLagP99Ns = 5'000'000;

}  // namespace

absl::StatusOr<LoadSpec> ParseLoadSpec(const std::string& text, const LoadSpec& defaults) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  LoadSpec spec = defaults;
  spec.rate = 0;
  spec.concurrency = 0;
  spec.workload = parts[0];
  if (spec.workload.empty()) return absl::InvalidArgumentError(absl::StrCat("load '", text, "': no workload"));
  for (size_t i = 1; i < parts.size(); ++i) {
    std::pair<std::string, std::string> kv = absl::StrSplit(parts[i], absl::MaxSplits('=', 1));
    const std::string& key = kv.first;
    const std::string& value = kv.second;
    bool ok = true;
    if (key == "rate") {
      ok = absl::SimpleAtod(value, &spec.rate) && spec.rate > 0;
    } else if (key == "concurrency" || key == "c") {
      ok = absl::SimpleAtoi(value, &spec.concurrency) && spec.concurrency > 0;
    } else if (key == "max_in_flight") {
      ok = absl::SimpleAtoi(value, &spec.max_in_flight) && spec.max_in_flight > 0;
    } else if (key == "count") {
      ok = absl::SimpleAtoi(value, &spec.count) && spec.count > 0;
    } else if (key == "channels") {
      ok = absl::SimpleAtoi(value, &spec.channels) && spec.channels > 0;
    } else if (key == "duration") {
      ok = absl::ParseDuration(value, &spec.duration) && spec.duration > absl::ZeroDuration();
    } else if (key == "warmup") {
      ok = absl::ParseDuration(value, &spec.warmup) && spec.warmup >= absl::ZeroDuration();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("load '", text, "': unknown key '", key,
                                                     "' (rate, concurrency, max_in_flight, count, "
                                                     "channels, duration, warmup)"));
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("load '", text, "': bad value for ", key));
    }
  }
  if (spec.rate > 0 && spec.concurrency > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("load '", text, "': give rate (open loop) or concurrency (closed), not both"));
  }
  if (spec.rate == 0 && spec.concurrency == 0) spec.concurrency = defaults.concurrency;
  if (spec.rate == 0 && spec.concurrency <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("load '", text, "': no rate or concurrency"));
  }
  return spec;
}

int64_t MethodResult::calls() const {
  int64_t n = 0;
  for (int64_t c : codes) n += c;
  return n;
}

double LoadResult::ops_per_second() const {
  return measured_seconds > 0 ? static_cast<double>(all.count()) / measured_seconds : 0;
}

double LoadResult::ok_per_second() const {
  int64_t ok = 0;
  for (const MethodResult& m : methods) ok += m.ok;
  return measured_seconds > 0 ? static_cast<double>(ok) / measured_seconds : 0;
}

double LoadResult::items_per_second() const {
  int64_t items = 0;
  for (const MethodResult& m : methods) items += m.items;
  return measured_seconds > 0 ? static_cast<double>(items) / measured_seconds : 0;
}

int64_t LoadResult::errors() const {
  int64_t e = 0;
  for (const MethodResult& m : methods) e += m.errors();
  return e;
}

LoadDriver::LoadDriver(LoadSpec spec, Workload* workload)
    : spec_(std::move(spec)), workload_(workload), method_names_(workload->Methods()) {
  for (const std::string& name : method_names_) {
    MethodResult m;
    m.method = name;
    methods_.push_back(std::move(m));
  }
}

LoadDriver::~LoadDriver() {
  stop_ = true;
  if (pacer_.joinable()) pacer_.join();
}

int64_t LoadDriver::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void LoadDriver::Start() {
  start_ns_ = NowNs();
  measure_from_ns_ = start_ns_ + absl::ToInt64Nanoseconds(spec_.warmup);
  end_ns_ = spec_.count > 0 ? std::numeric_limits<int64_t>::max()
                            : measure_from_ns_ + absl::ToInt64Nanoseconds(spec_.duration);
  {
    absl::MutexLock lock(&mu_);
    last_tick_ns_ = start_ns_;
    active_loops_ = spec_.rate > 0 ? 1 : spec_.concurrency;
  }
  if (spec_.rate > 0) {
    pacer_ = std::thread([this] { RunOpenLoop(); });
  } else {
    for (int i = 0; i < spec_.concurrency; ++i) IssueClosed();
  }
}

bool LoadDriver::StopIssuing(int64_t now_ns) {
  if (stop_) return true;
  if (spec_.count == 0) return now_ns >= end_ns_;
  // Count mode: claim a measured slot; warm-up operations are free.
  if (now_ns < measure_from_ns_) return false;
  return issued_measured_.fetch_add(1) >= spec_.count;
}

void LoadDriver::OperationDone() {
  absl::MutexLock lock(&mu_);
  --active_loops_;
  if (active_loops_ == 0 && in_flight_.load() == 0) finished_ = true;
}

void LoadDriver::RunOpenLoop() {
  const double interval_ns = 1e9 / spec_.rate;
  for (int64_t i = 0;; ++i) {
    const int64_t intended = start_ns_ + static_cast<int64_t>(std::llround(i * interval_ns));
    if (spec_.count == 0 && intended >= end_ns_) break;
    if (stop_) break;
    for (int64_t now = NowNs(); now < intended; now = NowNs()) {
      if (intended - now > kSpinNs) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(intended - now - kSpinNs));
      } else {
        std::this_thread::yield();
      }
    }
    // The in-flight cap bounds memory when the target stalls; the wait is
    // charged to the operation (its latency counts from `intended`).
    {
      absl::MutexLock lock(&mu_);
      auto below_cap = [this] { return in_flight_.load() < spec_.max_in_flight || stop_.load(); };
      mu_.Await(absl::Condition(&below_cap));
    }
    if (stop_) break;
    if (intended >= measure_from_ns_) {
      if (spec_.count > 0 && issued_measured_.fetch_add(1) >= spec_.count) break;
      const int64_t lag = NowNs() - intended;
      absl::MutexLock lock(&mu_);
      send_lag_.Record(lag);
      ++scheduled_;
    }
    Issue(intended, /*closed=*/false);
  }
  OperationDone();
}

void LoadDriver::IssueClosed() {
  const int64_t now = NowNs();
  if (StopIssuing(now)) {
    OperationDone();
    return;
  }
  Issue(now, /*closed=*/true);
}

void LoadDriver::Issue(int64_t intended_ns, bool closed) {
  in_flight_.fetch_add(1);
  const int channel = static_cast<int>(next_channel_.fetch_add(1) % spec_.channels);
  workload_->Issue(CallSlot{channel, spec_.deadline},
                   [this, intended_ns, closed](int method, const grpc::Status& status, int64_t items) {
                     Complete(intended_ns, method, status, items);
                     if (closed) IssueClosed();
                   });
}

void LoadDriver::Complete(int64_t intended_ns, int method, const grpc::Status& status,
                          int64_t items) {
  const int64_t now = NowNs();
  absl::MutexLock lock(&mu_);
  in_flight_.fetch_sub(1);
  if (in_flight_.load() == 0 && active_loops_ == 0) finished_ = true;
  if (intended_ns < measure_from_ns_) return;
  if (method < 0 || method >= static_cast<int>(methods_.size())) method = 0;
  const int64_t latency = now - intended_ns;
  MethodResult& m = methods_[method];
  m.latency.Record(latency);
  const int code = std::clamp(static_cast<int>(status.error_code()), 0, 16);
  m.codes[code]++;
  if (status.ok()) {
    m.ok++;
    m.items += items;
    interval_items_ += items;
  } else {
    m.last_error = status.error_message();
    interval_errors_++;
  }
  all_.Record(latency);
  interval_.Record(latency);
  last_done_ns_ = std::max(last_done_ns_, now);
}

IntervalSample LoadDriver::Tick() {
  const int64_t now = NowNs();
  absl::MutexLock lock(&mu_);
  IntervalSample s;
  s.t = static_cast<double>(now - measure_from_ns_) / 1e9;
  s.calls = interval_.count();
  s.errors = interval_errors_;
  s.items = interval_items_;
  s.p50_ns = interval_.Percentile(50);
  s.p99_ns = interval_.Percentile(99);
  // Only the measured part of the interval counts (the first one may
  // straddle the end of the warm-up).
  s.seconds = static_cast<double>(now - std::max(last_tick_ns_, measure_from_ns_)) / 1e9;
  interval_.Reset();
  interval_errors_ = 0;
  interval_items_ = 0;
  last_tick_ns_ = now;
  if (now > measure_from_ns_ && s.seconds > 0) timeline_.push_back(s);
  return s;
}

int64_t LoadDriver::calls_so_far() {
  absl::MutexLock lock(&mu_);
  return all_.count();
}

int64_t LoadDriver::errors_so_far() {
  absl::MutexLock lock(&mu_);
  int64_t e = 0;
  for (const MethodResult& m : methods_) e += m.errors();
  return e;
}

int64_t LoadDriver::p99_so_far_ns() {
  absl::MutexLock lock(&mu_);
  return all_.Percentile(99);
}

LoadResult LoadDriver::Finish() {
  {
    absl::MutexLock lock(&mu_);
    auto done = [this] { return active_loops_ == 0 && in_flight_.load() == 0; };
    mu_.Await(absl::Condition(&done));
  }
  if (pacer_.joinable()) pacer_.join();
  Tick();
  finished_ = true;
  absl::MutexLock lock(&mu_);
  LoadResult r;
  r.spec = spec_;
  r.mode = spec_.rate > 0 ? "open" : "closed";
  r.methods = methods_;
  r.all = all_;
  const int64_t window_end =
      spec_.count > 0 ? last_done_ns_ : std::max(last_done_ns_, std::min(end_ns_, NowNs()));
  r.measured_seconds = std::max(0.0, static_cast<double>(window_end - measure_from_ns_) / 1e9);
  r.send_lag = send_lag_;
  r.scheduled = scheduled_;
  r.kept_up = spec_.rate <= 0 || send_lag_.Percentile(99) <= kMaxLagP99Ns;
  r.timeline = timeline_;
  r.counters = workload_->Counters();
  return r;
}

}  // namespace newsgrid::bench
