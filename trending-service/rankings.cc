#include "trending-service/rankings.h"

#include <algorithm>
#include <vector>

namespace newsgrid::trending {
namespace {

// How long a hidden article stays out before it is asked about again.
constexpr absl::Duration kHiddenRecheck = absl::Seconds(30);
// Entries fetched beyond the limit (at least this many, or the limit again).
constexpr int kMinSpareEntries = 10;
// The deepest second look at a ranking (BatchGetArticles takes 100 names a call).
constexpr int kMaxDeepScan = 1000;

// The store is asked for spare entries: those found hidden are dropped and
// the spares move up, without a new scan of every article.
TrendingQuery Wide(const TrendingQuery& query) {
  TrendingQuery wide = query;
  wide.limit = query.limit + std::max(query.limit, kMinSpareEntries);
  return wide;
}

// Ranks as served; a previous rank beyond the limit is "not in the previous
// window's top `limit`".
void Cut(const TrendingQuery& query, TrendingResult& result) {
  if (static_cast<int>(result.entries.size()) > query.limit) result.entries.resize(query.limit);
  for (size_t i = 0; i < result.entries.size(); ++i) {
    RankedEntry& e = result.entries[i];
    e.rank = static_cast<int>(i) + 1;
    if (e.previous_rank > query.limit) e.previous_rank = 0;
  }
  result.unresolved.clear();
}

}  // namespace

TrendingResult Rankings::Ranking(const TrendingQuery& query) {
  return cache_ != nullptr ? cache_->Get(query) : store_.Trending(query);
}

std::vector<std::string> Rankings::IdsOf(const TrendingResult& result) {
  std::vector<std::string> ids;
  ids.reserve(result.entries.size() + result.unresolved.size());
  for (const RankedEntry& e : result.entries) ids.push_back(e.article);
  for (const RankedEntry& e : result.unresolved) ids.push_back(e.article);
  return ids;
}

bool Rankings::Hydrate(const TrendingQuery& query, const absl::StatusOr<ArticleInfoMap>& infos,
                       TrendingResult& result) {
  if (!infos.ok()) {
    // Served with what the store has; candidates it could not check are
    // left out, and the response says so.
    result.partial = result.partial || !result.unresolved.empty();
    result.unresolved.clear();
    return false;
  }
  bool changed = false;
  std::vector<RankedEntry> kept;
  kept.reserve(result.entries.size() + result.unresolved.size());
  for (RankedEntry& e : result.entries) {
    auto it = infos->find(e.article);
    if (it != infos->end()) {  // else nothing known now: keep what we have
      if (it->second.hidden) {
        ArticleInfo info = it->second;
        info.hidden_until = store_.Now() + kHiddenRecheck;
        store_.SetSourceInfo(e.article, std::move(info));
        changed = true;
        continue;
      }
      if (e.summary != it->second.summary) {
        e.summary = it->second.summary;
        store_.SetSourceInfo(e.article, it->second);
      }
    }
    kept.push_back(std::move(e));
  }
  // Articles whose metadata had not arrived: the store learns it, and those
  // that match take their place.
  bool added = false;
  for (RankedEntry& u : result.unresolved) {
    auto it = infos->find(u.article);
    if (it == infos->end()) {
      result.partial = true;  // the source knows nothing of it either
      continue;
    }
    ArticleInfo info = it->second;
    if (info.hidden) info.hidden_until = store_.Now() + kHiddenRecheck;
    store_.SetSourceInfo(u.article, info);
    changed = true;
    if (info.hidden || !MetadataMatches(query, info.metadata)) continue;
    u.summary = info.summary;
    kept.push_back(std::move(u));
    added = true;
  }
  if (added) {
    std::stable_sort(kept.begin(), kept.end(), [](const RankedEntry& a, const RankedEntry& b) {
      return a.score != b.score ? a.score > b.score : a.article < b.article;
    });
  }
  result.entries = std::move(kept);
  result.unresolved.clear();
  return changed;
}

TrendingResult Rankings::Get(const TrendingQuery& query) {
  if (source_ == nullptr) {
    // Without a source, event metadata is all there is: an article without
    // any matches no filter.
    TrendingResult result = Ranking(query);
    Cut(query, result);
    return result;
  }
  TrendingQuery wide = Wide(query);
  TrendingResult result;
  // With a cache, a ranking that lost entries is recomputed by the cache's
  // refresher, never while a caller waits: under a flood of hidden entries
  // callers get fewer entries for a moment, not a scan each.
  const int rounds = cache_ != nullptr ? 1 : 2;
  for (int round = 0; round < rounds; ++round) {
    result = Ranking(wide);
    const bool more_exist = static_cast<int>(result.entries.size()) == wide.limit;
    // One lookup for the entries and the candidates to check.
    const bool changed = Hydrate(query, source_->Lookup(IdsOf(result)), result);
    // The cached ranking predates what was just learnt.
    if (changed && cache_ != nullptr) cache_->RequestRefresh(wide);
    if (static_cast<int>(result.entries.size()) >= query.limit || !more_exist) break;
    // Without a cache: one second scan, ten times deeper, so a flood of
    // views for articles that do not exist is learnt in a few calls.
    wide.limit = std::min(wide.limit * 10, kMaxDeepScan);
  }
  Cut(query, result);
  return result;
}

std::optional<TrendingResult> Rankings::TryGetCached(const TrendingQuery& query) {
  if (cache_ == nullptr) return std::nullopt;
  const TrendingQuery wide = source_ != nullptr ? Wide(query) : query;
  std::shared_ptr<const TrendingResult> cached = cache_->TryGet(wide);
  if (cached == nullptr) return std::nullopt;
  TrendingResult result = *cached;
  if (source_ != nullptr) {
    std::optional<ArticleInfoMap> infos = source_->LookupCached(IdsOf(result));
    if (!infos) return std::nullopt;
    if (Hydrate(query, *std::move(infos), result)) cache_->RequestRefresh(wide);
  }
  Cut(query, result);
  return result;
}

}  // namespace newsgrid::trending
