// reader-web: the reader pages of the site (article, front, section, tag
// and search pages, the live trending box), rendered from the article and
// trending services. See site.h for the routes and README.md for the
// configuration.
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "article-service/view_forwarder.h"
#include "reader-web/site.h"
#include "reader-web/templates.h"
#include "reader-web/trending_feed.h"
#include "runtime/auth.h"
#include "runtime/http_server.h"
#include "runtime/logging.h"
#include "runtime/peer_channel.h"
#include "runtime/server.h"
#include "runtime/status_macros.h"

ABSL_FLAG(std::string, article_service_addr, "",
          "Address of the article service (host:port; Kubernetes: its headless Service).");
ABSL_FLAG(std::string, trending_service_addr, "",
          "Address of the trending service (host:port; Kubernetes: its headless Service).");
ABSL_FLAG(std::string, site_name, "newsgrid", "Name of the site, in titles and metadata.");
ABSL_FLAG(std::string, site_lang, "en", "Language of the pages (the lang attribute).");
ABSL_FLAG(std::string, public_url, "",
          "Origin of the site for canonical and Open Graph URLs, e.g. https://news.example; "
          "empty: http:// and the request's Host header.");
ABSL_FLAG(std::string, time_zone, "UTC",
          "Time zone of the dates shown to readers (IANA name, e.g. Europe/Oslo).");
ABSL_FLAG(std::string, nav_sections, "world,local,business,science,travel",
          "Sections linked in the navigation, comma-separated.");
ABSL_FLAG(int, http_threads, 64,
          "Connections served at once (a keep-alive connection or live stream holds one).");
ABSL_FLAG(absl::Duration, page_ttl, absl::Seconds(1),
          "How long a rendered page is served before it is rendered again.");
ABSL_FLAG(absl::Duration, page_stale_for, absl::Seconds(10),
          "How long past --page_ttl an old page is served while a new one renders, or while "
          "the article service fails.");
ABSL_FLAG(int, page_cache_entries, 10000, "Rendered pages kept in memory.");
ABSL_FLAG(absl::Duration, rpc_deadline, absl::Seconds(2), "Deadline of each call to a service.");
ABSL_FLAG(absl::Duration, cdn_max_age, absl::Seconds(10),
          "How long shared caches (CDN) keep a page (Cache-Control s-maxage).");
ABSL_FLAG(int, live_max_streams, 32, "Live trending streams open at once; more get 503.");
ABSL_FLAG(absl::Duration, live_max_duration, absl::Minutes(5),
          "How long one live stream stays open (the browser then reconnects).");
ABSL_FLAG(absl::Duration, engagement_ping_interval, absl::Seconds(15),
          "How often an article page reports its reader's engaged time while the reader is "
          "active; at least the trending service's --min_ping_interval (10s by default).");
ABSL_FLAG(std::string, templates_dir, "",
          "Folder of *.mustache templates overriding the built-in ones (development).");
ABSL_FLAG(std::string, static_dir, "",
          "Folder of static files overriding the built-in ones (development).");

