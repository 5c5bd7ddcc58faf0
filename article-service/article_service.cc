#include "article-service/article_service.h"

#include <unordered_map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "article-service/filter.h"
#include "article-service/search_query.h"
#include "article-service/utf8.h"
#include "runtime/logging.h"
#include "runtime/status.h"
#include "runtime/status_macros.h"

namespace newsgrid::article {
namespace {

constexpr int kDefaultPageSize = 20;
constexpr int kMaxPageSize = 100;
constexpr int kMaxBatch = 100;
constexpr size_t kMaxVisitorId = 200;
// Create idempotency keys live at least 24 h; older than this they go.
constexpr absl::Duration kRequestIdRetention = absl::Hours(48);

absl::StatusOr<int> PageSize(int32_t requested, absl::string_view field, int def, int max) {
  if (requested < 0) return InvalidFieldError(std::string(field), "must not be negative");
  if (requested == 0) return def;
  return std::min<int>(requested, max);  // AIP-158: larger sizes are coerced
}

absl::StatusOr<bool> IsEditorView(pb::ArticleView view, absl::string_view field = "view") {
  if (!pb::ArticleView_IsValid(view)) {
    return InvalidFieldError(std::string(field), "is not a known view");
  }
  return view == pb::EDITOR;
}

struct Order {
  OrderKey key = OrderKey::kPublishTime;
  bool descending = true;
  std::string canonical = "publish_time desc";
};

absl::StatusOr<Order> ParseOrderBy(absl::string_view order_by) {
  std::vector<std::string> words =
      absl::StrSplit(absl::AsciiStrToLower(order_by), ' ', absl::SkipWhitespace());
  Order o;
  if (words.empty()) return o;
  static const std::unordered_map<std::string, OrderKey>* kKeys =
      new std::unordered_map<std::string, OrderKey>{{"publish_time", OrderKey::kPublishTime},
                                                    {"update_time", OrderKey::kUpdateTime},
                                                    {"create_time", OrderKey::kCreateTime},
                                                    {"title", OrderKey::kTitle}};
  auto it = kKeys->find(words[0]);
  if (it == kKeys->end() || words.size() > 2 ||
      (words.size() == 2 && words[1] != "desc" && words[1] != "asc")) {
    return InvalidFieldError("order_by",
                             "must be one of publish_time, update_time, create_time or title, "
                             "optionally followed by \"desc\"");
  }
  o.key = it->second;
  o.descending = words.size() == 2 && words[1] == "desc";
  o.canonical = absl::StrCat(words[0], o.descending ? " desc" : "");
  return o;
}

absl::Status CheckActor(const std::string& actor, absl::string_view field = "actor") {
  FieldViolations v;
  ValidateShortText(actor, kMaxActor, field, v);
  return v.ToStatus();
}

}  // namespace

absl::StatusOr<ArticleRef> ArticleService::ReaderGet(const CallContext& c, int64_t id) {
  const uint64_t epoch = cache_.BeginRead(id);
  if (ArticleRef hit = cache_.Get(id)) return hit;
  ASSIGN_OR_RETURN(Article a, store_.Get(c.deadline, id));
  const absl::Time now = clock_.Now();
  // Readers are told nothing about drafts, scheduled or deleted articles.
  if (!IsLive(a, now)) {
    return absl::NotFoundError(absl::StrCat("article ", ArticleName(id), " not found"));
  }
  ApplyEffectiveState(&a, now);
  ArticleRef v = ArticleVersion::Make(a);
  cache_.Insert(v, epoch);
  return v;
}

absl::StatusOr<std::vector<ArticleRef>> ArticleService::Hydrate(const CallContext& c, bool reader,
                                                                const std::vector<int64_t>& ids) {
  std::vector<ArticleRef> out(ids.size());
  std::vector<int64_t> missing;
  std::vector<uint64_t> epochs;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (reader) {
      const uint64_t epoch = cache_.BeginRead(ids[i]);
      if ((out[i] = cache_.Get(ids[i])) != nullptr) continue;
      epochs.push_back(epoch);
    }
    missing.push_back(ids[i]);
  }
  if (!missing.empty()) {
    ASSIGN_OR_RETURN(std::vector<Article> found, store_.BatchGet(c.deadline, missing));
    const absl::Time now = clock_.Now();
    absl::flat_hash_map<int64_t, Article*> by_id;
    for (Article& a : found) {
      absl::StatusOr<int64_t> id = ParseArticleName(a.name(), "name");
      if (id.ok()) by_id[*id] = &a;
    }
    size_t m = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (out[i] != nullptr) continue;
      const size_t k = m++;
      auto it = by_id.find(ids[i]);
      // Gone, or no longer live since the page's query: left out.
      if (it == by_id.end() || (reader && !IsLive(*it->second, now))) continue;
      ApplyEffectiveState(it->second, now);
      out[i] = ArticleVersion::Make(*it->second);
      if (reader) cache_.Insert(out[i], epochs[k]);
    }
  }
  std::erase(out, nullptr);
  return out;
}

