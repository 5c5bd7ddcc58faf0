// The trending service's own flags (each also settable as TRENDING_<FLAG>),
// validated at start.
//
//   TrendingConfig c = newsgrid::ConfigOrExit(argv[0], TrendingConfigFromFlags());
#ifndef NEWSGRID_TRENDING_SERVICE_TRENDING_CONFIG_H_
#define NEWSGRID_TRENDING_SERVICE_TRENDING_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "trending-service/ingestor.h"
#include "trending-service/synchronizer.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

struct TrendingConfig {
  StoreOptions store;
  IngestOptions ingest;
  SyncOptions sync;
  std::string visitor_salt_secret;
  bool visitor_salt_secret_generated = false;
  std::string replica_id;
  bool ack_after_flush = false;
  absl::Duration lock_hold_log_threshold = absl::Milliseconds(10);
  int ingest_threads = 4;
  int64_t max_queued_views = 250'000;
};

absl::StatusOr<TrendingConfig> TrendingConfigFromFlags();

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_TRENDING_CONFIG_H_
