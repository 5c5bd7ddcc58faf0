// The reader pages: routes, the page cache, conditional requests, and the
// view beacon. A client of both services like any other: article reads
// (READER view, so drafts and deleted articles are never shown) and lists
// from the article service, the trending rankings from TrendingFeeds,
// views and engagement pings to the trending service through the
// ViewForwarder's RecordViews stream.
//
//   GET  /                    latest articles and the trending box
//   GET  /articles/{slug}     the article page (301 from a former slug)
//   GET  /sections/{section}  GET /tags/{tag}  lists, ?page= from next_page_token
//   GET  /search?q=           SearchArticles with highlighted snippets, ?page=
//   POST /prefs               Read mode / font size cookie, 303 back
//   GET  /views/{id}?pv=      the page-view beacon (1x1 GIF, visitor cookie)
//   POST /engaged/{id}        an engagement ping: pv=, s= engaged seconds (204)
//   GET  /live/trending?metric=read|engaged
//                             Server-Sent Events: the trending box, live
//   GET  /static/{file}       CSS, script, images
//
// Pages are rendered once per URL and reading preferences and kept for
// --page_ttl; a request for an expired page is answered from the old copy
// while one request renders the new one (up to --page_stale_for), so a
// popular page costs the services a few calls per second whatever the
// traffic. Views are not counted by the page response, which a CDN may
// cache (Cache-Control public), but by the beacon the page embeds, which
// no cache stores: every page view reaching a browser counts, once the
// visitor's browser loads the beacon. Its request carries the visitor
// cookie (set by the beacon's response when absent) and the User-Agent,
// which the trending service uses to leave bots uncounted. The page's
// script (static/engage.js) makes the page view's id (a cached page cannot
// carry one), loads the beacon with it and, while the page is visible and
// its reader active, sends an engagement ping every
// --engagement_ping_interval; a browser without JavaScript loads the
// beacon from <noscript>, counting the view without pings.
//
//   Site site(options, templates, article_stub, {most_read, most_engaged}, &forwarder, &token);
//   server.SetHandler([&](const auto& req, auto& res) { site.Handle(req, res); });
#ifndef NEWSGRID_READER_WEB_SITE_H_
#define NEWSGRID_READER_WEB_SITE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "article-service/view_forwarder.h"
#include "httplib.h"
#include "news/article/v1/article_service.grpc.pb.h"
#include "reader-web/page_beacon.h"
#include "reader-web/reader_cookies.h"
#include "reader-web/templates.h"
#include "reader-web/trending_feed.h"
#include "runtime/auth.h"

namespace newsgrid::reader {

struct SiteOptions {
  std::string site_name = "newsgrid";
  std::string lang = "en";
  // Absolute origin of the site for canonical and Open Graph URLs
  // ("https://news.example"); empty: from the request's Host header.
  std::string public_url;
  absl::TimeZone time_zone = absl::UTCTimeZone();
  std::vector<std::string> nav_sections;
  absl::Duration page_ttl = absl::Seconds(1);
  absl::Duration page_stale_for = absl::Seconds(10);
  size_t page_cache_entries = 10000;
  absl::Duration rpc_deadline = absl::Seconds(2);
  // Cache-Control of public pages: shared caches (CDN) keep them this long
  // (s-maxage) and may serve them stale while revalidating or when the
  // origin fails; browsers revalidate each time (max-age=0) with the ETag.
  absl::Duration cdn_max_age = absl::Seconds(10);
  absl::Duration stale_while_revalidate = absl::Seconds(60);
  absl::Duration stale_if_error = absl::Hours(24);
  absl::Duration retry_after = absl::Seconds(5);  // on 503
  int live_max_streams = 32;
  absl::Duration live_max_duration = absl::Minutes(5);
  // A comment line this often on an idle live stream: proxies keep it open,
  // and a reader who left is noticed (the write fails) within two of them,
  // freeing the thread and the stream slot.
  absl::Duration live_keepalive = absl::Seconds(2);
  // How often an article page sends an engagement ping while its reader is
  // active (served to the page's script). At least the trending service's
  // --min_ping_interval (10 s by default), or pings are turned away.
  absl::Duration engagement_ping_interval = absl::Seconds(15);
};

// The rankings of the trending box, one per tab of its switch.
struct TrendingFeeds {
  TrendingFeed& most_read;     // VIEWS
  TrendingFeed& most_engaged;  // ENGAGED_TIME
};

// One rendered response, as cached.
struct RenderedPage {
  int status = 200;
  std::string body;
  std::string location;  // 301
  std::string etag;
  absl::Time last_modified;
  bool cacheable = true;  // false: errors that must not be kept (503)
};

class Site {
 public:
  Site(SiteOptions options, const Templates& templates,
       news::article::v1::ArticleService::StubInterface& articles, TrendingFeeds trending,
       article::ViewForwarder* views, PeerToken* token);

