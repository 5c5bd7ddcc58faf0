// The read path's only cost for trending: ViewForwarder::RecordReaderView
// (queue an event, never block, no lock). Measured with the peer
// unreachable, the buffer full and dropping its oldest: the worst case for a
// read; and from two threads at once.
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
  static ViewForwarder* forwarder = nullptr;
  static ArticleRef article;
  if (state.thread_index() == 0) {
    forwarder = new ViewForwarder(
        options, grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
    news::article::v1::Article a;
    a.set_name("articles/123456");
    a.set_section("world");
    a.add_tags("politics");
    article = ArticleVersion::Make(a);
  }
  const std::string visitor = "visitor-0123456789";
  for (auto _ : state) {
    forwarder->RecordReaderView({.article = article, .visitor_id = visitor, .time = absl::Now()});
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    forwarder->Shutdown(absl::Now());
    delete forwarder;
    forwarder = nullptr;
  }
}
BENCHMARK(BM_ViewForwarderEnqueue)->Threads(1)->Threads(2);

}  // namespace
}  // namespace newsgrid::article
