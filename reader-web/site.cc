#include "reader-web/site.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "reader-web/page_text.h"
#include "runtime/http_server.h"
#include "runtime/logging.h"

namespace newsgrid::reader {

namespace apb = ::news::article::v1;
namespace tpb = ::news::trending::v1;

namespace {

// Scripts only from this origin, no inline script, no plugins, no framing,
// no <base> rewriting; forms post only here. Images may come from https
// origins (feature images live on the publisher's media hosts).
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'; object-src 'none'";

// A transparent 1x1 GIF, the view beacon's answer.
constexpr unsigned char kPixel[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

bool IsSlug(absl::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) return false;
  }
  return true;
}

// A section or tag from a URL: non-empty, bounded, nothing that needs
// escaping in a filter string literal.
bool IsListValue(absl::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || c == '"' || c == '\\' || c == '/') return false;
  }
  return true;
}

// Percent-encodes everything but unreserved characters (RFC 3986).
std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      absl::StrAppendFormat(&out, "%%%02X", u);
    }
  }
  return out;
}

std::string CacheControlSeconds(absl::Duration d) { return absl::StrCat(absl::ToInt64Seconds(d)); }

// The fields ArticleCard shows: list and search pages ask for these only
// (read_mask), a few hundred bytes an article instead of its whole body.
void AskForCards(google::protobuf::FieldMask* mask) {
  for (const char* f : {"title", "slug", "excerpt", "reading_time_text", "section", "publish_time"}) {
    mask->add_paths(f);
  }
}

mstch::map ArticleCard(const apb::Article& a, absl::TimeZone zone) {
  mstch::map card{{"title", a.title()},
                  {"url", absl::StrCat("/articles/", a.slug())},
                  {"excerpt", a.excerpt()},
                  {"reading_time", a.reading_time_text()}};
  if (!a.section().empty()) {
    card["section"] = a.section();
    card["section_url"] = absl::StrCat("/sections/", UrlEncode(a.section()));
  }
  if (a.has_publish_time()) {
    const absl::Time t = FromProto(a.publish_time());
    card["published"] = ReaderTime(t, zone);
    card["published_iso"] = IsoTime(t);
  }
  return card;
}

}  // namespace

bool EtagMatches(const std::string& header, const std::string& etag) {
  for (absl::string_view tag : absl::StrSplit(header, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    if (tag == "*") return true;
    absl::ConsumePrefix(&tag, "W/");  // weak comparison, as for GET
    if (tag == etag) return true;
  }
  return false;
}

Site::Site(SiteOptions options, const Templates& templates,
           apb::ArticleService::StubInterface& articles, TrendingFeeds trending,
           article::ViewForwarder* views, PeerToken* token)
    : options_(std::move(options)),
      templates_(templates),
      articles_(articles),
      trending_(trending),
      views_(views),
      token_(token) {}

void Site::Prepare(grpc::ClientContext& ctx) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_deadline));
  if (token_ != nullptr) token_->Attach(ctx);
}

void Site::NoteArticleStatus(const grpc::Status& s) {
  const bool down = s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                    s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  article_reachable_ = !down;
}

std::string Site::Origin(const httplib::Request& req) const {
  if (!options_.public_url.empty()) return options_.public_url;
  std::string host = req.get_header_value("Host");
  const bool valid = !host.empty() && host.size() <= 255 &&
                     std::all_of(host.begin(), host.end(), [](char c) {
                       return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                              c == '-' || c == ':' || c == '[' || c == ']';
                     });
  return absl::StrCat("http://", valid ? host : "localhost");
}

