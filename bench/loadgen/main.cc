// newsgrid-loadgen: the load generator of the benchmark suite.
//
//   newsgrid-loadgen --loads=echo:concurrency=64 --echo_addr=127.0.0.1:7000
//       --duration=10s --warmup=2s --json_out=echo.json
//   newsgrid-loadgen --loads=view_ingest:rate=40,trending_poll:rate=200
//       --trending_addr=127.0.0.1:50052 --article_addr=127.0.0.1:50051
//   newsgrid-loadgen --loads=ping_ingest:concurrency=8 --page_views=2000000
//       --trending_addr=127.0.0.1:50052
//
// Loads given together run at the same time (e.g. rankings polled while
// ingest runs), each with its own statistics. A load is "name" (closed loop
// at --concurrency) or "name:key=value:..." with rate (open loop, ops/s),
// concurrency, max_in_flight, count, duration, warmup, channels.
//
// Exit code: 0 all loads measured; 3 some could not be measured because the
// target does not implement them yet (UNIMPLEMENTED; the results say so);
// 1 on any other failure; 2 on bad flags.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/loadgen/driver.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/workload.h"
#include "runtime/server.h"

ABSL_FLAG(std::vector<std::string>, loads, {}, "Loads to run together, comma-separated.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured time of each load.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2), "Unrecorded time before measuring.");
ABSL_FLAG(int64_t, count, 0, "Stop each load after this many recorded operations (0: by duration).");
ABSL_FLAG(int, concurrency, 32, "Closed-loop concurrency of loads that give neither rate nor concurrency.");
ABSL_FLAG(int, max_in_flight, 4096, "Open loop: most operations in flight per load.");
ABSL_FLAG(int, channels, 4, "gRPC channels (connections) per load.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(5), "Deadline of each call.");
ABSL_FLAG(std::string, article_addr, "127.0.0.1:50051", "article-service address.");
ABSL_FLAG(std::string, article_replica_addr, "",
          "A second article-service replica on the same database (article_staleness reads it).");
ABSL_FLAG(std::string, trending_addr, "127.0.0.1:50052", "trending-service address.");
ABSL_FLAG(std::string, echo_addr, "", "newsgrid-echo-server address.");
ABSL_FLAG(std::string, health_addr, "", "Address for the health workload (default: article_addr).");
ABSL_FLAG(int, articles, 2000, "Published articles the readers read (created by setup).");
ABSL_FLAG(double, zipf_s, 1.0, "Zipf exponent of article popularity.");
ABSL_FLAG(std::string, article_names_file, "", "Setup's article names: reused when present, written when created.");
ABSL_FLAG(int, setup_concurrency, 16, "Parallel calls of the setup phase.");
ABSL_FLAG(int, ingest_articles, 100000, "Distinct articles in view events.");
ABSL_FLAG(int, batch_size, 500, "Events per RecordViews message.");
ABSL_FLAG(int, batches_per_stream, 4, "Messages per RecordViews stream (one operation).");
ABSL_FLAG(int64_t, visitors, 1000000, "Distinct visitor ids in view events and reads.");
ABSL_FLAG(int64_t, page_views, 1000000,
          "ping_ingest: open page views in the pool, registered by VIEWs before pinging; it bounds the "
          "ping rate at page_views / ping_interval.");
ABSL_FLAG(absl::Duration, ping_interval, absl::Seconds(11),
          "ping_ingest: least time between two pings of a page view (the service takes one per 10 s).");
ABSL_FLAG(int, history_days, 7, "trending_fill: days of history per article.");
ABSL_FLAG(int, events_per_article, 8, "trending_fill: views per article.");
ABSL_FLAG(absl::Duration, trending_window, absl::Hours(24), "GetTrending window.");
ABSL_FLAG(int, trending_limit, 10, "GetTrending limit.");
ABSL_FLAG(std::string, trending_metric, "VIEWS", "GetTrending metric (VIEWS, ENGAGED_TIME, ...).");
ABSL_FLAG(int, echo_payload, 128, "Echo request payload bytes (echoed back unless --echo_response_bytes).");
ABSL_FLAG(int, echo_response_bytes, 0, "When > 0, the echo answers this many bytes.");
ABSL_FLAG(std::string, write_mix, "create:3,update:5,publish:2", "editor_writes proportions.");
ABSL_FLAG(std::string, label, "loadgen", "Name of this run in the results.");
ABSL_FLAG(std::string, json_out, "", "Write results as JSON here.");
ABSL_FLAG(std::string, markdown_out, "", "Write the Markdown summary here.");
ABSL_FLAG(std::string, started_file, "",
          "Created when every load is set up and the measured run starts (not when no load can be "
          "measured), so that a script samples CPU over the run and not over a long setup.");
ABSL_FLAG(std::string, progress, "auto", "Live progress line: auto (when stdout is a terminal), on, off.");

namespace nb = newsgrid::bench;

namespace {

nb::WorkloadOptions OptionsFromFlags() {
  nb::WorkloadOptions o;
  o.article_addr = absl::GetFlag(FLAGS_article_addr);
  o.article_replica_addr = absl::GetFlag(FLAGS_article_replica_addr);
  o.trending_addr = absl::GetFlag(FLAGS_trending_addr);
  o.echo_addr = absl::GetFlag(FLAGS_echo_addr);
  o.health_addr = absl::GetFlag(FLAGS_health_addr);
  o.channels = absl::GetFlag(FLAGS_channels);
  o.deadline = absl::GetFlag(FLAGS_deadline);
  o.articles = absl::GetFlag(FLAGS_articles);
  o.zipf_s = absl::GetFlag(FLAGS_zipf_s);
  o.article_names_file = absl::GetFlag(FLAGS_article_names_file);
  o.setup_concurrency = absl::GetFlag(FLAGS_setup_concurrency);
  o.ingest_articles = absl::GetFlag(FLAGS_ingest_articles);
  o.batch_size = absl::GetFlag(FLAGS_batch_size);
  o.batches_per_stream = absl::GetFlag(FLAGS_batches_per_stream);
  o.visitors = absl::GetFlag(FLAGS_visitors);
  o.page_views = absl::GetFlag(FLAGS_page_views);
  o.ping_interval = absl::GetFlag(FLAGS_ping_interval);
  o.history_days = absl::GetFlag(FLAGS_history_days);
  o.events_per_article = absl::GetFlag(FLAGS_events_per_article);
  o.trending_window = absl::GetFlag(FLAGS_trending_window);
  o.trending_limit = absl::GetFlag(FLAGS_trending_limit);
  o.trending_metric = absl::GetFlag(FLAGS_trending_metric);
  o.echo_payload = absl::GetFlag(FLAGS_echo_payload);
  o.echo_response_bytes = absl::GetFlag(FLAGS_echo_response_bytes);
  o.write_mix = absl::GetFlag(FLAGS_write_mix);
  return o;
}

absl::Status ValidateOptions(const nb::WorkloadOptions& o) {
  if (o.channels < 1 || o.articles < 1 || o.ingest_articles < 1 || o.batch_size < 1 ||
      o.batch_size > 1000 || o.batches_per_stream < 1 || o.visitors < 1 || o.history_days < 1 ||
      o.events_per_article < 1 || o.trending_limit < 1 || o.echo_payload < 0 || o.echo_response_bytes < 0 || o.zipf_s < 0 ||
      o.page_views < 1 || o.ping_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "channels, articles, ingest_articles, batches_per_stream, visitors, page_views, history_days, "
        "events_per_article and trending_limit must be >= 1; batch_size 1..1000; echo_payload, "
        "ping_interval and zipf_s >= 0");
  }
  return absl::OkStatus();
}

// Issues one operation and waits for it: tells an UNIMPLEMENTED method apart
// before the measured run.
grpc::Status Probe(nb::Workload& w, absl::Duration deadline, std::string* method) {
  absl::Notification done;
  grpc::Status result;
  int which = 0;
  w.Issue(nb::CallSlot{0, deadline}, [&](int m, const grpc::Status& s, int64_t) {
    result = s;
    which = m;
    done.Notify();
  });
  done.WaitForNotification();
  const auto names = w.Methods();
  *method = which >= 0 && which < static_cast<int>(names.size()) ? names[which] : "?";
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("gRPC load generator of the newsgrid benchmark suite");
  absl::ParseCommandLine(argc, argv);
  newsgrid::ConfigureProcess();  // as the servers run: it shares their cores
  const nb::WorkloadOptions options = OptionsFromFlags();
  if (absl::Status s = ValidateOptions(options); !s.ok()) {
    std::cerr << "newsgrid-loadgen: " << s.message() << "\n";
    return 2;
  }
  nb::LoadSpec defaults;
  defaults.duration = absl::GetFlag(FLAGS_duration);
  defaults.warmup = absl::GetFlag(FLAGS_warmup);
  defaults.count = absl::GetFlag(FLAGS_count);
  defaults.concurrency = absl::GetFlag(FLAGS_concurrency);
  defaults.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  defaults.channels = options.channels;
  defaults.deadline = options.deadline;
  std::vector<nb::LoadSpec> specs;
  for (const std::string& text : absl::GetFlag(FLAGS_loads)) {
    auto spec = nb::ParseLoadSpec(text, defaults);
    if (!spec.ok()) {
      std::cerr << "newsgrid-loadgen: " << spec.status().message() << "\n";
      return 2;
    }
    if (!nb::Workloads().contains(spec->workload)) {
      std::vector<std::string> known;
      for (const auto& [name, f] : nb::Workloads()) known.push_back(name);
      std::cerr << "newsgrid-loadgen: unknown workload '" << spec->workload << "' (known: "
                << absl::StrJoin(known, ", ") << ")\n";
      return 2;
    }
    specs.push_back(*spec);
  }
  if (specs.empty()) {
    std::cerr << "newsgrid-loadgen: no --loads\n";
    return 2;
  }
  const std::string progress_flag = absl::GetFlag(FLAGS_progress);
  const bool progress = progress_flag == "on" || (progress_flag == "auto" && isatty(STDOUT_FILENO));

  // Build, set up and probe every load; those that cannot run are reported.
  std::vector<nb::LoadOutcome> outcomes(specs.size());
  std::vector<std::unique_ptr<nb::Workload>> workloads(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    nb::LoadOutcome& o = outcomes[i];
    o.spec = specs[i];
    auto made = nb::Workloads().at(specs[i].workload)(options);
    absl::Status status = made.status();
    if (made.ok()) {
      workloads[i] = *std::move(made);
      const absl::Time t0 = absl::Now();
      status = workloads[i]->Setup();
      if (!status.ok()) status = absl::Status(status.code(), absl::StrCat("setup: ", status.message()));
      if (status.ok() && absl::Now() - t0 > absl::Seconds(1)) {
        std::cerr << "newsgrid-loadgen: " << specs[i].workload << " setup took "
                  << absl::FormatDuration(absl::Trunc(absl::Now() - t0, absl::Milliseconds(100))) << "\n";
      }
    }
    if (status.ok()) {
      std::string method;
      const grpc::Status probe = Probe(*workloads[i], specs[i].deadline, &method);
      if (probe.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
        status = nb::ToAbsl(probe, method);
      }
    }
    // UNIMPLEMENTED: the target lacks the feature (the message says how it
    // showed), so the load is reported, not failed.
    if (status.code() == absl::StatusCode::kUnimplemented) {
      o.state = nb::LoadOutcome::State::kNotMeasured;
      o.reason = std::string(status.message());
    } else if (!status.ok()) {
      o.state = nb::LoadOutcome::State::kFailed;
      o.reason = std::string(status.message());
    }
    if (o.state != nb::LoadOutcome::State::kMeasured) {
      std::cerr << "newsgrid-loadgen: " << specs[i].workload << ": "
                << (o.state == nb::LoadOutcome::State::kNotMeasured ? "not measured: " : "failed: ")
                << o.reason << "\n";
      continue;
    }
    // A workload made of a fixed set of operations (a fill) runs exactly once;
    // the probe was its first operation.
    if (const int64_t natural = workloads[i]->NaturalCount(); natural > 0 && o.spec.count == 0) {
      o.spec.count = std::max<int64_t>(1, natural - 1);
      o.spec.warmup = absl::ZeroDuration();
    }
  }

  std::vector<std::unique_ptr<nb::LoadDriver>> drivers(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    if (outcomes[i].state != nb::LoadOutcome::State::kMeasured) continue;
    drivers[i] = std::make_unique<nb::LoadDriver>(outcomes[i].spec, workloads[i].get());
  }
  const bool any_measured = std::any_of(drivers.begin(), drivers.end(), [](const auto& d) { return d != nullptr; });
  if (const std::string started = absl::GetFlag(FLAGS_started_file); !started.empty() && any_measured) {
    if (absl::Status s = nb::WriteFile(started, ""); !s.ok()) {
      std::cerr << "newsgrid-loadgen: " << s.message() << "\n";
      return 1;
    }
  }
  for (auto& d : drivers) {
    if (d) d->Start();
  }
  const absl::Time started = absl::Now();
  for (;;) {
    bool all_finished = true;
    for (auto& d : drivers) all_finished = all_finished && (!d || d->Finished());
    if (all_finished) break;
    absl::SleepFor(absl::Seconds(1));
    std::string line = absl::StrFormat("[%4.0fs]", absl::ToDoubleSeconds(absl::Now() - started));
    for (size_t i = 0; i < drivers.size(); ++i) {
      if (!drivers[i]) continue;
      const nb::IntervalSample s = drivers[i]->Tick();
      absl::StrAppend(&line, " ", specs[i].workload, " ", absl::StrFormat("%.0f/s", s.calls_per_second()),
                      s.items > s.calls ? absl::StrFormat(" (%.0f items/s)", s.items_per_second()) : "",
                      " err ", drivers[i]->errors_so_far(), " p99 ",
                      nb::FormatNs(drivers[i]->p99_so_far_ns()), " inflight ", drivers[i]->in_flight(),
                      " |");
    }
    if (progress) {
      std::printf("\r%s\033[K", line.c_str());
      std::fflush(stdout);
    }
  }
  if (progress) std::printf("\n");

  int exit_code = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (drivers[i]) outcomes[i].result = drivers[i]->Finish();
    if (outcomes[i].state == nb::LoadOutcome::State::kFailed) exit_code = 1;
    if (outcomes[i].state == nb::LoadOutcome::State::kNotMeasured && exit_code == 0) exit_code = 3;
  }
  const std::string label = absl::GetFlag(FLAGS_label);
  const std::string markdown = nb::ResultsMarkdown(label, outcomes);
  std::cout << markdown;
  for (const auto& [path, content] :
       {std::pair{absl::GetFlag(FLAGS_json_out), nb::ResultsJson(label, outcomes)},
        std::pair{absl::GetFlag(FLAGS_markdown_out), markdown}}) {
    if (path.empty()) continue;
    if (absl::Status s = nb::WriteFile(path, content); !s.ok()) {
      std::cerr << "newsgrid-loadgen: " << s.message() << "\n";
      exit_code = 1;
    }
  }
  return exit_code;
}
