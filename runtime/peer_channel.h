// gRPC channels between our services, configured once for both.
//
// - Address "host:port" becomes "dns:///host:port": with a Kubernetes
//   headless Service the resolver returns every pod and round_robin spreads
//   calls over them (re-resolving as pods come and go).
// - Retries for the methods named idempotent, through the service config
//   (UNAVAILABLE only, 3 attempts, exponential backoff).
// - Keepalive pings every 30 s (also without calls) so dead peers are noticed;
//   ServerRuntime allows pings every 10 s, so this never earns a
//   `too_many_pings` GOAWAY.
//
//   auto channel = MakePeerChannel("trending:50052",
//       {.idempotent_methods = {{"news.trending.v1.TrendingService", "GetTrending"}}});
#ifndef NEWSGRID_RUNTIME_PEER_CHANNEL_H_
#define NEWSGRID_RUNTIME_PEER_CHANNEL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "runtime/tls.h"

namespace newsgrid {

struct PeerChannelOptions {
  // (full service name, method name) pairs safe to retry.
  std::vector<std::pair<std::string, std::string>> idempotent_methods;
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // TLS/mTLS to the peer (runtime/tls.h MakePeerCredentials); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Name to verify in the peer's certificate, when not the address host.
  std::string tls_server_name;
};

// The client side: a service config JSON for `options`.
std::string PeerServiceConfigJson(const PeerChannelOptions& options);

// "host:port" -> "dns:///host:port"; addresses with a scheme are kept.
std::string PeerTarget(const std::string& address);

std::shared_ptr<grpc::Channel> MakePeerChannel(const std::string& address,
                                               const PeerChannelOptions& options);

// MakePeerChannel with TLS/mTLS from `tls` (ServerConfig::peer_tls; no CA:
// plaintext); errors name the flag of the bad file.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakePeerChannelWithTls(
    const std::string& address, const PeerTlsFiles& tls, PeerChannelOptions options);

// The server side of the keepalive agreement (used by ServerRuntime).
inline constexpr int kServerMinPingIntervalMs = 10000;

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_PEER_CHANNEL_H_