void Site::Handle(const httplib::Request& req, httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "strict-origin-when-cross-origin");
  // httplib compresses text for clients that accept gzip.
  res.set_header("Vary", "Accept-Encoding");
  const std::string& path = req.path;
  const bool read_only = req.method == "GET" || req.method == "HEAD";
  const ReadingPrefs prefs =
      ParsePrefs(CookieValue(req.get_header_value("Cookie"), kPrefsCookie).value_or(""));
  if (path == "/prefs") {
    SetRoute("prefs");
    if (req.method != "POST") {
      res.status = 405;
      res.set_header("Allow", "POST");
      return;
    }
    Prefs(req, res);
    return;
  }
  if (absl::StartsWith(path, "/engaged/")) {
    SetRoute("engaged");
    if (req.method != "POST") {
      res.status = 405;
      res.set_header("Allow", "POST");
      res.set_header("Cache-Control", "no-store");
      return;
    }
    Engaged(req, res, path.substr(9));
    return;
  }
  if (!read_only) {
    SetRoute("other");
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    return;
  }
  if (absl::StartsWith(path, "/static/")) {
    SetRoute("static");
    Static(req, res, path.substr(8));
    return;
  }
  if (absl::StartsWith(path, "/views/")) {
    SetRoute("beacon");
    Beacon(req, res, path.substr(7));
    return;
  }
  if (path == "/live/trending") {
    SetRoute("live");
    Live(req, res);
    return;
  }
  const std::string origin = Origin(req);
  // Pages: cached per origin, reading preferences and URL.
  const std::string variant = absl::StrCat(origin, "|", FormatPrefs(prefs), "|");
  if (path == "/") {
    SetRoute("front");
    ServePage(req, res, variant + "/", prefs, [&] { return FrontPage(origin, prefs); });
    return;
  }
  absl::string_view rest = path;
  if (absl::ConsumePrefix(&rest, "/articles/")) {
    SetRoute("article");
    if (!IsSlug(rest)) {
      ServePage(req, res, variant + "404", prefs, [&] {
        return ErrorPage(404, "Page not found", "There is no article at this address.", prefs);
      });
      return;
    }
    const std::string slug(rest);
    ServePage(req, res, absl::StrCat(variant, path), prefs,
              [&] { return ArticlePage(slug, origin, prefs); });
    return;
  }
  const std::string page_token = req.get_param_value("page");
  for (const char* kind : {"sections", "tags"}) {
    rest = path;
    if (absl::ConsumePrefix(&rest, absl::StrCat("/", kind, "/"))) {
      SetRoute(kind[0] == 's' ? "section" : "tag");
      const std::string value(rest);
      if (!IsListValue(value) || page_token.size() > 1000) break;
      ServePage(req, res, absl::StrCat(variant, path, "?", page_token), prefs,
                [&] { return ListingPage(kind, value, page_token, origin, prefs); });
      return;
    }
  }
  if (path == "/search") {
    SetRoute("search");
    const std::string query = req.get_param_value("q");
    if (query.size() > 500 || page_token.size() > 1000) {
      ServePage(req, res, variant + "400", prefs, [&] {
        return ErrorPage(400, "Search", "That search is too long.", prefs);
      });
      return;
    }
    ServePage(req, res, absl::StrCat(variant, "/search?", UrlEncode(query), "&", page_token), prefs,
              [&] { return SearchPage(query, page_token, origin, prefs); });
    return;
  }
  ServePage(req, res, variant + "404", prefs, [&] {
    return ErrorPage(404, "Page not found", "There is nothing at this address.", prefs);
  });
}

std::shared_ptr<const RenderedPage> Site::CachedOrRender(const std::string& key,
                                                         const RenderFn& render) {
  const absl::Time now = absl::Now();
  {
    // The common case, a fresh page, takes the lock shared: every request
    // passes here, from many threads at once.
    absl::ReaderMutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now - it->second.rendered < options_.page_ttl) {
      return it->second.page;
    }
  }
  std::shared_ptr<const RenderedPage> stale;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      CacheEntry& e = it->second;
      const absl::Duration age = now - e.rendered;
      if (age < options_.page_ttl) return e.page;
      if (age < options_.page_ttl + options_.page_stale_for) {
        if (e.refreshing) return e.page;  // another request renders it
        e.refreshing = true;
        stale = e.page;
      }
    }
  }
  auto fresh = std::make_shared<RenderedPage>(render());
  absl::MutexLock lock(&mu_);
  if (!fresh->cacheable) {
    auto it = cache_.find(key);
    if (it != cache_.end()) it->second.refreshing = false;
    // The services failed: a page rendered a moment ago beats an error.
    return stale != nullptr ? stale : fresh;
  }
  if (stale != nullptr && stale->etag == fresh->etag) {
    fresh->last_modified = stale->last_modified;  // same content: not modified
  }
  if (cache_.size() >= options_.page_cache_entries && !cache_.contains(key)) {
    const absl::Duration keep = options_.page_ttl + options_.page_stale_for;
    for (auto it = cache_.begin(); it != cache_.end();) {
      if (now - it->second.rendered >= keep) {
        cache_.erase(it++);
      } else {
        ++it;
      }
    }
    if (cache_.size() >= options_.page_cache_entries) cache_.clear();
  }
  cache_[key] = CacheEntry{fresh, now, false};
  return fresh;
}

