#include "trending-service/ingest_rules.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace newsgrid::trending {

absl::string_view RejectReasonName(RejectReason r) {
  switch (r) {
    case RejectReason::kNone: return "NONE";
    case RejectReason::kInvalidArticle: return "INVALID_ARTICLE";
    case RejectReason::kInvalidField: return "INVALID_FIELD";
    case RejectReason::kFromFuture: return "FROM_FUTURE";
    case RejectReason::kTooOld: return "TOO_OLD";
    case RejectReason::kBot: return "BOT";
    case RejectReason::kRateLimited: return "RATE_LIMITED";
    case RejectReason::kStoreFull: return "STORE_FULL";
    case RejectReason::kUnknownPageView: return "UNKNOWN_PAGE_VIEW";
    case RejectReason::kTooFrequent: return "TOO_FREQUENT";
  }
  return "UNKNOWN";
}

BotRules BotRules::Parse(absl::string_view patterns) {
  BotRules rules;
  for (absl::string_view p : absl::StrSplit(patterns, ',', absl::SkipWhitespace())) {
    rules.patterns_.push_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(p)));
  }
  return rules;
}

bool BotRules::IsBot(absl::string_view user_agent) const {
  if (user_agent.empty() || patterns_.empty()) return false;
  // Lower-case once into a stack buffer (user agents are <= 1024 bytes).
  char buf[kMaxUserAgentLength];
  const size_t n = std::min(user_agent.size(), sizeof(buf));
  for (size_t i = 0; i < n; ++i) buf[i] = absl::ascii_tolower(user_agent[i]);
  const absl::string_view lower(buf, n);
  for (const std::string& p : patterns_) {
    if (absl::StrContains(lower, p)) return true;
  }
  return false;
}

TimeCheck CheckViewTime(absl::Time view_time, absl::Time now, const TimeRules& rules) {
  if (view_time == absl::InfinitePast()) return {RejectReason::kNone, now};
  if (view_time > now + rules.max_clock_skew) return {RejectReason::kFromFuture, view_time};
  if (view_time < now - rules.retention) return {RejectReason::kTooOld, view_time};
  // Slightly ahead clocks count as now, so the view is in the current bucket.
  return {RejectReason::kNone, std::min(view_time, now)};
}

DedupFilter::DedupFilter(absl::Duration window, size_t max_entries, int shards)
    : window_(window),
      max_per_generation_(std::max<size_t>(16, max_entries / 2 / std::max(1, shards))) {
  const int n = std::max(1, shards);
  for (int i = 0; i < n; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->first_share = i + 1;
    shards_.back()->shard_count = n;
  }
}

void DedupFilter::Shard::MaybeRetire(int64_t now_ns, int64_t window_ns, size_t max_entries) {
  if (current_since_ns == 0) current_since_ns = now_ns;
  // Keys spread evenly over the shards, so with equal generations every
  // shard grew its map, and retired it for a new one, at the same moment:
  // 64 maps rehashed into fresh memory at once, and the kernel's zeroing of
  // those pages stalled ingest for up to 1.5 s (trending README, "Dedup
  // shards that grow in step"). Shard i's first generation ends at
  // (i + 1) / shards of the window and of the bound, which staggers the
  // shards from then on. Keys of a shortened first generation are still
  // kept for a whole generation after it.
  size_t limit = max_entries;
  int64_t span_ns = window_ns;
  if (!retired) {
    limit = std::max<size_t>(1, max_entries * static_cast<size_t>(first_share) /
                                    static_cast<size_t>(shard_count));
    span_ns = window_ns / shard_count * first_share;
  }
  if (now_ns - current_since_ns >= span_ns || current.size() >= limit) {
    retired = true;
    // Sized like the generation before, so it does not rehash its way up.
    const size_t expected = current.size();
    previous = std::move(current);
    current = {};
    current.reserve(expected);
    current_since_ns = now_ns;
  }
}

