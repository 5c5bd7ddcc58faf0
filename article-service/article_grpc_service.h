// The gRPC face of the article service: callback handlers that read the
// transport facts (deadline, x-visitor-id metadata), check the caller's
// bearer-token scope (access_rules.h; UNAUTHENTICATED / PERMISSION_DENIED), hand the blocking work
// to the worker pool with RunUnary, and map results with the shared status
// mapper. All rules live in ArticleService.
//
//   ArticleGrpcService grpc_service(service, runtime.workers(), config, authorizer);
//   runtime.AddService(&grpc_service, ArticleGrpcService::kServiceName);
#ifndef NEWSGRID_ARTICLE_SERVICE_ARTICLE_GRPC_SERVICE_H_
#define NEWSGRID_ARTICLE_SERVICE_ARTICLE_GRPC_SERVICE_H_

#include "article-service/article_service.h"
#include "news/article/v1/article_service.grpc.pb.h"
#include "runtime/auth.h"
#include "runtime/config.h"
#include "runtime/worker_pool.h"

namespace newsgrid::article {

class ArticleGrpcService final : public pb::ArticleService::CallbackService {
 public:
  static constexpr char kServiceName[] = "news.article.v1.ArticleService";

  ArticleGrpcService(ArticleService& service, WorkerPool& workers, const ServerConfig& config,
                     Authorizer& auth)
      : service_(service), workers_(workers), config_(config), auth_(auth) {}

  grpc::ServerUnaryReactor* CreateArticle(grpc::CallbackServerContext* ctx,
                                          const pb::CreateArticleRequest* req,
                                          Article* resp) override;
  grpc::ServerUnaryReactor* GetArticle(grpc::CallbackServerContext* ctx,
                                       const pb::GetArticleRequest* req, Article* resp) override;
  grpc::ServerUnaryReactor* GetArticleBySlug(grpc::CallbackServerContext* ctx,
                                             const pb::GetArticleBySlugRequest* req,
                                             Article* resp) override;
  grpc::ServerUnaryReactor* UpdateArticle(grpc::CallbackServerContext* ctx,
                                          const pb::UpdateArticleRequest* req,
                                          Article* resp) override;
  grpc::ServerUnaryReactor* DeleteArticle(grpc::CallbackServerContext* ctx,
                                          const pb::DeleteArticleRequest* req,
                                          Article* resp) override;
  grpc::ServerUnaryReactor* UndeleteArticle(grpc::CallbackServerContext* ctx,
                                            const pb::UndeleteArticleRequest* req,
                                            Article* resp) override;
  grpc::ServerUnaryReactor* ListArticles(grpc::CallbackServerContext* ctx,
                                         const pb::ListArticlesRequest* req,
                                         pb::ListArticlesResponse* resp) override;
  grpc::ServerUnaryReactor* BatchGetArticles(grpc::CallbackServerContext* ctx,
                                             const pb::BatchGetArticlesRequest* req,
                                             pb::BatchGetArticlesResponse* resp) override;
  grpc::ServerUnaryReactor* PublishArticle(grpc::CallbackServerContext* ctx,
                                           const pb::PublishArticleRequest* req,
                                           Article* resp) override;
  grpc::ServerUnaryReactor* UnpublishArticle(grpc::CallbackServerContext* ctx,
                                             const pb::UnpublishArticleRequest* req,
                                             Article* resp) override;
  grpc::ServerUnaryReactor* SearchArticles(grpc::CallbackServerContext* ctx,
                                           const pb::SearchArticlesRequest* req,
                                           pb::SearchArticlesResponse* resp) override;
  grpc::ServerUnaryReactor* ListRelatedArticles(grpc::CallbackServerContext* ctx,
                                                const pb::ListRelatedArticlesRequest* req,
                                                pb::ListRelatedArticlesResponse* resp) override;
  grpc::ServerUnaryReactor* ListArticleRevisions(grpc::CallbackServerContext* ctx,
                                                 const pb::ListArticleRevisionsRequest* req,
                                                 pb::ListArticleRevisionsResponse* resp) override;

 private:
  // Runs `method` of ArticleService on a worker and finishes the RPC; reader
  // reads the cache answers finish right here instead (ArticleService::CachedRead).
  template <typename Req, typename Resp, typename Method>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, const Req* req, Resp* resp,
                                Method method);

  ArticleService& service_;
  WorkerPool& workers_;
  const ServerConfig& config_;
  Authorizer& auth_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_GRPC_SERVICE_H_
