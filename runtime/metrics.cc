#include "runtime/metrics.h"

#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "prometheus/exposer.h"
#include "prometheus/text_serializer.h"

namespace newsgrid {

Metrics& Metrics::Global() {
  static Metrics* metrics = new Metrics();
  return *metrics;
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      rpc_total_(prometheus::BuildCounter()
                     .Name("grpc_server_handled_total")
                     .Help("RPCs completed on the server, by method and status code.")
                     .Register(*registry_)),
      rpc_seconds_(prometheus::BuildHistogram()
                       .Name("grpc_server_handling_seconds")
                       .Help("Time from receiving an RPC to sending its status, by method and "
                             "status code.")
                       .Register(*registry_)),
      pool_(prometheus::BuildGauge()
                .Name("db_pool_connections")
                .Help("PostgreSQL pool connections by state.")
                .Register(*registry_)),
      pool_in_use_(pool_.Add({{"state", "in_use"}})),
      pool_idle_(pool_.Add({{"state", "idle"}})) {
  prometheus::BuildGauge()
      .Name("process_start_time_seconds")
      .Help("Start time of the process since the Unix epoch in seconds.")
      .Register(*registry_)
      .Add({})
      .Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
}

Metrics::~Metrics() = default;

void Metrics::ObserveRpc(absl::string_view method, absl::string_view code, double seconds) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  const prometheus::Labels labels = {{"grpc_method", std::string(method)},
                                     {"grpc_code", std::string(code)}};
  rpc_total_.Add(labels).Increment();
  rpc_seconds_.Add(labels, kBuckets).Observe(seconds);
}

void Metrics::SetDbPool(int in_use, int idle) {
  pool_in_use_.Set(in_use);
  pool_idle_.Set(idle);
}

absl::Status Metrics::Serve(const std::string& host, int port) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(absl::StrCat(host, ":", port));
    exposer_->RegisterCollectable(registry_);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", host, ":", port, ": ", e.what()));
  }
  return absl::OkStatus();
}

void Metrics::StopServing() { exposer_.reset(); }

std::string Metrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

absl::string_view GrpcCodeName(int code) {
  // gRPC's codes are absl's, number for number; absl names them. Made once,
  // since this runs for every RPC (absl::StatusCodeToString allocates).
  static const std::array<std::string, 17>* const kNames = [] {
    auto* names = new std::array<std::string, 17>;
    for (int c = 0; c < 17; ++c) {
      (*names)[c] = absl::StatusCodeToString(static_cast<absl::StatusCode>(c));
    }
    return names;
  }();
  if (code < 0 || code >= static_cast<int>(kNames->size())) return "UNKNOWN";
  return (*kNames)[code];
}

}  // namespace newsgrid
