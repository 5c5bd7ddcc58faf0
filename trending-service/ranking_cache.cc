#include "trending-service/ranking_cache.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/hold_timer.h"
#include "runtime/worker_pool.h"

namespace newsgrid::trending {

RankingCache::RankingCache(RankingCacheOptions options, const Clock& clock, Compute compute)
    : options_(options), clock_(clock), compute_(std::move(compute)) {}

RankingCache::~RankingCache() { Stop(); }

std::string RankingCache::KeyOf(const TrendingQuery& q) {
  std::vector<absl::string_view> exclude(q.exclude.begin(), q.exclude.end());
  std::sort(exclude.begin(), exclude.end());
  // Lengths before the strings keep the key unambiguous whatever they hold.
  std::string key = absl::StrCat(absl::ToInt64Nanoseconds(q.window), "|",
                                 static_cast<int>(q.metric), "|", q.limit, "|", q.section.size(),
                                 ":", q.section, q.tag.size(), ":", q.tag, q.author.size(), ":",
                                 q.author, exclude.size());
  for (absl::string_view id : exclude) absl::StrAppend(&key, "|", id.size(), ":", id);
  return key;
}

bool RankingCache::Fresh(const Entry& e, absl::Time now) const {
  return e.result != nullptr && now - e.computed_at <= options_.max_staleness;
}

std::shared_ptr<const TrendingResult> RankingCache::ComputeLocked(const std::string& key,
                                                                 Entry& e) {
  e.computing = true;
  e.refresh_requested = false;
  const uint64_t generation = e.generation;
  const TrendingQuery query = e.query;
  const absl::Time start = clock_.Now();
  ++stats_.computes;
  mu_.Unlock();
  std::shared_ptr<const TrendingResult> result;
  {
    static HoldStats& recompute = HoldStats::Get("ranking_recompute");
    ScopedHold hold(recompute);
    result = std::make_shared<const TrendingResult>(compute_(query));
  }
  const absl::Duration cost = clock_.Now() - start;
  mu_.Lock();
  // The entry is still there: entries being computed are never removed.
  Entry& now = *entries_.at(key);
  now.computing = false;
  now.cheap = cost < options_.min_compute_time;
  if (now.generation == generation && !now.cheap) {
    now.result = result;
    now.computed_at = start;
  } else if (now.cheap) {
    now.result = nullptr;
  }
  return result;
}

void RankingCache::EvictOne() {
  auto victim = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second->computing) continue;
    if (victim == entries_.end() || it->second->last_read < victim->second->last_read) victim = it;
  }
  if (victim != entries_.end()) entries_.erase(victim);
}

TrendingResult RankingCache::Get(const TrendingQuery& query) {
  const std::string key = KeyOf(query);
  absl::MutexLock lock(&mu_);
  for (;;) {
    const absl::Time now = clock_.Now();
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      if (entries_.size() >= options_.max_entries) EvictOne();
      if (entries_.size() >= options_.max_entries) {
        // Every entry is being computed: answer without caching.
        mu_.Unlock();
        TrendingResult r = compute_(query);
        mu_.Lock();
        return r;
      }
      auto e = std::make_unique<Entry>();
      e->query = query;
      it = entries_.emplace(key, std::move(e)).first;
    }
    Entry& e = *it->second;
    e.last_read = now;
    if (Fresh(e, now)) {
      ++stats_.hits;
      return *e.result;
    }
    if (e.computing && !e.cheap && e.result != nullptr &&
        now - e.computed_at <= options_.max_staleness + options_.overload_grace) {
      ++stats_.stale_served;
      return *e.result;
    }
    if (e.computing && !e.cheap) {
      // Single flight: wait for the computation in progress, then look again.
      // The key is looked up again: the entry may go once it is done.
      auto done = [this, &key]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        auto found = entries_.find(key);
        return found == entries_.end() || !found->second->computing;
      };
      mu_.Await(absl::Condition(&done));
      continue;
    }
    if (e.computing) {
      // Cheap results are not shared: compute alongside.
      mu_.Unlock();
      TrendingResult r = compute_(query);
      mu_.Lock();
      return r;
    }
    return *ComputeLocked(key, e);
  }
}

std::shared_ptr<const TrendingResult> RankingCache::TryGet(const TrendingQuery& query) {
  const std::string key = KeyOf(query);
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  Entry& e = *it->second;
  const absl::Time now = clock_.Now();
  if (Fresh(e, now)) {
    e.last_read = now;
    ++stats_.hits;
    return e.result;
  }
  if (e.computing && !e.cheap && e.result != nullptr &&
      now - e.computed_at <= options_.max_staleness + options_.overload_grace) {
    e.last_read = now;
    ++stats_.stale_served;
    return e.result;
  }
  return nullptr;
}

void RankingCache::Invalidate(const TrendingQuery& query) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(KeyOf(query));
  if (it == entries_.end()) return;
  ++it->second->generation;
  it->second->result = nullptr;
}

void RankingCache::RequestRefresh(const TrendingQuery& query) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(KeyOf(query));
  if (it != entries_.end()) it->second->refresh_requested = true;
}

void RankingCache::RefreshDue() {
  std::vector<std::string> due;
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = *it->second;
    if (!e.computing && now - e.last_read > options_.idle_expiry) {
      entries_.erase(it++);
      continue;
    }
    if (!e.computing && e.result != nullptr &&
        (e.refresh_requested || now - e.computed_at >= options_.refresh_after)) {
      due.push_back(it->first);
    }
    ++it;
  }
  for (const std::string& key : due) {
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second->computing) continue;
    ++stats_.refreshes;
    ComputeLocked(key, *it->second);
  }
}

void RankingCache::Start() {
  if (refresher_.joinable()) return;
  stop_ = std::make_unique<absl::Notification>();
  const absl::Duration tick = std::max(options_.refresh_after / 4, absl::Milliseconds(10));
  refresher_ = std::thread([this, tick] {
    NameCurrentThread("rank-refresh");
    // Behind request threads, not behind the queries it serves: a late
    // recomputation is served stale (overload_grace), a late request is late.
    NiceCurrentThread(5);
    while (!stop_->WaitForNotificationWithTimeout(tick)) RefreshDue();
  });
}

void RankingCache::Stop() {
  if (!refresher_.joinable()) return;
  stop_->Notify();
  refresher_.join();
}

RankingCacheStats RankingCache::Stats() const {
  absl::MutexLock lock(&mu_);
  RankingCacheStats s = stats_;
  s.entries = entries_.size();
  return s;
}

}  // namespace newsgrid::trending
