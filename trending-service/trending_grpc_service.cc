#include "trending-service/trending_grpc_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
#include "prometheus/counter.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/rpc.h"
#include "runtime/status.h"

namespace newsgrid::trending {
namespace {

namespace pb = news::trending::v1;

constexpr int kMaxBatchEvents = 1000;
constexpr size_t kMaxBatchIdLength = 100;
constexpr size_t kMaxFilterLength = 200;
constexpr int kMaxRejectionsReported = 100;
constexpr int kMaxSeriesPoints = 1000;

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

absl::Time TimeFromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}
void TimeToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t ns = absl::ToUnixNanos(t);
  out->set_seconds(ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000);
  out->set_nanos(static_cast<int32_t>(ns - out->seconds() * 1000000000));
}
absl::Duration DurationFromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}
void DurationToProto(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int32_t>(ns % 1000000000));
}


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

pb::RejectReason ReasonToProto(RejectReason r) { return static_cast<pb::RejectReason>(r); }

absl::Status BacklogError() {
  return absl::ResourceExhaustedError(
      "views are arriving faster than they can be stored; retry with backoff");
}

// Times a RecordViews stream stopped reading for the storage backlog.
prometheus::Counter& PausedReads() {
  static prometheus::Counter* c = &prometheus::BuildCounter()
                                       .Name("trending_ingest_paused_reads_total")
                                       .Help("RecordViews streams that stopped reading until the "
                                             "unflushed backlog fell below --max_unflushed_views.")
                                       .Register(Metrics::Global().registry())
                                       .Add({});
  return *c;
}

void CountOutcome(const Verdict& v, int64_t n = 1) {
  IngestMetrics& m = IngestMetrics::Get();
  m.outcome[static_cast<int>(v.outcome)]->Increment(static_cast<double>(n));
  if (v.outcome == Outcome::kRejected) m.reason[static_cast<int>(v.reason)]->Increment();
}

absl::StatusOr<int32_t> GranularityFor(const pb::GetArticleStatsRequest& req,
                                        absl::Duration window, FieldViolations& v) {
  const int32_t resolution = ResolutionFor(window);
  int32_t g = window <= absl::Hours(1) ? 1 : kMinutesPerHour;
  if (req.has_granularity()) {
    const absl::Duration d = DurationFromProto(req.granularity());
    if (d <= absl::ZeroDuration() || d % absl::Minutes(resolution) != absl::ZeroDuration()) {
      v.Add("granularity", absl::StrCat("must be a positive multiple of ", resolution,
                                        " minute(s) for this window"));
      return 0;
    }
    g = static_cast<int32_t>(absl::ToInt64Minutes(d));
  }
  if (CeilDiv(absl::ToInt64Minutes(absl::Ceil(window, absl::Minutes(1))), g) > kMaxSeriesPoints) {
    v.Add("granularity", absl::StrCat("gives more than ", kMaxSeriesPoints, " points"));
  }
  return g;
}

}  // namespace

RawView ViewFromProto(const pb::ViewEvent& e, ArticleMetadata& metadata) {
  RawView v;
  v.article_name = e.article();
  if (e.has_view_time()) v.view_time = TimeFromProto(e.view_time());
  v.visitor_id = e.visitor_id();
  v.referrer = e.referrer();
  v.user_agent = e.user_agent();
  v.event_id = e.event_id();
  if (e.has_metadata()) {
    metadata.section = e.metadata().section();
    metadata.tags.assign(e.metadata().tags().begin(), e.metadata().tags().end());
    metadata.authors.assign(e.metadata().authors().begin(), e.metadata().authors().end());
    v.metadata = &metadata;
  }
  return v;
}

absl::StatusOr<TrendingQuery> QueryFromProto(const pb::GetTrendingRequest& req,
                                             absl::Duration retention,
                                             const std::string& prefix) {
  FieldViolations v;
  TrendingQuery q;
  if (req.has_window()) {
    q.window = DurationFromProto(req.window());
    if (q.window < absl::Minutes(1) || q.window > retention) {
      v.Add(prefix + "window", absl::StrCat("must be between 1m and the retention (",
                                            absl::FormatDuration(retention), ")"));
    }
  }
  switch (req.metric()) {
    case pb::METRIC_UNSPECIFIED:
    case pb::VIEWS: q.metric = RankMetric::kViews; break;
    case pb::UNIQUE_VISITORS: q.metric = RankMetric::kUniqueVisitors; break;
    case pb::HOT: q.metric = RankMetric::kHot; break;
    default: v.Add(prefix + "metric", "is not a known metric");
  }
  if (req.limit() == 0) {
    q.limit = 10;
  } else if (req.limit() < 0 || req.limit() > 100) {
    v.Add(prefix + "limit", "must be between 1 and 100");
  } else {
    q.limit = req.limit();
  }
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"section", &req.section()},
                                    {"tag", &req.tag()},
                                    {"author", &req.author()}}) {
    if (value->size() > kMaxFilterLength) {
      v.Add(prefix + name, absl::StrCat("is longer than ", kMaxFilterLength, " characters"));
    }
  }
  q.section = req.section();
  q.tag = req.tag();
  q.author = req.author();
  if (req.exclude_size() > 100) v.Add(prefix + "exclude", "has more than 100 entries");
  for (int i = 0; i < req.exclude_size() && i < 100; ++i) {
    std::optional<absl::string_view> id = ParseArticleName(req.exclude(i));
    if (!id) {
      v.Add(absl::StrCat(prefix, "exclude[", i, "]"), "must be \"articles/{article}\"");
    } else {
      q.exclude.insert(std::string(*id));
    }
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return s;
  return q;
}

