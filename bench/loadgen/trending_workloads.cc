// Trending-service workloads: view ingest over RecordViews streams (the
// high-volume path), engagement pings over the same streams, a history fill
// for the memory target, and ranking reads (GetTrending, by any metric),
// which a run polls while ingest is going on.
//
// Article names: the first names come from --article_names_file when it
// exists (real articles, so the hot ones are hydrated in rankings); the rest
// up to --ingest_articles are synthetic "articles/bench-<i>".
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/loadgen/workload.h"
#include "bench/loadgen/zipf.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/alarm.h"
#include "news/trending/v1/trending_service.grpc.pb.h"
#include "runtime/status_macros.h"

namespace newsgrid::bench {
namespace {

namespace tv1 = news::trending::v1;
using tv1::TrendingService;

std::vector<std::string> ArticleNames(const WorkloadOptions& o) {
  std::vector<std::string> names;
  if (!o.article_names_file.empty()) {
    std::ifstream in(o.article_names_file);
    for (std::string line; std::getline(in, line) && names.size() < static_cast<size_t>(o.ingest_articles);) {
      if (!line.empty()) names.push_back(line);
    }
  }
  for (int i = static_cast<int>(names.size()); i < o.ingest_articles; ++i) {
    names.push_back(absl::StrCat("articles/bench-", i));
  }
  return names;
}

// Messages of finished streams, kept for the next ones. Refilling a cleared
// message reuses its events and their strings; building new ones spent
// about a third of the generator's CPU in malloc and free, CPU the service
// beside it did not get (bench/README.md, "The load generator's share").
class BatchPool {
 public:
  // `n` empty messages.
  std::vector<tv1::RecordViewsRequest> Take(size_t n) {
    std::vector<tv1::RecordViewsRequest> batches;
    {
      absl::MutexLock lock(&mu_);
      if (!free_.empty()) {
        batches = std::move(free_.back());
        free_.pop_back();
      }
    }
    batches.resize(n);
    for (auto& b : batches) b.Clear();
    return batches;
  }
  void Give(std::vector<tv1::RecordViewsRequest> batches) {
    absl::MutexLock lock(&mu_);
    // As many as streams are in flight; more only after a burst of them.
    if (free_.size() < kMaxKept) free_.push_back(std::move(batches));
  }

 private:
  static constexpr size_t kMaxKept = 4096;
  absl::Mutex mu_;
  std::vector<std::vector<tv1::RecordViewsRequest>> free_ ABSL_GUARDED_BY(mu_);
};

// One RecordViews stream: writes its batches, closes, reads the counts;
// its messages go back to `pool` (when given) once the call is done.
class IngestStream : public grpc::ClientWriteReactor<tv1::RecordViewsRequest> {
 public:
  using Finished = std::function<void(const grpc::Status&, const tv1::RecordViewsResponse&, int64_t events)>;
  IngestStream(TrendingService::Stub* stub, const CallSlot& slot,
               std::vector<tv1::RecordViewsRequest> batches, BatchPool* pool, Finished finished)
      : batches_(std::move(batches)), pool_(pool), finished_(std::move(finished)) {
    for (const auto& b : batches_) events_ += b.events_size();
    ctx_.set_deadline(absl::ToChronoTime(absl::Now() + slot.deadline));
    stub->async()->RecordViews(&ctx_, &response_, this);
    StartWrite(&batches_[0]);
    StartCall();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return;  // the stream broke; OnDone reports the status
    if (++next_ < batches_.size()) {
      StartWrite(&batches_[next_]);
    } else {
      StartWritesDone();
    }
  }
  void OnDone(const grpc::Status& status) override {
    // Back first: `finished_` may start the next stream, which takes them.
    if (pool_ != nullptr) pool_->Give(std::move(batches_));
    finished_(status, response_, events_);
    delete this;
  }

