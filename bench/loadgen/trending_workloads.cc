// Trending-service workloads: view ingest over RecordViews streams (the
// high-volume path), a history fill for the memory target, and ranking
// reads (GetTrending), which a run polls while ingest is going on.
//
// Article names: the first names come from --article_names_file when it
// exists (real articles, so the hot ones are hydrated in rankings); the rest
// up to --ingest_articles are synthetic "articles/bench-<i>".
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/loadgen/workload.h"
#include "bench/loadgen/zipf.h"
#include "google/protobuf/util/time_util.h"
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

// One RecordViews stream: writes its batches, closes, reads the counts.
class IngestStream : public grpc::ClientWriteReactor<tv1::RecordViewsRequest> {
 public:
  using Finished = std::function<void(const grpc::Status&, const tv1::RecordViewsResponse&, int64_t events)>;
  IngestStream(TrendingService::Stub* stub, const CallSlot& slot,
               std::vector<tv1::RecordViewsRequest> batches, Finished finished)
      : batches_(std::move(batches)), finished_(std::move(finished)) {
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
    finished_(status, response_, events_);
    delete this;
  }

 private:
  grpc::ClientContext ctx_;
  std::vector<tv1::RecordViewsRequest> batches_;
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
  // Sends `batches` on one stream; `done` gets the events as items.
  void SendStream(const CallSlot& slot, std::vector<tv1::RecordViewsRequest> batches, DoneFn done) {
    new IngestStream(stubs_[slot.channel].get(), slot, std::move(batches),
                     [this, done = std::move(done)](const grpc::Status& status,
                                                    const tv1::RecordViewsResponse& r, int64_t events) {
                       if (status.ok()) {
                         absl::MutexLock lock(&mu_);
                         counters_["events_accepted"] += r.accepted();
                         counters_["events_deduplicated"] += r.deduplicated();
                         counters_["events_rejected"] += r.rejected();
                       }
                       done(0, status, status.ok() ? events : 0);
                     });
  }
  void AddEvent(tv1::RecordViewsRequest& batch, const std::string& article, absl::Time view_time) {
    auto& rng = ThreadRng();
    tv1::ViewEvent* e = batch.add_events();
    e->set_article(article);
    e->set_visitor_id(absl::StrCat("v", rng() % options_.visitors));
    e->set_referrer(rng() % 3 == 0 ? "search" : "home");
    if (view_time != absl::InfinitePast()) {
      *e->mutable_view_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(view_time));
    }
  }

  const WorkloadOptions options_;
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
    std::vector<tv1::RecordViewsRequest> batches(options_.batches_per_stream);
    for (auto& b : batches) {
      for (int i = 0; i < options_.batch_size; ++i) AddEvent(b, names_[zipf_(ThreadRng())], absl::InfinitePast());
    }
    SendStream(slot, std::move(batches), std::move(done));
  }

 private:
  const std::vector<std::string> names_;
  const ZipfDistribution zipf_;
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

// A home page asking for the top stories.
class PollWorkload : public TrendingWorkload {
 public:
  using TrendingWorkload::TrendingWorkload;
  std::vector<std::string> Methods() const override { return {"TrendingService/GetTrending"}; }
  void Issue(const CallSlot& slot, DoneFn done) override {
    tv1::GetTrendingRequest req;
    req.mutable_window()->set_seconds(absl::ToInt64Seconds(options_.trending_window));
    req.set_limit(options_.trending_limit);
    req.set_metric(tv1::VIEWS);
    StartUnary<tv1::GetTrendingRequest, tv1::GetTrendingResponse>(slot, 0, std::move(req), std::move(done),
        [&](auto* c, auto* rq, auto* rs, auto cb) {
          stubs_[slot.channel]->async()->GetTrending(c, rq, rs, std::move(cb));
        });
  }
};

}  // namespace

void RegisterTrendingWorkloads(std::map<std::string, WorkloadFactory>& registry) {
  registry["view_ingest"] = MakeConnected<IngestWorkload>;
  registry["trending_fill"] = MakeConnected<FillWorkload>;
  registry["trending_poll"] = MakeConnected<PollWorkload>;
}

}  // namespace newsgrid::bench
