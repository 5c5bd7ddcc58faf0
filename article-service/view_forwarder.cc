#include "article-service/view_forwarder.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
  prometheus::Gauge& reachable;

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
          prometheus::BuildGauge().Name("newsgrid_peer_reachable")
              .Help("1 when the last call to the peer service succeeded.")
              .Register(r).Add({{"peer", "trending-service"}}),
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

}  // namespace

ViewForwarder::ViewForwarder(ViewForwarderOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(options), stub_(news::trending::v1::TrendingService::NewStub(channel)) {
  ForwarderMetrics::Get().reachable.Set(1);
  sender_ = std::thread([this] { Run(); });
}

ViewForwarder::~ViewForwarder() { Shutdown(absl::Now()); }

void ViewForwarder::Enqueue(ViewEvent event) {
  if (event.event_id().empty()) event.set_event_id(RandomId());
  bool dropped = false;
  {
    absl::MutexLock lock(&mu_);
    if (buffer_.size() >= options_.buffer_size) {
      buffer_.pop_front();
      dropped = true;
    }
    buffer_.push_back(std::move(event));
  }
  if (dropped) {
    dropped_++;
    ForwarderMetrics::Get().dropped.Increment();
    DropLog().Log(LogLevel::kWarn, "view buffer full; dropping oldest views",
                  {{"buffer_size", static_cast<int64_t>(options_.buffer_size)}});
  }
}

size_t ViewForwarder::depth() const {
  absl::MutexLock lock(&mu_);
  return buffer_.size();
}

void ViewForwarder::UpdateGauges() {
  ForwarderMetrics::Get().depth.Set(static_cast<double>(depth()));
  ForwarderMetrics::Get().reachable.Set(reachable_.load() ? 1 : 0);
}

void ViewForwarder::Requeue(std::vector<ViewEvent>& events) {
  absl::MutexLock lock(&mu_);
  // Older events go back in front, in order; overflow drops the oldest.
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (buffer_.size() >= options_.buffer_size) {
      dropped_++;
      ForwarderMetrics::Get().dropped.Increment();
      continue;
    }
    buffer_.push_front(std::move(*it));
  }
  events.clear();
}

grpc::Status ViewForwarder::StreamOnce(std::vector<ViewEvent>& written) {
  grpc::ClientContext ctx;
  absl::Time deadline = absl::Now() + options_.stream_max_age + absl::Seconds(10);
  {
    absl::MutexLock lock(&mu_);
    deadline = std::min(deadline, stop_deadline_);
  }
  ctx.set_deadline(absl::ToChronoTime(deadline));
  RecordViewsResponse response;
  std::unique_ptr<grpc::ClientWriter<RecordViewsRequest>> writer =
      stub_->RecordViews(&ctx, &response);
  const absl::Time close_at = absl::Now() + options_.stream_max_age;
  for (;;) {
    RecordViewsRequest batch;
    bool done = false;
    {
      absl::MutexLock lock(&mu_);
      // Wait for a full batch, the linger time, the stream's age or a stop.
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || buffer_.size() >= static_cast<size_t>(options_.batch_size);
      };
      mu_.AwaitWithDeadline(absl::Condition(&ready),
                            std::min(close_at, absl::Now() + options_.linger));
      const size_t n = std::min(buffer_.size(), static_cast<size_t>(options_.batch_size));
      for (size_t i = 0; i < n; ++i) {
        *batch.add_events() = std::move(buffer_.front());
        buffer_.pop_front();
      }
      done = absl::Now() >= close_at || (stopping_ && buffer_.empty()) ||
             absl::Now() >= stop_deadline_;
    }
    if (batch.events_size() > 0) {
      batch.set_batch_id(RandomId());
      const bool ok = writer->Write(batch);
      for (auto& e : *batch.mutable_events()) written.push_back(std::move(e));
      if (!ok) break;
    }
    UpdateGauges();
    if (done) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

void ViewForwarder::Run() {
  absl::BitGen jitter;
  absl::Duration backoff = options_.initial_backoff;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !buffer_.empty();
      };
      mu_.Await(absl::Condition(&has_work));
      if (buffer_.empty() || absl::Now() >= stop_deadline_) return;
    }
    std::vector<ViewEvent> written;
    const grpc::Status status = StreamOnce(written);
    if (status.ok()) {
      delivered_ += written.size();
      ForwarderMetrics::Get().delivered.Increment(static_cast<double>(written.size()));
      if (!reachable_.exchange(true)) NG_LOG_INFO("trending service reachable again");
      backoff = options_.initial_backoff;
      UpdateGauges();
      continue;
    }
    const size_t failed = written.size();
    Requeue(written);
    if (reachable_.exchange(false)) {
      NG_LOG_WARN("cannot deliver views to the trending service; buffering",
                  {{"code", static_cast<int>(status.error_code())},
                   {"error", status.error_message()},
                   {"requeued", static_cast<int64_t>(failed)}});
    }
    UpdateGauges();
    // Full jitter: sleep a random time up to the current backoff.
    const absl::Duration sleep =
        absl::Milliseconds(absl::Uniform<int64_t>(jitter, 1, absl::ToInt64Milliseconds(backoff) + 1));
    backoff = std::min(backoff * 2, options_.max_backoff);
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
