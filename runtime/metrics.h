// Prometheus metrics: one registry per process, served as text exposition
// on a separate HTTP port at /metrics (prometheus-cpp).
//
// The runtime records per-RPC counts and latency by method and status code,
// database pool use and the process start time; services add their own
// families on the same registry.
//
//   auto& dropped = prometheus::BuildCounter().Name("views_dropped_total")
//                       .Help("...").Register(Metrics::Global().registry()).Add({});
//   dropped.Increment();
#ifndef NEWSGRID_RUNTIME_METRICS_H_
#define NEWSGRID_RUNTIME_METRICS_H_

#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace newsgrid {

class Metrics {
 public:
  static Metrics& Global();
  Metrics();
  ~Metrics();

  prometheus::Registry& registry() { return *registry_; }

  // One finished RPC: `method` is the full path "/pkg.Service/Method",
  // `code` the gRPC status code name ("OK", "NOT_FOUND", ...).
  void ObserveRpc(absl::string_view method, absl::string_view code, double seconds);

  void SetDbPool(int in_use, int idle);

  // Starts the HTTP endpoint; fails when the port cannot be bound.
  absl::Status Serve(const std::string& host, int port);
  void StopServing();

  // The current exposition text, as /metrics serves it.
  std::string Render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& rpc_total_;
  prometheus::Family<prometheus::Histogram>& rpc_seconds_;
  prometheus::Family<prometheus::Gauge>& pool_;
  prometheus::Gauge& pool_in_use_;
  prometheus::Gauge& pool_idle_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Canonical name of a gRPC status code, e.g. 5 -> "NOT_FOUND".
absl::string_view GrpcCodeName(int code);

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_METRICS_H_