namespace {

namespace rd = newsgrid::reader;

// Everything this binary reads from its flags beyond the shared settings,
// all checked before anything starts.
struct ReaderSettings {
  rd::SiteOptions site;
  int threads = 0;
  rd::Templates templates;
  std::shared_ptr<grpc::Channel> article_channel;
  std::shared_ptr<grpc::Channel> trending_channel;
};

absl::StatusOr<ReaderSettings> ReaderSettingsFromFlags(const newsgrid::ServerConfig& config) {
  const std::string article_addr = absl::GetFlag(FLAGS_article_service_addr);
  const std::string trending_addr = absl::GetFlag(FLAGS_trending_service_addr);
  if (article_addr.empty()) {
    return absl::InvalidArgumentError("--article_service_addr is required");
  }
  if (trending_addr.empty()) {
    return absl::InvalidArgumentError("--trending_service_addr is required");
  }
  rd::SiteOptions site;
  site.site_name = absl::GetFlag(FLAGS_site_name);
  site.lang = absl::GetFlag(FLAGS_site_lang);
  site.public_url = absl::GetFlag(FLAGS_public_url);
  while (!site.public_url.empty() && site.public_url.back() == '/') site.public_url.pop_back();
  if (!site.public_url.empty() && site.public_url.rfind("http://", 0) != 0 &&
      site.public_url.rfind("https://", 0) != 0) {
    return absl::InvalidArgumentError("--public_url must start with http:// or https://");
  }
  if (!absl::LoadTimeZone(absl::GetFlag(FLAGS_time_zone), &site.time_zone)) {
    return absl::InvalidArgumentError("--time_zone is not a known time zone");
  }
  std::vector<std::string> nav =
      absl::StrSplit(absl::GetFlag(FLAGS_nav_sections), ',', absl::SkipWhitespace());
  site.nav_sections = std::move(nav);
  site.page_ttl = absl::GetFlag(FLAGS_page_ttl);
  site.page_stale_for = absl::GetFlag(FLAGS_page_stale_for);
  site.rpc_deadline = absl::GetFlag(FLAGS_rpc_deadline);
  site.cdn_max_age = absl::GetFlag(FLAGS_cdn_max_age);
  site.live_max_streams = absl::GetFlag(FLAGS_live_max_streams);
  site.live_max_duration = absl::GetFlag(FLAGS_live_max_duration);
  site.engagement_ping_interval = absl::GetFlag(FLAGS_engagement_ping_interval);
  const int threads = absl::GetFlag(FLAGS_http_threads);
  const int cache_entries = absl::GetFlag(FLAGS_page_cache_entries);
  using newsgrid::CheckDuration;
  using newsgrid::CheckRange;
  RETURN_IF_ERROR(CheckRange("http_threads", threads, 2, 4096));
  RETURN_IF_ERROR(CheckRange("page_cache_entries", cache_entries, 1, 10000000));
  RETURN_IF_ERROR(CheckRange("live_max_streams", site.live_max_streams, 0, threads - 1));
  RETURN_IF_ERROR(
      CheckDuration("page_ttl", site.page_ttl, absl::ZeroDuration(), absl::Hours(1)));
  RETURN_IF_ERROR(
      CheckDuration("page_stale_for", site.page_stale_for, absl::ZeroDuration(), absl::Hours(1)));
  RETURN_IF_ERROR(CheckDuration("rpc_deadline", site.rpc_deadline, absl::Milliseconds(10),
                                absl::Minutes(1)));
  RETURN_IF_ERROR(
      CheckDuration("cdn_max_age", site.cdn_max_age, absl::ZeroDuration(), absl::Hours(24)));
  RETURN_IF_ERROR(CheckDuration("live_max_duration", site.live_max_duration, absl::Seconds(1),
                                absl::Hours(24)));
  RETURN_IF_ERROR(CheckDuration("engagement_ping_interval", site.engagement_ping_interval,
                                absl::Seconds(1), absl::Minutes(10)));
  site.page_cache_entries = static_cast<size_t>(cache_entries);

  ASSIGN_OR_RETURN(
      rd::Templates templates,
      rd::Templates::Load(absl::GetFlag(FLAGS_templates_dir), absl::GetFlag(FLAGS_static_dir)));
  // Reads are safe to retry; the view stream is made idempotent by its
  // batch and event ids (view_forwarder.h).
  ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::Channel> article_channel,
      newsgrid::MakePeerChannelWithTls(
          article_addr, config.peer_tls,
          {.idempotent_methods = {{"news.article.v1.ArticleService", "GetArticleBySlug"},
                                  {"news.article.v1.ArticleService", "ListArticles"},
                                  {"news.article.v1.ArticleService", "SearchArticles"},
                                  {"news.article.v1.ArticleService", "ListRelatedArticles"}}}));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> trending_channel,
                   newsgrid::MakePeerChannelWithTls(trending_addr, config.peer_tls, {}));
  return ReaderSettings{.site = std::move(site),
                        .threads = threads,
                        .templates = std::move(templates),
                        .article_channel = std::move(article_channel),
                        .trending_channel = std::move(trending_channel)};
}

}  // namespace

int main(int argc, char** argv) {
  newsgrid::ServerConfig config = newsgrid::InitServerOrExit(
      argc, argv, {.env_prefix = "READER", .port = 8080, .metrics_port = 9093, .database = false});
  const ReaderSettings settings = newsgrid::ConfigOrExit(argv[0], ReaderSettingsFromFlags(config));
  const int threads = settings.threads;
  // The token this binary presents to both services (views:write for the
  // trending service; reads are public).
  newsgrid::PeerToken token(absl::GetFlag(FLAGS_peer_token_file));
  auto article_stub = news::article::v1::ArticleService::NewStub(settings.article_channel);
  // The trending box: last hour, top 5, by views and by engaged time.
  rd::TrendingFeed most_read(
      news::trending::v1::TrendingService::NewStub(settings.trending_channel),
      {.metric = news::trending::v1::VIEWS, .window = absl::Hours(1), .limit = 5}, &token);
  rd::TrendingFeed most_engaged(
      news::trending::v1::TrendingService::NewStub(settings.trending_channel),
      {.metric = news::trending::v1::ENGAGED_TIME, .window = absl::Hours(1), .limit = 5}, &token);
  newsgrid::article::ViewForwarder views({.token = &token}, settings.trending_channel);
  rd::Site pages(settings.site, settings.templates, *article_stub,
                 {.most_read = most_read, .most_engaged = most_engaged}, &views, &token);

  newsgrid::HttpServer server("reader-web", config, {.threads = threads});
  server.SetHandler(
      [&pages](const httplib::Request& req, httplib::Response& res) { pages.Handle(req, res); });
  server.OnShutdownStarted([&] {
    pages.Shutdown();  // live streams end; browsers reconnect elsewhere
    most_read.Stop();
    most_engaged.Stop();
  });
  most_read.Start();
  most_engaged.Start();
  const int code = server.Run();
  // Views and pings of the last requests still go out (the flush is bounded).
  const size_t lost = views.Shutdown(absl::Now() + config.drain_deadline);
  if (lost > 0) NG_LOG_WARN("views not delivered at shutdown", {{"views", lost}});
  return code;
}
