#include "article-service/view_forwarder.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"

namespace newsgrid::article {
namespace {

using news::trending::v1::RecordViewsRequest;
using news::trending::v1::RecordViewsResponse;
using news::trending::v1::ViewEvent;

struct ForwarderMetrics {
  prometheus::Gauge& depth;
  prometheus::Counter& dropped;
  prometheus::Counter& delivered;

  static ForwarderMetrics& Get() {
    static ForwarderMetrics* m = [] {
      auto& r = Metrics::Global().registry();
      return new ForwarderMetrics{
          prometheus::BuildGauge().Name("article_view_buffer_depth")
              .Help("Reader views buffered for the trending service.").Register(r).Add({}),
          prometheus::BuildCounter().Name("article_views_dropped_total")
              .Help("Reader views dropped because the buffer was full.").Register(r).Add({}),
          prometheus::BuildCounter().Name("article_views_delivered_total")
              .Help("Reader views acknowledged by the trending service.").Register(r).Add({}),
      };
    }();
    return *m;
  }
};

std::string RandomId() {
  static thread_local absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

RateLimitedLog& DropLog() {
  static RateLimitedLog* log = new RateLimitedLog(absl::Seconds(10));
  return *log;
}

// 16 lowercase hex digits of `v`.
void AppendHex16(uint64_t v, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[16];
  for (int i = 15; i >= 0; --i, v >>= 4) buf[i] = kDigits[v & 0xf];
  out->append(buf, 16);
}

}  // namespace

ViewForwarder::ViewForwarder(ViewForwarderOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(options),
      stub_(news::trending::v1::TrendingService::NewStub(channel)),
      queue_(options.buffer_size),
      id_prefix_(RandomId().substr(0, 16)) {
  sender_ = std::thread([this] { Run(); });
}

ViewForwarder::~ViewForwarder() { Shutdown(absl::Now()); }

void ViewForwarder::Dropped(uint64_t n) {
  dropped_ += n;
  ForwarderMetrics::Get().dropped.Increment(static_cast<double>(n));
  DropLog().Log(LogLevel::kWarn, "view buffer full; dropping oldest views",
                {{"buffer_size", static_cast<int64_t>(options_.buffer_size)}});
}

void ViewForwarder::RecordReaderView(ArticleViewEvent event) {
  Push(QueuedView{.article = std::move(event.article),
                  .visitor_id = std::move(event.visitor_id),
                  .time_micros = absl::ToUnixMicros(event.time)});
}

ViewForwarder::QueuedView ViewForwarder::FromPage(PageEvent event) {
  return QueuedView{.article_name = std::move(event.article_name),
                    .page_view_id = std::move(event.page_view_id),
                    .visitor_id = std::move(event.visitor_id),
                    .user_agent = std::move(event.user_agent),
                    .time_micros = absl::ToUnixMicros(event.time)};
}

void ViewForwarder::RecordPageView(PageEvent event) { Push(FromPage(std::move(event))); }

void ViewForwarder::RecordEngagement(PageEvent event, absl::Duration engaged) {
  QueuedView ping = FromPage(std::move(event));
  ping.engaged_micros = std::max<int64_t>(0, absl::ToInt64Microseconds(engaged));
  Push(std::move(ping));
}

void ViewForwarder::Push(QueuedView view) {
  if (held_.fetch_add(1, std::memory_order_relaxed) >=
      static_cast<int64_t>(options_.buffer_size)) {
    // Full: the oldest queued view makes room; when every held view awaits a
    // retry, the new one is the one dropped.
    QueuedView oldest;
    if (!queue_.try_dequeue(oldest)) {
      held_.fetch_sub(1, std::memory_order_relaxed);
      Dropped(1);
      return;
    }
    held_.fetch_sub(1, std::memory_order_relaxed);
    Dropped(1);
  }
  queue_.enqueue(std::move(view));
}

bool ViewForwarder::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

absl::Time ViewForwarder::stop_deadline() const {
  absl::MutexLock lock(&mu_);
  return stop_deadline_;
}

void ViewForwarder::UpdateGauges() {
  ForwarderMetrics::Get().depth.Set(static_cast<double>(depth()));
}

void ViewForwarder::TakeEvents(size_t max, std::vector<ViewEvent>& out) {
  while (out.size() < max && !retry_.empty()) {
    out.push_back(std::move(retry_.front()));
    retry_.pop_front();
  }
  if (out.size() >= max) return;
  std::vector<QueuedView> views(max - out.size());
  const size_t n = queue_.try_dequeue_bulk(views.begin(), views.size());
  for (size_t i = 0; i < n; ++i) {
    QueuedView& v = views[i];
    ViewEvent& e = out.emplace_back();
    std::string* id = e.mutable_event_id();
    id->reserve(32);
    id->append(id_prefix_);
    AppendHex16(next_id_++, id);
    if (v.article != nullptr) {
      e.set_article(v.article->name());
      e.mutable_metadata()->set_section(v.article->section());
      for (const std::string& tag : v.article->tags()) e.mutable_metadata()->add_tags(tag);
    } else {
      e.set_article(std::move(v.article_name));
    }
    if (!v.user_agent.empty()) e.set_user_agent(std::move(v.user_agent));
    if (!v.page_view_id.empty()) e.set_page_view_id(std::move(v.page_view_id));
    if (v.engaged_micros >= 0) {
      e.set_kind(news::trending::v1::ENGAGEMENT);
      *e.mutable_engaged_duration() =
          google::protobuf::util::TimeUtil::MicrosecondsToDuration(v.engaged_micros);
    }
    e.set_visitor_id(std::move(v.visitor_id));
    *e.mutable_view_time() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(v.time_micros);
  }
}

bool ViewForwarder::WaitForEvents(absl::Duration timeout) {
  // The read path never signals (that would cost it a lock or a syscall):
  // the sender looks again every few milliseconds while it waits.
  const absl::Duration step =
      std::clamp(options_.linger / 4, absl::Milliseconds(1), absl::Milliseconds(25));
  const absl::Time until = absl::Now() + timeout;
  for (;;) {
    if (!retry_.empty() || queue_.size_approx() > 0) return true;
    const absl::Time now = absl::Now();
    if (now >= until) return false;
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    auto stop_requested = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop_requested), std::min(step, until - now));
  }
}

void ViewForwarder::Retry(std::vector<ViewEvent>& events) {
  // Older events go back in front, in order.
  for (auto it = events.rbegin(); it != events.rend(); ++it) retry_.push_front(std::move(*it));
  events.clear();
}

grpc::Status ViewForwarder::StreamOnce(std::vector<ViewEvent>& written) {
  grpc::ClientContext ctx;
  const absl::Time deadline =
      std::min(absl::Now() + options_.stream_max_age + absl::Seconds(10), stop_deadline());
  ctx.set_deadline(absl::ToChronoTime(deadline));
  if (options_.token != nullptr) options_.token->Attach(ctx);
  RecordViewsResponse response;
  std::unique_ptr<grpc::ClientWriter<RecordViewsRequest>> writer =
      stub_->RecordViews(&ctx, &response);
  const absl::Time close_at = absl::Now() + options_.stream_max_age;
  const size_t batch_size = static_cast<size_t>(options_.batch_size);
  for (;;) {
    // A full batch, or what arrived within the linger time, the stream's
    // age or until a stop.
    std::vector<ViewEvent> events;
    TakeEvents(batch_size, events);
    const absl::Time linger_end = std::min(close_at, absl::Now() + options_.linger);
    while (events.size() < batch_size && !stopping() && absl::Now() < linger_end) {
      if (WaitForEvents(linger_end - absl::Now())) TakeEvents(batch_size, events);
    }
    bool ok = true;
    if (!events.empty()) {
      RecordViewsRequest batch;
      batch.set_batch_id(RandomId());
      batch.mutable_events()->Reserve(static_cast<int>(events.size()));
      for (ViewEvent& e : events) *batch.add_events() = std::move(e);
      ok = writer->Write(batch);
      for (auto& e : *batch.mutable_events()) written.push_back(std::move(e));
    }
    UpdateGauges();
    const absl::Time now = absl::Now();
    const bool drained = retry_.empty() && queue_.size_approx() == 0;
    if (!ok || now >= close_at || (stopping() && drained) || now >= stop_deadline()) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

void ViewForwarder::Run() {
  RetryBackoff backoff({.initial = options_.initial_backoff, .max = options_.max_backoff});
  for (;;) {
    while (!WaitForEvents(absl::Seconds(1))) {
      if (stopping()) break;
    }
    if ((retry_.empty() && queue_.size_approx() == 0) || absl::Now() >= stop_deadline()) return;
    std::vector<ViewEvent> written;
    const grpc::Status status = StreamOnce(written);
    if (status.ok()) {
      // Reachable before counted: whoever sees the views delivered also
      // sees the peer up.
      peer_.Succeeded();
      held_.fetch_sub(static_cast<int64_t>(written.size()), std::memory_order_relaxed);
      delivered_ += written.size();
      ForwarderMetrics::Get().delivered.Increment(static_cast<double>(written.size()));
      backoff.Reset();
      UpdateGauges();
      continue;
    }
    Retry(written);
    peer_.Failed(status);
    UpdateGauges();
    const absl::Duration sleep = backoff.Next();
    absl::MutexLock lock(&mu_);
    const absl::Time wake = std::min(absl::Now() + sleep, stop_deadline_);
    // Wakes early when a shutdown starts, so the flush is not delayed.
    const bool was_stopping = stopping_;
    auto stop_changed = [this, was_stopping]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ != was_stopping;
    };
    mu_.AwaitWithDeadline(absl::Condition(&stop_changed), wake);
  }
}

size_t ViewForwarder::Shutdown(absl::Time deadline) {
  bool first = false;
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      stopping_ = true;
      stop_deadline_ = deadline;
      first = true;
    }
  }
  if (sender_.joinable()) sender_.join();
  const size_t left = depth();
  if (first && left > 0) {
    NG_LOG_WARN("views not delivered before the drain deadline",
                {{"count", static_cast<int64_t>(left)}});
  }
  return left;
}

}  // namespace newsgrid::article
