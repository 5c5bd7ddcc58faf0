#include "trending-service/trending_grpc_service.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/rpc.h"
#include "runtime/status.h"
#include "runtime/status_macros.h"
#include "trending-service/trending_queries.h"

namespace newsgrid::trending {
namespace {

namespace pb = news::trending::v1;

constexpr int kMaxRejectionsReported = 100;

// Event counters, created once (label lookups are not free).
struct IngestMetrics {
  prometheus::Counter* outcome[3];
  prometheus::Counter* reason[kRejectReasonCount];
  static IngestMetrics& Get() {
    static IngestMetrics* m = [] {
      auto* out = new IngestMetrics;
      auto& views = prometheus::BuildCounter()
                        .Name("trending_views_total")
                        .Help("View events received, by outcome.")
                        .Register(Metrics::Global().registry());
      out->outcome[0] = &views.Add({{"outcome", "accepted"}});
      out->outcome[1] = &views.Add({{"outcome", "deduplicated"}});
      out->outcome[2] = &views.Add({{"outcome", "rejected"}});
      auto& rejected = prometheus::BuildCounter()
                           .Name("trending_rejected_views_total")
                           .Help("Rejected view events, by reason.")
                           .Register(Metrics::Global().registry());
      for (int r = 0; r < kRejectReasonCount; ++r) {
        out->reason[r] = &rejected.Add(
            {{"reason", std::string(RejectReasonName(static_cast<RejectReason>(r)))}});
      }
      return out;
    }();
    return *m;
  }
};

// The caller's host ("ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7"): the source
// of the per-source rate limit (one client, whatever ports it opens).
std::string SourceOf(const grpc::CallbackServerContext& ctx) {
  std::string peer = ctx.peer();
  const size_t colon = peer.rfind(':');
  if (colon != std::string::npos && colon > peer.find(':')) peer.resize(colon);
  return peer;
}

google::protobuf::ArenaOptions StreamArenaOptions() {
  google::protobuf::ArenaOptions o;
  o.start_block_size = 16 << 10;  // a batch of short events
  o.max_block_size = 64 << 10;
  return o;
}

absl::Status IngestQueueFullError() {
  return absl::ResourceExhaustedError(
      "views are arriving faster than they can be counted; retry with backoff");
}

absl::Status BacklogError() {
  return absl::ResourceExhaustedError(
      "views are arriving faster than they can be stored; retry with backoff");
}

prometheus::Counter& NewCounter(const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(Metrics::Global().registry()).Add({});
}

// What happened to RecordViews streams and batches besides counting.
struct StreamCounters {
  // Times a stream stopped reading for the storage backlog.
  prometheus::Counter& paused_reads =
      NewCounter("trending_ingest_paused_reads_total",
                 "RecordViews streams that stopped reading until the unflushed backlog fell below "
                 "--max_unflushed_views.");
  // Batches refused because the ingest queue was full.
  prometheus::Counter& refused_batches =
      NewCounter("trending_ingest_refused_batches_total",
                 "RecordViews batches refused with RESOURCE_EXHAUSTED: more than --max_queued_views "
                 "views were waiting for the ingest threads.");
  // Batches not counted because their call had ended (deadline passed or
  // cancelled) before an ingest thread reached them.
  prometheus::Counter& expired_batches =
      NewCounter("trending_ingest_expired_batches_total",
                 "RecordViews batches dropped uncounted: their call's deadline had passed (or it "
                 "was cancelled) when an ingest thread reached them.");

  // Per batch: how long it waited for an ingest thread, and how long
  // counting it took there. Queueing, not counting, was most of a slow
  // RecordViews call at half the maximum ingest (trending README).
  prometheus::Family<prometheus::Histogram>& batch_seconds =
      prometheus::BuildHistogram()
          .Name("trending_ingest_batch_seconds")
          .Help("RecordViews batches: time queued for an ingest thread (stage=\"queued\") and "
                "time spent counting on it (stage=\"counting\").")
          .Register(Metrics::Global().registry());
  prometheus::Histogram& queued = AddBatchStage("queued");
  prometheus::Histogram& counting = AddBatchStage("counting");