void ArticleService::RecordView(const ArticleRef& a, const std::string& request_visitor,
                                const CallContext& c) {
  const std::string& visitor = request_visitor.empty() ? c.visitor_id : request_visitor;
  if (visitor.empty() || visitor.size() > kMaxVisitorId) return;
  views_.RecordReaderView({.article = a, .visitor_id = visitor, .time = clock_.Now()});
}

absl::StatusOr<Article> ArticleService::Mutate(const CallContext& c, int64_t id,
                                               const std::string& actor,
                                               const ArticleStore::MutateFn& fn) {
  absl::StatusOr<Article> a = store_.Mutate(c.deadline, id, actor, fn);
  // After the commit and before the answer: no reader of this process sees
  // the old version once the caller has been told about the new one. (On an
  // error nothing changed, or the outcome is unknown: dropping is safe.)
  cache_.Invalidate(id);
  RETURN_IF_ERROR(a.status());
  ApplyEffectiveState(&*a, clock_.Now());
  return a;
}

absl::StatusOr<Article> ArticleService::StateChange(
    const CallContext& c, const std::string& name, const std::string& etag,
    const std::string& actor,
    const std::function<absl::StatusOr<Change>(const Article&, absl::Time)>& apply) {
  ASSIGN_OR_RETURN(const int64_t id, ParseArticleName(name, "name"));
  RETURN_IF_ERROR(CheckActor(actor));
  const absl::Time now = clock_.Now();
  return Mutate(c, id, actor, [&](const Article& current) -> absl::StatusOr<Change> {
    RETURN_IF_ERROR(CheckEtag(current, etag));
    return apply(current, now);
  });
}

absl::StatusOr<Article> ArticleService::CreateArticle(const pb::CreateArticleRequest& req,
                                                      const CallContext& c) {
  FieldViolations v;
  if (!req.has_article()) v.Add("article", "is required");
  ValidateShortText(req.request_id(), kMaxRequestId, "request_id", v);
  ValidateShortText(req.actor(), kMaxActor, "actor", v);
  if (!v.empty()) return v.ToStatus();
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(const NewArticle n, PrepareNewArticle(req.article(), now));
  ASSIGN_OR_RETURN(Article a, store_.Create(c.deadline, n, req.request_id(), req.actor()));
  if (++creates_ % 256 == 1) {
    absl::StatusOr<int> expired = store_.ExpireRequestIds(c.deadline, now - kRequestIdRetention);
    if (!expired.ok()) {
      NG_LOG_WARN("expiring create request ids failed",
                  {{"error", std::string(expired.status().message())}});
    }
  }
  ApplyEffectiveState(&a, now);
  return a;
}

absl::StatusOr<ArticleRef> ArticleService::GetArticle(const pb::GetArticleRequest& req,
                                                      const CallContext& c) {
  ASSIGN_OR_RETURN(const int64_t id, ParseArticleName(req.name(), "name"));
  ASSIGN_OR_RETURN(const bool editor, IsEditorView(req.view()));
  if (editor) {
    ASSIGN_OR_RETURN(Article a, store_.Get(c.deadline, id));
    ApplyEffectiveState(&a, clock_.Now());
    return ArticleVersion::Make(a);
  }
  absl::StatusOr<ArticleRef> a = ReaderGet(c, id);
  if (a.ok()) RecordView(*a, req.visitor_id(), c);
  return a;
}

ArticleRef ArticleService::CachedRead(const pb::GetArticleRequest& req, const CallContext& c) {
  absl::StatusOr<bool> editor = IsEditorView(req.view());
  if (!editor.ok() || *editor) return nullptr;
  absl::StatusOr<int64_t> id = ParseArticleName(req.name(), "name");
  if (!id.ok()) return nullptr;
  return CachedReaderView(*id, req.visitor_id(), c);
}

