// Who may call what on the article service: the bearer-token scope each
// request needs, decided from the request alone (runtime/auth.h checks it).
//
// Writes need articles:write. The EDITOR view (drafts, scheduled and deleted
// articles), show_deleted lists and revision history need
// articles:read_drafts. Reader (READER view) reads are public: nullptr.
//
//   if (const char* scope = RequiredScope(req)) {
//     absl::Status s = authorizer.Require(*ctx, scope);   // 401/403 as statuses
//   }
#ifndef NEWSGRID_ARTICLE_SERVICE_ACCESS_RULES_H_
#define NEWSGRID_ARTICLE_SERVICE_ACCESS_RULES_H_

#include "news/article/v1/article_service.pb.h"

namespace newsgrid::article {

namespace pb = ::news::article::v1;

const char* RequiredScope(const pb::CreateArticleRequest& req);
const char* RequiredScope(const pb::UpdateArticleRequest& req);
const char* RequiredScope(const pb::DeleteArticleRequest& req);
const char* RequiredScope(const pb::UndeleteArticleRequest& req);
const char* RequiredScope(const pb::PublishArticleRequest& req);
const char* RequiredScope(const pb::UnpublishArticleRequest& req);
const char* RequiredScope(const pb::GetArticleRequest& req);
const char* RequiredScope(const pb::GetArticleBySlugRequest& req);
const char* RequiredScope(const pb::ListArticlesRequest& req);
const char* RequiredScope(const pb::BatchGetArticlesRequest& req);
const char* RequiredScope(const pb::SearchArticlesRequest& req);
const char* RequiredScope(const pb::ListRelatedArticlesRequest& req);
const char* RequiredScope(const pb::ListArticleRevisionsRequest& req);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ACCESS_RULES_H_