 private:
  grpc::ClientContext ctx_;
  std::vector<tv1::RecordViewsRequest> batches_;
  BatchPool* const pool_;
  Finished finished_;
  tv1::RecordViewsResponse response_;
  size_t next_ = 0;
  int64_t events_ = 0;
};

class TrendingWorkload : public Workload {
 public:
  explicit TrendingWorkload(const WorkloadOptions& o) : options_(o) {}
  absl::Status Connect() {
    ASSIGN_OR_RETURN(auto channels, MakeChannels(options_.trending_addr, options_.channels));
    for (auto& ch : channels) stubs_.push_back(TrendingService::NewStub(ch));
    return absl::OkStatus();
  }
  std::map<std::string, int64_t> Counters() const override {
    absl::MutexLock lock(&mu_);
    return counters_;
  }

 protected:
  // What an ingest operation reports as its items.
  enum class Items { kEvents, kAccepted };

  // Sends `batches` on one stream; `done` gets the events sent (or those
  // the service accepted) as items. Outcomes add up in the counters, with
  // rejections by reason ("rejected_TOO_FREQUENT").
  void SendStream(const CallSlot& slot, std::vector<tv1::RecordViewsRequest> batches, DoneFn done,
                  Items items = Items::kEvents) {
    new IngestStream(stubs_[slot.channel].get(), slot, std::move(batches), &batch_pool_,
                     [this, done = std::move(done), items](const grpc::Status& status,
                                                           const tv1::RecordViewsResponse& r, int64_t events) {
                       if (status.ok()) CountOutcomes(r);
                       const int64_t n = items == Items::kEvents ? events : r.accepted();
                       done(0, status, status.ok() ? n : 0);
                     });
  }
  void CountOutcomes(const tv1::RecordViewsResponse& r, const std::string& prefix = "events") {
    absl::MutexLock lock(&mu_);
    counters_[prefix + "_accepted"] += r.accepted();
    counters_[prefix + "_deduplicated"] += r.deduplicated();
    counters_[prefix + "_rejected"] += r.rejected();
    for (const auto& [reason, n] : r.rejected_by_reason()) counters_[absl::StrCat(prefix, "_rejected_", reason)] += n;
  }
  tv1::ViewEvent* AddEvent(tv1::RecordViewsRequest& batch, const std::string& article, absl::Time view_time) {
    auto& rng = ThreadRng();
    tv1::ViewEvent* e = batch.add_events();
    e->set_article(article);
    e->set_visitor_id(absl::StrCat("v", rng() % options_.visitors));
    e->set_referrer(rng() % 3 == 0 ? "search" : "home");
    if (view_time != absl::InfinitePast()) {
      *e->mutable_view_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(view_time));
    }
    return e;
  }

  const WorkloadOptions options_;
  BatchPool batch_pool_;  // SendStream's messages, for the next Take
  std::vector<std::unique_ptr<TrendingService::Stub>> stubs_;
  mutable absl::Mutex mu_;
  std::map<std::string, int64_t> counters_ ABSL_GUARDED_BY(mu_);
};

// Live traffic: Zipf-popular articles, random visitors (so dedup and unique
// counting work for real), server receive time.
class IngestWorkload : public TrendingWorkload {
 public:
  explicit IngestWorkload(const WorkloadOptions& o)
      : TrendingWorkload(o), names_(ArticleNames(o)), zipf_(names_.size(), o.zipf_s) {}
  std::vector<std::string> Methods() const override { return {"TrendingService/RecordViews"}; }
  void Issue(const CallSlot& slot, DoneFn done) override {
    std::vector<tv1::RecordViewsRequest> batches = batch_pool_.Take(options_.batches_per_stream);
    for (auto& b : batches) {
      for (int i = 0; i < options_.batch_size; ++i) AddEvent(b, names_[zipf_(ThreadRng())], absl::InfinitePast());
    }
    SendStream(slot, std::move(batches), std::move(done));
  }