bool DedupFilter::Shard::Seen(uint64_t key, int64_t t, int64_t window_ns) {
  // One probe of the current generation finds a repeat or records the key.
  auto [it, inserted] = current.try_emplace(key, t);
  if (!inserted && std::llabs(t - it->second) < window_ns) return true;
  auto old = previous.find(key);
  if (old != previous.end() && std::llabs(t - old->second) < window_ns) {
    if (inserted) it->second = old->second;  // still the counted view's time
    return true;
  }
  it->second = t;
  return false;
}

bool DedupFilter::SeenWithin(uint64_t key, absl::Time event_time, absl::Time now) {
  Shard& s = *shards_[ShardIndex(key)];
  const int64_t window_ns = absl::ToInt64Nanoseconds(window_);
  absl::MutexLock lock(&s.mu);
  s.MaybeRetire(absl::ToUnixNanos(now), window_ns, max_per_generation_);
  return s.Seen(key, absl::ToUnixNanos(event_time), window_ns);
}

bool DedupFilter::Holds(uint64_t key, absl::Time event_time) const {
  const Shard& s = *shards_[ShardIndex(key)];
  const int64_t t = absl::ToUnixNanos(event_time);
  const int64_t window_ns = absl::ToInt64Nanoseconds(window_);
  absl::MutexLock lock(&s.mu);
  for (const auto* generation : {&s.current, &s.previous}) {
    auto it = generation->find(key);
    if (it != generation->end() && std::llabs(t - it->second) < window_ns) return true;
  }
  return false;
}

namespace {

// The indexes of the non-zero keys grouped by shard, in index order within
// a shard: shard s has order[first[s] .. first[s + 1]).
template <typename ShardOf>
void GroupByShard(absl::Span<const uint64_t> keys, size_t shards, ShardOf shard_of,
                  std::vector<uint32_t>& order, std::vector<uint32_t>& first) {
  first.assign(shards + 1, 0);
  for (uint64_t k : keys) {
    if (k != 0) ++first[shard_of(k) + 1];
  }
  for (size_t s = 0; s < shards; ++s) first[s + 1] += first[s];
  order.resize(first[shards]);
  std::vector<uint32_t> next(first.begin(), first.end() - 1);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] != 0) order[next[shard_of(keys[i])]++] = static_cast<uint32_t>(i);
  }
}

}  // namespace

void DedupFilter::SeenWithinBatch(absl::Span<const uint64_t> keys,
                                  absl::Span<const int64_t> event_ns, absl::Time now, bool* seen) {
  std::vector<uint32_t> order, first;
  GroupByShard(keys, shards_.size(), [this](uint64_t k) { return ShardIndex(k); }, order, first);
  const int64_t now_ns = absl::ToUnixNanos(now);
  const int64_t window_ns = absl::ToInt64Nanoseconds(window_);
  // A chunk bounds the lock hold (and the prefetches in flight).
  constexpr uint32_t kChunk = 64;
  for (size_t sh = 0; sh < shards_.size(); ++sh) {
    Shard& s = *shards_[sh];
    for (uint32_t from = first[sh]; from < first[sh + 1]; from += kChunk) {
      const uint32_t to = std::min(first[sh + 1], from + kChunk);
      absl::MutexLock lock(&s.mu);
      s.MaybeRetire(now_ns, window_ns, max_per_generation_);
      // A key not in the current generation is looked up in the previous
      // one too: both probes' misses are issued before the first is used.
      for (uint32_t j = from; j < to; ++j) {
        s.current.prefetch(keys[order[j]]);
        s.previous.prefetch(keys[order[j]]);
      }
      for (uint32_t j = from; j < to; ++j) {
        const uint32_t i = order[j];
        seen[i] = s.Seen(keys[i], event_ns[i], window_ns);
      }
    }
  }
}

void DedupFilter::Forget(absl::Span<const uint64_t> keys) {
  for (uint64_t key : keys) {
    if (key == 0) continue;
    Shard& s = *shards_[ShardIndex(key)];
    absl::MutexLock lock(&s.mu);
    s.current.erase(key);
  }
}