void Site::ServePage(const httplib::Request& req, httplib::Response& res, const std::string& key,
                     const ReadingPrefs& prefs, const RenderFn& render) {
  std::shared_ptr<const RenderedPage> page = CachedOrRender(key, render);
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  const std::string shared_cache =
      absl::StrCat("public, max-age=0, s-maxage=", CacheControlSeconds(options_.cdn_max_age),
                   ", stale-while-revalidate=",
                   CacheControlSeconds(options_.stale_while_revalidate),
                   ", stale-if-error=", CacheControlSeconds(options_.stale_if_error));
  // A page rendered with reading preferences is that reader's: browsers
  // may keep it, shared caches must not.
  const std::string cache_control =
      prefs.is_default() ? shared_cache : "private, max-age=0";
  if (page->status == 301) {
    res.status = 301;
    res.set_header("Location", page->location);
    res.set_header("Cache-Control", cache_control);
    return;
  }
  res.status = page->status;
  if (page->status == 503) {
    res.set_header("Retry-After", CacheControlSeconds(options_.retry_after));
    res.set_header("Cache-Control", "no-store");
  } else {
    res.set_header("Cache-Control", cache_control);
  }
  if (page->status == 200) {
    res.set_header("ETag", page->etag);
    res.set_header("Last-Modified", HttpDate(page->last_modified));
    const std::string inm = req.get_header_value("If-None-Match");
    bool not_modified = false;
    if (!inm.empty()) {
      not_modified = EtagMatches(inm, page->etag);
    } else if (req.has_header("If-Modified-Since")) {
      std::optional<absl::Time> since = ParseHttpDate(req.get_header_value("If-Modified-Since"));
      not_modified = since.has_value() &&
                     absl::ToUnixSeconds(page->last_modified) <= absl::ToUnixSeconds(*since);
    }
    if (not_modified) {
      res.status = 304;
      return;
    }
  }
  res.set_content(page->body, "text/html; charset=utf-8");
}

namespace {

mstch::array TrendingItems(const TrendingFeed& feed) {
  mstch::array items;
  std::shared_ptr<const TrendingSnapshot> snapshot = feed.Latest();
  if (snapshot == nullptr) return items;
  for (const TrendingItem& t : snapshot->items) {
    mstch::map item{{"title", t.title}, {"url", t.url}};
    if (!t.reading_now.empty()) item["reading_now"] = t.reading_now;
    items.push_back(std::move(item));
  }
  return items;
}

RenderedPage Html(int status, std::string body) {
  RenderedPage p;
  p.status = status;
  p.etag = BodyEtag(body);
  p.body = std::move(body);
  p.last_modified = absl::Now();
  p.cacheable = status != 503;
  return p;
}

}  // namespace

mstch::map Site::PageContext(const ReadingPrefs& prefs, const std::string& page_title,
                             const std::string& current_section) const {
  mstch::array nav;
  for (const std::string& s : options_.nav_sections) {
    nav.push_back(mstch::map{{"url", absl::StrCat("/sections/", UrlEncode(s))},
                             {"label", s},
                             {"current", s == current_section}});
  }
  return mstch::map{{"lang", options_.lang},
                    {"site_name", options_.site_name},
                    {"page_title", page_title},
                    {"font_percent", prefs.font_percent},
                    {"read_mode", false},
                    {"nav", nav},
                    {"trending", TrendingItems(trending_.most_read)},
                    {"trending_engaged", TrendingItems(trending_.most_engaged)},
                    {"live", true},
                    {"engage", false},
                    {"query", std::string()}};
}

RenderedPage Site::ErrorPage(int status, const std::string& heading, const std::string& message,
                             const ReadingPrefs& prefs) {
  mstch::map ctx = PageContext(prefs, absl::StrCat(heading, " · ", options_.site_name), "");
  ctx["heading"] = heading;
  ctx["message"] = message;
  ctx["noindex"] = true;
  ctx["live"] = false;
  return Html(status, templates_.Render("error", ctx));
}

