#include "article-service/access_rules.h"

#include "runtime/auth.h"

namespace newsgrid::article {
namespace {

// Anything but READER asks for more than published articles: an unknown view
// value is refused by validation later, but only after the scope check, so
// a caller without the scope learns nothing from it.
const char* ForView(pb::ArticleView view) {
  return view == pb::READER || view == pb::ARTICLE_VIEW_UNSPECIFIED ? nullptr
                                                                    : kScopeArticlesReadDrafts;
}

}  // namespace

const char* RequiredScope(const pb::CreateArticleRequest&) { return kScopeArticlesWrite; }
const char* RequiredScope(const pb::UpdateArticleRequest&) { return kScopeArticlesWrite; }
const char* RequiredScope(const pb::DeleteArticleRequest&) { return kScopeArticlesWrite; }
const char* RequiredScope(const pb::UndeleteArticleRequest&) { return kScopeArticlesWrite; }
const char* RequiredScope(const pb::PublishArticleRequest&) { return kScopeArticlesWrite; }
const char* RequiredScope(const pb::UnpublishArticleRequest&) { return kScopeArticlesWrite; }
const char* RequiredScope(const pb::GetArticleRequest& req) { return ForView(req.view()); }
const char* RequiredScope(const pb::GetArticleBySlugRequest& req) { return ForView(req.view()); }
const char* RequiredScope(const pb::ListArticlesRequest& req) {
  return req.show_deleted() ? kScopeArticlesReadDrafts : ForView(req.view());
}
const char* RequiredScope(const pb::BatchGetArticlesRequest& req) { return ForView(req.view()); }
const char* RequiredScope(const pb::SearchArticlesRequest& req) { return ForView(req.view()); }
const char* RequiredScope(const pb::ListRelatedArticlesRequest&) { return nullptr; }
const char* RequiredScope(const pb::ListArticleRevisionsRequest&) {
  return kScopeArticlesReadDrafts;
}

}  // namespace newsgrid::article
