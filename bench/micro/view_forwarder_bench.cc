// The read path's only cost for trending: ViewForwarder::Enqueue (buffer an
// event, never block). Measured with the peer unreachable, the buffer full
// and dropping its oldest: the worst case for a read.
#include "article-service/view_forwarder.h"
#include "benchmark/benchmark.h"
#include "grpcpp/grpcpp.h"
#include "runtime/logging.h"

namespace newsgrid::article {
namespace {

void BM_ViewForwarderEnqueue(benchmark::State& state) {
  SetMinLogLevel(LogLevel::kError);  // the unreachable peer is intended
  ViewForwarderOptions options;
  options.buffer_size = 10000;
  options.initial_backoff = absl::Seconds(10);  // keep the sender idle
  ViewForwarder forwarder(options, grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
  news::trending::v1::ViewEvent event;
  event.set_article("articles/123456");
  event.set_visitor_id("visitor-0123456789");
  for (auto _ : state) forwarder.Enqueue(event);
  state.SetItemsProcessed(state.iterations());
  forwarder.Shutdown(absl::Now());
}
BENCHMARK(BM_ViewForwarderEnqueue);

}  // namespace
}  // namespace newsgrid::article
