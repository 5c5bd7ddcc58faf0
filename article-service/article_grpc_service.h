// The gRPC face of the article service: callback handlers that read the
// transport facts (deadline, x-visitor-id metadata), check the caller's
// bearer-token scope (access_rules.h; UNAUTHENTICATED / PERMISSION_DENIED), hand the blocking work
// to the worker pool with RunUnary, and map results with the shared status
// mapper. All rules live in ArticleService.
//
// GetArticle, GetArticleBySlug, ListArticles and SearchArticles are raw
// methods (grpc::ByteBuffer in and out): their answers are written around
// the articles' shared serialized bytes (response_wire.h), and a cached
// reader read is answered right on gRPC's callback thread.
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

using ArticleServiceBase = pb::ArticleService::WithRawCallbackMethod_GetArticle<
    pb::ArticleService::WithRawCallbackMethod_GetArticleBySlug<
        pb::ArticleService::WithRawCallbackMethod_ListArticles<
            pb::ArticleService::WithRawCallbackMethod_SearchArticles<
                pb::ArticleService::CallbackService>>>>;

class ArticleGrpcService final : public ArticleServiceBase {
 public:
  static constexpr char kServiceName[] = "news.article.v1.ArticleService";

  ArticleGrpcService(ArticleService& service, WorkerPool& workers, const ServerConfig& config,
                     Authorizer& auth)
      : service_(service), workers_(workers), config_(config), auth_(auth) {}

  grpc::ServerUnaryReactor* CreateArticle(grpc::CallbackServerContext* ctx,
                                          const pb::CreateArticleRequest* req,
                                          Article* resp) override;
  grpc::ServerUnaryReactor* GetArticle(grpc::CallbackServerContext* ctx,
                                       const grpc::ByteBuffer* req,
                                       grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* GetArticleBySlug(grpc::CallbackServerContext* ctx,
                                             const grpc::ByteBuffer* req,
                                             grpc::ByteBuffer* resp) override;
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
                                         const grpc::ByteBuffer* req,
                                         grpc::ByteBuffer* resp) override;
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
                                           const grpc::ByteBuffer* req,
                                           grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* ListRelatedArticles(grpc::CallbackServerContext* ctx,
                                                const pb::ListRelatedArticlesRequest* req,
                                                pb::ListRelatedArticlesResponse* resp) override;
  grpc::ServerUnaryReactor* ListArticleRevisions(grpc::CallbackServerContext* ctx,
                                                 const pb::ListArticleRevisionsRequest* req,
                                                 pb::ListArticleRevisionsResponse* resp) override;

 private:
  // Runs `method` of ArticleService on a worker and finishes the RPC.
  template <typename Req, typename Resp, typename Method>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, const Req* req, Resp* resp,
                                Method method);
  // The raw methods: parses the request, checks its scope, answers a cached
  // reader read at once (ArticleService::CachedRead, Get methods only),
  // else runs `method` on a worker and writes its result with `encode`.
  template <typename Req, typename Method, typename Encode>
  grpc::ServerUnaryReactor* RunRaw(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                   grpc::ByteBuffer* resp, Method method, Encode encode);
  // The scope check, on the callback thread (a digest and a compare): a
  // refused call never takes a worker. Null when allowed.
  template <typename Req>
  grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx, const Req& req);

  ArticleService& service_;
  WorkerPool& workers_;
  const ServerConfig& config_;
  Authorizer& auth_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_GRPC_SERVICE_H_
