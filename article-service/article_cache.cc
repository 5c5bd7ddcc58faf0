#include "article-service/article_cache.h"

#include <algorithm>

namespace newsgrid::article {

ArticleCache::ArticleCache(Options options, const Clock& clock)
    : options_(options),
      per_shard_(options.capacity == 0 ? 0 : std::max<size_t>(1, options.capacity / kShards)),
      clock_(clock) {}

uint64_t ArticleCache::BeginRead(int64_t id) {
  Shard& s = ShardFor(id);
  absl::MutexLock lock(&s.mu);
  return s.epoch;
}

std::shared_ptr<const Article> ArticleCache::Get(int64_t id) {
  if (per_shard_ == 0) return nullptr;
  Shard& s = ShardFor(id);
  absl::MutexLock lock(&s.mu);
  auto it = s.entries.find(id);
  if (it == s.entries.end()) return nullptr;
  if (clock_.Now() >= it->second.expires) {
    s.lru.erase(it->second.lru);
    s.entries.erase(it);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second.lru);
  return it->second.article;
}

void ArticleCache::Insert(int64_t id, std::shared_ptr<const Article> article, uint64_t epoch) {
  if (per_shard_ == 0) return;
  Shard& s = ShardFor(id);
  absl::MutexLock lock(&s.mu);
  // A write was acknowledged since this read began: the read may be stale.
  if (s.epoch != epoch) return;
  auto it = s.entries.find(id);
  if (it != s.entries.end()) {
    s.lru.erase(it->second.lru);
    s.entries.erase(it);
  }
  while (s.entries.size() >= per_shard_) {
    s.entries.erase(s.lru.back());
    s.lru.pop_back();
  }
  s.lru.push_front(id);
  s.entries[id] = Entry{std::move(article), clock_.Now() + options_.ttl, s.lru.begin()};
}

void ArticleCache::Invalidate(int64_t id) {
  Shard& s = ShardFor(id);
  absl::MutexLock lock(&s.mu);
  ++s.epoch;
  auto it = s.entries.find(id);
  if (it != s.entries.end()) {
    s.lru.erase(it->second.lru);
    s.entries.erase(it);
  }
}

std::optional<int64_t> ArticleCache::IdForSlug(const std::string& slug) {
  if (per_shard_ == 0) return std::nullopt;
  absl::MutexLock lock(&slug_mu_);
  auto it = slugs_.find(slug);
  if (it == slugs_.end()) return std::nullopt;
  return it->second;
}

void ArticleCache::RememberSlug(const std::string& slug, int64_t id) {
  if (per_shard_ == 0) return;
  absl::MutexLock lock(&slug_mu_);
  // Bounded like the articles; a full index starts over (cheap, rare).
  if (slugs_.size() >= options_.capacity * 2) slugs_.clear();
  slugs_[slug] = id;
}

size_t ArticleCache::size() {
  size_t n = 0;
  for (Shard& s : shards_) {
    absl::MutexLock lock(&s.mu);
    n += s.entries.size();
  }
  return n;
}

}  // namespace newsgrid::article