ArticleRef ArticleService::CachedRead(const pb::GetArticleBySlugRequest& req,
                                      const CallContext& c) {
  absl::StatusOr<bool> editor = IsEditorView(req.view());
  if (!editor.ok() || *editor || req.slug().empty()) return nullptr;
  std::optional<int64_t> id = cache_.IdForSlug(req.slug());
  if (!id) return nullptr;
  return CachedReaderView(*id, req.visitor_id(), c);
}

ArticleRef ArticleService::CachedReaderView(int64_t id, const std::string& visitor,
                                            const CallContext& c) {
  ArticleRef hit = cache_.Get(id);
  if (hit != nullptr) RecordView(hit, visitor, c);
  return hit;
}

absl::StatusOr<ArticleRef> ArticleService::GetArticleBySlug(const pb::GetArticleBySlugRequest& req,
                                                            const CallContext& c) {
  if (req.slug().empty()) return InvalidFieldError("slug", "is required");
  if (req.slug().size() > 200 || !IsValidUtf8(req.slug())) {
    return absl::NotFoundError("no article has this slug");
  }
  ASSIGN_OR_RETURN(const bool editor, IsEditorView(req.view()));
  if (!editor) {
    if (std::optional<int64_t> id = cache_.IdForSlug(req.slug())) {
      absl::StatusOr<ArticleRef> a = ReaderGet(c, *id);
      if (a.ok()) RecordView(*a, req.visitor_id(), c);
      return a;
    }
  }
  ASSIGN_OR_RETURN(Article a, store_.GetBySlug(c.deadline, req.slug()));
  absl::StatusOr<int64_t> id = ParseArticleName(a.name(), "name");
  if (id.ok()) cache_.RememberSlug(req.slug(), *id);  // slugs never change owner
  const absl::Time now = clock_.Now();
  if (!editor && !IsLive(a, now)) return absl::NotFoundError("no article has this slug");
  ApplyEffectiveState(&a, now);
  ArticleRef v = ArticleVersion::Make(a);
  if (!editor) RecordView(v, req.visitor_id(), c);
  return v;
}

absl::StatusOr<Article> ArticleService::UpdateArticle(const pb::UpdateArticleRequest& req,
                                                      const CallContext& c) {
  if (!req.has_article()) return InvalidFieldError("article", "is required");
  ASSIGN_OR_RETURN(const int64_t id, ParseArticleName(req.article().name(), "article.name"));
  RETURN_IF_ERROR(CheckActor(req.actor()));
  ASSIGN_OR_RETURN(const std::vector<std::string> paths,
                   ResolveUpdateMask(req.article(), req.update_mask()));
  const absl::Time now = clock_.Now();
  return Mutate(c, id, req.actor(), [&](const Article& current) -> absl::StatusOr<Change> {
    RETURN_IF_ERROR(CheckEtag(current, req.article().etag()));
    return ApplyUpdate(current, req.article(), paths, now);
  });
}

absl::StatusOr<Article> ArticleService::DeleteArticle(const pb::DeleteArticleRequest& req,
                                                      const CallContext& c) {
  return StateChange(c, req.name(), req.etag(), req.actor(),
                     [](const Article& current, absl::Time now) { return ApplyDelete(current, now); });
}

absl::StatusOr<Article> ArticleService::UndeleteArticle(const pb::UndeleteArticleRequest& req,
                                                        const CallContext& c) {
  return StateChange(c, req.name(), req.etag(), req.actor(),
                     [](const Article& current, absl::Time now) { return ApplyUndelete(current, now); });
}

absl::StatusOr<Article> ArticleService::PublishArticle(const pb::PublishArticleRequest& req,
                                                       const CallContext& c) {
  std::optional<absl::Time> at;
  if (req.has_publish_time()) {
    if (!IsValidProtoTime(req.publish_time())) {
      return InvalidFieldError("publish_time", "is not a valid timestamp");
    }
    at = FromProtoTime(req.publish_time());
  }
  return StateChange(c, req.name(), req.etag(), req.actor(),
                     [at](const Article& current, absl::Time now) {
                       return ApplyPublish(current, at, now);
                     });
}

absl::StatusOr<Article> ArticleService::UnpublishArticle(const pb::UnpublishArticleRequest& req,
                                                         const CallContext& c) {
  return StateChange(c, req.name(), req.etag(), req.actor(),
                     [](const Article& current, absl::Time now) { return ApplyUnpublish(current, now); });
}