 private:
  const std::vector<std::string> names_;
  const ZipfDistribution zipf_;
};

// Engagement pings of open pages. A pool of --page_views page views (a
// Zipf-popular article and a visitor each) is registered in Setup by a VIEW
// carrying its page_view_id; an operation is then one RecordViews stream of
// ENGAGEMENT pings, each naming the next page view of the pool in turn with
// 0-24 s of engaged time (over 20 s counts as 20). The service takes one
// ping per page view per 10 s, so a page view is pinged again only
// --ping_interval (11 s: the rule plus a second for delivery) after its
// previous ping: when the pool runs short, a stream waits until its page
// views are due (counted in pool_waits) instead of sending pings the rules
// reject. The rate is then bounded by page_views / ping_interval, which
// the counters show; a rejected ping is a finding, never part of the load.
// Items are the pings the service accepted.
class PingIngestWorkload : public TrendingWorkload {
 public:
  explicit PingIngestWorkload(const WorkloadOptions& o)
      : TrendingWorkload(o), names_(ArticleNames(o)), zipf_(names_.size(), o.zipf_s),
        pool_(o.page_views), due_ns_(new std::atomic<int64_t>[o.page_views]),
        per_stream_(static_cast<int64_t>(o.batch_size) * o.batches_per_stream),
        run_(absl::StrCat(absl::Hex(std::random_device{}() & 0xffffffu))) {}
  std::vector<std::string> Methods() const override { return {"TrendingService/RecordViews"}; }

