// Baseline workloads: the bare echo server, and the services' health check
// (the shared server runtime's unary path with no domain logic).
#include "absl/strings/str_cat.h"
#include "bench/loadgen/workload.h"
#include "echo.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "runtime/status_macros.h"

namespace newsgrid::bench {
namespace {

using newsgrid::bench::v1::EchoRequest;
using newsgrid::bench::v1::EchoResponse;
using newsgrid::bench::v1::EchoService;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class EchoWorkload : public Workload {
 public:
  static absl::StatusOr<std::unique_ptr<Workload>> Make(const WorkloadOptions& o) {
    ASSIGN_OR_RETURN(auto channels, MakeChannels(o.echo_addr, o.channels));
    auto w = std::make_unique<EchoWorkload>();
    for (auto& ch : channels) w->stubs_.push_back(EchoService::NewStub(ch));
    w->payload_ = std::string(static_cast<size_t>(o.echo_payload), 'x');
    w->response_bytes_ = o.echo_response_bytes;
    return w;
  }
  std::vector<std::string> Methods() const override { return {"EchoService/Echo"}; }
  void Issue(const CallSlot& slot, DoneFn done) override {
    EchoRequest req;
    req.set_payload(payload_);
    req.set_response_bytes(response_bytes_);
    StartUnary<EchoRequest, EchoResponse>(slot, 0, std::move(req), std::move(done),
        [&](auto* ctx, auto* rq, auto* rs, auto cb) {
          stubs_[slot.channel]->async()->Echo(ctx, rq, rs, std::move(cb));
        });
  }

 private:
  std::vector<std::unique_ptr<EchoService::Stub>> stubs_;
  std::string payload_;
  int response_bytes_ = 0;
};

class HealthWorkload : public Workload {
 public:
  static absl::StatusOr<std::unique_ptr<Workload>> Make(const WorkloadOptions& o) {
    ASSIGN_OR_RETURN(auto channels,
                     MakeChannels(o.health_addr.empty() ? o.article_addr : o.health_addr, o.channels));
    auto w = std::make_unique<HealthWorkload>();
    for (auto& ch : channels) w->stubs_.push_back(Health::NewStub(ch));
    return w;
  }
  std::vector<std::string> Methods() const override { return {"Health/Check"}; }
  void Issue(const CallSlot& slot, DoneFn done) override {
    StartUnary<HealthCheckRequest, HealthCheckResponse>(slot, 0, HealthCheckRequest(), std::move(done),
        [&](auto* ctx, auto* rq, auto* rs, auto cb) {
          stubs_[slot.channel]->async()->Check(ctx, rq, rs, std::move(cb));
        });
  }

 private:
  std::vector<std::unique_ptr<Health::Stub>> stubs_;
};

}  // namespace

void RegisterEchoWorkloads(std::map<std::string, WorkloadFactory>& registry) {
  registry["echo"] = EchoWorkload::Make;
  registry["health"] = HealthWorkload::Make;
}

}  // namespace newsgrid::bench