absl::StatusOr<ArticlePage> ArticleService::ListArticles(const pb::ListArticlesRequest& req,
                                                         const CallContext& c) {
  ASSIGN_OR_RETURN(const int size,
                   PageSize(req.page_size(), "page_size", kDefaultPageSize, kMaxPageSize));
  ASSIGN_OR_RETURN(const bool editor, IsEditorView(req.view()));
  if (req.show_deleted() && !editor) {
    return InvalidFieldError("show_deleted", "requires the EDITOR view");
  }
  ASSIGN_OR_RETURN(const Order order, ParseOrderBy(req.order_by()));
  ASSIGN_OR_RETURN(ReadMask mask, ReadMask::FromProto(req.read_mask()));
  ListQuery q;
  q.now = clock_.Now();
  ASSIGN_OR_RETURN(q.filter, ParseFilter(req.filter()));
  q.order = order.key;
  q.descending = order.descending;
  q.reader = !editor;
  q.show_deleted = req.show_deleted();
  q.limit = size;
  q.count_total = req.include_total_size();
  const std::string fp = QueryFingerprint({"list", req.filter(), order.canonical,
                                           req.show_deleted() ? "deleted" : "",
                                           editor ? "editor" : "reader"});
  if (!req.page_token().empty()) {
    ASSIGN_OR_RETURN(q.after, tokens_.Decode(fp, req.page_token()));
  }
  ASSIGN_OR_RETURN(const ListPage page, store_.List(c.deadline, std::move(q)));
  std::vector<int64_t> ids;
  ids.reserve(page.rows.size());
  for (const ListRow& r : page.rows) ids.push_back(r.id);
  ArticlePage out;
  out.mask = std::move(mask);
  ASSIGN_OR_RETURN(out.articles, Hydrate(c, !editor, ids));
  // The cursor is the page's last row, even when its article has just
  // become invisible and was left out.
  if (page.more && !page.rows.empty()) {
    out.next_page_token =
        tokens_.Encode(fp, {.key = page.rows.back().key, .id = page.rows.back().id});
  }
  if (page.total) out.total_size = std::max(0, *page.total);
  return out;
}

absl::StatusOr<pb::BatchGetArticlesResponse> ArticleService::BatchGetArticles(
    const pb::BatchGetArticlesRequest& req, const CallContext& c) {
  if (req.names_size() == 0) return InvalidFieldError("names", "is required");
  if (req.names_size() > kMaxBatch) {
    return InvalidFieldError("names", absl::StrCat("has more than ", kMaxBatch, " names"));
  }
  ASSIGN_OR_RETURN(const bool editor, IsEditorView(req.view()));
  FieldViolations v;
  std::vector<int64_t> ids;
  for (int i = 0; i < req.names_size(); ++i) {
    const std::string field = absl::StrCat("names[", i, "]");
    absl::StatusOr<int64_t> id = ParseArticleName(req.names(i), field);
    if (!id.ok()) {
      v.Add(field, "must have the form \"articles/{id}\"");
    } else {
      ids.push_back(*id);
    }
  }
  if (!v.empty()) return v.ToStatus();
  ASSIGN_OR_RETURN(const std::vector<Article> found, store_.BatchGet(c.deadline, ids));
  const absl::Time now = clock_.Now();
  std::unordered_map<std::string, const Article*> by_name;
  for (const Article& a : found) by_name[a.name()] = &a;
  pb::BatchGetArticlesResponse resp;
  for (int i = 0; i < req.names_size(); ++i) {
    auto it = by_name.find(ArticleName(ids[i]));
    if (it == by_name.end() || (!editor && !IsLive(*it->second, now))) {
      resp.add_missing(req.names(i));
      continue;
    }
    Article* a = resp.add_articles();
    *a = *it->second;
    ApplyEffectiveState(a, now);
  }
  return resp;
}

