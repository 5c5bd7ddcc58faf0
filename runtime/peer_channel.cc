#include "runtime/peer_channel.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "runtime/status_macros.h"

namespace newsgrid {

std::string PeerTarget(const std::string& address) {
  if (absl::StrContains(address, ":///") || absl::StartsWith(address, "unix:") ||
      absl::StartsWith(address, "ipv4:") || absl::StartsWith(address, "ipv6:")) {
    return address;
  }
  return absl::StrCat("dns:///", address);
}

std::string PeerServiceConfigJson(const PeerChannelOptions& options) {
  using nlohmann::ordered_json;
  ordered_json config = {{"loadBalancingConfig", {{{"round_robin", ordered_json::object()}}}}};
  if (!options.idempotent_methods.empty()) {
    ordered_json names = ordered_json::array();
    for (const auto& [service, method] : options.idempotent_methods) {
      names.push_back({{"service", service}, {"method", method}});
    }
    config["methodConfig"] = {{{"name", names},
                               {"retryPolicy",
                                {{"maxAttempts", 3},
                                 {"initialBackoff", "0.05s"},
                                 {"maxBackoff", "1s"},
                                 {"backoffMultiplier", 2},
                                 {"retryableStatusCodes", {"UNAVAILABLE"}}}}}};
  }
  return config.dump();
}

std::shared_ptr<grpc::Channel> MakePeerChannel(const std::string& address,
                                               const PeerChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(PeerServiceConfigJson(options));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_timeout)));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(
      PeerTarget(address),
      options.credentials ? options.credentials : grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakePeerChannelWithTls(
    const std::string& address, const PeerTlsFiles& tls, PeerChannelOptions options) {
  ASSIGN_OR_RETURN(options.credentials, MakePeerCredentials(tls));
  options.tls_server_name = tls.server_name;
  return MakePeerChannel(address, options);
}

}  // namespace newsgrid