  void Handle(const httplib::Request& req, httplib::Response& res);

  // Ends open live streams (shutdown).
  void Shutdown() { shutting_down_ = true; }

  // The article service answered the last call (or none was made yet).
  bool article_service_reachable() const { return article_reachable_.load(); }

 private:
  struct CacheEntry {
    std::shared_ptr<const RenderedPage> page;
    absl::Time rendered;
    bool refreshing = false;
  };
  using RenderFn = std::function<RenderedPage()>;

  void ServePage(const httplib::Request& req, httplib::Response& res, const std::string& key,
                 const ReadingPrefs& prefs, const RenderFn& render);
  std::shared_ptr<const RenderedPage> CachedOrRender(const std::string& key,
                                                     const RenderFn& render);

  RenderedPage ArticlePage(const std::string& slug, const std::string& origin,
                           const ReadingPrefs& prefs);
  RenderedPage FrontPage(const std::string& origin, const ReadingPrefs& prefs);
  RenderedPage ListingPage(const std::string& kind, const std::string& value,
                           const std::string& page_token, const std::string& origin,
                           const ReadingPrefs& prefs);
  RenderedPage SearchPage(const std::string& query, const std::string& page_token,
                          const std::string& origin, const ReadingPrefs& prefs);
  RenderedPage ErrorPage(int status, const std::string& heading, const std::string& message,
                         const ReadingPrefs& prefs);
  // What every page shows: language, reading preferences, navigation, the
  // trending box.
  mstch::map PageContext(const ReadingPrefs& prefs, const std::string& page_title,
                         const std::string& current_section) const;

  void Beacon(const httplib::Request& req, httplib::Response& res, const std::string& id);
  void Engaged(const httplib::Request& req, httplib::Response& res, const std::string& id);
  // The page event of a checked beacon request: its visitor (from the
  // cookie, set on `res` when missing) and User-Agent.
  article::PageEvent PageEventOf(const httplib::Request& req, httplib::Response& res,
                                 PageBeacon beacon);
  void Prefs(const httplib::Request& req, httplib::Response& res);
  void Live(const httplib::Request& req, httplib::Response& res);
  void Static(const httplib::Request& req, httplib::Response& res, const std::string& path);

  void Prepare(grpc::ClientContext& ctx);
  // Records whether a call reached the article service.
  void NoteArticleStatus(const grpc::Status& s);
  std::string Origin(const httplib::Request& req) const;

  const SiteOptions options_;
  const Templates& templates_;
  news::article::v1::ArticleService::StubInterface& articles_;
  const TrendingFeeds trending_;
  article::ViewForwarder* const views_;
  PeerToken* const token_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> article_reachable_{true};
  std::atomic<int> live_streams_{0};
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);
};

// Whether If-None-Match `header` ("*", or a list of possibly weak tags)
// matches `etag`.
bool EtagMatches(const std::string& header, const std::string& etag);

}  // namespace newsgrid::reader

#endif  // NEWSGRID_READER_WEB_SITE_H_