RenderedPage Site::ArticlePage(const std::string& slug, const std::string& origin,
                               const ReadingPrefs& prefs) {
  apb::GetArticleBySlugRequest req;
  req.set_slug(slug);
  req.set_view(apb::READER);
  apb::Article a;
  grpc::ClientContext ctx;
  Prepare(ctx);
  const grpc::Status status = articles_.GetArticleBySlug(&ctx, req, &a);
  NoteArticleStatus(status);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
      status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return ErrorPage(404, "Page not found", "There is no article at this address.", prefs);
  }
  if (!status.ok()) {
    NG_LOG_WARN("article read failed", {{"code", static_cast<int>(status.error_code())},
                                        {"error", status.error_message()}});
    return ErrorPage(503, "Temporarily unavailable",
                     "This page cannot be shown right now. Please try again in a moment.", prefs);
  }
  if (a.slug() != slug) {  // a former slug
    RenderedPage moved;
    moved.status = 301;
    moved.location = absl::StrCat("/articles/", a.slug());
    return moved;
  }

  // "Read more": the related articles, topped up with the latest ones when
  // fewer than three are related.
  mstch::array related;
  std::vector<std::string> shown{a.name()};
  {
    apb::ListRelatedArticlesRequest rreq;
    rreq.set_name(a.name());
    rreq.set_page_size(5);
    apb::ListRelatedArticlesResponse rresp;
    grpc::ClientContext rctx;
    Prepare(rctx);
    if (articles_.ListRelatedArticles(&rctx, rreq, &rresp).ok()) {
      for (const apb::RelatedArticle& r : rresp.related_articles()) {
        related.push_back(ArticleCard(r.article(), options_.time_zone));
        shown.push_back(r.article().name());
      }
    }
  }
  if (related.size() < 3) {
    apb::ListArticlesRequest lreq;
    lreq.set_page_size(8);
    AskForCards(lreq.mutable_read_mask());
    apb::ListArticlesResponse lresp;
    grpc::ClientContext lctx;
    Prepare(lctx);
    if (articles_.ListArticles(&lctx, lreq, &lresp).ok()) {
      for (const apb::Article& other : lresp.articles()) {
        if (related.size() >= 3) break;
        if (std::find(shown.begin(), shown.end(), other.name()) != shown.end()) continue;
        related.push_back(ArticleCard(other, options_.time_zone));
        shown.push_back(other.name());
      }
    }
  }

  const std::string path = absl::StrCat("/articles/", a.slug());
  const std::string canonical = absl::StrCat(origin, path);
  mstch::map c =
      PageContext(prefs, absl::StrCat(a.title(), " · ", options_.site_name), a.section());
  c["read_mode"] = prefs.read_mode;
  c["live"] = !prefs.read_mode;
  c["description"] = a.excerpt();
  c["canonical"] = canonical;
  c["path"] = path;
  c["title"] = a.title();
  c["subtitle"] = a.subtitle();
  c["byline"] = Byline(a.authors());
  if (!a.section().empty()) {
    c["section"] = a.section();
    c["section_url"] = absl::StrCat("/sections/", UrlEncode(a.section()));
  }
  const absl::Time published = FromProto(a.publish_time());
  const absl::Time updated = FromProto(a.update_time());
  c["published"] = ReaderTime(published, options_.time_zone);
  c["published_iso"] = IsoTime(published);
  if (absl::ToUnixSeconds(updated) > absl::ToUnixSeconds(published)) {
    c["updated"] = ReaderTime(updated, options_.time_zone);
    c["updated_iso"] = IsoTime(updated);
  }
  c["reading_time"] = a.reading_time_text();
  mstch::array sizes;
  for (int size : kFontSizes) {
    sizes.push_back(mstch::map{{"percent", size}, {"current", size == prefs.font_percent}});
  }
  c["font_sizes"] = sizes;
  mstch::map og{{"type", std::string("article")},
                {"site_name", options_.site_name},
                {"title", a.title()},
                {"url", canonical},
                {"description", a.excerpt()},
                {"published", IsoTime(published)},
                {"modified", IsoTime(updated)},
                {"section", a.section()},
                {"twitter_card", std::string(a.feature_image().url().empty()
                                                 ? "summary"
                                                 : "summary_large_image")}};
  if (!a.feature_image().url().empty()) {
    mstch::map image{{"url", a.feature_image().url()},
                     {"alt", a.feature_image().alt()},
                     {"caption", a.feature_image().caption()}};
    c["image"] = image;
    og["image"] = image;
  }
  mstch::array tags;
  for (const std::string& t : a.tags()) {
    tags.push_back(mstch::map{{"name", t}, {"url", absl::StrCat("/tags/", UrlEncode(t))}});
  }
  og["tags"] = tags;
  c["og"] = og;
  c["has_tags"] = !tags.empty();
  c["tags"] = tags;
  c["body_html"] = a.body_html();  // sanitized by the article service
  c["has_related"] = !related.empty();
  c["related"] = related;
  c["json_ld"] = NewsArticleJsonLd(a, canonical, options_.site_name);
  absl::string_view id = a.name();
  absl::ConsumePrefix(&id, "articles/");
  c["beacon"] = absl::StrCat("/views/", id);
  c["engaged_url"] = absl::StrCat("/engaged/", id);
  c["ping_interval_ms"] =
      static_cast<int>(absl::ToInt64Milliseconds(options_.engagement_ping_interval));
  c["engage"] = true;
  return Html(200, templates_.Render("article", c));
}