  static StreamCounters& Get() {
    static StreamCounters* counters = new StreamCounters;
    return *counters;
  }

 private:
  prometheus::Histogram& AddBatchStage(const std::string& stage) {
    // From a batch counted at once (~0.1 ms) to one stuck behind a stall.
    return batch_seconds.Add({{"stage", stage}},
                             prometheus::Histogram::BucketBoundaries{
                                 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1,
                                 0.25, 1});
  }
};

void CountOutcome(const Verdict& v, int64_t n = 1) {
  IngestMetrics& m = IngestMetrics::Get();
  m.outcome[static_cast<int>(v.outcome)]->Increment(static_cast<double>(n));
  if (v.outcome == Outcome::kRejected) m.reason[static_cast<int>(v.reason)]->Increment();
}

}  // namespace

TrendingGrpcService::TrendingGrpcService(Deps deps, bool ack_after_flush, int ingest_threads,
                                         int64_t max_queued_views)
    : deps_(deps),
      ack_after_flush_(ack_after_flush),
      ingest_(std::max(1, ingest_threads), size_t{1} << 20, "ingest"),
      max_queued_views_(max_queued_views) {
  IngestMetrics::Get();
  StreamCounters::Get();
  watcher_ = std::thread([this] {
    NameCurrentThread("watch-push");
    RunWatcher();
  });
}

TrendingGrpcService::~TrendingGrpcService() { EndWatches(); }

grpc::ServerUnaryReactor* TrendingGrpcService::RecordView(grpc::CallbackServerContext* ctx,
                                                          const pb::RecordViewRequest* req,
                                                          pb::RecordViewResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (absl::Status s = deps_.auth.Require(*ctx, kScopeViewsWrite); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  if (absl::Status s = CheckRecordViewRequest(*req); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  if (deps_.sync.Backlogged()) {
    reactor->Finish(ToGrpcStatus(BacklogError()));
    return reactor;
  }
  ArticleMetadata metadata;
  uint64_t ticket = 0;
  const std::string source = SourceOf(*ctx);
  RawView view = ViewFromProto(req->event(), metadata);
  view.source = source;
  if (absl::Status s = CheckViewEvent(view); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  const Verdict v = deps_.ingestor.Record(view, &ticket);
  CountOutcome(v);
  resp->set_outcome(OutcomeToProto(v.outcome));
  if (v.outcome == Outcome::kRejected) resp->set_reason(ReasonToProto(v.reason));
  if (ack_after_flush_ && ticket > 0) {
    deps_.sync.WhenDurable(ticket,
                           [reactor](absl::Status s) { reactor->Finish(ToGrpcStatus(s)); });
  } else {
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

// RecordViews: batches are counted as they arrive, each as one
// Ingestor::RecordBatch; the summary is sent when the client half-closes
// (after the flush with --ack_after_flush). While the unflushed backlog is
// at its bound the next batch is not read until flushes catch up: HTTP/2
// flow control then slows the client down.
class TrendingGrpcService::ViewsReader final
    : public grpc::ServerReadReactor<pb::RecordViewsRequest> {
 public:
  ViewsReader(TrendingGrpcService& service, grpc::CallbackServerContext* ctx,
              pb::RecordViewsResponse* resp)
      : service_(service), resp_(resp), source_(SourceOf(*ctx)), deadline_(ctx->deadline()) {
    pause_->reader = this;
    // Refused before a single message is read.
    if (absl::Status s = service_.deps_.auth.Require(*ctx, kScopeViewsWrite); !s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    StartRead(&req_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Done();
      return;
    }
    // Counted on an ingest thread; the next batch is read after that. The
    // queue is bounded in views: past the bound the batch is refused, so
    // under overload calls fail fast (and the client backs off) instead of
    // every call waiting in the queue until its deadline (measured: offered
    // 900k views/s, 23,369 of 24,960 calls expired in 60 s; trending README).
    const int64_t n = req_.events_size();
    const int64_t queued = service_.queued_views_.fetch_add(n, std::memory_order_relaxed);
    if (queued > 0 && queued + n > service_.max_queued_views_) {
      service_.queued_views_.fetch_sub(n, std::memory_order_relaxed);
      StreamCounters::Get().refused_batches.Increment();
      Finish(ToGrpcStatus(IngestQueueFullError()));
      return;
    }
    auto count = [this, n, queued_at = absl::Now()] { ProcessAndReadNext(n, queued_at); };
    if (!service_.ingest_.TrySubmit(count)) count();
  }
  void OnCancel() override {
    cancelled_.store(true, std::memory_order_relaxed);
    absl::MutexLock lock(&pause_->mu);
    if (pause_->paused) {  // no read outstanding: nothing else finishes it
      pause_->paused = false;
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
  }
  void OnDone() override {
    {
      absl::MutexLock lock(&pause_->mu);
      pause_->reader = nullptr;
    }
    delete this;
  }

 private:
  // What a paused stream shares with the synchronizer's resume callback,
  // which may run after the reactor is gone.
  struct Pause {
    absl::Mutex mu;
    ViewsReader* reader ABSL_GUARDED_BY(mu) = nullptr;
    bool paused ABSL_GUARDED_BY(mu) = false;
  };

  void ProcessAndReadNext(int64_t queued, absl::Time queued_at) {
    const absl::Time started = absl::Now();
    StreamCounters& counters = StreamCounters::Get();
    counters.queued.Observe(absl::ToDoubleSeconds(started - queued_at));
    // A batch whose call has ended (deadline passed, or cancelled) is not
    // counted: its client already has an error and retries it (batch ids
    // make that safe), and counting it would spend the ingest threads on
    // an answer no one reads.
    const bool ended =
        cancelled_.load(std::memory_order_relaxed) || std::chrono::system_clock::now() > deadline_;
    const absl::Status s = ended ? absl::OkStatus() : Process();
    if (!ended) counters.counting.Observe(absl::ToDoubleSeconds(absl::Now() - started));
    // Out of the queue before the next batch is read (and weighed).
    service_.queued_views_.fetch_sub(queued, std::memory_order_relaxed);
    if (ended) {
      counters.expired_batches.Increment();
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the call ended before its batch was counted"));
      return;
    }
    if (!s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    ++batch_index_;
    ReadNext();
  }

  void ReadNext() {
    Synchronizer& sync = service_.deps_.sync;
    if (!sync.Backlogged()) {
      StartRead(&req_);
      return;
    }
    StreamCounters::Get().paused_reads.Increment();
    {
      absl::MutexLock lock(&pause_->mu);
      pause_->paused = true;
    }
    sync.WhenNotBacklogged([pause = pause_] {
      absl::MutexLock lock(&pause->mu);
      if (pause->reader == nullptr || !pause->paused) return;
      pause->paused = false;
      pause->reader->StartRead(&pause->reader->req_);
    });
  }

  absl::Status Process() {
    RETURN_IF_ERROR(CheckViewsBatch(req_));
    Ingestor& ingestor = service_.deps_.ingestor;
    if (!req_.batch_id().empty() && ingestor.BatchSeen(req_.batch_id())) {
      resp_->set_deduplicated(resp_->deduplicated() + req_.events_size());
      CountOutcome({Outcome::kDeduplicated, RejectReason::kNone}, req_.events_size());
      return absl::OkStatus();
    }
    const int n = req_.events_size();
    views_.resize(n);
    verdicts_.resize(n);
    metadata_.resize(n);
    for (int i = 0; i < n; ++i) {
      views_[i] = ViewFromProto(req_.events(i), metadata_[i]);
      views_[i].source = source_;
    }
    ingestor.RecordBatch(absl::MakeConstSpan(views_.data(), n), verdicts_.data(), &ticket_);
    int64_t counts[3] = {0, 0, 0};
    for (int i = 0; i < n; ++i) {
      const Verdict& verdict = verdicts_[i];
      ++counts[static_cast<int>(verdict.outcome)];
      if (verdict.outcome == Outcome::kRejected) {
        IngestMetrics::Get().reason[static_cast<int>(verdict.reason)]->Increment();
        const std::string name(RejectReasonName(verdict.reason));
        (*resp_->mutable_rejected_by_reason())[name] += 1;
        if (resp_->rejections_size() < kMaxRejectionsReported) {
          pb::Rejection* r = resp_->add_rejections();
          r->set_batch_index(batch_index_);
          r->set_event_index(i);
          r->set_reason(ReasonToProto(verdict.reason));
        }
      }
    }
    IngestMetrics& m = IngestMetrics::Get();
    for (int o = 0; o < 3; ++o) {
      if (counts[o] > 0) m.outcome[o]->Increment(static_cast<double>(counts[o]));
    }
    resp_->set_accepted(resp_->accepted() + counts[0]);
    resp_->set_deduplicated(resp_->deduplicated() + counts[1]);
    resp_->set_rejected(resp_->rejected() + counts[2]);
    if (!req_.batch_id().empty()) {
      ticket_ = std::max(ticket_, ingestor.CommitBatch(req_.batch_id()));
    }
    return absl::OkStatus();
  }

  void Done() {
    if (service_.ack_after_flush_ && ticket_ > 0) {
      service_.deps_.sync.WhenDurable(ticket_,
                                      [this](absl::Status s) { Finish(ToGrpcStatus(s)); });
    } else {
      Finish(grpc::Status::OK);
    }
  }

  TrendingGrpcService& service_;
  pb::RecordViewsResponse* resp_;
  const std::string source_;
  const std::chrono::system_clock::time_point deadline_;
  std::atomic<bool> cancelled_{false};
  const std::shared_ptr<Pause> pause_ = std::make_shared<Pause>();
  // The events of every batch live on the stream's arena: parsing reuses
  // them and the stream frees them at once (no malloc/free per string).
  google::protobuf::Arena arena_{StreamArenaOptions()};
  pb::RecordViewsRequest& req_ = *google::protobuf::Arena::CreateMessage<pb::RecordViewsRequest>(&arena_);
  // Per batch, reused across batches.
  std::vector<RawView> views_;
  std::vector<Verdict> verdicts_;
  std::vector<ArticleMetadata> metadata_;
  int32_t batch_index_ = 0;
  uint64_t ticket_ = 0;
};

grpc::ServerReadReactor<pb::RecordViewsRequest>* TrendingGrpcService::RecordViews(
    grpc::CallbackServerContext* ctx, pb::RecordViewsResponse* resp) {
  return new ViewsReader(*this, ctx, resp);
}

grpc::ServerUnaryReactor* TrendingGrpcService::GetTrending(grpc::CallbackServerContext* ctx,
                                                           const pb::GetTrendingRequest* req,
                                                           pb::GetTrendingResponse* resp) {
  // A ranking served from the caches (the usual case) is answered here, on
  // the callback thread: no hop to the worker pool and back, whose wake-ups
  // queue behind ingest on a busy machine. Anything that would compute or
  // wait for the article service goes to the worker pool.
  absl::StatusOr<TrendingQuery> q = QueryFromProto(*req, deps_.store.options().retention);
  if (!q.ok()) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(q.status()));
    return reactor;
  }
  if (std::optional<TrendingResult> r = deps_.rankings.TryGetCached(*q)) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    ResultToProto(*r, q->metric, resp);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  return RunUnary(ctx, deps_.workers, [this, query = *std::move(q), resp]() -> absl::Status {
    ResultToProto(deps_.rankings.Get(query), query.metric, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TrendingGrpcService::GetArticleStats(
    grpc::CallbackServerContext* ctx, const pb::GetArticleStatsRequest* req,
    pb::ArticleStats* resp) {
  return RunUnary(ctx, deps_.workers, [this, req, resp]() -> absl::Status {
    ASSIGN_OR_RETURN(const StatsQuery q,
                     StatsQueryFromProto(*req, deps_.store.options().retention));
    StatsToProto(deps_.store.Series(q.article, q.window, q.granularity_min), req->article(),
                 resp);
    return absl::OkStatus();
  });
}

// One WatchTrending stream. Only the watcher thread (or EndWatches after it
// stopped) calls StartWrite / Finish; gRPC callbacks only set flags.
class TrendingGrpcService::Watch final : public grpc::ServerWriteReactor<pb::GetTrendingResponse> {
 public:
  Watch(TrendingQuery query, absl::Duration min_interval)
      : query(std::move(query)), min_interval(min_interval) {}
  void OnWriteDone(bool ok) override {
    if (!ok) cancelled = true;
    write_in_flight = false;
  }
  void OnCancel() override { cancelled = true; }
  void OnDone() override { done = true; }

  const TrendingQuery query;
  const absl::Duration min_interval;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> write_in_flight{false};
  std::atomic<bool> done{false};
  // Watcher thread only:
  bool finished = false;
  bool sent_any = false;
  absl::Time last_push = absl::InfinitePast();
  absl::Time last_check = absl::InfinitePast();
  std::vector<std::string> last_order;
  pb::GetTrendingResponse message;
};

grpc::ServerWriteReactor<pb::GetTrendingResponse>* TrendingGrpcService::WatchTrending(
    grpc::CallbackServerContext*, const pb::WatchTrendingRequest* req) {
  absl::StatusOr<WatchQuery> q = WatchQueryFromProto(*req, deps_.store.options().retention);
  auto watch = q.ok() ? std::make_shared<Watch>(q->query, q->min_interval)
                      : std::make_shared<Watch>(TrendingQuery{}, absl::Seconds(1));
  if (!q.ok()) {
    watch->finished = true;
    watch->Finish(ToGrpcStatus(q.status()));
  }
  absl::MutexLock lock(&watches_mu_);
  if (watches_ended_ && !watch->finished) {
    watch->finished = true;
    watch->Finish(grpc::Status::OK);
  }
  watches_.push_back(watch);
  return watch.get();
}

void TrendingGrpcService::RunWatcher() {
  constexpr absl::Duration kTick = absl::Milliseconds(50);
  while (!stop_watcher_.WaitForNotificationWithTimeout(kTick)) {
    std::vector<std::shared_ptr<Watch>> watches;
    {
      absl::MutexLock lock(&watches_mu_);
      // Reactors are freed here, after gRPC is done with them.
      watches_.erase(std::remove_if(watches_.begin(), watches_.end(),
                                    [](const auto& w) { return w->done.load(); }),
                     watches_.end());
      watches = watches_;
    }
    const absl::Time now = absl::Now();
    for (const auto& w : watches) {
      if (w->finished || w->write_in_flight) continue;
      if (w->cancelled) {
        w->finished = true;
        w->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
        continue;
      }
      // Coalescing: at most one push per min_interval; checks in between
      // are cheap no-ops.
      if (now < w->last_push + w->min_interval) continue;
      if (now < w->last_check + std::min(w->min_interval, absl::Milliseconds(250))) continue;
      w->last_check = now;
      const TrendingResult r = deps_.rankings.Get(w->query);
      std::vector<std::string> order;
      for (const RankedEntry& e : r.entries) order.push_back(e.article);
      if (w->sent_any && order == w->last_order) continue;
      w->sent_any = true;
      w->last_order = std::move(order);
      w->last_push = now;
      ResultToProto(r, w->query.metric, &w->message);
      w->write_in_flight = true;
      w->StartWrite(&w->message);
    }
  }
}

void TrendingGrpcService::EndWatches() {
  if (!stop_watcher_.HasBeenNotified()) stop_watcher_.Notify();
  if (watcher_.joinable()) watcher_.join();
  std::vector<std::shared_ptr<Watch>> watches;
  {
    absl::MutexLock lock(&watches_mu_);
    watches_ended_ = true;
    watches = watches_;
  }
  // A write in flight completes quickly (or fails); Finish after it.
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  for (bool pending = true; pending && absl::Now() < deadline;) {
    pending = false;
    for (const auto& w : watches) {
      if (w->finished) continue;
      if (w->write_in_flight) {
        pending = true;
        continue;
      }
      w->finished = true;
      w->Finish(grpc::Status::OK);
    }
    if (pending) absl::SleepFor(absl::Milliseconds(5));
  }
}

}  // namespace newsgrid::trending
