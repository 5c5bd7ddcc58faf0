#include "bench/loadgen/workload.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "runtime/status.h"

namespace newsgrid::bench {

void RegisterEchoWorkloads(std::map<std::string, WorkloadFactory>& registry);
void RegisterArticleWorkloads(std::map<std::string, WorkloadFactory>& registry);
void RegisterTrendingWorkloads(std::map<std::string, WorkloadFactory>& registry);

const std::map<std::string, WorkloadFactory>& Workloads() {
  static const auto* registry = [] {
    auto* r = new std::map<std::string, WorkloadFactory>;
    RegisterEchoWorkloads(*r);
    RegisterArticleWorkloads(*r);
    RegisterTrendingWorkloads(*r);
    return r;
  }();
  return *registry;
}

std::mt19937_64& ThreadRng() {
  static std::atomic<uint64_t> next_seed{0x6e6577736772696eULL};
  thread_local std::mt19937_64 rng(next_seed.fetch_add(0x9e3779b97f4a7c15ULL));
  return rng;
}

absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> MakeChannels(const std::string& addr,
                                                                       int n) {
  if (addr.empty()) return absl::InvalidArgumentError("no target address for this workload");
  // Distinct args give distinct connections, also across loads: with the
  // same args, two loads of one run (rankings polled beside ingest) would
  // share TCP connections, and every poll would queue behind the ingest
  // batches in front of it on the wire.
  static std::atomic<int> next_channel{0};
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("newsgrid.loadgen.channel", next_channel++);
    args.SetMaxReceiveMessageSize(64 << 20);
    auto channel = grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      return absl::UnavailableError(absl::StrCat("cannot connect to ", addr));
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

absl::Status ParallelFor(int64_t n, int threads, const std::function<absl::Status(int64_t)>& fn) {
  std::atomic<int64_t> next{0};
  absl::Mutex mu;
  absl::Status first_error;
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) {
    pool.emplace_back([&] {
      for (int64_t i = next++; i < n && !failed; i = next++) {
        absl::Status s = fn(i);
        if (!s.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = s;
          failed = true;
        }
      }
    });
  }
  for (std::thread& t : pool) t.join();
  return first_error;
}

absl::Status ToAbsl(const grpc::Status& status, const std::string& what) {
  const absl::Status s = FromGrpcStatus(status);
  if (s.ok()) return s;
  // The report shows an UNIMPLEMENTED answer as the reason a load was not
  // measured: say it in words.
  const std::string suffix = s.code() == absl::StatusCode::kUnimplemented ? " answers UNIMPLEMENTED on this build" : "";
  if (s.message().empty()) return absl::Status(s.code(), absl::StrCat(what, suffix));
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message(), suffix));
}

}  // namespace newsgrid::bench