RenderedPage Site::FrontPage(const std::string& origin, const ReadingPrefs& prefs) {
  apb::ListArticlesRequest req;
  req.set_page_size(12);
  AskForCards(req.mutable_read_mask());
  apb::ListArticlesResponse resp;
  grpc::ClientContext ctx;
  Prepare(ctx);
  const grpc::Status status = articles_.ListArticles(&ctx, req, &resp);
  NoteArticleStatus(status);
  if (!status.ok()) {
    return ErrorPage(503, "Temporarily unavailable",
                     "The front page cannot be shown right now. Please try again in a moment.",
                     prefs);
  }
  mstch::map c = PageContext(prefs, options_.site_name, "");
  c["heading"] = std::string("Latest");
  c["canonical"] = absl::StrCat(origin, "/");
  c["description"] = absl::StrCat("The latest articles of ", options_.site_name, ".");
  mstch::array stories;
  for (const apb::Article& a : resp.articles()) stories.push_back(ArticleCard(a, options_.time_zone));
  c["has_stories"] = !stories.empty();
  c["stories"] = stories;
  c["empty_text"] = std::string("Nothing is published yet.");
  return Html(200, templates_.Render("listing", c));
}

RenderedPage Site::ListingPage(const std::string& kind, const std::string& value,
                               const std::string& page_token, const std::string& origin,
                               const ReadingPrefs& prefs) {
  const bool section = kind == "sections";
  apb::ListArticlesRequest req;
  req.set_page_size(20);
  req.set_page_token(page_token);
  AskForCards(req.mutable_read_mask());
  req.set_filter(section ? absl::StrCat("section = \"", value, "\"")
                         : absl::StrCat("tags:\"", value, "\""));
  apb::ListArticlesResponse resp;
  grpc::ClientContext ctx;
  Prepare(ctx);
  const grpc::Status status = articles_.ListArticles(&ctx, req, &resp);
  NoteArticleStatus(status);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return ErrorPage(404, "Page not found", "There is no such page of articles.", prefs);
  }
  if (!status.ok()) {
    return ErrorPage(503, "Temporarily unavailable",
                     "This page cannot be shown right now. Please try again in a moment.", prefs);
  }
  if (resp.articles().empty() && page_token.empty()) {
    return ErrorPage(404, "Page not found",
                     absl::StrCat("Nothing is published under \"", value, "\"."), prefs);
  }
  const std::string heading = section ? value : absl::StrCat("#", value);
  mstch::map c = PageContext(prefs, absl::StrCat(heading, " · ", options_.site_name),
                             section ? value : "");
  const std::string path = absl::StrCat("/", kind, "/", UrlEncode(value));
  c["heading"] = heading;
  c["canonical"] = absl::StrCat(origin, path);
  mstch::array stories;
  for (const apb::Article& a : resp.articles()) stories.push_back(ArticleCard(a, options_.time_zone));
  c["has_stories"] = !stories.empty();
  c["stories"] = stories;
  c["empty_text"] = std::string("No more articles.");
  if (!resp.next_page_token().empty()) {
    c["next_url"] = absl::StrCat(path, "?page=", UrlEncode(resp.next_page_token()));
  }
  return Html(200, templates_.Render("listing", c));
}

