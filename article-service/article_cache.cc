#include "article-service/article_cache.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace newsgrid::article {

ArticleCache::ArticleCache(Options options, const Clock& clock)
    : options_(options),
      per_shard_bytes_(options.capacity_bytes == 0
                           ? 0
                           : std::max<size_t>(1, options.capacity_bytes / kShards)),
      clock_(clock) {}

void ArticleCache::SetNotified(bool notified) {
  notified_.store(notified, std::memory_order_relaxed);
}

absl::Duration ArticleCache::current_ttl() const {
  return notified() ? options_.ttl : options_.fallback_ttl;
}

uint64_t ArticleCache::BeginRead(int64_t id) {
  return ShardFor(id).epoch.load(std::memory_order_acquire);
}

ArticleRef ArticleCache::Get(int64_t id) {
  if (per_shard_bytes_ == 0) return nullptr;
  Shard& s = ShardFor(id);
  const absl::Time oldest = clock_.Now() - current_ttl();
  absl::ReaderMutexLock lock(&s.mu);
  auto it = s.entries.find(id);
  // An expired entry stays until evicted or replaced: removing it would
  // need the writer lock on the read path.
  if (it == s.entries.end() || it->second->inserted <= oldest) return nullptr;
  const Entry& e = *it->second;
  if (!e.referenced.load(std::memory_order_relaxed)) {
    e.referenced.store(true, std::memory_order_relaxed);
  }
  return e.version;
}

void ArticleCache::Remove(Shard& s, int64_t id) {
  auto it = s.entries.find(id);
  if (it == s.entries.end()) return;
  Entry& e = *it->second;
  if (s.hand == e.ring) ++s.hand;
  s.ring.erase(e.ring);
  s.bytes -= e.version->memory_bytes();
  s.entries.erase(it);
}

void ArticleCache::EvictOne(Shard& s) {
  // Second chance: a referenced entry loses its flag and is passed over once.
  for (;;) {
    if (s.hand == s.ring.end()) s.hand = s.ring.begin();
    const int64_t id = *s.hand;
    Entry& e = *s.entries.at(id);
    if (e.referenced.load(std::memory_order_relaxed)) {
      e.referenced.store(false, std::memory_order_relaxed);
      ++s.hand;
      continue;
    }
    Remove(s, id);
    return;
  }
}

void ArticleCache::Insert(ArticleRef v, uint64_t epoch) {
  if (per_shard_bytes_ == 0 || v == nullptr) return;
  // A version bigger than the shard would only push everything else out.
  if (v->memory_bytes() > per_shard_bytes_) return;
  const int64_t id = v->id();
  Shard& s = ShardFor(id);
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&s.mu);
  // A write was acknowledged since this read began: the read may be stale.
  if (s.epoch.load(std::memory_order_relaxed) != epoch) return;
  Remove(s, id);
  while (!s.ring.empty() && s.bytes + v->memory_bytes() > per_shard_bytes_) EvictOne(s);
  auto entry = std::make_unique<Entry>();
  s.bytes += v->memory_bytes();
  entry->version = std::move(v);
  entry->inserted = now;
  // New entries go just behind the hand: the last the clock reaches.
  entry->ring = s.ring.insert(s.hand, id);
  s.entries.emplace(id, std::move(entry));
}

void ArticleCache::Invalidate(int64_t id) {
  Shard& s = ShardFor(id);
  absl::MutexLock lock(&s.mu);
  s.epoch.fetch_add(1, std::memory_order_release);
  Remove(s, id);
}

void ArticleCache::InvalidateAll() {
  for (Shard& s : shards_) {
    absl::MutexLock lock(&s.mu);
    s.epoch.fetch_add(1, std::memory_order_release);
    s.entries.clear();
    s.ring.clear();
    s.hand = s.ring.end();
    s.bytes = 0;
  }
}

std::optional<int64_t> ArticleCache::IdForSlug(const std::string& slug) {
  if (per_shard_bytes_ == 0) return std::nullopt;
  SlugShard& s = slugs_[absl::Hash<std::string>()(slug) % kShards];
  absl::ReaderMutexLock lock(&s.mu);
  auto it = s.ids.find(slug);
  if (it == s.ids.end()) return std::nullopt;
  return it->second;
}

void ArticleCache::RememberSlug(const std::string& slug, int64_t id) {
  if (per_shard_bytes_ == 0) return;
  SlugShard& s = slugs_[absl::Hash<std::string>()(slug) % kShards];
  absl::MutexLock lock(&s.mu);
  // Bounded by about as many slugs as articles fit; a full shard starts over
  // (cheap, rare: a slug costs one more database read afterwards).
  const size_t max_per_shard = std::max<size_t>(64, per_shard_bytes_ / 2048);
  if (s.ids.size() >= max_per_shard) s.ids.clear();
  s.ids[slug] = id;
}

size_t ArticleCache::size() {
  size_t n = 0;
  for (Shard& s : shards_) {
    absl::ReaderMutexLock lock(&s.mu);
    n += s.entries.size();
  }
  return n;
}

size_t ArticleCache::bytes() {
  size_t n = 0;
  for (Shard& s : shards_) {
    absl::ReaderMutexLock lock(&s.mu);
    n += s.bytes;
  }
  return n;
}

}  // namespace newsgrid::article