void ResultToProto(const TrendingResult& r, RankMetric metric, pb::GetTrendingResponse* out) {
  out->Clear();
  for (const RankedEntry& e : r.entries) {
    pb::TrendingEntry* p = out->add_entries();
    p->set_article(absl::StrCat("articles/", e.article));
    if (e.summary) {
      p->set_hydrated(true);
      pb::ArticleSummary* s = p->mutable_summary();
      s->set_title(e.summary->title);
      s->set_slug(e.summary->slug);
      s->set_section(e.summary->section);
      if (e.summary->publish_time != absl::InfinitePast()) {
        TimeToProto(e.summary->publish_time, s->mutable_publish_time());
      }
    }
    p->set_views(e.views);
    p->set_unique_visitors(e.unique_visitors);
    p->set_score(e.score);
    p->set_rank(e.rank);
    p->set_previous_rank(e.previous_rank);
    p->set_rank_change(e.previous_rank == 0 ? 0 : e.previous_rank - e.rank);
  }
  TimeToProto(r.compute_time, out->mutable_compute_time());
  DurationToProto(r.window, out->mutable_window());
  out->set_metric(metric == RankMetric::kHot              ? pb::HOT
                  : metric == RankMetric::kUniqueVisitors ? pb::UNIQUE_VISITORS
                                                          : pb::VIEWS);
  DurationToProto(r.resolution, out->mutable_resolution());
  out->set_partial(r.partial);
}

TrendingGrpcService::TrendingGrpcService(Deps deps, bool ack_after_flush, int ingest_threads)
    : deps_(deps),
      ack_after_flush_(ack_after_flush),
      ingest_(std::max(1, ingest_threads), size_t{1} << 20, "ingest") {
  IngestMetrics::Get();
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
  if (!req->has_event()) {
    reactor->Finish(ToGrpcStatus(InvalidFieldError("event", "is required")));
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
  // A malformed request is the caller's error (AIP-193); only the counting
  // rules (bots, time, dedup, rate limits) are answered as outcomes.
  if (std::vector<FieldProblem> problems = CheckViewFields(view); !problems.empty()) {
    FieldViolations v;
    for (FieldProblem& p : problems) v.Add("event." + p.field, std::move(p.description));
    reactor->Finish(ToGrpcStatus(v.ToStatus()));
    return reactor;
  }
  const Verdict v = deps_.ingestor.Record(view, &ticket);
  CountOutcome(v);
  resp->set_outcome(v.outcome == Outcome::kAccepted       ? pb::RecordViewResponse::ACCEPTED
                    : v.outcome == Outcome::kDeduplicated ? pb::RecordViewResponse::DEDUPLICATED
                                                          : pb::RecordViewResponse::REJECTED);
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
      : service_(service), resp_(resp), source_(SourceOf(*ctx)) {
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
    // Counted on an ingest thread; the next batch is read after that.
    if (!service_.ingest_.TrySubmit([this] { ProcessAndReadNext(); })) ProcessAndReadNext();
  }
  void OnCancel() override {
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

  void ProcessAndReadNext() {
    if (absl::Status s = Process(); !s.ok()) {
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
    PausedReads().Increment();
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
    FieldViolations v;
    if (req_.events_size() > kMaxBatchEvents) {
      v.Add("events", absl::StrCat("has more than ", kMaxBatchEvents, " events"));
    }
    if (req_.batch_id().size() > kMaxBatchIdLength ||
        req_.batch_id().find('\0') != std::string::npos) {
      v.Add("batch_id", "must be at most 100 characters, without NUL");
    }
    if (absl::Status s = v.ToStatus(); !s.ok()) return s;
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
    FieldViolations v;
    const std::optional<absl::string_view> id = ParseArticleName(req->article());
    if (!id) v.Add("article", "must be \"articles/{article}\"");
    absl::Duration window = absl::Hours(24);
    if (req->has_window()) {
      window = DurationFromProto(req->window());
      if (window < absl::Minutes(1) || window > deps_.store.options().retention) {
        v.Add("window", "must be between 1m and the retention");
        window = absl::Hours(24);
      }
    }
    absl::StatusOr<int32_t> g = GranularityFor(*req, window, v);
    if (absl::Status s = v.ToStatus(); !s.ok()) return s;
    const ArticleSeries series = deps_.store.Series(*id, window, *g);
    resp->set_article(req->article());
    for (const SeriesPoint& p : series.points) {
      pb::StatsPoint* out = resp->add_points();
      TimeToProto(MinuteStart(p.start_min), out->mutable_start_time());
      out->set_views(p.views);
      out->set_unique_visitors(p.unique_visitors);
    }
    resp->set_total_views(series.total_views);
    resp->set_unique_visitors(series.unique_visitors);
    resp->set_hot_score(series.hot_score);
    TimeToProto(series.compute_time, resp->mutable_compute_time());
    DurationToProto(absl::Minutes(series.granularity_min), resp->mutable_granularity());
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
  absl::StatusOr<TrendingQuery> q =
      QueryFromProto(req->query(), deps_.store.options().retention, "query.");
  absl::Duration min_interval = absl::Seconds(1);
  absl::Status status = q.status();
  if (req->has_min_interval()) {
    min_interval = DurationFromProto(req->min_interval());
    if (min_interval < absl::Milliseconds(100)) {
      FieldViolations v;
      if (!q.ok()) {
        for (const auto& f : GetFieldViolations(q.status())) v.Add(f.field, f.description);
      }
      v.Add("min_interval", "must be at least 100ms");
      status = v.ToStatus();
    }
  }
  auto watch = std::make_shared<Watch>(q.ok() ? *q : TrendingQuery{}, min_interval);
  if (!status.ok()) {
    watch->finished = true;
    watch->Finish(ToGrpcStatus(status));
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
