// Sends reader views to the trending service without ever slowing a read.
//
// RecordReaderView() appends a compact event (the shared article version, the
// visitor id, the time) to a lock-free queue (moodycamel::ConcurrentQueue,
// Debian's libconcurrentqueue-dev) and returns at once: no lock, no
// protobuf, no id formatting on the read path. A sender thread drains the
// queue in batches (up to `batch_size` events, or whatever arrived within
// `linger`), builds the ViewEvents with their event ids, and writes them to
// a RecordViews client stream that it keeps open for up to
// `stream_max_age`; the stream's final response acknowledges every batch
// written on it. When the trending service is slow or down, events stay
// buffered (those of a failed stream wait for the next one, first, with
// their ids) and the stream is retried with exponential backoff and jitter.
// At most `buffer_size` events are held: beyond it the oldest queued event
// is dropped (the new one if every held event awaits a retry), counted in
// /metrics and logged at most once per 10 s. Every event carries a unique
// event_id and every batch a batch_id, so a batch resent after a failed
// stream is not counted twice by the trending service. Page events
// (reader-web's beacon: a page view and its engagement pings) take the
// same queue, bound and delivery.
//
//   ViewForwarder forwarder(options, MakePeerChannel(address, {}));
//   forwarder.RecordReaderView({.article = version, .visitor_id = "v1", .time = now});
//   PageEvent page{.article_name = "articles/7", .page_view_id = "5f0c…", .visitor_id = "v1",
//                  .user_agent = ua, .time = now};
//   forwarder.RecordPageView(page);
//   forwarder.RecordEngagement(page, absl::Seconds(15));  // a ping, later
//   forwarder.Shutdown(absl::Now() + drain);  // flush what is buffered
#ifndef NEWSGRID_ARTICLE_SERVICE_VIEW_FORWARDER_H_
#define NEWSGRID_ARTICLE_SERVICE_VIEW_FORWARDER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "article-service/view_sink.h"
#include "concurrentqueue/concurrentqueue.h"
#include "news/trending/v1/trending_service.grpc.pb.h"
#include "runtime/auth.h"
#include "runtime/peer_client.h"

namespace newsgrid::article {

struct ViewForwarderOptions {
  size_t buffer_size = 100000;
  int batch_size = 500;
  absl::Duration linger = absl::Milliseconds(100);
  absl::Duration stream_max_age = absl::Seconds(2);
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Token presented to the trending service (scope views:write); may be null.
  PeerToken* token = nullptr;
};

// An event of an article page known by name only (reader-web's beacon).
struct PageEvent {
  std::string article_name;  // "articles/7"
  // The page view's id, chosen by the page; empty: a view without pings
  // (a browser without JavaScript).
  std::string page_view_id;
  std::string visitor_id;
  // The reader's User-Agent, for the trending service's bot rule.
  std::string user_agent;
  absl::Time time;
};

class ViewForwarder final : public ViewSink {
 public:
  ViewForwarder(ViewForwarderOptions options, std::shared_ptr<grpc::Channel> channel);
  ~ViewForwarder();
  ViewForwarder(const ViewForwarder&) = delete;
  ViewForwarder& operator=(const ViewForwarder&) = delete;

  // ViewSink: buffers one view; never blocks, never locks. It is sent as a
  // ViewEvent carrying the article's section and tags (metadata for the
  // trending filters).
  void RecordReaderView(ArticleViewEvent event) override;

  // A page view (a VIEW event naming its page view, so that its pings
  // count). The same queue, bound and delivery as RecordReaderView.
  void RecordPageView(PageEvent event);

  // An engagement ping of the page view `event.page_view_id`: `engaged` is
  // the time the reader was active on the page since its previous ping.
  // Sent as an ENGAGEMENT event; the same queue, bound and delivery.
  void RecordEngagement(PageEvent event, absl::Duration engaged);

  // Sends what is buffered, trying until `deadline`, then stops the sender.
  // Returns how many events could not be delivered.
  size_t Shutdown(absl::Time deadline);

  size_t depth() const { return static_cast<size_t>(std::max<int64_t>(0, held_.load())); }
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t delivered() const { return delivered_.load(); }
  // False after the last stream to the trending service failed.
  bool peer_reachable() const { return peer_.reachable(); }

 private:
  void Run();
  // One stream: writes batches until max age, stop or failure. Returns the
  // events written (to retry on failure) and the stream's status.
  grpc::Status StreamOnce(std::vector<news::trending::v1::ViewEvent>& written);
  // Up to `max` events for the next batch: those awaiting a retry first,
  // then queued ones (given their event ids here).
  void TakeEvents(size_t max, std::vector<news::trending::v1::ViewEvent>& out);
  // Waits up to `timeout` for events or a stop; true when events wait.
  bool WaitForEvents(absl::Duration timeout);
  void Retry(std::vector<news::trending::v1::ViewEvent>& events);
  void Dropped(uint64_t n);
  void UpdateGauges();
  bool stopping() const;
  absl::Time stop_deadline() const;

  struct QueuedView {
    ArticleRef article;        // null for a page event:
    std::string article_name;  // then the article's name
    std::string page_view_id;
    std::string visitor_id;
    std::string user_agent;
    int64_t time_micros = 0;
    // An engagement ping when >= 0: its engaged time; -1 for a view.
    int64_t engaged_micros = -1;
  };
  static QueuedView FromPage(PageEvent event);
  void Push(QueuedView view);

  const ViewForwarderOptions options_;
  std::unique_ptr<news::trending::v1::TrendingService::Stub> stub_;
  moodycamel::ConcurrentQueue<QueuedView> queue_;
  // Events held (queued plus awaiting a retry): the buffer_size bound.
  std::atomic<int64_t> held_{0};
  // Events of failed streams, oldest first; the sender thread's own.
  std::deque<news::trending::v1::ViewEvent> retry_;
  // Event ids: a random per-process prefix and a counter (sender thread).
  const std::string id_prefix_;
  uint64_t next_id_ = 0;
  mutable absl::Mutex mu_;  // stop state only; never taken on the read path
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time stop_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> delivered_{0};
  PeerReachability peer_{"trending-service", "buffering views"};
  std::thread sender_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_VIEW_FORWARDER_H_
