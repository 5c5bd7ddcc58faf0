// trending-service: article views aggregated into rankings, over gRPC.
//
// Start: migrations, then the state is restored from PostgreSQL before the
// server accepts calls. Stop (SIGTERM): watch streams end with OK, in-flight
// calls drain, then the last buffered views are flushed (OnDrained).
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "runtime/auth.h"
#include "runtime/hold_timer.h"
#include "runtime/logging.h"
#include "runtime/peer_channel.h"
#include "runtime/server.h"
#include "runtime/status_macros.h"
#include "trending-service/article_catalog.h"
#include "trending-service/pg_storage.h"
#include "trending-service/rankings.h"
#include "trending-service/synchronizer.h"
#include "trending-service/trending_config.h"
#include "trending-service/trending_grpc_service.h"

ABSL_FLAG(std::string, article_service_addr, "",
          "Address of the article service (host:port; Kubernetes: its headless Service), for "
          "titles and visibility. Empty: rankings come without titles.");
ABSL_FLAG(absl::Duration, article_metadata_ttl, absl::Seconds(2),
          "How long fetched article metadata is used before it is fetched again: an unpublished "
          "or deleted article leaves rankings within this time (plus one ranking).");

ABSL_FLAG(absl::Duration, ranking_max_staleness, absl::Seconds(1),
          "Rankings are served from memory while younger than this (recomputed in the "
          "background from half of it on); 0 computes every ranking on request.");

namespace newsgrid {
const MigrationSet& TrendingMigrations();
}

namespace {

// This binary's settings beyond the shared ones, all checked before
// anything starts. The flags not kept here are read as they are by main.
struct TrendingSettings {
  newsgrid::trending::TrendingConfig trending;
  // Null without --article_service_addr: rankings come without titles.
  std::shared_ptr<grpc::Channel> article_channel;
};

absl::StatusOr<TrendingSettings> TrendingSettingsFromFlags(const newsgrid::ServerConfig& config) {
  TrendingSettings settings;
  ASSIGN_OR_RETURN(settings.trending, newsgrid::trending::TrendingConfigFromFlags());
  RETURN_IF_ERROR(newsgrid::CheckDuration("article_metadata_ttl",
                                          absl::GetFlag(FLAGS_article_metadata_ttl),
                                          absl::Milliseconds(10), absl::Minutes(10)));
  const absl::Duration ranking_staleness = absl::GetFlag(FLAGS_ranking_max_staleness);
  if (ranking_staleness != absl::ZeroDuration()) {
    RETURN_IF_ERROR(newsgrid::CheckDuration("ranking_max_staleness", ranking_staleness,
                                            absl::Milliseconds(20), absl::Seconds(10)));
  }
  const std::string article_addr = absl::GetFlag(FLAGS_article_service_addr);
  if (!article_addr.empty()) {
    ASSIGN_OR_RETURN(
        settings.article_channel,
        newsgrid::MakePeerChannelWithTls(
            article_addr, config.peer_tls,
            {.idempotent_methods = {{"news.article.v1.ArticleService", "BatchGetArticles"}}}));
  }
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace newsgrid::trending;
  newsgrid::ServerConfig config = newsgrid::InitServerOrExit(
      argc, argv, {.env_prefix = "TRENDING", .port = 50052, .metrics_port = 9092});
  const TrendingSettings settings =
      newsgrid::ConfigOrExit(argv[0], TrendingSettingsFromFlags(config));
  const TrendingConfig& tc = settings.trending;
  const absl::Duration ranking_staleness = absl::GetFlag(FLAGS_ranking_max_staleness);
  newsgrid::ServerRuntime runtime("trending-service", config, newsgrid::TrendingMigrations());
  if (!runtime.Prepare().ok()) return 1;
  if (config.migrate == newsgrid::MigrateMode::kOnly) return runtime.Run();

  if (tc.visitor_salt_secret_generated) {
    NG_LOG_WARN("no --visitor_salt_secret: using a random one; unique visitors will not merge "
                "across replicas or restarts");
  }
  newsgrid::SetLongHoldThreshold(tc.lock_hold_log_threshold);
  const newsgrid::Clock& clock = newsgrid::SystemClock::Get();
  VisitorHasher hasher(tc.visitor_salt_secret);
  ViewStore store(tc.store, clock);
  Ingestor ingestor(store, clock, hasher, tc.ingest);
  PgStorage storage(runtime.db(), tc.replica_id);
  Synchronizer sync(store, ingestor, storage, tc.sync);
  // Titles, visibility and filter metadata come from the article service
  // (BatchGetArticles, cached for --article_metadata_ttl); without it, from
  // the metadata carried in events.
  newsgrid::PeerToken peer_token(absl::GetFlag(FLAGS_peer_token_file));
  std::unique_ptr<ArticleCatalog> catalog;
  std::unique_ptr<ArticleCatalogSource> catalog_source;
  if (settings.article_channel == nullptr) {
    NG_LOG_WARN("no --article_service_addr: rankings carry no titles and keep unpublished articles");
  } else {
    catalog = std::make_unique<ArticleCatalog>(
        settings.article_channel, ArticleCatalog::Options{.ttl = absl::GetFlag(FLAGS_article_metadata_ttl),
                                          .token = &peer_token});
    catalog_source = std::make_unique<ArticleCatalogSource>(*catalog);
    runtime.AddDependencyStatus("newsgrid.dependency.article-service",
                                [&catalog] { return catalog->peer_reachable(); });
  }
  std::unique_ptr<RankingCache> ranking_cache;
  if (ranking_staleness != absl::ZeroDuration()) {
    ranking_cache = std::make_unique<RankingCache>(
        RankingCacheOptions{.max_staleness = ranking_staleness,
                            .refresh_after = ranking_staleness / 2},
        clock, [&store](const TrendingQuery& q) { return store.Trending(q); });
    ranking_cache->Start();
  }
  Rankings rankings(store, catalog_source.get(), ranking_cache.get());
  if (absl::Status s = sync.Restore(absl::Now() + absl::Minutes(5)); !s.ok()) {
    NG_LOG_ERROR("cannot restore the trending state", {{"error", std::string(s.message())}});
    return 1;
  }
  sync.Start();
  NG_LOG_INFO("trending ready", {{"replica", tc.replica_id},
                                 {"ack_after_flush", tc.ack_after_flush},
                                 {"flush_interval_ms",
                                  absl::ToInt64Milliseconds(tc.sync.flush_interval)}});

  newsgrid::Authorizer authorizer(absl::GetFlag(FLAGS_auth_tokens_file));
  TrendingGrpcService service({store, ingestor, sync, rankings, runtime.workers(), authorizer},
                              tc.ack_after_flush, tc.ingest_threads,
                              tc.max_queued_views);
  runtime.AddService(&service, TrendingGrpcService::kServiceName);
  runtime.AddHealthCheck(TrendingGrpcService::kServiceName, [&sync] { return sync.Healthy(); });
  runtime.OnShutdownStarted([&service] { service.EndWatches(); });
  runtime.OnDrained([&sync](absl::Time deadline) {
    sync.Stop(std::max(deadline, absl::Now() + absl::Seconds(2)));
  });
  return runtime.Run();
}
