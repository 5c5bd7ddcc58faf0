// The interface between the load driver and a workload, and helpers that keep
// each workload to a few dozen lines.
//
// A workload knows which RPCs make up one operation of a traffic pattern
// (an article read, a batch of views, an editor's save); the driver decides
// when operations start (open or closed loop), times them and keeps the
// statistics. A workload:
//   - names its methods (indexes into that list identify them in `done`),
//   - prepares its data once in Setup (blocking calls are fine there),
//   - starts one operation per Issue call without blocking, and calls `done`
//     exactly once when it finishes, from any thread.
//
//   class EchoWorkload : public Workload {
//     std::vector<std::string> Methods() const override { return {"Echo/Echo"}; }
//     void Issue(const CallSlot& slot, DoneFn done) override {
//       StartUnary<EchoRequest, EchoResponse>(slot, 0, MakeRequest(), std::move(done),
//           [&](auto* ctx, auto* req, auto* resp, auto cb) {
//             stubs_[slot.channel]->async()->Echo(ctx, req, resp, std::move(cb));
//           });
//     }
//   };
#ifndef NEWSGRID_BENCH_LOADGEN_WORKLOAD_H_
#define NEWSGRID_BENCH_LOADGEN_WORKLOAD_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace newsgrid::bench {

// Called once per finished operation: which method, its status, and how many
// items it carried (events for ingest batches, 1 otherwise).
using DoneFn = std::function<void(int method, const grpc::Status& status, int64_t items)>;

// Where and how to start one operation.
struct CallSlot {
  int channel = 0;           // index into the workload's channels
  absl::Duration deadline;   // per-call deadline
};

// Per-thread random engine, seeded distinctly per thread.
std::mt19937_64& ThreadRng();

// Settings every workload may read; set from the command line.
struct WorkloadOptions {
  std::string article_addr;
  std::string article_replica_addr;    // a second article-service replica
  std::string trending_addr;
  std::string echo_addr;
  std::string health_addr;
  int channels = 4;
  absl::Duration deadline = absl::Seconds(5);
  int articles = 2000;                 // N published articles the readers read
  double zipf_s = 1.0;                 // popularity skew
  std::string article_names_file;      // reuse the setup's articles across runs
  int setup_concurrency = 16;
  int ingest_articles = 100000;        // distinct articles in view events
  int batch_size = 500;                // events per RecordViews message
  int batches_per_stream = 4;          // messages per RecordViews stream
  int64_t visitors = 1000000;          // distinct visitor ids
  int64_t page_views = 1000000;        // ping_ingest: open page views in the pool
  absl::Duration ping_interval = absl::Seconds(11);  // ping_ingest: least time between a page view's pings
  int history_days = 7;                // trending_fill spreads views over this
  int events_per_article = 8;          // trending_fill views per article
  absl::Duration trending_window = absl::Hours(24);
  int trending_limit = 10;
  std::string trending_metric = "VIEWS";  // trending_poll: a news.trending.v1.Metric name
  int echo_payload = 128;              // request bytes (and answer, unless below)
  int echo_response_bytes = 0;         // > 0: answer bytes
  std::string write_mix = "create:3,update:5,publish:2";
};

class Workload {
 public:
  virtual ~Workload() = default;

  // "Service/Method" names; `done`'s method argument indexes this list.
  virtual std::vector<std::string> Methods() const = 0;

  // Prepares data (e.g. creates and publishes the articles to read). A
  // returned UNIMPLEMENTED status means the target does not support this
  // workload yet: reported as "not measured", not as a failure.
  virtual absl::Status Setup() { return absl::OkStatus(); }

  // Starts one operation; never blocks; calls `done` exactly once.
  virtual void Issue(const CallSlot& slot, DoneFn done) = 0;

  // A fixed number of operations that this workload consists of (e.g. a
  // fill of every article), or 0 for open-ended workloads.
  virtual int64_t NaturalCount() const { return 0; }

  // Extra counters for the results (e.g. events accepted/deduplicated).
  virtual std::map<std::string, int64_t> Counters() const { return {}; }
};

using WorkloadFactory =
    std::function<absl::StatusOr<std::unique_ptr<Workload>>(const WorkloadOptions&)>;

// The registry of workloads by name (echo, health, article_read, ...).
const std::map<std::string, WorkloadFactory>& Workloads();

// `n` channels to `addr`, each its own connection, never shared with another
// load of the run (distinct channel args keep gRPC from sharing one
// subchannel), connected before returning.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> MakeChannels(const std::string& addr,
                                                                       int n);

// Starts one unary call on the callback API. The request, response and
// context live until the call finishes; `on_ok` (optional) inspects the
// response and returns the item count.
template <typename Req, typename Resp, typename StartFn>
void StartUnary(const CallSlot& slot, int method, Req request, DoneFn done, StartFn start,
                std::function<int64_t(const Resp&)> on_ok = nullptr) {
  struct Call {
    grpc::ClientContext ctx;
    Req req;
    Resp resp;
  };
  auto* call = new Call;
  call->req = std::move(request);
  call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + slot.deadline));
  start(&call->ctx, &call->req, &call->resp,
        [call, method, done = std::move(done), on_ok = std::move(on_ok)](grpc::Status status) {
          const int64_t items = status.ok() && on_ok ? on_ok(call->resp) : 1;
          done(method, status, items);
          delete call;
        });
}

// The factory of a workload class with a `W(const WorkloadOptions&)`
// constructor and an `absl::Status Connect()` that opens its channels.
template <typename W>
absl::StatusOr<std::unique_ptr<Workload>> MakeConnected(const WorkloadOptions& options) {
  auto w = std::make_unique<W>(options);
  if (absl::Status s = w->Connect(); !s.ok()) return s;
  return w;
}

// Runs `fn(i)` for i in [0, n) on `threads` threads; the first error wins and
// stops the others.
absl::Status ParallelFor(int64_t n, int threads, const std::function<absl::Status(int64_t)>& fn);

// grpc::Status -> absl::Status with the same code, for Setup ("what: message";
// an UNIMPLEMENTED answer says so in words, as the reason the load is not
// measured).
absl::Status ToAbsl(const grpc::Status& status, const std::string& what);

}  // namespace newsgrid::bench

#endif  // NEWSGRID_BENCH_LOADGEN_WORKLOAD_H_
