#include "reader-web/trending_feed.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/logging.h"

namespace newsgrid::reader {

namespace tpb = ::news::trending::v1;

TrendingFeed::TrendingFeed(std::unique_ptr<tpb::TrendingService::StubInterface> stub,
                           Options options, PeerToken* token)
    : stub_(std::move(stub)), options_(options), token_(token) {}

TrendingFeed::~TrendingFeed() { Stop(); }

void TrendingFeed::Start() { thread_ = std::thread([this] { Run(); }); }

void TrendingFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool TrendingFeed::stopped() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

std::shared_ptr<const TrendingSnapshot> TrendingFeed::Latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

std::shared_ptr<const TrendingSnapshot> TrendingFeed::WaitForNewer(uint64_t version,
                                                                   absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto newer = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return stopping_ || (latest_ != nullptr && latest_->version > version);
  };
  mu_.AwaitWithDeadline(absl::Condition(&newer), deadline);
  return latest_;
}

std::shared_ptr<const TrendingSnapshot> TrendingFeed::MakeSnapshot(
    const tpb::GetTrendingResponse& ranking, uint64_t version, absl::Time now) {
  auto snapshot = std::make_shared<TrendingSnapshot>();
  snapshot->version = version;
  snapshot->received = now;
  snapshot->json = "[";
  for (const tpb::TrendingEntry& e : ranking.entries()) {
    if (!e.hydrated() || e.summary().title().empty() || e.summary().slug().empty()) continue;
    TrendingItem item{e.article(), e.summary().title(),
                      absl::StrCat("/articles/", e.summary().slug())};
    if (snapshot->json.size() > 1) snapshot->json += ',';
    snapshot->json += "{\"title\":";
    AppendJsonString(snapshot->json, item.title);
    snapshot->json += ",\"url\":";
    AppendJsonString(snapshot->json, item.url);
    snapshot->json += '}';
    snapshot->items.push_back(std::move(item));
  }
  snapshot->json += ']';
  return snapshot;
}

void TrendingFeed::Run() {
  tpb::WatchTrendingRequest request;
  request.mutable_query()->mutable_window()->set_seconds(absl::ToInt64Seconds(options_.window));
  request.mutable_query()->set_limit(options_.limit);
  request.mutable_min_interval()->set_seconds(absl::ToInt64Seconds(options_.min_interval));
  request.mutable_min_interval()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(options_.min_interval - absl::Seconds(absl::ToInt64Seconds(
                                                           options_.min_interval)))));
  std::mt19937_64 rng(std::random_device{}());
  absl::Duration backoff = options_.initial_backoff;
  uint64_t version = 0;
  for (;;) {
    grpc::ClientContext ctx;
    if (token_ != nullptr) token_->Attach(ctx);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      active_ = &ctx;
    }
    std::unique_ptr<grpc::ClientReaderInterface<tpb::GetTrendingResponse>> reader =
        stub_->WatchTrending(&ctx, request);
    tpb::GetTrendingResponse ranking;
    bool got_any = false;
    while (reader->Read(&ranking)) {
      if (!connected_.exchange(true)) NG_LOG_INFO("trending feed connected");
      got_any = true;
      auto snapshot = MakeSnapshot(ranking, ++version, absl::Now());
      absl::MutexLock lock(&mu_);
      latest_ = std::move(snapshot);
    }
    const grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&mu_);
      active_ = nullptr;
      if (stopping_) return;
    }
    if (connected_.exchange(false) || !got_any) {
      static RateLimitedLog limited(absl::Seconds(10));
      limited.Log(LogLevel::kWarn, "trending feed lost; pages keep the last ranking",
                  {{"code", static_cast<int>(status.error_code())},
                   {"error", status.error_message()}});
    }
    if (got_any) backoff = options_.initial_backoff;
    const absl::Duration jittered =
        backoff * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), jittered)) return;
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace newsgrid::reader
