#include "trending-service/trending_config.h"

#include <random>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "runtime/config.h"
#include "runtime/status_macros.h"

ABSL_FLAG(absl::Duration, retention, absl::Hours(24 * 7),
          "How long views are kept (and the longest window); at least 25h.");
ABSL_FLAG(absl::Duration, hot_half_life, absl::Hours(1),
          "Half-life of the HOT score's time decay; must be the same on all replicas.");
ABSL_FLAG(absl::Duration, dedup_window, absl::Minutes(30),
          "A repeat view of an article by the same visitor within this time counts once.");
ABSL_FLAG(int64_t, dedup_max_entries, int64_t{1} << 22,
          "Memory bound of the dedup filter (entries); beyond it the window shrinks.");
ABSL_FLAG(absl::Duration, max_clock_skew, absl::Seconds(5),
          "How far in the future a view_time may be (counted as now).");
ABSL_FLAG(std::string, bot_user_agents, std::string(newsgrid::trending::BotRules::kDefaultPatterns),
          "Comma-separated case-insensitive User-Agent substrings of bots; empty: none.");
ABSL_FLAG(std::string, visitor_salt_secret, "",
          "Secret from which the daily visitor-id salts derive; set the same one on every "
          "replica (empty: a random one per process, so unique visitors do not merge across "
          "replicas or restarts). Never logged.");
ABSL_FLAG(int64_t, max_views_per_visitor_per_minute, 120,
          "Counted views per visitor id per minute (all articles); the excess is rejected as "
          "RATE_LIMITED. 0: no limit.");
ABSL_FLAG(int64_t, max_views_per_source_per_minute, 0,
          "Counted views per article per minute from one caller address; the excess is "
          "RATE_LIMITED. 0: no limit (an article-service replica forwarding reader views is "
          "one source: set it above the busiest article's views per replica).");
ABSL_FLAG(absl::Duration, flush_interval, absl::Seconds(1),
          "How often buffered views are flushed to PostgreSQL (the crash loss bound).");
ABSL_FLAG(absl::Duration, poll_interval, absl::Milliseconds(500),
          "How often other replicas' views are read from PostgreSQL.");
ABSL_FLAG(absl::Duration, compact_interval, absl::Seconds(60),
          "How often old rows are compacted and expired in PostgreSQL.");
ABSL_FLAG(absl::Duration, delta_log_retention, absl::Minutes(10),
          "How long replica deltas stay in the log; a replica cut off longer must restart.");
ABSL_FLAG(bool, ack_after_flush, false,
          "Answer RecordView(s) only after the flush holding their views (no loss on crash).");
ABSL_FLAG(int, store_shards, 64, "Lock stripes of the in-memory store.");
ABSL_FLAG(int64_t, max_articles, 1'000'000,
          "Articles held in memory (views within the retention); views of new articles beyond "
          "it are rejected as STORE_FULL until older ones expire.");
ABSL_FLAG(int64_t, sketch_memory_limit_mb, 256,
          "Memory of the unique-visitor sketches; beyond it the oldest sketches are kept at a "
          "lower precision, then dropped.");
ABSL_FLAG(int64_t, max_unflushed_views, 2'000'000,
          "Views accepted but not yet in PostgreSQL beyond which ingest pushes back (the kill -9 "
          "loss bound while the flush lags).");
ABSL_FLAG(absl::Duration, sketch_checkpoint_interval, absl::Minutes(5),
          "How often changed unique-visitor sketches are written to PostgreSQL (a restart "
          "replays the raises logged since).");
// Twice the cores of the 2-core reference machine: when flushes, ranking
// recomputations and PostgreSQL take a core, batches queue behind two
// threads. Four cut the batches' queueing and RecordViews p99 at half the
// maximum ingest, on a noisy host (trending README).
ABSL_FLAG(int, ingest_threads, 4,
          "Threads counting RecordViews batches (apart from gRPC's threads, so that queries "
          "never queue behind ingest).");
