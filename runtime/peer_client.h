// What a client of a peer service reports and how it retries, the same for
// every client: the article service's view forwarder (to trending) and the
// trending service's article catalog (to articles).
//
// PeerReachability keeps the gauge newsgrid_peer_reachable{peer="..."} (1
// while the last call succeeded) and logs once per change, not once per
// call: a warning when calls start failing, an info line when one succeeds
// again. RetryBackoff is the wait between retries of a call that gRPC's own
// retry policy (PeerChannelOptions::idempotent_methods) does not cover, such
// as a client stream: exponential, with full jitter.
//
//   PeerReachability peer("trending-service", "buffering views");
//   RetryBackoff backoff({.initial = absl::Milliseconds(100), .max = absl::Seconds(5)});
//   grpc::Status s = stub->Call(...);
//   if (s.ok()) { peer.Succeeded(); backoff.Reset(); }
//   else { peer.Failed(s); absl::SleepFor(backoff.Next()); }
#ifndef NEWSGRID_RUNTIME_PEER_CLIENT_H_
#define NEWSGRID_RUNTIME_PEER_CLIENT_H_

#include <atomic>
#include <string>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace prometheus {
class Gauge;
}

namespace newsgrid {

class PeerReachability {
 public:
  // `peer`: the gauge's label and the logs' subject ("trending-service");
  // `while_unreachable`: what the client does meanwhile, for the warning.
  // Starts reachable.
  PeerReachability(std::string peer, std::string while_unreachable);

  void Succeeded();
  void Failed(const grpc::Status& status);
  bool reachable() const { return reachable_.load(std::memory_order_relaxed); }

 private:
  const std::string peer_;
  const std::string while_unreachable_;
  prometheus::Gauge& gauge_;
  std::atomic<bool> reachable_{true};
};

struct RetryBackoffOptions {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(5);
};

// Not thread-safe: one per retrying loop.
class RetryBackoff {
 public:
  explicit RetryBackoff(RetryBackoffOptions options);

  // A random wait from 1 ms up to the current bound (full jitter: clients
  // that failed together do not retry together); the bound then doubles, up
  // to `max`.
  absl::Duration Next();
  // After a success: the bound is `initial` again.
  void Reset() { bound_ = options_.initial; }

 private:
  const RetryBackoffOptions options_;
  absl::Duration bound_;
  absl::BitGen jitter_;
};

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_PEER_CLIENT_H_