  absl::Status Setup() override {
    if (pool_.size() < static_cast<size_t>(4 * per_stream_)) {
      // A stream must never meet its own page views again.
      return absl::InvalidArgumentError(absl::StrCat("--page_views must be at least ", 4 * per_stream_,
                                                     " (4 streams of pings)"));
    }
    RETURN_IF_ERROR(CheckPingsAreCounted());
    std::mt19937_64 rng(std::random_device{}());
    for (size_t i = 0; i < pool_.size(); ++i) {
      pool_[i] = {static_cast<uint32_t>(zipf_(rng)), rng() % static_cast<uint64_t>(options_.visitors)};
      due_ns_[i].store(0, std::memory_order_relaxed);
    }
    const int64_t streams = (static_cast<int64_t>(pool_.size()) + per_stream_ - 1) / per_stream_;
    RETURN_IF_ERROR(ParallelFor(streams, options_.setup_concurrency, [&](int64_t s) -> absl::Status {
      std::vector<tv1::RecordViewsRequest> batches(1);
      for (int64_t i = s * per_stream_; i < std::min<int64_t>((s + 1) * per_stream_, pool_.size()); ++i) {
        if (batches.back().events_size() >= options_.batch_size) batches.emplace_back();
        tv1::ViewEvent* e = AddEvent(batches.back(), names_[pool_[i].article], absl::InfinitePast());
        e->set_visitor_id(absl::StrCat("v", pool_[i].visitor));
        e->set_page_view_id(PageViewId(i));
      }
      ASSIGN_OR_RETURN(tv1::RecordViewsResponse r, SendBlocking(s, batches));
      CountOutcomes(r, "page_views");
      if (r.rejected() > 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "registering page views: ", r.rejected(), " VIEWs rejected (",
            absl::StrJoin(r.rejected_by_reason(), ", ", absl::PairFormatter(" ")), ")"));
      }
      return absl::OkStatus();
    }));
    absl::MutexLock lock(&mu_);
    counters_["page_views"] = static_cast<int64_t>(pool_.size());
    return absl::OkStatus();
  }

  void Issue(const CallSlot& slot, DoneFn done) override {
    // The stream's page views are claimed now, at the time the stream will
    // send them: the next lap plans from it even while this one waits.
    const int64_t first = cursor_.fetch_add(per_stream_);
    const int64_t interval_ns = absl::ToInt64Nanoseconds(options_.ping_interval);
    const int64_t now_ns = absl::GetCurrentTimeNanos();
    int64_t send_ns = now_ns;
    for (int64_t c = first; c < first + per_stream_; ++c) {
      send_ns = std::max(send_ns, due_ns_[c % pool_.size()].load(std::memory_order_relaxed));
    }
    for (int64_t c = first; c < first + per_stream_; ++c) {
      due_ns_[c % pool_.size()].store(send_ns + interval_ns, std::memory_order_relaxed);
    }
    if (send_ns <= now_ns) {
      Send(slot, first, std::move(done));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      counters_["pool_waits"] += 1;
      counters_["pool_wait_ms"] += (send_ns - now_ns) / 1'000'000;
    }
    auto* alarm = new grpc::Alarm;
    alarm->Set(absl::ToChronoTime(absl::FromUnixNanos(send_ns)),
               [this, alarm, slot, first, done = std::move(done)](bool) mutable {
                 delete alarm;
                 Send(slot, first, std::move(done));
               });
  }

 private:
  struct PageView {
    uint32_t article;  // index into names_
    uint64_t visitor;
  };

  std::string PageViewId(int64_t i) const { return absl::StrCat("pv-", run_, "-", i); }

  void Send(const CallSlot& slot, int64_t first, DoneFn done) {
    std::vector<tv1::RecordViewsRequest> batches = batch_pool_.Take(options_.batches_per_stream);
    auto& rng = ThreadRng();
    int64_t c = first;
    for (auto& b : batches) {
      for (int i = 0; i < options_.batch_size; ++i, ++c) {
        const size_t pv = c % pool_.size();
        tv1::ViewEvent* e = b.add_events();
        e->set_article(names_[pool_[pv].article]);
        e->set_visitor_id(absl::StrCat("v", pool_[pv].visitor));
        e->set_kind(tv1::ENGAGEMENT);
        e->set_page_view_id(PageViewId(pv));
        const int64_t engaged_ms = rng() % 24'001;
        e->mutable_engaged_duration()->set_seconds(engaged_ms / 1000);
        e->mutable_engaged_duration()->set_nanos(static_cast<int32_t>(engaged_ms % 1000) * 1'000'000);
      }
    }
    SendStream(slot, std::move(batches), std::move(done), Items::kAccepted);
  }

  // One stream, waited for (Setup only).
  absl::StatusOr<tv1::RecordViewsResponse> SendBlocking(int64_t channel,
                                                        const std::vector<tv1::RecordViewsRequest>& batches) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
    tv1::RecordViewsResponse r;
    auto writer = stubs_[channel % stubs_.size()]->RecordViews(&ctx, &r);
    for (const auto& b : batches) {
      if (!writer->Write(b)) break;  // Finish says why
    }
    writer->WritesDone();
    RETURN_IF_ERROR(ToAbsl(writer->Finish(), "RecordViews"));
    return r;
  }

  // A service that predates pings counts them as views: a ping of a page
  // view never registered tells the two apart (UNKNOWN_PAGE_VIEW).
  absl::Status CheckPingsAreCounted() {
    std::vector<tv1::RecordViewsRequest> probe(1);
    tv1::ViewEvent* e = probe[0].add_events();
    e->set_article(names_[0]);
    e->set_visitor_id("v0");
    e->set_kind(tv1::ENGAGEMENT);
    e->set_page_view_id(PageViewId(-1));
    e->mutable_engaged_duration()->set_seconds(5);
    ASSIGN_OR_RETURN(tv1::RecordViewsResponse r, SendBlocking(0, probe));
    if (r.rejected_by_reason().contains("UNKNOWN_PAGE_VIEW")) return absl::OkStatus();
    if (r.accepted() > 0 || r.deduplicated() > 0) {
      return absl::UnimplementedError(
          "TrendingService/RecordViews does not apply the ping rules on this build (a ping of a page view "
          "never registered was counted instead of rejected as UNKNOWN_PAGE_VIEW)");
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "a ping of a page view never registered was rejected as ",
        absl::StrJoin(r.rejected_by_reason(), ", ", absl::PairFormatter(" ")), ", not UNKNOWN_PAGE_VIEW"));
  }

  const std::vector<std::string> names_;
  const ZipfDistribution zipf_;
  std::vector<PageView> pool_;
  // Per page view: the earliest time (Unix ns) of its next ping.
  std::unique_ptr<std::atomic<int64_t>[]> due_ns_;
  const int64_t per_stream_;
  const std::string run_;  // keeps page view ids apart across runs on one service
  std::atomic<int64_t> cursor_{0};
};

