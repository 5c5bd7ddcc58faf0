// article-service: the article lifecycle on PostgreSQL, over gRPC.
#include <functional>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "article-service/article_cache.h"
#include "article-service/article_grpc_service.h"
#include "article-service/article_service.h"
#include "article-service/article_store.h"
#include "article-service/invalidation_listener.h"
#include "article-service/page_token.h"
#include "article-service/slug.h"
#include "article-service/view_forwarder.h"
#include "article-service/view_sink.h"
#include "runtime/auth.h"
#include "runtime/clock.h"
#include "runtime/logging.h"
#include "runtime/peer_channel.h"
#include "runtime/server.h"
#include "runtime/status_macros.h"

// The default is for development only: anyone who knows it can forge page
// tokens (which only ever select rows the caller may list anyway). Set a
// random secret in production (ARTICLE_PAGE_TOKEN_SECRET), the same on every
// replica so tokens work across them.
constexpr char kDevTokenSecret[] = "newsgrid-dev-page-token-secret";
ABSL_FLAG(std::string, page_token_secret, kDevTokenSecret,
          "HMAC key for page tokens; the default is for development only");
ABSL_FLAG(int, article_cache_mb, 128,
          "Memory for published articles in the in-process read cache (MiB); 0 disables it");
ABSL_FLAG(absl::Duration, article_cache_ttl, absl::Minutes(5),
          "How long a cached article is served while invalidations from PostgreSQL arrive "
          "(a safety net: changes through any replica invalidate it at once)");
ABSL_FLAG(absl::Duration, article_cache_fallback_ttl, absl::Seconds(2),
          "How long a cached article is served while the invalidation listener is "
          "disconnected: the bound on staleness for changes made through other replicas then");
ABSL_FLAG(int, search_rank_window, 300,
          "Search ranks the newest this many matching articles (cost per search is bounded by "
          "it, not by the archive)");

ABSL_FLAG(std::string, trending_service_addr, "",
          "Address of the trending service (host:port; Kubernetes: its headless Service). "
          "Empty: reader views are not recorded.");
ABSL_FLAG(int, view_buffer_size, 100000,
          "Reader views buffered while the trending service is slow or down; the oldest "
          "are dropped beyond it.");
ABSL_FLAG(int, view_batch_size, 500, "Views per RecordViews batch.");
ABSL_FLAG(absl::Duration, view_batch_linger, absl::Milliseconds(100),
          "Longest a view waits for its batch to fill.");
ABSL_FLAG(absl::Duration, view_stream_max_age, absl::Seconds(2),
          "How long one RecordViews stream stays open; its close acknowledges its batches.");

namespace newsgrid {
const MigrationSet& ArticleMigrations();
}

