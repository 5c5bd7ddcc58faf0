#include "runtime/peer_client.h"

#include <algorithm>
#include <string>

#include "gtest/gtest.h"
#include "runtime/metrics.h"

namespace newsgrid {
namespace {

bool Shows(const std::string& line) {
  return Metrics::Global().Render().find(line) != std::string::npos;
}

TEST(PeerReachabilityTest, GaugeFollowsTheLastCall) {
  PeerReachability peer("test-peer", "waiting");
  EXPECT_TRUE(peer.reachable());
  EXPECT_TRUE(Shows("newsgrid_peer_reachable{peer=\"test-peer\"} 1"));

  peer.Failed(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
  EXPECT_FALSE(peer.reachable());
  EXPECT_TRUE(Shows("newsgrid_peer_reachable{peer=\"test-peer\"} 0"));
  peer.Failed(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow"));
  EXPECT_FALSE(peer.reachable());

  peer.Succeeded();
  EXPECT_TRUE(peer.reachable());
  EXPECT_TRUE(Shows("newsgrid_peer_reachable{peer=\"test-peer\"} 1"));
}

TEST(PeerReachabilityTest, PeersHaveTheirOwnSeries) {
  PeerReachability a("peer-a", "waiting");
  PeerReachability b("peer-b", "waiting");
  a.Failed(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
  EXPECT_TRUE(Shows("newsgrid_peer_reachable{peer=\"peer-a\"} 0"));
  EXPECT_TRUE(Shows("newsgrid_peer_reachable{peer=\"peer-b\"} 1"));
  EXPECT_TRUE(b.reachable());
}

TEST(RetryBackoffTest, WaitsGrowToTheMaxWithJitter) {
  RetryBackoff backoff({.initial = absl::Milliseconds(10), .max = absl::Milliseconds(80)});
  const absl::Duration bounds[] = {absl::Milliseconds(10), absl::Milliseconds(20),
                                   absl::Milliseconds(40), absl::Milliseconds(80),
                                   absl::Milliseconds(80)};
  for (absl::Duration bound : bounds) {
    const absl::Duration wait = backoff.Next();
    EXPECT_GE(wait, absl::Milliseconds(1));
    EXPECT_LE(wait, bound);
  }
  backoff.Reset();
  EXPECT_LE(backoff.Next(), absl::Milliseconds(10));
}

TEST(RetryBackoffTest, WaitsAreSpreadOverTheBound) {
  RetryBackoff backoff({.initial = absl::Milliseconds(1000), .max = absl::Milliseconds(1000)});
  absl::Duration lowest = absl::InfiniteDuration(), highest = absl::ZeroDuration();
  for (int i = 0; i < 200; ++i) {
    const absl::Duration wait = backoff.Next();
    lowest = std::min(lowest, wait);
    highest = std::max(highest, wait);
  }
  // 200 uniform draws from 1..1000 ms: both ends are reached with
  // overwhelming probability (a failure chance below 1e-40 each).
  EXPECT_LT(lowest, absl::Milliseconds(250));
  EXPECT_GT(highest, absl::Milliseconds(750));
}

}  // namespace
}  // namespace newsgrid