// History: every article gets --events_per_article views spread over the
// last --history_days (one of them within the last 24 hours), so the
// service holds a full week of buckets for each.
class FillWorkload : public TrendingWorkload {
 public:
  explicit FillWorkload(const WorkloadOptions& o)
      : TrendingWorkload(o), names_(ArticleNames(o)),
        per_op_(std::max(1, o.batch_size * o.batches_per_stream / std::max(1, o.events_per_article))) {}
  std::vector<std::string> Methods() const override { return {"TrendingService/RecordViews"}; }
  int64_t NaturalCount() const override {
    return (static_cast<int64_t>(names_.size()) + per_op_ - 1) / per_op_;
  }
  void Issue(const CallSlot& slot, DoneFn done) override {
    const int64_t first = (next_++ % NaturalCount()) * per_op_;
    const absl::Time now = absl::Now();
    // Stay clear of the retention edge so no event is rejected as too old.
    const absl::Duration span = absl::Hours(24) * options_.history_days - absl::Hours(2);
    std::vector<tv1::RecordViewsRequest> batches(1);
    auto& rng = ThreadRng();
    for (int64_t a = first; a < std::min<int64_t>(first + per_op_, names_.size()); ++a) {
      for (int e = 0; e < options_.events_per_article; ++e) {
        if (batches.back().events_size() >= options_.batch_size) batches.emplace_back();
        const double f = std::uniform_real_distribution<double>(0, 1)(rng);
        const absl::Duration age = e == 0 ? absl::Hours(23) * f : span * f;
        AddEvent(batches.back(), names_[a], now - age);
      }
    }
    SendStream(slot, std::move(batches), std::move(done));
  }

 private:
  const std::vector<std::string> names_;
  const int per_op_;
  std::atomic<int64_t> next_{0};
};

// A home page asking for the top stories (by --trending_metric).
class PollWorkload : public TrendingWorkload {
 public:
  using TrendingWorkload::TrendingWorkload;
  absl::Status Connect() {
    if (!tv1::Metric_Parse(options_.trending_metric, &metric_) || metric_ == tv1::METRIC_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("--trending_metric: no metric '", options_.trending_metric,
                                                     "' (VIEWS, UNIQUE_VISITORS, HOT, ENGAGED_TIME, ...)"));
    }
    return TrendingWorkload::Connect();
  }
  std::vector<std::string> Methods() const override { return {"TrendingService/GetTrending"}; }
  void Issue(const CallSlot& slot, DoneFn done) override {
    tv1::GetTrendingRequest req;
    req.mutable_window()->set_seconds(absl::ToInt64Seconds(options_.trending_window));
    req.set_limit(options_.trending_limit);
    req.set_metric(metric_);
    StartUnary<tv1::GetTrendingRequest, tv1::GetTrendingResponse>(slot, 0, std::move(req), std::move(done),
        [&](auto* c, auto* rq, auto* rs, auto cb) {
          stubs_[slot.channel]->async()->GetTrending(c, rq, rs, std::move(cb));
        });
  }

 private:
  tv1::Metric metric_ = tv1::VIEWS;
};

}  // namespace

void RegisterTrendingWorkloads(std::map<std::string, WorkloadFactory>& registry) {
  registry["view_ingest"] = MakeConnected<IngestWorkload>;
  registry["trending_fill"] = MakeConnected<FillWorkload>;
  registry["trending_poll"] = MakeConnected<PollWorkload>;
  registry["ping_ingest"] = MakeConnected<PingIngestWorkload>;
}

}  // namespace newsgrid::bench