namespace {

// This binary's settings beyond the shared ones, all checked before
// anything starts. The flags not kept here are read as they are by main.
struct ArticleSettings {
  // Null without --trending_service_addr: reader views are not recorded.
  std::shared_ptr<grpc::Channel> trending_channel;
};

absl::StatusOr<ArticleSettings> ArticleSettingsFromFlags(const newsgrid::ServerConfig& config) {
  using newsgrid::CheckDuration;
  using newsgrid::CheckRange;
  RETURN_IF_ERROR(CheckRange("article_cache_mb", absl::GetFlag(FLAGS_article_cache_mb), 0, 1 << 20));
  RETURN_IF_ERROR(CheckDuration("article_cache_ttl", absl::GetFlag(FLAGS_article_cache_ttl),
                                absl::ZeroDuration(), absl::Hours(24)));
  RETURN_IF_ERROR(CheckDuration("article_cache_fallback_ttl",
                                absl::GetFlag(FLAGS_article_cache_fallback_ttl),
                                absl::ZeroDuration(), absl::Hours(1)));
  RETURN_IF_ERROR(
      CheckRange("search_rank_window", absl::GetFlag(FLAGS_search_rank_window), 10, 100000));
  RETURN_IF_ERROR(
      CheckRange("view_buffer_size", absl::GetFlag(FLAGS_view_buffer_size), 1, 100000000));
  RETURN_IF_ERROR(CheckRange("view_batch_size", absl::GetFlag(FLAGS_view_batch_size), 1, 1000));
  RETURN_IF_ERROR(CheckDuration("view_batch_linger", absl::GetFlag(FLAGS_view_batch_linger),
                                absl::Milliseconds(1), absl::Seconds(10)));
  RETURN_IF_ERROR(CheckDuration("view_stream_max_age", absl::GetFlag(FLAGS_view_stream_max_age),
                                absl::Milliseconds(10), absl::Minutes(10)));
  if (absl::GetFlag(FLAGS_page_token_secret).size() < 16) {
    return absl::InvalidArgumentError("--page_token_secret must be at least 16 characters");
  }
  ArticleSettings settings;
  const std::string trending_addr = absl::GetFlag(FLAGS_trending_service_addr);
  if (!trending_addr.empty()) {
    ASSIGN_OR_RETURN(settings.trending_channel,
                     newsgrid::MakePeerChannelWithTls(trending_addr, config.peer_tls, {}));
  }
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  newsgrid::ServerConfig config = newsgrid::InitServerOrExit(
      argc, argv, {.env_prefix = "ARTICLE", .port = 50051, .metrics_port = 9091});
  const ArticleSettings settings =
      newsgrid::ConfigOrExit(argv[0], ArticleSettingsFromFlags(config));
  if (absl::GetFlag(FLAGS_page_token_secret) == kDevTokenSecret) {
    NG_LOG_WARN("using the development page token secret; set --page_token_secret");
  }
  newsgrid::ServerRuntime runtime("article-service", config, newsgrid::ArticleMigrations());
  runtime.AddPreparedStatements(newsgrid::article::ArticleStore::PreparedStatements());
  if (!runtime.Prepare().ok()) return 1;
  if (config.migrate == newsgrid::MigrateMode::kOnly) return runtime.Run();

  namespace art = newsgrid::article;
  art::PrepareTransliteration();  // before serving, not on the first non-Latin title
  const newsgrid::Clock& clock = newsgrid::SystemClock::Get();
  art::ArticleStore store(runtime.db());
  art::ArticleCache cache(
      {.capacity_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_article_cache_mb)) << 20,
       .ttl = absl::GetFlag(FLAGS_article_cache_ttl),
       .fallback_ttl = absl::GetFlag(FLAGS_article_cache_fallback_ttl)},
      clock);
  // Writes through any replica reach this cache as PostgreSQL notifications;
  // until the listener is up, entries live only the fallback TTL.
  art::InvalidationListener listener({.dsn = config.pg_dsn}, cache);
  if (cache.enabled()) {
    listener.Start();
    runtime.AddDependencyStatus("newsgrid.article.cache-invalidation",
                                [&listener] { return listener.up(); });
    runtime.OnDrained([&listener](absl::Time) { listener.Stop(); });
  }
  art::PageTokenCodec tokens(absl::GetFlag(FLAGS_page_token_secret));
  // Reader views go to the trending service through a bounded buffer; a
  // read never waits for it (view_forwarder.h).
  art::NoopViewSink no_views;
  newsgrid::PeerToken peer_token(absl::GetFlag(FLAGS_peer_token_file));
  std::unique_ptr<art::ViewForwarder> forwarder;
  if (settings.trending_channel == nullptr) {
    NG_LOG_WARN("no --trending_service_addr: reader views are not recorded");
  } else {
    forwarder = std::make_unique<art::ViewForwarder>(
        art::ViewForwarderOptions{
            .buffer_size = static_cast<size_t>(absl::GetFlag(FLAGS_view_buffer_size)),
            .batch_size = absl::GetFlag(FLAGS_view_batch_size),
            .linger = absl::GetFlag(FLAGS_view_batch_linger),
            .stream_max_age = absl::GetFlag(FLAGS_view_stream_max_age),
            .token = &peer_token},
        settings.trending_channel);
    runtime.AddDependencyStatus("newsgrid.dependency.trending-service",
                                [&forwarder] { return forwarder->peer_reachable(); });
    runtime.OnDrained([&forwarder](absl::Time deadline) { forwarder->Shutdown(deadline); });
  }
  // Bodies rendered under older rules (or before body_html existed) are
  // rendered again in batches on the workers, one batch at a time so reads
  // keep their share; reads of such rows render on the fly meanwhile.
  std::function<void()> render_stale_bodies = [&] {
    absl::StatusOr<int> n = store.RenderStaleBodies(absl::Now() + absl::Seconds(30), 200);
    if (!n.ok()) {
      NG_LOG_WARN("rendering stored bodies failed; reads render them on the fly",
                  {{"error", std::string(n.status().message())}});
    } else if (*n > 0) {
      NG_LOG_INFO("rendered stored bodies", {{"articles", *n}});
      runtime.workers().TrySubmit(render_stale_bodies);
    }
  };
  runtime.workers().TrySubmit(render_stale_bodies);
  art::ViewSink& views = forwarder ? static_cast<art::ViewSink&>(*forwarder) : no_views;
  art::ArticleService service(store, cache, clock, tokens, views,
                              {.search_rank_window = absl::GetFlag(FLAGS_search_rank_window)});
  newsgrid::Authorizer authorizer(absl::GetFlag(FLAGS_auth_tokens_file));
  art::ArticleGrpcService grpc_service(service, runtime.workers(), config, authorizer);
  runtime.AddService(&grpc_service, art::ArticleGrpcService::kServiceName);
  return runtime.Run();
}
