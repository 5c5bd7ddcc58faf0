// Sends reader views to the trending service without ever slowing a read.
//
// Enqueue() appends to a bounded in-memory buffer and returns at once. A
// sender thread drains the buffer in batches (up to `batch_size` events, or
// whatever arrived within `linger`) over a RecordViews client stream that it
// keeps open for up to `stream_max_age`; the stream's final response
// acknowledges every batch written on it. When the trending service is slow
// or down the events stay buffered and the stream is retried with
// exponential backoff and jitter; a full buffer drops its oldest events
// (counted in /metrics, logged at most once per 10 s). Every event carries
// a unique event_id and every batch a batch_id, so a batch resent after a
// failed stream is not counted twice by the trending service.
//
//   ViewForwarder forwarder(options, MakePeerChannel(address, {}));
//   forwarder.Enqueue(event);                 // from the read path
//   forwarder.Shutdown(absl::Now() + drain);  // flush what is buffered
#ifndef NEWSGRID_ARTICLE_SERVICE_VIEW_FORWARDER_H_
#define NEWSGRID_ARTICLE_SERVICE_VIEW_FORWARDER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "news/trending/v1/trending_service.grpc.pb.h"

namespace newsgrid::article {

struct ViewForwarderOptions {
  size_t buffer_size = 100000;
  int batch_size = 500;
  absl::Duration linger = absl::Milliseconds(100);
  absl::Duration stream_max_age = absl::Seconds(2);
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
};

class ViewForwarder {
 public:
  ViewForwarder(ViewForwarderOptions options, std::shared_ptr<grpc::Channel> channel);
  ~ViewForwarder();
  ViewForwarder(const ViewForwarder&) = delete;
  ViewForwarder& operator=(const ViewForwarder&) = delete;

  // Buffers one view (assigning its event_id); never blocks on the network.
  void Enqueue(news::trending::v1::ViewEvent event);

  // Sends what is buffered, trying until `deadline`, then stops the sender.
  // Returns how many events could not be delivered.
  size_t Shutdown(absl::Time deadline);

  size_t depth() const;
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t delivered() const { return delivered_.load(); }
  // False after the last stream to the trending service failed.
  bool peer_reachable() const { return reachable_.load(); }

 private:
  void Run();
  // One stream: writes batches until max age, stop or failure. Returns the
  // events written (to requeue on failure) and the stream's status.
  grpc::Status StreamOnce(std::vector<news::trending::v1::ViewEvent>& written);
  void Requeue(std::vector<news::trending::v1::ViewEvent>& events);
  void UpdateGauges();

  const ViewForwarderOptions options_;
  std::unique_ptr<news::trending::v1::TrendingService::Stub> stub_;
  mutable absl::Mutex mu_;
  std::deque<news::trending::v1::ViewEvent> buffer_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time stop_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<bool> reachable_{true};
  std::thread sender_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_VIEW_FORWARDER_H_
