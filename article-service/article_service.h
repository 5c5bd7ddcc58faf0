// The article service's use cases, between the gRPC handlers and storage:
// request validation, visibility (READER / EDITOR), the read cache, page
// tokens, view recording and the domain rules. Transport-free, so tests call
// it directly with a real database and a fake clock.
//
// Reads answer with shared serialized versions (ArticleRef): reader reads of
// live articles come from the read cache, and list and search pages take
// their articles from it too (the page's query reads only ids from an
// index; articles not cached are fetched in one BatchGet and cached).
//
//   ArticleService service(store, cache, clock, tokens, sink);
//   absl::StatusOr<ArticleRef> a = service.GetArticle(req, {.deadline = d, .visitor_id = "v1"});
//   Article message = (*a)->Parse();
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
#include "article-service/page_token.h"
#include "article-service/response_wire.h"
#include "article-service/view_sink.h"
#include "news/article/v1/article_service.pb.h"
#include "runtime/clock.h"

namespace newsgrid::article {

namespace pb = ::news::article::v1;

// Per-call facts the transport supplies.
struct CallContext {
  absl::Time deadline;
  std::string visitor_id;  // from `x-visitor-id` metadata; the request field wins
};

struct ArticleServiceOptions {
  // Search ranks the newest this many matches (SearchQuery::window).
  int search_rank_window = 300;
};

class ArticleService {
 public:
  ArticleService(ArticleStore& store, ArticleCache& cache, const Clock& clock,
                 const PageTokenCodec& tokens, ViewSink& views, ArticleServiceOptions options = {})
      : store_(store),
        cache_(cache),
        clock_(clock),
        tokens_(tokens),
        views_(views),
        options_(options) {}

  absl::StatusOr<Article> CreateArticle(const pb::CreateArticleRequest& req, const CallContext& c);
  absl::StatusOr<ArticleRef> GetArticle(const pb::GetArticleRequest& req, const CallContext& c);
  absl::StatusOr<ArticleRef> GetArticleBySlug(const pb::GetArticleBySlugRequest& req,
                                              const CallContext& c);
  // Reader reads the cache answers alone: nothing here touches PostgreSQL or
  // blocks, so the gRPC layer answers them on its callback thread and hot
  // stories never wait for a worker. Null: take the full path (a miss, an
  // editor view, or input the full path rejects with the precise status).
  ArticleRef CachedRead(const pb::GetArticleRequest& req, const CallContext& c);
  ArticleRef CachedRead(const pb::GetArticleBySlugRequest& req, const CallContext& c);
  absl::StatusOr<Article> UpdateArticle(const pb::UpdateArticleRequest& req, const CallContext& c);
  absl::StatusOr<Article> DeleteArticle(const pb::DeleteArticleRequest& req, const CallContext& c);
  absl::StatusOr<Article> UndeleteArticle(const pb::UndeleteArticleRequest& req,
                                          const CallContext& c);
  absl::StatusOr<Article> PublishArticle(const pb::PublishArticleRequest& req,
                                         const CallContext& c);
  absl::StatusOr<Article> UnpublishArticle(const pb::UnpublishArticleRequest& req,
                                           const CallContext& c);
  absl::StatusOr<ArticlePage> ListArticles(const pb::ListArticlesRequest& req,
                                           const CallContext& c);
  absl::StatusOr<pb::BatchGetArticlesResponse> BatchGetArticles(
      const pb::BatchGetArticlesRequest& req, const CallContext& c);
  absl::StatusOr<SearchResultsPage> SearchArticles(const pb::SearchArticlesRequest& req,
                                                   const CallContext& c);
  absl::StatusOr<pb::ListRelatedArticlesResponse> ListRelatedArticles(
      const pb::ListRelatedArticlesRequest& req, const CallContext& c);
  absl::StatusOr<pb::ListArticleRevisionsResponse> ListArticleRevisions(
      const pb::ListArticleRevisionsRequest& req, const CallContext& c);

 private:
  // Reads `id` for a reader through the cache; NOT_FOUND unless live.
  absl::StatusOr<ArticleRef> ReaderGet(const CallContext& c, int64_t id);
  // A cache hit for a reader, recorded as a view; null on a miss.
  ArticleRef CachedReaderView(int64_t id, const std::string& visitor, const CallContext& c);
  // The articles of `ids`, in order: readers' from the cache, the others
  // (and all of an editor's) in one BatchGet; a reader's misses are cached.
  // Articles no longer visible are left out.
  absl::StatusOr<std::vector<ArticleRef>> Hydrate(const CallContext& c, bool reader,
                                                  const std::vector<int64_t>& ids);
  absl::StatusOr<Article> Mutate(const CallContext& c, int64_t id, const std::string& actor,
                                 const ArticleStore::MutateFn& fn);
  // Publish, Unpublish, Delete, Undelete: name and actor checks, the etag
  // check and `apply` under the row lock.
  absl::StatusOr<Article> StateChange(
      const CallContext& c, const std::string& name, const std::string& etag,
      const std::string& actor,
      const std::function<absl::StatusOr<Change>(const Article&, absl::Time)>& apply);
  void RecordView(const ArticleRef& a, const std::string& request_visitor, const CallContext& c);

  ArticleStore& store_;
  ArticleCache& cache_;
  const Clock& clock_;
  const PageTokenCodec& tokens_;
  ViewSink& views_;
  const ArticleServiceOptions options_;
  std::atomic<uint64_t> creates_{0};
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_SERVICE_H_
