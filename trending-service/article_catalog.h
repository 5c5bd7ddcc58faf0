// What the trending service knows of articles, fetched from the article
// service: title, slug, section, tags, authors, publish time, and whether
// readers may see the article at all.
//
// Resolve() answers for a whole ranking with at most one BatchGetArticles
// round trip (READER view) for the names that are not cached or whose entry
// is older than the TTL. Entries past half the TTL are served as they are
// and refreshed in the background, so while rankings are read steadily no
// GetTrending call waits for the article service. An article the article service does not return in
// the READER view (unpublished, deleted, unknown) is kGone and is dropped
// from rankings: so a deleted or unpublished article leaves every ranking
// computed more than `ttl` after the change (default 2 s; with WatchTrending's
// re-evaluation this bounds the disappearance at 5 s). While the article
// service is unreachable, expired entries are served as they are, and
// names never seen are kUnknown (the ranking shows the name only, with
// hydrated=false): a ranking never fails because of the peer.
//
//   ArticleCatalog catalog(MakePeerChannel(addr, {...}), {.ttl = absl::Seconds(2)});
//   ArticleCatalog::Lookup l = catalog.Resolve({"articles/1", "articles/2"});
//   if (l["articles/1"].state == ArticleCatalog::State::kPublished) ...
#ifndef NEWSGRID_TRENDING_SERVICE_ARTICLE_CATALOG_H_
#define NEWSGRID_TRENDING_SERVICE_ARTICLE_CATALOG_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "news/article/v1/article_service.grpc.pb.h"
#include "runtime/auth.h"
#include "runtime/peer_client.h"
#include "trending-service/article_metadata.h"

namespace newsgrid::trending {

class ArticleCatalog {
 public:
  enum class State { kUnknown, kPublished, kGone };

  struct Entry {
    State state = State::kUnknown;
    std::string title;
    std::string slug;
    std::string section;
    std::vector<std::string> tags;
    std::vector<std::string> authors;
    absl::Time publish_time = absl::InfinitePast();
  };
  using Lookup = absl::flat_hash_map<std::string, Entry>;

  struct Options {
    absl::Duration ttl = absl::Seconds(2);
    absl::Duration rpc_timeout = absl::Milliseconds(500);
    size_t max_entries = 500000;
    // Token presented to the article service; may be null.
    PeerToken* token = nullptr;
  };

  ArticleCatalog(std::shared_ptr<grpc::Channel> channel, Options options);
  ~ArticleCatalog();  // waits for background refreshes (each ends within rpc_timeout)

  // One entry per name (kUnknown when nothing is known).
  Lookup Resolve(const std::vector<std::string>& names);
  // Resolve from the cache alone: false (and `out` unspecified) when a name
  // would need a synchronous fetch. Entries past half the TTL are refreshed
  // in the background as by Resolve.
  bool ResolveCached(const std::vector<std::string>& names, Lookup& out);

  bool peer_reachable() const { return peer_.reachable(); }
  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }
  uint64_t round_trips() const { return round_trips_.load(); }

 private:
  struct Cached {
    Entry entry;
    absl::Time fetched;
    bool refreshing = false;  // a background refresh is on its way
  };
  // One BatchGetArticles call, synchronous or in the background.
  struct Fetch {
    std::vector<std::string> names;
    grpc::ClientContext ctx;
    news::article::v1::BatchGetArticlesRequest request;
    news::article::v1::BatchGetArticlesResponse response;
    grpc::Status status;
  };
  static constexpr size_t kMaxBatch = 100;  // BatchGetArticles' limit

  // Fills `out` from the cache; returns the names that need a fetch.
  std::vector<std::string> FromCache(const std::vector<std::string>& names, Lookup& out);
  void Prepare(Fetch& f);
  void RefreshInBackground(std::vector<std::string> names);
  // Stores the answer in the cache (and in `out` when not null); on failure
  // marks the peer unreachable and keeps what the cache had.
  void Complete(const Fetch& f, Lookup* out);

  std::unique_ptr<news::article::v1::ArticleService::Stub> stub_;
  const Options options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> refreshes_in_flight_{0};
  PeerReachability peer_{"article-service", "serving article metadata from cache"};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> round_trips_{0};
};

// The catalog as the rankings' ArticleMetadataSource ({article} ids).
class ArticleCatalogSource final : public ArticleMetadataSource {
 public:
  explicit ArticleCatalogSource(ArticleCatalog& catalog) : catalog_(catalog) {}
  absl::StatusOr<ArticleInfoMap> Lookup(const std::vector<std::string>& articles) override;
  std::optional<ArticleInfoMap> LookupCached(const std::vector<std::string>& articles) override;

 private:
  ArticleCatalog& catalog_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_ARTICLE_CATALOG_H_