absl::StatusOr<SearchResultsPage> ArticleService::SearchArticles(
    const pb::SearchArticlesRequest& req, const CallContext& c) {
  SearchQuery q;
  ASSIGN_OR_RETURN(q.tsquery, CompileSearchQuery(req.query()));
  ASSIGN_OR_RETURN(const int size,
                   PageSize(req.page_size(), "page_size", kDefaultPageSize, kMaxPageSize));
  ASSIGN_OR_RETURN(const bool editor, IsEditorView(req.view()));
  q.now = clock_.Now();
  ASSIGN_OR_RETURN(q.filter, ParseFilter(req.filter()));
  ASSIGN_OR_RETURN(ReadMask mask, ReadMask::FromProto(req.read_mask()));
  q.reader = !editor;
  q.limit = size;
  q.window = options_.search_rank_window;
  q.count_total = req.include_total_size();
  const std::string fp =
      QueryFingerprint({"search", req.query(), req.filter(), editor ? "editor" : "reader"});
  if (!req.page_token().empty()) {
    ASSIGN_OR_RETURN(const PageCursor cursor, tokens_.Decode(fp, req.page_token()));
    q.offset = cursor.offset;
  }
  const int64_t offset = q.offset;
  ASSIGN_OR_RETURN(const SearchPage page, store_.Search(c.deadline, std::move(q)));
  std::vector<int64_t> ids;
  ids.reserve(page.hits.size());
  for (const SearchHit& h : page.hits) ids.push_back(h.id);
  ASSIGN_OR_RETURN(std::vector<ArticleRef> articles, Hydrate(c, !editor, ids));
  SearchResultsPage out;
  out.mask = std::move(mask);
  size_t next = 0;  // hits and articles are in the same order; some may be missing
  for (const SearchHit& h : page.hits) {
    if (next < articles.size() && articles[next]->id() == h.id) {
      out.results.push_back({.article = std::move(articles[next++]),
                             .score = h.score,
                             .snippet = SnippetHtml(h.snippet)});
    }
  }
  if (page.more) out.next_page_token = tokens_.Encode(fp, {.offset = offset + size});
  if (page.total) out.total_size = std::max(0, *page.total);
  return out;
}

absl::StatusOr<pb::ListRelatedArticlesResponse> ArticleService::ListRelatedArticles(
    const pb::ListRelatedArticlesRequest& req, const CallContext& c) {
  ASSIGN_OR_RETURN(const int64_t id, ParseArticleName(req.name(), "name"));
  ASSIGN_OR_RETURN(const int size, PageSize(req.page_size(), "page_size", 5, 20));
  // The source must be visible to readers: related lists are reader pages.
  RETURN_IF_ERROR(ReaderGet(c, id).status());
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(std::vector<RelatedHit> hits, store_.Related(c.deadline, id, now, size));
  pb::ListRelatedArticlesResponse resp;
  for (RelatedHit& h : hits) {
    pb::RelatedArticle* r = resp.add_related_articles();
    ApplyEffectiveState(&h.article, now);
    *r->mutable_article() = std::move(h.article);
    r->set_score(h.score);
  }
  return resp;
}

absl::StatusOr<pb::ListArticleRevisionsResponse> ArticleService::ListArticleRevisions(
    const pb::ListArticleRevisionsRequest& req, const CallContext& c) {
  ASSIGN_OR_RETURN(const int64_t id, ParseArticleName(req.name(), "name"));
  ASSIGN_OR_RETURN(const int size,
                   PageSize(req.page_size(), "page_size", kDefaultPageSize, kMaxPageSize));
  const std::string fp = QueryFingerprint({"revisions", ArticleName(id)});
  int64_t before = 0;
  if (!req.page_token().empty()) {
    ASSIGN_OR_RETURN(const PageCursor cursor, tokens_.Decode(fp, req.page_token()));
    before = cursor.id;
  }
  ASSIGN_OR_RETURN(std::vector<StoredRevision> revs,
                   store_.ListRevisions(c.deadline, id, before, size + 1));
  pb::ListArticleRevisionsResponse resp;
  const bool more = static_cast<int>(revs.size()) > size;
  if (more) revs.pop_back();
  for (StoredRevision& r : revs) {
    pb::ArticleRevision* out = resp.add_revisions();
    out->set_revision(r.revision);
    out->set_actor(r.actor);
    *out->mutable_create_time() = ToProtoTime(r.create_time);
    out->set_action(r.action);
    for (std::string& f : r.changed_fields) out->mutable_changed_fields()->add_paths(std::move(f));
    *out->mutable_snapshot() = std::move(r.snapshot);
  }
  if (more && !revs.empty()) {
    resp.set_next_page_token(tokens_.Encode(fp, {.id = revs.back().revision}));
  }
  return resp;
}

}  // namespace newsgrid::article
