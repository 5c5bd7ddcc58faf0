#include "article-service/article_grpc_service.h"

#include "article-service/access_rules.h"
#include "runtime/rpc.h"

namespace newsgrid::article {
namespace {

std::string VisitorFromMetadata(const grpc::CallbackServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("x-visitor-id");
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

template <typename Req, typename Resp, typename Method>
grpc::ServerUnaryReactor* ArticleGrpcService::Run(grpc::CallbackServerContext* ctx,
                                                  const Req* req, Resp* resp, Method method) {
  // The scope check runs on the callback thread (a digest and a compare):
  // refused calls never take a worker.
  if (const char* scope = RequiredScope(*req); scope != nullptr && auth_.enabled()) {
    if (absl::Status s = auth_.Require(*ctx, scope); !s.ok()) {
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      reactor->Finish(ToGrpcStatus(s));
      return reactor;
    }
  }
  CallContext call{.deadline = RpcDeadline(*ctx, config_.default_rpc_deadline),
                   .visitor_id = VisitorFromMetadata(*ctx)};
  if constexpr (requires { service_.CachedRead(*req, call); }) {
    if (std::optional<Article> hit = service_.CachedRead(*req, call)) {
      *resp = *std::move(hit);
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
  }
  return RunUnary(ctx, workers_, [this, req, resp, method, call]() -> absl::Status {
    auto result = (service_.*method)(*req, call);
    if (!result.ok()) return result.status();
    *resp = *std::move(result);
    return absl::OkStatus();
  });
}

#define NG_ARTICLE_METHOD(Name, Req, Resp)                                                  \
  grpc::ServerUnaryReactor* ArticleGrpcService::Name(grpc::CallbackServerContext* ctx,      \
                                                     const Req* req, Resp* resp) {          \
    return Run(ctx, req, resp, &ArticleService::Name);                                      \
  }

NG_ARTICLE_METHOD(CreateArticle, pb::CreateArticleRequest, Article)
NG_ARTICLE_METHOD(GetArticle, pb::GetArticleRequest, Article)
NG_ARTICLE_METHOD(GetArticleBySlug, pb::GetArticleBySlugRequest, Article)
NG_ARTICLE_METHOD(UpdateArticle, pb::UpdateArticleRequest, Article)
NG_ARTICLE_METHOD(DeleteArticle, pb::DeleteArticleRequest, Article)
NG_ARTICLE_METHOD(UndeleteArticle, pb::UndeleteArticleRequest, Article)
NG_ARTICLE_METHOD(ListArticles, pb::ListArticlesRequest, pb::ListArticlesResponse)
NG_ARTICLE_METHOD(BatchGetArticles, pb::BatchGetArticlesRequest, pb::BatchGetArticlesResponse)
NG_ARTICLE_METHOD(PublishArticle, pb::PublishArticleRequest, Article)
NG_ARTICLE_METHOD(UnpublishArticle, pb::UnpublishArticleRequest, Article)
NG_ARTICLE_METHOD(SearchArticles, pb::SearchArticlesRequest, pb::SearchArticlesResponse)
NG_ARTICLE_METHOD(ListRelatedArticles, pb::ListRelatedArticlesRequest,
                  pb::ListRelatedArticlesResponse)
NG_ARTICLE_METHOD(ListArticleRevisions, pb::ListArticleRevisionsRequest,
                  pb::ListArticleRevisionsResponse)

#undef NG_ARTICLE_METHOD

}  // namespace newsgrid::article
