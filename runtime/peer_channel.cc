#include "runtime/peer_channel.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace newsgrid {

std::string PeerTarget(const std::string& address) {
  if (absl::StrContains(address, ":///") || absl::StartsWith(address, "unix:") ||
      absl::StartsWith(address, "ipv4:") || absl::StartsWith(address, "ipv6:")) {
    return address;
  }
  return absl::StrCat("dns:///", address);
}

std::string PeerServiceConfigJson(const PeerChannelOptions& options) {
  std::vector<std::string> names;
  for (const auto& [service, method] : options.idempotent_methods) {
    names.push_back(absl::StrCat(R"({"service":")", service, R"(","method":")", method, R"("})"));
  }
  std::string config = R"({"loadBalancingConfig":[{"round_robin":{}}])";
  if (!names.empty()) {
    absl::StrAppend(&config, R"(,"methodConfig":[{"name":[)", absl::StrJoin(names, ","),
                    R"(],"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.05s",)",
                    R"("maxBackoff":"1s","backoffMultiplier":2,)",
                    R"("retryableStatusCodes":["UNAVAILABLE"]}}])");
  }
  config += "}";
  return config;
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
  return grpc::CreateCustomChannel(PeerTarget(address), grpc::InsecureChannelCredentials(), args);
}

}  // namespace newsgrid
