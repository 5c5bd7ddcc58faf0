// A ranking of the "Top content / Trending" box (one per metric: most read,
// most engaged), kept current by one WatchTrending stream per process: the
// trending service pushes the top articles whenever they change, every page
// render reads the latest ranking from memory, and every live box
// (/live/trending) waits here for the next one. WatchTrending pushes
// changes of the order only, so the readers-now counts of the entries are
// also fetched with GetTrending every `refresh` (a new snapshot only when
// something shown changed). When the trending service is down, the last
// ranking stays (pages show it, stale) and the stream is reopened with
// backoff.
//
//   TrendingFeed feed(stub, {.window = absl::Hours(1), .limit = 5}, &token);
//   feed.Start();
//   std::shared_ptr<const TrendingSnapshot> now = feed.Latest();  // null before the first
//   now = feed.WaitForNewer(now ? now->version : 0, absl::Now() + absl::Seconds(15));
//   feed.Stop();
#ifndef NEWSGRID_READER_WEB_TRENDING_FEED_H_
#define NEWSGRID_READER_WEB_TRENDING_FEED_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "news/trending/v1/trending_service.grpc.pb.h"
#include "runtime/auth.h"

namespace newsgrid::reader {

struct TrendingItem {
  std::string article;  // "articles/7"
  std::string title;
  std::string url;      // "/articles/{slug}"
  // "3 reading now" (TrendingEntry.concurrent_readers); empty when none.
  std::string reading_now;
};

struct TrendingSnapshot {
  uint64_t version = 0;  // increases with every ranking received
  std::vector<TrendingItem> items;
  absl::Time received;
  // The items as JSON for the live box: [{"title": ..., "url": ...,
  // "reading": "3 reading now"}] ("reading" only when someone is).
  std::string json;
};

class TrendingFeed {
 public:
  struct Options {
    news::trending::v1::Metric metric = news::trending::v1::VIEWS;
    absl::Duration window = absl::Hours(1);
    int limit = 5;
    absl::Duration min_interval = absl::Seconds(1);
    // How often the ranking is fetched for its counts (see above).
    absl::Duration refresh = absl::Seconds(5);
    absl::Duration initial_backoff = absl::Milliseconds(200);
    absl::Duration max_backoff = absl::Seconds(5);
  };

  TrendingFeed(std::unique_ptr<news::trending::v1::TrendingService::StubInterface> stub,
               Options options, PeerToken* token);
  ~TrendingFeed();

  void Start();
  // Ends the stream and wakes every waiter; idempotent.
  void Stop();

  std::shared_ptr<const TrendingSnapshot> Latest() const;
  // The first snapshot newer than `version`, or whatever is latest at
  // `deadline` or at Stop().
  std::shared_ptr<const TrendingSnapshot> WaitForNewer(uint64_t version, absl::Time deadline) const;
  bool connected() const { return connected_.load(); }
  bool stopped() const;

  // Builds the snapshot of one ranking (public for tests): entries without
  // a title (not hydrated) are left out.
  static std::shared_ptr<const TrendingSnapshot> MakeSnapshot(
      const news::trending::v1::GetTrendingResponse& ranking, uint64_t version, absl::Time now);

 private:
  void Run();
  // Fetches the ranking every `refresh` until Stop().
  void Refresh();
  // Makes `ranking` the latest snapshot when it shows something else than
  // the latest one (a reconnected stream's first ranking, a refresh with
  // the same counts wake no live box).
  void Publish(const news::trending::v1::GetTrendingResponse& ranking);
  news::trending::v1::GetTrendingRequest Query() const;
  // Waits up to `timeout` for Stop(); true when stopping.
  bool WaitForStop(absl::Duration timeout) const;

  std::unique_ptr<news::trending::v1::TrendingService::StubInterface> stub_;
  const Options options_;
  PeerToken* const token_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TrendingSnapshot> latest_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::atomic<bool> connected_{false};
  std::thread thread_;
  std::thread refresher_;
};

}  // namespace newsgrid::reader

#endif  // NEWSGRID_READER_WEB_TRENDING_FEED_H_
