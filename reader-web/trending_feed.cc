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

void TrendingFeed::Start() {
  thread_ = std::thread([this] { Run(); });
  refresher_ = std::thread([this] { Refresh(); });
}

void TrendingFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
  if (refresher_.joinable()) refresher_.join();
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
                      absl::StrCat("/articles/", e.summary().slug()),
                      e.concurrent_readers() > 0
                          ? absl::StrCat(e.concurrent_readers(), " reading now")
                          : std::string()};
    if (snapshot->json.size() > 1) snapshot->json += ',';
    snapshot->json += "{\"title\":";
    AppendJsonString(snapshot->json, item.title);
    snapshot->json += ",\"url\":";
    AppendJsonString(snapshot->json, item.url);
    if (!item.reading_now.empty()) {
      snapshot->json += ",\"reading\":";
      AppendJsonString(snapshot->json, item.reading_now);
    }
    snapshot->json += '}';
    snapshot->items.push_back(std::move(item));
  }
  snapshot->json += ']';
  return snapshot;
}

tpb::GetTrendingRequest TrendingFeed::Query() const {
  tpb::GetTrendingRequest query;
  query.set_metric(options_.metric);
  query.mutable_window()->set_seconds(absl::ToInt64Seconds(options_.window));
  query.set_limit(options_.limit);
  return query;
}

void TrendingFeed::Publish(const tpb::GetTrendingResponse& ranking) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  auto snapshot = MakeSnapshot(ranking, version_ + 1, now);
  if (latest_ != nullptr && latest_->json == snapshot->json) return;
  ++version_;
  latest_ = std::move(snapshot);
}

bool TrendingFeed::WaitForStop(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
  return mu_.AwaitWithTimeout(absl::Condition(&stop), timeout);
}

void TrendingFeed::Refresh() {
  const tpb::GetTrendingRequest query = Query();
  while (!WaitForStop(options_.refresh)) {
    grpc::ClientContext ctx;
    // Short: Stop() waits for the call.
    ctx.set_deadline(
        absl::ToChronoTime(absl::Now() + std::min(options_.refresh, absl::Seconds(2))));
    if (token_ != nullptr) token_->Attach(ctx);
    tpb::GetTrendingResponse ranking;
    // A failure is the stream's to report; the next round tries again.
    if (stub_->GetTrending(&ctx, query, &ranking).ok()) Publish(ranking);
  }
}

void TrendingFeed::Run() {
  tpb::WatchTrendingRequest request;
  *request.mutable_query() = Query();
  request.mutable_min_interval()->set_seconds(absl::ToInt64Seconds(options_.min_interval));
  request.mutable_min_interval()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(options_.min_interval - absl::Seconds(absl::ToInt64Seconds(
                                                           options_.min_interval)))));
  std::mt19937_64 rng(std::random_device{}());
  absl::Duration backoff = options_.initial_backoff;
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
      Publish(ranking);
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
    if (WaitForStop(jittered)) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace newsgrid::reader
