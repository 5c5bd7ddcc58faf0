// The counting rules of view ingest, as pure pieces: event validation, bot
// user-agent rules, the time rules (future / too old) and the dedup filter.
//
//   BotRules bots = BotRules::Parse("bot,crawler,spider");
//   if (bots.IsBot(user_agent)) ...;
//   TimeCheck t = CheckViewTime(view_time, now, {.max_clock_skew = ..., .retention = ...});
//   DedupFilter dedup(absl::Minutes(30), /*max_entries=*/1 << 22);
//   if (dedup.SeenWithin(key, event_time, now)) ...;  // a repeat
//   dedup.Remember(marks_of_other_replicas, now);     // their views count as seen
//   RateLimiter per_visitor(/*per_minute=*/120, /*max_keys=*/1 << 20);
//   if (!per_visitor.Allow(visitor_key, now)) ...;   // RATE_LIMITED
#ifndef NEWSGRID_TRENDING_SERVICE_INGEST_RULES_H_
#define NEWSGRID_TRENDING_SERVICE_INGEST_RULES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "runtime/article_name.h"  // ParseArticleName: the event rules use it

namespace newsgrid::trending {

// Why an event was not counted (mirrors news.trending.v1.RejectReason).
enum class RejectReason {
  kNone = 0,
  kInvalidArticle = 1,
  kInvalidField = 2,
  kFromFuture = 3,
  kTooOld = 4,
  kBot = 5,
  kRateLimited = 6,
  kStoreFull = 7,
  kUnknownPageView = 8,
  kTooFrequent = 9,
};
inline constexpr int kRejectReasonCount = 10;
absl::string_view RejectReasonName(RejectReason r);

// Field limits of a ViewEvent (see the proto).
inline constexpr size_t kMaxVisitorIdLength = 200;
inline constexpr size_t kMaxReferrerLength = 2048;
inline constexpr size_t kMaxUserAgentLength = 1024;
inline constexpr size_t kMaxEventIdLength = 100;
inline constexpr size_t kMaxPageViewIdLength = 100;
inline constexpr size_t kMaxSectionLength = 100;
inline constexpr size_t kMaxMetadataValues = 50;
inline constexpr size_t kMaxMetadataValueLength = 200;

// Case-insensitive substring rules on the User-Agent. An empty user agent is
// not a bot (server-side forwarders often send none).
class BotRules {
 public:
  // Comma-separated patterns; blanks are ignored, case does not matter.
  static BotRules Parse(absl::string_view patterns);
  static constexpr absl::string_view kDefaultPatterns =
      "bot,crawler,spider,slurp,headlesschrome,phantomjs,lighthouse,curl/,wget/,"
      "python-requests,python-urllib,go-http-client,java/,okhttp,facebookexternalhit,"
      "bingpreview,ahrefs,semrush";
  bool IsBot(absl::string_view user_agent) const;
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;  // lower case
};

struct TimeRules {
  absl::Duration max_clock_skew = absl::Seconds(5);
  absl::Duration retention = absl::Hours(24 * 7);
};

struct TimeCheck {
  RejectReason reason = RejectReason::kNone;
  absl::Time time;  // the time to count the view at (future within skew: now)
};

// Unset `view_time` (InfinitePast) means now.
TimeCheck CheckViewTime(absl::Time view_time, absl::Time now, const TimeRules& rules);

// A counted view's dedup key and view time. Replicas write the marks of the
// views they counted with each flush (pg_storage.h) and apply those of the
// others (DedupFilter::Remember), so dedup holds across replicas and
// restarts; see synchronizer.h for the guarantee and its bound.
struct SeenMark {
  uint64_t key = 0;
  int64_t view_ns = 0;  // Unix nanoseconds of the counted view
  bool operator==(const SeenMark&) const = default;
};

// "Was this key seen within `window`?" with bounded memory.
//
// Keys are 64-bit hashes. Each of the striped shards keeps two generations
// of (key -> first counted time); a generation is retired after `window` of
// processing time, so an entry lives between one and two windows. When a
// generation reaches its share of `max_entries` it is retired early: under
// overload the effective window shrinks instead of memory growing. Shard
// i's first generation is cut to (i + 1) / shards of the window and of the
// bound, so that the shards grow and retire their maps at different times,
// not all at once. The repeat test compares event times, so late events
// dedup correctly.
//
// On its own the filter knows the views of this process. Remember() adds
// the views counted by the other replicas and before a restart (their
// SeenMarks, from PostgreSQL through synchronizer.h), so a repeat counts
// once across replicas and restarts, except for two views of one key that
// reach different replicas within the replica staleness bound (~1.6 s),
// and for views lost with an unflushed interval on kill -9 (their marks are
// lost with them). Remembered marks share the same memory bound.
class DedupFilter {
 public:
  DedupFilter(absl::Duration window, size_t max_entries, int shards = 64);

