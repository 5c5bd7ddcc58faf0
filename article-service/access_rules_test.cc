#include "article-service/access_rules.h"

#include <string>

#include "gtest/gtest.h"
#include "runtime/auth.h"

namespace newsgrid::article {
namespace {

std::string Scope(const char* s) { return s == nullptr ? "public" : s; }

TEST(AccessRulesTest, WritesNeedArticlesWrite) {
  EXPECT_EQ(Scope(RequiredScope(pb::CreateArticleRequest())), kScopeArticlesWrite);
  EXPECT_EQ(Scope(RequiredScope(pb::UpdateArticleRequest())), kScopeArticlesWrite);
  EXPECT_EQ(Scope(RequiredScope(pb::DeleteArticleRequest())), kScopeArticlesWrite);
  EXPECT_EQ(Scope(RequiredScope(pb::UndeleteArticleRequest())), kScopeArticlesWrite);
  EXPECT_EQ(Scope(RequiredScope(pb::PublishArticleRequest())), kScopeArticlesWrite);
  EXPECT_EQ(Scope(RequiredScope(pb::UnpublishArticleRequest())), kScopeArticlesWrite);
}

TEST(AccessRulesTest, ReaderReadsArePublic) {
  pb::GetArticleRequest get;
  EXPECT_EQ(Scope(RequiredScope(get)), "public");
  get.set_view(pb::READER);
  EXPECT_EQ(Scope(RequiredScope(get)), "public");
  EXPECT_EQ(Scope(RequiredScope(pb::GetArticleBySlugRequest())), "public");
  EXPECT_EQ(Scope(RequiredScope(pb::ListArticlesRequest())), "public");
  EXPECT_EQ(Scope(RequiredScope(pb::BatchGetArticlesRequest())), "public");
  EXPECT_EQ(Scope(RequiredScope(pb::SearchArticlesRequest())), "public");
  EXPECT_EQ(Scope(RequiredScope(pb::ListRelatedArticlesRequest())), "public");
}

TEST(AccessRulesTest, EditorViewsAndHistoryNeedReadDrafts) {
  pb::GetArticleRequest get;
  get.set_view(pb::EDITOR);
  EXPECT_EQ(Scope(RequiredScope(get)), kScopeArticlesReadDrafts);
  pb::GetArticleBySlugRequest slug;
  slug.set_view(pb::EDITOR);
  EXPECT_EQ(Scope(RequiredScope(slug)), kScopeArticlesReadDrafts);
  pb::ListArticlesRequest list;
  list.set_show_deleted(true);  // even without EDITOR: no hint of deleted rows
  EXPECT_EQ(Scope(RequiredScope(list)), kScopeArticlesReadDrafts);
  pb::BatchGetArticlesRequest batch;
  batch.set_view(pb::EDITOR);
  EXPECT_EQ(Scope(RequiredScope(batch)), kScopeArticlesReadDrafts);
  pb::SearchArticlesRequest search;
  search.set_view(pb::EDITOR);
  EXPECT_EQ(Scope(RequiredScope(search)), kScopeArticlesReadDrafts);
  EXPECT_EQ(Scope(RequiredScope(pb::ListArticleRevisionsRequest())), kScopeArticlesReadDrafts);
}

TEST(AccessRulesTest, UnknownViewIsNotPublic) {
  pb::GetArticleRequest get;
  get.set_view(static_cast<pb::ArticleView>(42));
  EXPECT_EQ(Scope(RequiredScope(get)), kScopeArticlesReadDrafts);
}

}  // namespace
}  // namespace newsgrid::article