void DedupFilter::Remember(const std::vector<SeenMark>& marks, absl::Time now) {
  if (marks.empty()) return;
  const int64_t now_ns = absl::ToUnixNanos(now);
  const int64_t window_ns = absl::ToInt64Nanoseconds(window_);
  // Indexes of the marks per shard, applied a chunk per lock hold so ingest
  // threads wait at most one chunk.
  constexpr size_t kChunk = 256;
  std::vector<std::vector<uint32_t>> by_shard(shards_.size());
  for (size_t i = 0; i < marks.size(); ++i) {
    by_shard[ShardIndex(marks[i].key)].push_back(static_cast<uint32_t>(i));
  }
  for (size_t sh = 0; sh < shards_.size(); ++sh) {
    Shard& s = *shards_[sh];
    const std::vector<uint32_t>& idx = by_shard[sh];
    for (size_t from = 0; from < idx.size(); from += kChunk) {
      absl::MutexLock lock(&s.mu);
      for (size_t j = from; j < std::min(idx.size(), from + kChunk); ++j) {
        s.MaybeRetire(now_ns, window_ns, max_per_generation_);
        const SeenMark& m = marks[idx[j]];
        auto [it, inserted] = s.current.try_emplace(m.key, m.view_ns);
        if (inserted) {
          auto old = s.previous.find(m.key);
          if (old != s.previous.end()) it->second = std::max(old->second, m.view_ns);
        } else {
          it->second = std::max(it->second, m.view_ns);
        }
      }
    }
  }
}

size_t DedupFilter::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    absl::MutexLock lock(&s->mu);
    n += s->current.size() + s->previous.size();
  }
  return n;
}

RateLimiter::RateLimiter(int64_t per_minute, size_t max_keys, int shards)
    : per_minute_(std::max<int64_t>(0, per_minute)),
      max_per_shard_(std::max<size_t>(16, max_keys / std::max(1, shards))) {
  for (int i = 0; i < std::max(1, shards); ++i) shards_.push_back(std::make_unique<Shard>());
}

bool RateLimiter::Shard::Allow(uint64_t key, int64_t minute_now, int64_t per_minute,
                               size_t max_keys) {
  if (minute_now != minute) {
    counts.clear();
    minute = minute_now;
  }
  auto it = counts.find(key);
  if (it == counts.end()) {
    if (counts.size() >= max_keys) return true;
    counts.emplace(key, 1);
    return true;
  }
  if (it->second >= per_minute) return false;
  ++it->second;
  return true;
}

bool RateLimiter::Allow(uint64_t key, absl::Time now) {
  if (per_minute_ == 0) return true;
  Shard& s = *shards_[ShardIndex(key)];
  absl::MutexLock lock(&s.mu);
  return s.Allow(key, absl::ToUnixSeconds(now) / 60, per_minute_, max_per_shard_);
}

void RateLimiter::AllowBatch(absl::Span<const uint64_t> keys, absl::Time now, bool* allowed) {
  if (per_minute_ == 0) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] != 0) allowed[i] = true;
    }
    return;
  }
  const int64_t minute = absl::ToUnixSeconds(now) / 60;
  std::vector<uint32_t> order, first;
  GroupByShard(keys, shards_.size(), [this](uint64_t k) { return ShardIndex(k); }, order, first);
  for (size_t sh = 0; sh < shards_.size(); ++sh) {
    if (first[sh] == first[sh + 1]) continue;
    Shard& s = *shards_[sh];
    absl::MutexLock lock(&s.mu);
    // The group's probes issued together (as in DedupFilter::SeenWithinBatch).
    for (uint32_t j = first[sh]; j < first[sh + 1]; ++j) s.counts.prefetch(keys[order[j]]);
    for (uint32_t j = first[sh]; j < first[sh + 1]; ++j) {
      allowed[order[j]] = s.Allow(keys[order[j]], minute, per_minute_, max_per_shard_);
    }
  }
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    absl::MutexLock lock(&s->mu);
    n += s->counts.size();
  }
  return n;
}

uint64_t MixHash(uint64_t a, uint64_t b) {
  uint64_t h = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  // fmix64 (MurmurHash3 finalizer).
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb93c185a9ca3ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace newsgrid::trending
