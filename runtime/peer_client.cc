#include "runtime/peer_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "prometheus/gauge.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"

namespace newsgrid {
namespace {

prometheus::Gauge& ReachableGauge(const std::string& peer) {
  static prometheus::Family<prometheus::Gauge>* family =
      &prometheus::BuildGauge()
           .Name("newsgrid_peer_reachable")
           .Help("1 when the last call to the peer service succeeded.")
           .Register(Metrics::Global().registry());
  return family->Add({{"peer", peer}});
}

}  // namespace

PeerReachability::PeerReachability(std::string peer, std::string while_unreachable)
    : peer_(std::move(peer)),
      while_unreachable_(std::move(while_unreachable)),
      gauge_(ReachableGauge(peer_)) {
  gauge_.Set(1);
}

void PeerReachability::Succeeded() {
  gauge_.Set(1);
  if (!reachable_.exchange(true)) NG_LOG_INFO(absl::StrCat(peer_, " reachable again"));
}

void PeerReachability::Failed(const grpc::Status& status) {
  gauge_.Set(0);
  if (reachable_.exchange(false)) {
    NG_LOG_WARN(absl::StrCat(peer_, " unreachable; ", while_unreachable_),
                {{"code", static_cast<int>(status.error_code())},
                 {"error", status.error_message()}});
  }
}

RetryBackoff::RetryBackoff(RetryBackoffOptions options)
    : options_(options), bound_(options.initial) {}

absl::Duration RetryBackoff::Next() {
  const absl::Duration wait = absl::Milliseconds(
      absl::Uniform<int64_t>(jitter_, 1, absl::ToInt64Milliseconds(bound_) + 1));
  bound_ = std::min(bound_ * 2, options_.max);
  return wait;
}

}  // namespace newsgrid
