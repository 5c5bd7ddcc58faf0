#include "trending-service/article_catalog.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"
#include "prometheus/counter.h"
#include "runtime/article_name.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"

namespace newsgrid::trending {
namespace {

struct CatalogMetrics {
  prometheus::Counter& hits;
  prometheus::Counter& misses;

  static CatalogMetrics& Get() {
    static CatalogMetrics* m = [] {
      auto& r = Metrics::Global().registry();
      auto& lookups = prometheus::BuildCounter()
                          .Name("trending_article_cache_lookups_total")
                          .Help("Article metadata lookups by result (hit: fresh in cache).")
                          .Register(r);
      return new CatalogMetrics{lookups.Add({{"result", "hit"}}), lookups.Add({{"result", "miss"}})};
    }();
    return *m;
  }
};

}  // namespace

ArticleCatalog::ArticleCatalog(std::shared_ptr<grpc::Channel> channel, Options options)
    : stub_(news::article::v1::ArticleService::NewStub(channel)), options_(options) {}

ArticleCatalog::~ArticleCatalog() {
  // Background refreshes use `this` until their last step, the decrement;
  // each ends within rpc_timeout.
  while (refreshes_in_flight_.load() > 0) absl::SleepFor(absl::Milliseconds(1));
}

std::vector<std::string> ArticleCatalog::FromCache(const std::vector<std::string>& names,
                                                   Lookup& out) {
  std::vector<std::string> to_fetch;
  std::vector<std::string> to_refresh;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& name : names) {
      if (out.contains(name)) continue;
      // Views may name any "articles/{id}"; one the article service can
      // never hold is hidden, and never sent: a single such name would
      // fail the whole batch (INVALID_ARGUMENT) for every other article.
      if (!ParseArticleServiceId(name)) {
        out[name] = Entry{.state = State::kGone};
        continue;
      }
      auto it = cache_.find(name);
      if (it != cache_.end()) {
        out[name] = it->second.entry;
        const absl::Duration age = now - it->second.fetched;
        if (age < options_.ttl) {
          // Past half its life: refreshed in the background, served meanwhile.
          if (age >= options_.ttl / 2 && !it->second.refreshing) {
            it->second.refreshing = true;
            to_refresh.push_back(name);
          }
          continue;
        }
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
  if (!to_refresh.empty()) RefreshInBackground(std::move(to_refresh));
  return to_fetch;
}

ArticleCatalog::Lookup ArticleCatalog::Resolve(const std::vector<std::string>& names) {
  Lookup out;
  const std::vector<std::string> to_fetch = FromCache(names, out);
  // BatchGetArticles takes at most 100 names; a ranking holds at most 100.
  for (size_t start = 0; start < to_fetch.size(); start += kMaxBatch) {
    Fetch f;
    f.names.assign(to_fetch.begin() + start,
                   to_fetch.begin() + std::min(to_fetch.size(), start + kMaxBatch));
    Prepare(f);
    f.status = stub_->BatchGetArticles(&f.ctx, f.request, &f.response);
    Complete(f, &out);  // on failure, whatever the cache had stays
  }
  return out;
}

bool ArticleCatalog::ResolveCached(const std::vector<std::string>& names, Lookup& out) {
  return FromCache(names, out).empty();
}

void ArticleCatalog::Prepare(Fetch& f) {
  f.request.set_view(news::article::v1::READER);
  for (const std::string& name : f.names) f.request.add_names(name);
  f.ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  if (options_.token != nullptr) options_.token->Attach(f.ctx);
  round_trips_++;
}

void ArticleCatalog::RefreshInBackground(std::vector<std::string> names) {
  for (size_t start = 0; start < names.size(); start += kMaxBatch) {
    auto* f = new Fetch;
    f->names.assign(names.begin() + start,
                    names.begin() + std::min(names.size(), start + kMaxBatch));
    Prepare(*f);
    ++refreshes_in_flight_;
    stub_->async()->BatchGetArticles(&f->ctx, &f->request, &f->response,
                                     [this, f](grpc::Status status) {
                                       std::unique_ptr<Fetch> done(f);
                                       done->status = std::move(status);
                                       Complete(*done, nullptr);
                                       --refreshes_in_flight_;  // last use of `this`
                                     });
  }
}

void ArticleCatalog::Complete(const Fetch& f, Lookup* out) {
  if (!f.status.ok()) {
    peer_.Failed(f.status);
    absl::MutexLock lock(&mu_);
    for (const std::string& name : f.names) {
      auto it = cache_.find(name);
      if (it != cache_.end()) it->second.refreshing = false;  // the next read retries
    }
    return;
  }
  peer_.Succeeded();
  const absl::Time fetched = absl::Now();
  absl::MutexLock lock(&mu_);
  if (cache_.size() > options_.max_entries) cache_.clear();  // crude bound; refills on demand
  auto keep = [&](const std::string& name, Entry e) {
    if (out != nullptr) (*out)[name] = e;
    cache_[name] = Cached{std::move(e), fetched};
  };
  for (const auto& a : f.response.articles()) {
    Entry e;
    e.state = State::kPublished;
    e.title = a.title();
    e.slug = a.slug();
    e.section = a.section();
    e.tags.assign(a.tags().begin(), a.tags().end());
    e.authors.assign(a.authors().begin(), a.authors().end());
    e.publish_time = absl::FromUnixMicros(
        google::protobuf::util::TimeUtil::TimestampToMicroseconds(a.publish_time()));
    keep(a.name(), std::move(e));
  }
  for (const std::string& name : f.response.missing()) keep(name, Entry{.state = State::kGone});
}

namespace {

std::vector<std::string> NamesOf(const std::vector<std::string>& articles) {
  std::vector<std::string> names;
  names.reserve(articles.size());
  for (const std::string& id : articles) names.push_back(absl::StrCat(kArticleNamePrefix, id));
  return names;
}

ArticleInfoMap InfosOf(const ArticleCatalog::Lookup& lookup) {
  ArticleInfoMap out;
  for (auto& [name, entry] : lookup) {
    const std::string id = name.substr(kArticleNamePrefix.size());
    switch (entry.state) {
      case ArticleCatalog::State::kUnknown:
        break;  // nothing known now: the caller keeps what it has
      case ArticleCatalog::State::kGone:
        out[id] = ArticleInfo{.hidden = true};
        break;
      case ArticleCatalog::State::kPublished:
        out[id] = ArticleInfo{
            .metadata = {.section = entry.section, .tags = entry.tags, .authors = entry.authors},
            .summary = ArticleSummary{.title = entry.title,
                                      .slug = entry.slug,
                                      .section = entry.section,
                                      .publish_time = entry.publish_time}};
        break;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<ArticleInfoMap> ArticleCatalogSource::Lookup(
    const std::vector<std::string>& articles) {
  return InfosOf(catalog_.Resolve(NamesOf(articles)));
}

std::optional<ArticleInfoMap> ArticleCatalogSource::LookupCached(
    const std::vector<std::string>& articles) {
  ArticleCatalog::Lookup lookup;
  if (!catalog_.ResolveCached(NamesOf(articles), lookup)) return std::nullopt;
  return InfosOf(lookup);
}

}  // namespace newsgrid::trending