  // True when `key` was recorded with an event time within `window` of
  // `event_time` (a repeat; nothing changes). Otherwise records it and
  // returns false.
  bool SeenWithin(uint64_t key, absl::Time event_time, absl::Time now);

  // True when `key` is held with a time within `window` of `event_time`;
  // records nothing (a membership test, e.g. "is this page view known?").
  bool Holds(uint64_t key, absl::Time event_time) const;

  // SeenWithin for every i with keys[i] != 0 (the others are left alone):
  // seen[i] is its answer, in index order for repeats of a key inside the
  // batch. Each shard's lock is taken once per chunk of keys, whose table
  // slots are prefetched together (a probe of a large table is a cache
  // miss; a batch overlaps them).
  void SeenWithinBatch(absl::Span<const uint64_t> keys, absl::Span<const int64_t> event_ns,
                       absl::Time now, bool* seen);

  // Forgets keys just recorded by SeenWithin(Batch) for views that were then
  // not counted (so that their repeat is not taken for one).
  void Forget(absl::Span<const uint64_t> keys);

  // Records views counted elsewhere (another replica, or this service
  // before a restart) as seen: from now on SeenWithin(key, t) is a repeat
  // while |t - view time| < window, exactly as if the view had been
  // counted here. When the key already has a time, the later of the two is
  // kept, so applying marks is idempotent and order independent (every
  // replica ends up holding the same time for a key). Takes each
  // shard's lock once per chunk of marks, not once per mark.
  void Remember(const std::vector<SeenMark>& marks, absl::Time now);

  size_t size() const;
  absl::Duration window() const { return window_; }

 private:
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<uint64_t, int64_t> current ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<uint64_t, int64_t> previous ABSL_GUARDED_BY(mu);
    int64_t current_since_ns ABSL_GUARDED_BY(mu) = 0;
    // The first generation ends at first_share / shards of the window and
    // of the bound (see MaybeRetire).
    int first_share = 1;
    int shard_count = 1;
    bool retired ABSL_GUARDED_BY(mu) = false;
    // Starts a new generation when the current one is a window old or full.
    void MaybeRetire(int64_t now_ns, int64_t window_ns, size_t max_entries)
        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
    bool Seen(uint64_t key, int64_t t, int64_t window_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  };

  size_t ShardIndex(uint64_t key) const { return (key >> 40) % shards_.size(); }
  const absl::Duration window_;
  const size_t max_per_generation_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// "At most `per_minute` events per key in each minute of processing time",
// with bounded memory: the one-minute counting windows of striped shards.
//
// Fixed windows let a key burst up to twice the limit across a minute
// boundary; that bound is what the limit promises. When a shard already
// tracks its share of `max_keys` keys in the current minute, new keys are
// let through uncounted (memory stays bounded; the limit of keys already
// tracked holds).
class RateLimiter {
 public:
  // `per_minute` 0: no limit.
  RateLimiter(int64_t per_minute, size_t max_keys, int shards = 16);

  // Counts one event of `key`; false when the key already had `per_minute`
  // events this minute (the event must not be counted).
  bool Allow(uint64_t key, absl::Time now);
  // Allow for every i with keys[i] != 0, in index order (allowed[i]); one
  // lock hold per shard.
  void AllowBatch(absl::Span<const uint64_t> keys, absl::Time now, bool* allowed);

  bool enabled() const { return per_minute_ > 0; }
  size_t size() const;

 private:
  struct Shard {
    mutable absl::Mutex mu;
    int64_t minute ABSL_GUARDED_BY(mu) = 0;
    absl::flat_hash_map<uint64_t, int64_t> counts ABSL_GUARDED_BY(mu);
    bool Allow(uint64_t key, int64_t minute_now, int64_t per_minute, size_t max_keys)
        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  };
  size_t ShardIndex(uint64_t key) const { return (key >> 48) % shards_.size(); }
  const int64_t per_minute_;
  const size_t max_per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// A well-mixed combination of two hashes (dedup keys).
uint64_t MixHash(uint64_t a, uint64_t b);

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_INGEST_RULES_H_
