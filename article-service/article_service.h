// The article service's use cases, between the gRPC handlers and storage:
// request validation, visibility (READER / EDITOR), the read cache, page
// tokens, view recording and the domain rules. Transport-free, so tests call
// it directly with a real database and a fake clock.
//
//   ArticleService service(store, cache, clock, tokens, sink);
//   absl::StatusOr<Article> a = service.GetArticle(req, {.deadline = d, .visitor_id = "v1"});
#ifndef NEWSGRID_ARTICLE_SERVICE_ARTICLE_SERVICE_H_
#define NEWSGRID_ARTICLE_SERVICE_ARTICLE_SERVICE_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "article-service/article_cache.h"
#include "article-service/article_store.h"
#include "article-service/clock.h"
#include "article-service/page_token.h"
#include "article-service/view_sink.h"
#include "news/article/v1/article_service.pb.h"

namespace newsgrid::article {

namespace pb = ::news::article::v1;

// Per-call facts the transport supplies.
struct CallContext {
  absl::Time deadline;
  std::string visitor_id;  // from `x-visitor-id` metadata; the request field wins
};

class ArticleService {
 public:
  ArticleService(ArticleStore& store, ArticleCache& cache, const Clock& clock,
                 const PageTokenCodec& tokens, ViewSink& views)
      : store_(store), cache_(cache), clock_(clock), tokens_(tokens), views_(views) {}

  absl::StatusOr<Article> CreateArticle(const pb::CreateArticleRequest& req, const CallContext& c);
  absl::StatusOr<Article> GetArticle(const pb::GetArticleRequest& req, const CallContext& c);
  absl::StatusOr<Article> GetArticleBySlug(const pb::GetArticleBySlugRequest& req,
                                           const CallContext& c);
  // Reader reads the cache answers alone: nothing here touches PostgreSQL or
  // blocks, so the gRPC layer answers them on its callback thread and hot
  // stories never wait for a worker. nullopt: take the full path (a miss, an
  // editor view, or input the full path rejects with the precise status).
  std::optional<Article> CachedRead(const pb::GetArticleRequest& req, const CallContext& c);
  std::optional<Article> CachedRead(const pb::GetArticleBySlugRequest& req, const CallContext& c);
  absl::StatusOr<Article> UpdateArticle(const pb::UpdateArticleRequest& req, const CallContext& c);
  absl::StatusOr<Article> DeleteArticle(const pb::DeleteArticleRequest& req, const CallContext& c);
  absl::StatusOr<Article> UndeleteArticle(const pb::UndeleteArticleRequest& req,
                                          const CallContext& c);
  absl::StatusOr<Article> PublishArticle(const pb::PublishArticleRequest& req,
                                         const CallContext& c);
  absl::StatusOr<Article> UnpublishArticle(const pb::UnpublishArticleRequest& req,
                                           const CallContext& c);
  absl::StatusOr<pb::ListArticlesResponse> ListArticles(const pb::ListArticlesRequest& req,
                                                        const CallContext& c);
  absl::StatusOr<pb::BatchGetArticlesResponse> BatchGetArticles(
      const pb::BatchGetArticlesRequest& req, const CallContext& c);
  absl::StatusOr<pb::SearchArticlesResponse> SearchArticles(const pb::SearchArticlesRequest& req,
                                                            const CallContext& c);
  absl::StatusOr<pb::ListRelatedArticlesResponse> ListRelatedArticles(
      const pb::ListRelatedArticlesRequest& req, const CallContext& c);
  absl::StatusOr<pb::ListArticleRevisionsResponse> ListArticleRevisions(
      const pb::ListArticleRevisionsRequest& req, const CallContext& c);

 private:
  // Reads `id` for a reader through the cache; NOT_FOUND unless live.
  absl::StatusOr<Article> ReaderGet(const CallContext& c, int64_t id);
  // A cache hit for a reader, recorded as a view; nullopt on a miss.
  std::optional<Article> CachedReaderView(int64_t id, const std::string& visitor,
                                          const CallContext& c);
  absl::StatusOr<Article> Mutate(const CallContext& c, int64_t id, const std::string& actor,
                                 const ArticleStore::MutateFn& fn);
  // Publish, Unpublish, Delete, Undelete: name and actor checks, the etag
  // check and `apply` under the row lock.
  absl::StatusOr<Article> StateChange(
      const CallContext& c, const std::string& name, const std::string& etag,
      const std::string& actor,
      const std::function<absl::StatusOr<Change>(const Article&, absl::Time)>& apply);
  void RecordView(const Article& a, const std::string& request_visitor, const CallContext& c);

  ArticleStore& store_;
  ArticleCache& cache_;
  const Clock& clock_;
  const PageTokenCodec& tokens_;
  ViewSink& views_;
  std::atomic<uint64_t> creates_{0};
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_SERVICE_H_