ABSL_FLAG(int64_t, max_queued_views, 250'000,
          "Views of RecordViews batches read but not yet counted beyond which a stream's next "
          "batch is refused with RESOURCE_EXHAUSTED (calls then fail fast instead of waiting "
          "past their deadlines).");
ABSL_FLAG(absl::Duration, lock_hold_log_threshold, absl::Milliseconds(10),
          "A lock or critical section held longer than this, or a wait for a lock longer than "
          "this, is logged at debug level.");
ABSL_FLAG(absl::Duration, min_ping_interval, absl::Seconds(10),
          "Engagement pings: at most one per page view this often (closer: TOO_FREQUENT).");
ABSL_FLAG(absl::Duration, max_engaged_per_ping, absl::Seconds(20),
          "Engagement pings: engaged time counted per ping at most (the pages' ping interval "
          "plus slack).");
ABSL_FLAG(absl::Duration, concurrent_window, absl::Seconds(60),
          "A reader with a ping this recent (to a 60th of the window) counts as reading now "
          "(CONCURRENT_READERS).");
ABSL_FLAG(std::string, replica_id, "",
          "This process's id in the delta log; empty: a random one per start.");

namespace newsgrid::trending {

absl::StatusOr<TrendingConfig> TrendingConfigFromFlags() {
  TrendingConfig c;
  c.store.retention = absl::GetFlag(FLAGS_retention);
  c.store.hot_half_life = absl::GetFlag(FLAGS_hot_half_life);
  c.store.shards = absl::GetFlag(FLAGS_store_shards);
  c.store.max_articles = static_cast<size_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_max_articles)));
  c.store.sketch_memory_limit =
      static_cast<size_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_sketch_memory_limit_mb))) << 20;
  c.sync.max_unflushed_views = absl::GetFlag(FLAGS_max_unflushed_views);
  c.sync.sketch_checkpoint_interval = absl::GetFlag(FLAGS_sketch_checkpoint_interval);
  c.lock_hold_log_threshold = absl::GetFlag(FLAGS_lock_hold_log_threshold);
  c.ingest_threads = absl::GetFlag(FLAGS_ingest_threads);
  c.max_queued_views = absl::GetFlag(FLAGS_max_queued_views);
  c.ingest.dedup_window = absl::GetFlag(FLAGS_dedup_window);
  c.ingest.dedup_max_entries = static_cast<size_t>(absl::GetFlag(FLAGS_dedup_max_entries));
  // Marks waiting for a flush are bounded like the filter they feed.
  c.store.max_pending_seen = c.ingest.dedup_max_entries;
  // Within the dedup window a repeat is never counted: counted views with a
  // visitor id are the unique visitors there.
  c.store.exact_uniques_within = c.ingest.dedup_window;
  c.ingest.time = {.max_clock_skew = absl::GetFlag(FLAGS_max_clock_skew),
                   .retention = c.store.retention};
  c.ingest.bots = BotRules::Parse(absl::GetFlag(FLAGS_bot_user_agents));
  c.ingest.max_views_per_visitor_per_minute = absl::GetFlag(FLAGS_max_views_per_visitor_per_minute);
  c.ingest.max_views_per_source_per_minute = absl::GetFlag(FLAGS_max_views_per_source_per_minute);
  c.sync.flush_interval = absl::GetFlag(FLAGS_flush_interval);
  c.sync.poll_interval = absl::GetFlag(FLAGS_poll_interval);
  c.sync.compact_interval = absl::GetFlag(FLAGS_compact_interval);
  c.sync.delta_log_retention = absl::GetFlag(FLAGS_delta_log_retention);
  c.visitor_salt_secret = absl::GetFlag(FLAGS_visitor_salt_secret);
  c.ack_after_flush = absl::GetFlag(FLAGS_ack_after_flush);
  c.replica_id = absl::GetFlag(FLAGS_replica_id);
  c.ingest.min_ping_interval = absl::GetFlag(FLAGS_min_ping_interval);
  c.ingest.max_engaged_per_ping = absl::GetFlag(FLAGS_max_engaged_per_ping);
  c.ingest.max_page_views = c.ingest.dedup_max_entries / 2;
  c.store.concurrent_window = absl::GetFlag(FLAGS_concurrent_window);

  if (c.visitor_salt_secret.empty()) {
    // Works for a single process, but unique-visitor sketches then do not
    // merge across replicas or restarts (the same visitor hashes apart).
    std::random_device rd;
    c.visitor_salt_secret = absl::StrFormat("%08x%08x%08x%08x", rd(), rd(), rd(), rd());
    c.visitor_salt_secret_generated = true;
  } else if (c.visitor_salt_secret.size() < 8) {
    return absl::InvalidArgumentError("--visitor_salt_secret must be at least 8 characters");
  }
  for (const absl::Status& s : {
           CheckDuration("retention", c.store.retention, absl::Hours(25), absl::Hours(24 * 90)),
           CheckDuration("hot_half_life", c.store.hot_half_life, absl::Minutes(1),
                         absl::Hours(24 * 30)),
           CheckDuration("dedup_window", c.ingest.dedup_window, absl::Seconds(1), absl::Hours(24)),
           CheckRange("dedup_max_entries", absl::GetFlag(FLAGS_dedup_max_entries), 1024,
                      int64_t{1} << 32),
           CheckDuration("max_clock_skew", c.ingest.time.max_clock_skew, absl::ZeroDuration(),
                         absl::Minutes(10)),
           CheckDuration("flush_interval", c.sync.flush_interval, absl::Milliseconds(10),
                         absl::Minutes(1)),
           CheckDuration("poll_interval", c.sync.poll_interval, absl::Milliseconds(10),
                         absl::Minutes(1)),
           CheckDuration("compact_interval", c.sync.compact_interval, absl::Milliseconds(100),
                         absl::Hours(1)),
           CheckDuration("delta_log_retention", c.sync.delta_log_retention, absl::Seconds(10),
                         absl::Hours(24)),
           CheckRange("store_shards", c.store.shards, 1, 4096),
           CheckRange("ingest_threads", c.ingest_threads, 1, 64),
           CheckRange("max_queued_views", c.max_queued_views, int64_t{1}, int64_t{1} << 32),
           CheckRange("max_articles", absl::GetFlag(FLAGS_max_articles), int64_t{1000},
                      int64_t{1} << 32),
           CheckRange("sketch_memory_limit_mb", absl::GetFlag(FLAGS_sketch_memory_limit_mb),
                      int64_t{1}, int64_t{1} << 20),
           CheckRange("max_unflushed_views", c.sync.max_unflushed_views, int64_t{1000},
                      int64_t{1} << 40),
           CheckDuration("sketch_checkpoint_interval", c.sync.sketch_checkpoint_interval,
                         absl::Seconds(1), absl::Hours(1)),
           CheckDuration("lock_hold_log_threshold", c.lock_hold_log_threshold,
                         absl::Microseconds(1), absl::Minutes(1)),
           CheckRange("max_views_per_visitor_per_minute", c.ingest.max_views_per_visitor_per_minute,
                      int64_t{0}, int64_t{1} << 40),
           CheckRange("max_views_per_source_per_minute", c.ingest.max_views_per_source_per_minute,
                      int64_t{0}, int64_t{1} << 40),
           CheckDuration("min_ping_interval", c.ingest.min_ping_interval, absl::ZeroDuration(),
                         absl::Minutes(10)),
           CheckDuration("max_engaged_per_ping", c.ingest.max_engaged_per_ping, absl::Seconds(1),
                         absl::Hours(1)),
           CheckDuration("concurrent_window", c.store.concurrent_window, absl::Seconds(1),
                         absl::Hours(1)),
       }) {
    RETURN_IF_ERROR(s);
  }
  if (c.replica_id.empty()) {
    std::random_device rd;
    c.replica_id = absl::StrFormat("r-%08x%08x", rd(), rd());
  } else if (c.replica_id.size() > 64) {
    return absl::InvalidArgumentError("--replica_id is longer than 64 characters");
  }
  return c;
}

}  // namespace newsgrid::trending
