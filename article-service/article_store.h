// Article storage on PostgreSQL (schema `article`, see migrations/).
//
// Reads return articles as stored (the caller decides visibility); writes
// run in one transaction each: load-modify-store under a row lock for
// changes, so two concurrent updates of the same article serialize and the
// second sees the first's etag. All SQL is parameterized; hot reads use
// prepared statements registered with the pool (PreparedStatements()).
//
//   PgPool pool({.dsn = dsn, .prepared = ArticleStore::PreparedStatements(),
//                .session_setup = "SET search_path = article, public"});
//   ArticleStore store(pool);
//   absl::StatusOr<Article> a = store.Get(deadline, 42);
//   absl::StatusOr<ListPage> page = store.List(deadline, query);  // ids; articles via BatchGet
//   absl::StatusOr<Article> b = store.Mutate(deadline, 42, "ada", [&](const Article& cur) {
//     return ApplyPublish(cur, std::nullopt, now);
//   });
#ifndef NEWSGRID_ARTICLE_SERVICE_ARTICLE_STORE_H_
#define NEWSGRID_ARTICLE_SERVICE_ARTICLE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "article-service/article_domain.h"
#include "article-service/filter.h"
#include "article-service/page_token.h"
#include "runtime/pg_pool.h"

namespace newsgrid::article {

enum class OrderKey { kPublishTime, kUpdateTime, kCreateTime, kTitle };

struct ListQuery {
  // The parsed filter; its required tags (FilterExpr::required_tag) let a
  // reader list newest first be driven from the (tag, publish_time) index.
  FilterExpr filter;
  absl::Time now;  // visibility and `state` conditions are evaluated at this time
  OrderKey order = OrderKey::kPublishTime;
  bool descending = true;
  bool reader = true;         // only live articles
  bool show_deleted = false;  // editors only
  std::optional<PageCursor> after;
  int limit = 20;
  bool count_total = false;   // also count the matches (a second query)
};

// One row of a list page: the article's id and its sort key as a keyset
// cursor stores it. The articles themselves come from the read cache or
// BatchGet: a page's query reads only an index range.
struct ListRow {
  int64_t id = 0;
  std::string key;
};

struct ListPage {
  std::vector<ListRow> rows;
  bool more = false;  // a further page exists
  // When counted: matching articles up to kMaxCount, -1 when there are more.
  std::optional<int> total;
};

struct SearchQuery {
  std::string tsquery;  // CompileSearchQuery output
  FilterExpr filter;
  absl::Time now;
  bool reader = true;
  int64_t offset = 0;
  int limit = 20;
  // Ranking considers the `window` newest matches (readers: by publish
  // time; editors: by update time).
  int window = 300;
  bool count_total = false;
};

struct SearchHit {
  int64_t id = 0;
  double score = 0;
  // Plain text; each match between kSnippetMatchStart and kSnippetMatchEnd
  // (SnippetHtml in article_domain.h makes the page's HTML of it).
  std::string snippet;
};

struct SearchPage {
  std::vector<SearchHit> hits;
  bool more = false;
  std::optional<int> total;  // when counted; -1 when more than kMaxCount
};

struct RelatedHit {
  Article article;
  double score = 0;
};

struct StoredRevision {
  int64_t revision = 0;
  std::string actor;
  absl::Time create_time;
  std::string action;
  std::vector<std::string> changed_fields;
  Article snapshot;
};

class ArticleStore {
 public:
  static constexpr int kMaxCount = 10000;

  explicit ArticleStore(PgPool& pool) : pool_(pool) {}

  static std::vector<PreparedStatement> PreparedStatements();

  // The one statement that creates an article (article row, slug, revision 1
  // and the idempotency key together), parameters $1..$26 as Create passes
  // them. bench/pgbench/create_article.sql replays exactly this statement.
  static const char* CreateStatement();

  // Inserts a new article with revision 1, in one statement (one round
  // trip, its own transaction). With a request id, a retry returns the first
  // call's article (`*replayed` set) and writes nothing. ALREADY_EXISTS when
  // an explicit slug is taken (current or former slug of another article); a
  // derived slug gets a "-2", "-3"... suffix instead.
  absl::StatusOr<Article> Create(absl::Time deadline, const NewArticle& article,
                                 const std::string& request_id, const std::string& actor,
                                 bool* replayed = nullptr);

  absl::StatusOr<Article> Get(absl::Time deadline, int64_t id);
  // By current or former slug.
  absl::StatusOr<Article> GetBySlug(absl::Time deadline, const std::string& slug);
  // Found articles by id (missing ids absent).
  absl::StatusOr<std::vector<Article>> BatchGet(absl::Time deadline,
                                                const std::vector<int64_t>& ids);

  // Locks the article, applies `fn` and stores the result with a revision
  // (unless the change is a no-op). Returns the stored article.
  using MutateFn = std::function<absl::StatusOr<Change>(const Article& current)>;
  absl::StatusOr<Article> Mutate(absl::Time deadline, int64_t id, const std::string& actor,
                                 const MutateFn& fn);

  // The ids and sort keys of one keyset page (and the count when asked).
  absl::StatusOr<ListPage> List(absl::Time deadline, ListQuery query);
  // One page of ranked hits with their snippets (computed for the page's
  // rows only), and the count when asked.
  absl::StatusOr<SearchPage> Search(absl::Time deadline, SearchQuery query);
  // The best `limit` live articles related to live article `id` at `now`;
  // the score is documented on RelatedArticle.score.
  absl::StatusOr<std::vector<RelatedHit>> Related(absl::Time deadline, int64_t id, absl::Time now,
                                                  int limit);
  // Newest first, revisions below `before` (0: from the newest).
  absl::StatusOr<std::vector<StoredRevision>> ListRevisions(absl::Time deadline, int64_t id,
                                                            int64_t before, int limit);

  // Removes create idempotency keys older than `older_than` (kept >= 24 h).
  absl::StatusOr<int> ExpireRequestIds(absl::Time deadline, absl::Time older_than);

  // Renders and stores the body_html of up to `limit` articles rendered
  // under an older kBodyHtmlVersion (or none); returns how many. Called at
  // start until it returns 0.
  absl::StatusOr<int> RenderStaleBodies(absl::Time deadline, int limit);

 private:
  PgPool& pool_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_STORE_H_
