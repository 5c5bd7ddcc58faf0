#include "trending-service/article_catalog.h"

#include "google/protobuf/util/time_util.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"

namespace newsgrid::trending {
namespace {

struct CatalogMetrics {
  prometheus::Counter& hits;
  prometheus::Counter& misses;
  prometheus::Gauge& reachable;

  static CatalogMetrics& Get() {
    static CatalogMetrics* m = [] {
      auto& r = Metrics::Global().registry();
      auto& lookups = prometheus::BuildCounter()
                          .Name("trending_article_cache_lookups_total")
                          .Help("Article metadata lookups by result (hit: fresh in cache).")
                          .Register(r);
      return new CatalogMetrics{
          lookups.Add({{"result", "hit"}}), lookups.Add({{"result", "miss"}}),
          prometheus::BuildGauge().Name("newsgrid_peer_reachable")
              .Help("1 when the last call to the peer service succeeded.")
              .Register(r).Add({{"peer", "article-service"}})};
    }();
    return *m;
  }
};

}  // namespace

ArticleCatalog::ArticleCatalog(std::shared_ptr<grpc::Channel> channel, Options options)
    : stub_(news::article::v1::ArticleService::NewStub(channel)), options_(options) {
  CatalogMetrics::Get().reachable.Set(1);
}

ArticleCatalog::Lookup ArticleCatalog::Resolve(const std::vector<std::string>& names) {
  Lookup out;
  std::vector<std::string> to_fetch;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& name : names) {
      if (out.contains(name)) continue;
      auto it = cache_.find(name);
      if (it != cache_.end()) {
        out[name] = it->second.entry;
        if (now - it->second.fetched < options_.ttl) continue;
      } else {
        out[name] = Entry{};
      }
      to_fetch.push_back(name);
    }
  }
  hits_ += out.size() - to_fetch.size();
  misses_ += to_fetch.size();
  CatalogMetrics::Get().hits.Increment(static_cast<double>(out.size() - to_fetch.size()));
  CatalogMetrics::Get().misses.Increment(static_cast<double>(to_fetch.size()));
  if (to_fetch.empty()) return out;

  // BatchGetArticles takes at most 100 names; a ranking holds at most 100.
  for (size_t start = 0; start < to_fetch.size(); start += 100) {
    news::article::v1::BatchGetArticlesRequest request;
    request.set_view(news::article::v1::READER);
    for (size_t i = start; i < std::min(to_fetch.size(), start + 100); ++i) {
      request.add_names(to_fetch[i]);
    }
    news::article::v1::BatchGetArticlesResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
    round_trips_++;
    const grpc::Status status = stub_->BatchGetArticles(&ctx, request, &response);
    if (!status.ok()) {
      if (reachable_.exchange(false)) {
        NG_LOG_WARN("article service unreachable; serving article metadata from cache",
                    {{"code", static_cast<int>(status.error_code())},
                     {"error", status.error_message()}});
      }
      CatalogMetrics::Get().reachable.Set(0);
      continue;  // keep whatever the cache had
    }
    if (!reachable_.exchange(true)) NG_LOG_INFO("article service reachable again");
    CatalogMetrics::Get().reachable.Set(1);
    const absl::Time fetched = absl::Now();
    absl::MutexLock lock(&mu_);
    if (cache_.size() > options_.max_entries) cache_.clear();  // crude bound; refills on demand
    for (const auto& a : response.articles()) {
      Entry e;
      e.state = State::kPublished;
      e.title = a.title();
      e.slug = a.slug();
      e.section = a.section();
      e.tags.assign(a.tags().begin(), a.tags().end());
      e.authors.assign(a.authors().begin(), a.authors().end());
      e.publish_time = absl::FromUnixMicros(
          google::protobuf::util::TimeUtil::TimestampToMicroseconds(a.publish_time()));
      out[a.name()] = e;
      cache_[a.name()] = Cached{std::move(e), fetched};
    }
    for (const std::string& name : response.missing()) {
      Entry gone;
      gone.state = State::kGone;
      out[name] = gone;
      cache_[name] = Cached{std::move(gone), fetched};
    }
  }
  return out;
}

}  // namespace newsgrid::trending