RenderedPage Site::SearchPage(const std::string& query, const std::string& page_token,
                              const std::string& origin, const ReadingPrefs& prefs) {
  mstch::map c = PageContext(prefs, absl::StrCat("Search · ", options_.site_name), "");
  c["heading"] = std::string("Search");
  c["search_form"] = true;
  c["query"] = query;
  c["noindex"] = true;
  c["canonical"] = absl::StrCat(origin, "/search");
  c["has_stories"] = false;
  if (absl::StripAsciiWhitespace(query).empty()) {
    c["empty_text"] = std::string("Type words to find articles.");
    return Html(200, templates_.Render("listing", c));
  }
  apb::SearchArticlesRequest req;
  req.set_query(query);
  req.set_page_size(10);
  req.set_page_token(page_token);
  AskForCards(req.mutable_read_mask());
  // The count ("12 results for ...") heads the first page only: it is a
  // second query over every match, not worth paying on each page.
  req.set_include_total_size(page_token.empty());
  apb::SearchArticlesResponse resp;
  grpc::ClientContext ctx;
  Prepare(ctx);
  const grpc::Status status = articles_.SearchArticles(&ctx, req, &resp);
  NoteArticleStatus(status);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    c["empty_text"] = absl::StrCat("That search could not be understood: \u201c", query,
                                   "\u201d. Try other words.");
    return Html(400, templates_.Render("listing", c));
  }
  if (!status.ok()) {
    return ErrorPage(503, "Temporarily unavailable",
                     "Search is not available right now. Please try again in a moment.", prefs);
  }
  mstch::array stories;
  for (const apb::SearchResult& r : resp.results()) {
    mstch::map card = ArticleCard(r.article(), options_.time_zone);
    mstch::array parts;
    for (const SnippetPart& p : SnippetParts(r.snippet())) {
      parts.push_back(mstch::map{{"text", p.text}, {"marked", p.marked}});
    }
    card["snippet"] = mstch::map{{"parts", parts}};
    stories.push_back(card);
  }
  c["has_stories"] = !stories.empty();
  c["stories"] = stories;
  c["summary"] = resp.total_size() > 0 ? absl::StrCat(resp.total_size(), " results for \u201c",
                                                       query, "\u201d")
                                       : std::string();
  c["empty_text"] = absl::StrCat("No articles match \u201c", query, "\u201d.");
  if (!resp.next_page_token().empty()) {
    c["next_url"] = absl::StrCat("/search?q=", UrlEncode(query), "&page=",
                                 UrlEncode(resp.next_page_token()));
  }
  return Html(200, templates_.Render("listing", c));
}

namespace {

// 404 or 400 with what was wrong, as text.
void RejectBeacon(const absl::Status& status, httplib::Response& res) {
  res.status = BeaconHttpStatus(status);
  res.set_content(absl::StrCat(status.message(), "\n"), "text/plain; charset=utf-8");
}

}  // namespace

article::PageEvent Site::PageEventOf(const httplib::Request& req, httplib::Response& res,
                                     PageBeacon beacon) {
  std::optional<std::string> visitor = CookieValue(req.get_header_value("Cookie"), kVisitorCookie);
  if (!visitor || !IsValidVisitorId(*visitor)) {
    visitor = NewVisitorId();
    res.set_header("Set-Cookie", VisitorCookieHeader(*visitor));
  }
  std::string agent = req.get_header_value("User-Agent");
  if (agent.size() > 1024) agent.resize(1024);
  return article::PageEvent{.article_name = std::move(beacon.article_name),
                            .page_view_id = std::move(beacon.page_view_id),
                            .visitor_id = *std::move(visitor),
                            .user_agent = std::move(agent),
                            .time = absl::Now()};
}

void Site::Beacon(const httplib::Request& req, httplib::Response& res, const std::string& id) {
  res.set_header("Cache-Control", "no-store");
  absl::StatusOr<PageBeacon> beacon = ParseViewBeacon(id, req.get_param_value("pv"));
  if (!beacon.ok()) {
    RejectBeacon(beacon.status(), res);
    return;
  }
  article::PageEvent event = PageEventOf(req, res, *std::move(beacon));
  if (views_ != nullptr) views_->RecordPageView(std::move(event));
  res.set_content(std::string(reinterpret_cast<const char*>(kPixel), sizeof(kPixel)), "image/gif");
}

void Site::Engaged(const httplib::Request& req, httplib::Response& res, const std::string& id) {
  res.set_header("Cache-Control", "no-store");
  absl::StatusOr<PageBeacon> ping =
      ParseEngagementPing(id, req.get_param_value("pv"), req.get_param_value("s"));
  if (!ping.ok()) {
    RejectBeacon(ping.status(), res);
    return;
  }
  const absl::Duration engaged = ping->engaged;
  article::PageEvent event = PageEventOf(req, res, *std::move(ping));
  if (views_ != nullptr) views_->RecordEngagement(std::move(event), engaged);
  res.status = 204;
}

void Site::Prefs(const httplib::Request& req, httplib::Response& res) {
  ReadingPrefs prefs =
      ParsePrefs(CookieValue(req.get_header_value("Cookie"), kPrefsCookie).value_or(""));
  if (req.has_param("read")) prefs.read_mode = req.get_param_value("read") == "on";
  int size = 0;
  if (absl::SimpleAtoi(req.get_param_value("size"), &size)) {
    for (int allowed : kFontSizes) {
      if (size == allowed) prefs.font_percent = size;
    }
  }
  res.status = 303;
  res.set_header("Set-Cookie", PrefsCookieHeader(prefs));
  res.set_header("Location", SafeReturnPath(req.get_param_value("return")));
  res.set_header("Cache-Control", "no-store");
}

void Site::Live(const httplib::Request& req, httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  const std::string metric = req.get_param_value("metric");
  if (metric != "" && metric != "read" && metric != "engaged") {
    res.status = 400;
    res.set_content("metric: read or engaged\n", "text/plain; charset=utf-8");
    return;
  }
  const TrendingFeed* feed = metric == "engaged" ? &trending_.most_engaged : &trending_.most_read;
  if (live_streams_.fetch_add(1) >= options_.live_max_streams || shutting_down_) {
    live_streams_.fetch_sub(1);
    res.status = 503;
    res.set_header("Retry-After", CacheControlSeconds(options_.retry_after));
    return;
  }
  res.set_header("X-Accel-Buffering", "no");  // proxies must not buffer the stream
  struct State {
    uint64_t version = 0;
    bool started = false;
    absl::Time end;
  };
  auto state = std::make_shared<State>();
  state->end = absl::Now() + options_.live_max_duration;
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, state, feed](size_t, httplib::DataSink& sink) {
        std::string out;
        std::shared_ptr<const TrendingSnapshot> snapshot;
        if (!state->started) {
          state->started = true;
          out = "retry: 3000\n\n";
          snapshot = feed->Latest();
        } else {
          const absl::Time wake = std::min(absl::Now() + options_.live_keepalive, state->end);
          snapshot = feed->WaitForNewer(state->version, wake);
        }
        if (shutting_down_ || absl::Now() >= state->end || !sink.is_writable()) {
          sink.done();  // the browser reconnects after `retry`
          return true;
        }
        if (snapshot != nullptr && snapshot->version > state->version) {
          state->version = snapshot->version;
          absl::StrAppend(&out, "event: trending\ndata: ", snapshot->json, "\n\n");
        } else if (out.empty()) {
          out = ": keepalive\n\n";
        }
        return sink.write(out.data(), out.size());
      },
      [this](bool) { live_streams_.fetch_sub(1); });
}

void Site::Static(const httplib::Request& req, httplib::Response& res, const std::string& path) {
  const StaticFile* file = templates_.Static(path);
  if (file == nullptr) {
    res.status = 404;
    return;
  }
  res.set_header("Cache-Control", "public, max-age=3600");
  res.set_header("ETag", file->etag);
  if (EtagMatches(req.get_header_value("If-None-Match"), file->etag)) {
    res.status = 304;
    return;
  }
  res.set_content(file->content, file->content_type);
}

}  // namespace newsgrid::reader
