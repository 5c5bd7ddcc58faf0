#include "article-service/article_store.h"

#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "article-service/body_html.h"
#include "article-service/pg_array.h"
#include "article-service/filter_sql.h"
#include "runtime/logging.h"
#include "runtime/status_macros.h"

namespace newsgrid::article {
namespace {

// The columns of `articles a` RowToArticle reads, by these names.
constexpr char kColumns[] =
    "a.id, a.slug, a.title, a.subtitle, a.body, a.body_format, a.plain_text, a.custom_excerpt, "
    "a.excerpt, a.authors, a.section, a.tags, a.image_url, a.image_alt, a.image_caption, "
    "a.state, (EXTRACT(EPOCH FROM a.create_time) * 1000000)::bigint AS create_micros, "
    "(EXTRACT(EPOCH FROM a.update_time) * 1000000)::bigint AS update_micros, "
    "(EXTRACT(EPOCH FROM a.publish_time) * 1000000)::bigint AS publish_micros, "
    "(EXTRACT(EPOCH FROM a.delete_time) * 1000000)::bigint AS delete_micros, "
    "a.word_count, a.reading_seconds, a.revision, "
    "ARRAY(SELECT s.slug FROM slugs s WHERE s.article_id = a.id AND NOT s.current "
    "ORDER BY s.create_time, s.slug) AS previous_slugs, a.body_html, a.body_html_version";

// Snippets come from the start of the text: ts_headline parses and stems
// everything it is given (about 0.4 ms for a 5 KB article) for each row of
// every page, and was still over a third of PostgreSQL's time per search at
// 2,000 characters; 1,200 (some 180 words: the lede) cost about 0.1 ms.
constexpr int kSnippetSourceChars = 1200;

// Live for readers at the time in `now`.
std::string LiveCondition(absl::string_view now) {
  return absl::StrCat("(a.delete_time IS NULL AND a.state IN (2, 3) AND a.publish_time <= ",
                      now, "::timestamptz)");
}

std::vector<std::string> ParseTextArray(const pqxx::field& f) {
  if (f.is_null()) return {};
  return ParsePgTextArray(absl::string_view(f.c_str(), f.size()));
}

// A text[] literal for a `$n::text[]` parameter.
std::string PgTextArray(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out = "{";
  bool first = true;
  for (const std::string& v : values) {
    if (!first) out += ',';
    first = false;
    out += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string PgTextArray(const std::vector<std::string>& values) {
  google::protobuf::RepeatedPtrField<std::string> r(values.begin(), values.end());
  return PgTextArray(r);
}

void SetTime(const pqxx::field& f, google::protobuf::Timestamp* ts) {
  *ts = ToProtoTime(absl::FromUnixMicros(f.as<int64_t>()));
}

// The numbers of kColumns' columns in a result. A row's ["name"] looks the
// name up (libpq's PQfnumber copies and folds it) for every field; here it
// is looked up once per result.
struct ArticleColumns {
  explicit ArticleColumns(const pqxx::result& r)
      : id(r.column_number("id")),
        slug(r.column_number("slug")),
        title(r.column_number("title")),
        subtitle(r.column_number("subtitle")),
        body(r.column_number("body")),
        body_format(r.column_number("body_format")),
        plain_text(r.column_number("plain_text")),
        custom_excerpt(r.column_number("custom_excerpt")),
        excerpt(r.column_number("excerpt")),
        authors(r.column_number("authors")),
        section(r.column_number("section")),
        tags(r.column_number("tags")),
        image_url(r.column_number("image_url")),
        image_alt(r.column_number("image_alt")),
        image_caption(r.column_number("image_caption")),
        state(r.column_number("state")),
        create_micros(r.column_number("create_micros")),
        update_micros(r.column_number("update_micros")),
        publish_micros(r.column_number("publish_micros")),
        delete_micros(r.column_number("delete_micros")),
        word_count(r.column_number("word_count")),
        reading_seconds(r.column_number("reading_seconds")),
        revision(r.column_number("revision")),
        previous_slugs(r.column_number("previous_slugs")),
        body_html(r.column_number("body_html")),
        body_html_version(r.column_number("body_html_version")) {}

  pqxx::row::size_type id, slug, title, subtitle, body, body_format, plain_text, custom_excerpt,
      excerpt, authors, section, tags, image_url, image_alt, image_caption, state, create_micros,
      update_micros, publish_micros, delete_micros, word_count, reading_seconds, revision,
      previous_slugs, body_html, body_html_version;
};

Article RowToArticle(const pqxx::row& r, const ArticleColumns& c) {
  Article a;
  const int64_t id = r[c.id].as<int64_t>();
  a.set_slug(r[c.slug].c_str());
  a.set_title(r[c.title].c_str());
  a.set_subtitle(r[c.subtitle].c_str());
  a.set_body(r[c.body].c_str());
  a.set_body_format(static_cast<news::article::v1::BodyFormat>(r[c.body_format].as<int>()));
  a.set_plain_text(r[c.plain_text].c_str());
  a.set_custom_excerpt(r[c.custom_excerpt].c_str());
  a.set_excerpt(r[c.excerpt].c_str());
  for (std::string& s : ParseTextArray(r[c.authors])) a.add_authors(std::move(s));
  a.set_section(r[c.section].c_str());
  for (std::string& s : ParseTextArray(r[c.tags])) a.add_tags(std::move(s));
  const std::string url = r[c.image_url].c_str(), alt = r[c.image_alt].c_str(),
                    caption = r[c.image_caption].c_str();
  if (!url.empty() || !alt.empty() || !caption.empty()) {
    a.mutable_feature_image()->set_url(url);
    a.mutable_feature_image()->set_alt(alt);
    a.mutable_feature_image()->set_caption(caption);
  }
  a.set_state(static_cast<Article::State>(r[c.state].as<int>()));
  SetTime(r[c.create_micros], a.mutable_create_time());
  SetTime(r[c.update_micros], a.mutable_update_time());
  if (!r[c.publish_micros].is_null()) SetTime(r[c.publish_micros], a.mutable_publish_time());
  if (!r[c.delete_micros].is_null()) SetTime(r[c.delete_micros], a.mutable_delete_time());
  a.set_word_count(r[c.word_count].as<int>());
  a.mutable_reading_time()->set_seconds(r[c.reading_seconds].as<int64_t>());
  a.set_revision(r[c.revision].as<int64_t>());
  for (std::string& s : ParseTextArray(r[c.previous_slugs])) a.add_previous_slugs(std::move(s));
  // Rendered under older rules (or before the column existed): render now;
  // the backfill (RenderStaleBodies) stores it.
  if (r[c.body_html_version].as<int>() == kBodyHtmlVersion) {
    a.set_body_html(r[c.body_html].c_str());
  } else {
    a.set_body_html(RenderBodyHtml(a.body(), a.body_format()));
  }
  SetComputedFields(id, &a);
  return a;
}

// The articles of a result of kColumns.
std::vector<Article> RowsToArticles(const pqxx::result& r) {
  std::vector<Article> out;
  if (r.empty()) return out;
  const ArticleColumns c(r);
  out.reserve(r.size());
  for (const pqxx::row& row : r) out.push_back(RowToArticle(row, c));
  return out;
}

std::string OptionalTime(bool has, const google::protobuf::Timestamp& t) {
  return has ? FormatPgTime(FromProtoTime(t)) : "";
}

// The values of the editable and state columns, $2.. in this order:
// slug title subtitle body body_format plain_text custom_excerpt excerpt
// authors section tags image_url image_alt image_caption state create_time
// update_time publish_time delete_time word_count reading_seconds revision
// body_html body_html_version.
std::vector<std::string> RowValues(const Article& a) {
  return {a.slug(),
          a.title(),
          a.subtitle(),
          a.body(),
          absl::StrCat(static_cast<int>(a.body_format())),
          a.plain_text(),
          a.custom_excerpt(),
          a.excerpt(),
          PgTextArray(a.authors()),
          a.section(),
          PgTextArray(a.tags()),
          a.feature_image().url(),
          a.feature_image().alt(),
          a.feature_image().caption(),
          absl::StrCat(static_cast<int>(a.state())),
          FormatPgTime(FromProtoTime(a.create_time())),
          FormatPgTime(FromProtoTime(a.update_time())),
          OptionalTime(a.has_publish_time(), a.publish_time()),
          OptionalTime(a.has_delete_time(), a.delete_time()),
          absl::StrCat(a.word_count()),
          absl::StrCat(a.reading_time().seconds()),
          absl::StrCat(a.revision()),
          a.body_html(),
          absl::StrCat(kBodyHtmlVersion)};
}

constexpr char kUpdateArticle[] =
    "UPDATE articles SET slug = $1, title = $2, subtitle = $3, body = $4, "
    "body_format = $5::smallint, plain_text = $6, custom_excerpt = $7, excerpt = $8, "
    "authors = $9::text[], section = $10, tags = $11::text[], image_url = $12, "
    "image_alt = $13, image_caption = $14, state = $15::smallint, "
    "create_time = $16::timestamptz, update_time = $17::timestamptz, "
    "publish_time = NULLIF($18, '')::timestamptz, delete_time = NULLIF($19, '')::timestamptz, "
    "word_count = $20::int, reading_seconds = $21::int, revision = $22::bigint, "
    "body_html = $23, body_html_version = $24::int WHERE id = $25::bigint";

// Columns then slug, revision 1 and the idempotency key, in one statement:
// one round trip and its own transaction. A taken slug or request id fails
// the whole statement (unique violation) and writes nothing.
constexpr char kCreateArticle[] =
    "WITH art AS (INSERT INTO articles (slug, title, subtitle, body, body_format, plain_text, "
    "custom_excerpt, excerpt, authors, section, tags, image_url, image_alt, image_caption, "
    "state, create_time, update_time, publish_time, delete_time, word_count, reading_seconds, "
    "revision, body_html, body_html_version) VALUES ($2, $3, $4, $5, $6::smallint, $7, $8, "
    "$9, $10::text[], $11, $12::text[], $13, $14, $15, $16::smallint, $17::timestamptz, "
    "$18::timestamptz, NULLIF($19, '')::timestamptz, NULLIF($20, '')::timestamptz, $21::int, "
    "$22::int, $23::bigint, $24, $25::int) RETURNING id), "
    "slug AS (INSERT INTO slugs (slug, article_id, current) SELECT $2, id, true FROM art), "
    "rev AS (INSERT INTO revisions (article_id, revision, actor, create_time, action, "
    "changed_fields, snapshot) SELECT id, $23::bigint, $26, $18::timestamptz, 'create', "
    "$27::text[], decode($28, 'base64') FROM art), "
    "req AS (INSERT INTO create_requests (request_id, article_id, create_time) "
    "SELECT $1, id, $17::timestamptz FROM art WHERE $1 <> '') "
    "SELECT id FROM art";

absl::Status SlugTaken(const std::string& slug) {
  return absl::AlreadyExistsError(
      absl::StrCat("slug \"", slug, "\" is already used by another article"));
}

// A free slug for a derived one: `base`, else `base-2`, `base-3`, ...
std::string FreeSlug(pqxx::transaction_base& tx, const std::string& base, int64_t own_id) {
  std::set<std::string> taken;
  for (const pqxx::row& r :
       tx.exec_params("SELECT slug FROM slugs WHERE (slug = $1 OR slug LIKE $1 || '-%') "
                      "AND article_id <> $2::bigint",
                      base, own_id)) {
    taken.insert(r["slug"].c_str());
  }
  if (taken.count(base) == 0) return base;
  for (int n = 2;; ++n) {
    const std::string suffix = absl::StrCat("-", n);
    std::string candidate = base.substr(0, 200 - suffix.size());
    while (!candidate.empty() && candidate.back() == '-') candidate.pop_back();
    candidate += suffix;
    if (taken.count(candidate) == 0) return candidate;
  }
}

// Makes `slug` the current slug of `id`, keeping the former one resolvable.
// False when another article holds the slug (now or formerly).
bool ClaimSlug(pqxx::work& tx, int64_t id, const std::string& slug) {
  tx.exec_params(
      "UPDATE slugs SET current = false WHERE article_id = $1::bigint AND current AND slug <> $2",
      id, slug);
  const pqxx::result r = tx.exec_params(
      "INSERT INTO slugs (slug, article_id, current) VALUES ($1, $2::bigint, true) "
      "ON CONFLICT (slug) DO UPDATE SET current = true "
      "WHERE slugs.article_id = EXCLUDED.article_id RETURNING 1",
      slug, id);
  return !r.empty();
}

// A revision's snapshot: the article without the fields its row already
// holds (name from article_id, etag from article_id and revision), so it
// can be written before the article has an id (ListRevisions restores them).
std::string SnapshotBytes(const Article& a) {
  Article s = a;
  s.clear_name();
  s.clear_etag();
  return absl::Base64Escape(s.SerializeAsString());
}

void InsertRevision(pqxx::transaction_base& tx, const Article& a, int64_t id,
                    const std::string& actor, const std::string& action,
                    const std::vector<std::string>& changed) {
  tx.exec_prepared("article_insert_revision", id, a.revision(), actor,
                   FormatPgTime(FromProtoTime(a.update_time())), action, PgTextArray(changed),
                   SnapshotBytes(a));
}

absl::StatusOr<Article> LoadById(pqxx::transaction_base& tx, int64_t id) {
  std::vector<Article> found = RowsToArticles(tx.exec_prepared("article_get", id));
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat("article ", ArticleName(id), " not found"));
  }
  return std::move(found[0]);
}

// The sort key of `order`. Readers only see live articles, which always have
// a publish_time: their key is the bare column, which the partial indexes on
// live articles order by.
std::string KeyExpr(OrderKey order, bool reader) {
  switch (order) {
    case OrderKey::kPublishTime:
      return reader ? "a.publish_time" : "COALESCE(a.publish_time, '-infinity'::timestamptz)";
    case OrderKey::kUpdateTime: return "a.update_time";
    case OrderKey::kCreateTime: return "a.create_time";
    case OrderKey::kTitle: return "a.title";
  }
  return "a.id";
}

}  // namespace

std::vector<PreparedStatement> ArticleStore::PreparedStatements() {
  return {
      {"article_get", absl::StrCat("SELECT ", kColumns, " FROM articles a WHERE a.id = $1")},
      {"article_get_by_slug",
       absl::StrCat("SELECT ", kColumns,
                    " FROM slugs s0 JOIN articles a ON a.id = s0.article_id WHERE s0.slug = $1")},
      {"article_get_for_update",
       absl::StrCat("SELECT ", kColumns, " FROM articles a WHERE a.id = $1 FOR UPDATE")},
      {"article_create", kCreateArticle},
      {"article_batch_get",
       absl::StrCat("SELECT ", kColumns, " FROM articles a WHERE a.id = ANY($1::bigint[])")},
      {"article_update", kUpdateArticle},
      {"article_insert_revision",
       "INSERT INTO revisions (article_id, revision, actor, create_time, action, "
       "changed_fields, snapshot) VALUES ($1, $2, $3, $4::timestamptz, $5, $6::text[], "
       "decode($7, 'base64'))"},
  };
}

const char* ArticleStore::CreateStatement() { return kCreateArticle; }

absl::StatusOr<Article> ArticleStore::Create(absl::Time deadline, const NewArticle& input,
                                             const std::string& request_id,
                                             const std::string& actor, bool* replayed) {
  static const std::string kCreatedFields = PgTextArray(std::vector<std::string>{
      "slug", "title", "subtitle", "body", "body_format", "custom_excerpt", "authors", "section",
      "tags", "feature_image"});
  absl::StatusOr<Article> result;
  bool was_replayed = false;
  // A derived slug can race with a concurrent create of the same title; the
  // loser retries and takes the next suffix.
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::Status status = pool_.WithConnection(deadline, [&](pqxx::connection& conn) -> absl::Status {
      // Autocommit: the create is one statement, its own transaction.
      pqxx::nontransaction tx(conn);
      was_replayed = false;
      Article a = input.article;
      if (input.slug_derived) a.set_slug(FreeSlug(tx, a.slug(), 0));
      std::vector<std::string> values = {request_id};
      for (std::string& v : RowValues(a)) values.push_back(std::move(v));
      values.push_back(actor);
      values.push_back(kCreatedFields);
      values.push_back(SnapshotBytes(a));
      int64_t id = 0;
      try {
        id = tx.exec_prepared1("article_create", pqxx::prepare::make_dynamic_params(values))["id"]
                 .as<int64_t>();
      } catch (const pqxx::unique_violation&) {
        // The request id (a retry: its first call has committed, the insert
        // waited for it) or the slug is taken; nothing was written.
        if (!request_id.empty()) {
          const pqxx::result prior = tx.exec_params(
              "SELECT article_id FROM create_requests WHERE request_id = $1", request_id);
          if (!prior.empty() && !prior[0]["article_id"].is_null()) {
            was_replayed = true;
            result = LoadById(tx, prior[0]["article_id"].as<int64_t>());
            return result.status();
          }
        }
        return SlugTaken(a.slug());
      }
      SetComputedFields(id, &a);
      result = std::move(a);
      return absl::OkStatus();
    });
    if (!status.ok()) result = status;
    if (!(input.slug_derived && status.code() == absl::StatusCode::kAlreadyExists)) break;
  }
  if (replayed != nullptr) *replayed = was_replayed;
  return result;
}

absl::StatusOr<Article> ArticleStore::Get(absl::Time deadline, int64_t id) {
  absl::StatusOr<Article> result;
  absl::Status s = pool_.Query(deadline, [&](pqxx::transaction_base& tx) {
    result = LoadById(tx, id);
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  return result;
}

absl::StatusOr<Article> ArticleStore::GetBySlug(absl::Time deadline, const std::string& slug) {
  absl::StatusOr<Article> result;
  absl::Status s = pool_.Query(deadline, [&](pqxx::transaction_base& tx) {
    std::vector<Article> found = RowsToArticles(tx.exec_prepared("article_get_by_slug", slug));
    if (found.empty()) {
      result = absl::NotFoundError(absl::StrCat("no article has the slug \"", slug, "\""));
    } else {
      result = std::move(found[0]);
    }
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  return result;
}

absl::StatusOr<std::vector<Article>> ArticleStore::BatchGet(absl::Time deadline,
                                                            const std::vector<int64_t>& ids) {
  std::vector<Article> out;
  absl::Status s = pool_.Query(deadline, [&](pqxx::transaction_base& tx) {
    const std::string list = absl::StrCat("{", absl::StrJoin(ids, ","), "}");
    out = RowsToArticles(tx.exec_prepared("article_batch_get", list));
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  return out;
}

absl::StatusOr<Article> ArticleStore::Mutate(absl::Time deadline, int64_t id,
                                             const std::string& actor, const MutateFn& fn) {
  absl::StatusOr<Article> result;
  absl::Status status = pool_.Transact(deadline, [&](pqxx::work& tx) -> absl::Status {
    std::vector<Article> found = RowsToArticles(tx.exec_prepared("article_get_for_update", id));
    if (found.empty()) {
      return absl::NotFoundError(absl::StrCat("article ", ArticleName(id), " not found"));
    }
    const Article& current = found[0];
    ASSIGN_OR_RETURN(Change change, fn(current));
    if (change.noop) {
      result = current;
      return absl::OkStatus();
    }
    Article next = std::move(change.article);
    if (next.slug() != current.slug()) {
      if (change.slug_derived) next.set_slug(FreeSlug(tx, next.slug(), id));
      if (!ClaimSlug(tx, id, next.slug())) return SlugTaken(next.slug());
    }
    std::vector<std::string> values = RowValues(next);
    values.push_back(absl::StrCat(id));
    tx.exec_prepared("article_update", pqxx::prepare::make_dynamic_params(values));
    ASSIGN_OR_RETURN(Article stored, LoadById(tx, id));
    InsertRevision(tx, stored, id, actor, change.action, change.changed_fields);
    result = std::move(stored);
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(status);
  return result;
}

namespace {

// A sort key as text for a keyset cursor: times as microseconds (NULL for
// -infinity, a draft's publish time for editors), titles as they are.
std::string KeyText(OrderKey order, absl::string_view key) {
  if (order == OrderKey::kTitle) return std::string(key);
  return absl::StrCat("CASE WHEN isfinite(", key, ") THEN (extract(epoch FROM ", key,
                      ") * 1000000)::bigint::text END");
}

std::string CursorKey(OrderKey order, const pqxx::field& f) {
  if (order == OrderKey::kTitle) return f.c_str();
  if (f.is_null()) return "-infinity";
  return FormatPgTime(absl::FromUnixMicros(f.as<int64_t>()));
}

// Counting stops at kMaxCount + 1 rows, so it stays bounded.
int CountUpTo(pqxx::transaction_base& tx, const std::string& from_where, SqlParams params) {
  const std::string cap = params.Add(absl::StrCat(ArticleStore::kMaxCount + 1));
  const int n = tx.exec_params1(absl::StrCat("SELECT count(*) FROM (SELECT 1 FROM ", from_where,
                                             " LIMIT ", cap, "::int) c"),
                                pqxx::prepare::make_dynamic_params(params.values()))["count"]
                    .as<int>();
  return n > ArticleStore::kMaxCount ? -1 : n;
}

}  // namespace

absl::StatusOr<ListPage> ArticleStore::List(absl::Time deadline, ListQuery q) {
  SqlParams params;
  const std::string now_param = params.Add(FormatPgTime(q.now));
  const FilterSql filter = FilterToSql(q.filter, params, now_param);
  // Editors' conditions do not use the time; it still has to appear so
  // PostgreSQL can type every parameter.
  const std::string typed_now = absl::StrCat("(", now_param, "::timestamptz IS NOT NULL)");
  std::string visibility = q.reader          ? LiveCondition(now_param)
                           : q.show_deleted ? typed_now
                                            : absl::StrCat(typed_now, " AND a.delete_time IS NULL");
  const std::string where = absl::StrCat(filter.where, " AND ", visibility);
  // A reader's tag page newest first walks the tag's (live_from, id) index
  // backwards; every other page walks an index of `articles` in the order's
  // direction. Either way the page is one index range, from the cursor on,
  // and the query stops after limit + 1 rows.
  const bool by_tag = q.reader && q.order == OrderKey::kPublishTime &&
                      !filter.required_tag_params.empty();
  // On the tag walk the tag's test is implied, and so is liveness
  // (article_tags.live_from is the publish time of a live article, NULL
  // otherwise, kept by triggers): a filter of only the tag reads nothing but
  // the index. Other conditions join the articles.
  const std::string rest =
      by_tag ? absl::StrReplaceAll(filter.where,
                                   {{TagCondition(filter.required_tag_params[0]), "TRUE"}})
             : filter.where;
  const bool tag_only = by_tag && rest == "TRUE";
  const std::string page_where = by_tag ? rest : where;
  const std::string key = by_tag ? "t.live_from" : KeyExpr(q.order, q.reader);
  const std::string id = by_tag ? "t.article_id" : "a.id";
  const std::string from = !by_tag   ? "articles a"
                           : tag_only ? "article_tags t"
                                      : "article_tags t JOIN articles a ON a.id = t.article_id";
  const std::string tag_range =
      by_tag ? absl::StrCat("t.tag = ", filter.required_tag_params[0], " AND t.live_from <= ",
                            now_param, "::timestamptz AND ")
             : "";
  const std::string cast = q.order == OrderKey::kTitle ? "::text" : "::timestamptz";
  const std::string dir = q.descending ? "DESC" : "ASC";
  SqlParams page_params = params;
  std::string keyset = "TRUE";
  if (q.after.has_value()) {
    const std::string k = page_params.Add(q.after->key);
    const std::string i = page_params.Add(absl::StrCat(q.after->id));
    keyset = absl::StrCat("(", key, ", ", id, ") ", q.descending ? "<" : ">", " (", k, cast,
                          ", ", i, "::bigint)");
  }
  // The limit is written into the SQL, not passed: with a parameter
  // PostgreSQL's generic plan assumes 10% of the rows and never looks cheaper
  // than a custom plan, so every call would be planned again (measured at
  // 100,000 articles). Page sizes are 1..101: a few statements per shape.
  const std::string sql = absl::StrCat(
      "SELECT ", id, " AS id, ", KeyText(q.order, key), " AS sort_key FROM ", from, " WHERE ",
      tag_range, page_where,
      " AND ", keyset, " ORDER BY ", key, " ", dir, ", ", id, " ", dir, " LIMIT ", q.limit + 1);
  ListPage page;
  absl::Status s = pool_.Query(deadline, [&](pqxx::transaction_base& tx) {
    // Prepared once per connection and filter shape: a page's query is
    // cheaper to run than to plan, and its plan (an index walk from the
    // cursor) is the same for every value.
    const pqxx::result rows = pool_.ExecCached(tx, sql, page_params.values());
    if (!rows.empty()) {
      const auto id_col = rows.column_number("id"), key_col = rows.column_number("sort_key");
      for (const pqxx::row& r : rows) {
        page.rows.push_back({.id = r[id_col].as<int64_t>(), .key = CursorKey(q.order, r[key_col])});
      }
    }
    if (q.count_total) page.total = CountUpTo(tx, absl::StrCat("articles a WHERE ", where), params);
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  if (static_cast<int>(page.rows.size()) > q.limit) {
    page.rows.pop_back();
    page.more = true;
  }
  return page;
}

absl::StatusOr<SearchPage> ArticleStore::Search(absl::Time deadline, SearchQuery q) {
  SqlParams filter_params;
  const std::string now_param = filter_params.Add(FormatPgTime(q.now));
  const FilterSql filter = FilterToSql(q.filter, filter_params, now_param);
  const std::string visibility =
      q.reader ? LiveCondition(now_param)
               : absl::StrCat("(", now_param, "::timestamptz IS NOT NULL) AND a.delete_time IS NULL");
  SqlParams params = filter_params;
  const std::string tsq = params.Add(q.tsquery);
  // The tsquery inline (not from the CTE) in the condition, so the planner
  // estimates how many rows match and picks the plan: newest first through
  // the live-articles index checking each row when most rows match, the
  // GIN index and a sort when few do.
  const std::string where = absl::StrCat("a.search @@ to_tsquery('english', ", tsq, ") AND ",
                                         filter.where, " AND ", visibility);
  const std::string recency = q.reader ? "a.publish_time" : "a.update_time";
  const std::string window = params.Add(absl::StrCat(q.window));
  const std::string offset = params.Add(absl::StrCat(q.offset));
  const std::string limit = params.Add(absl::StrCat(q.limit));
  // Weights {D, C, B, A}: title (A) counts most, then subtitle and excerpt
  // (B), then the body (C). Ranking reads each candidate's vector, so it is
  // bounded to the `window` newest matches; snippets are computed for the
  // page's rows only (not for the extra row that tells whether more exist),
  // from the start of the text.
  const std::string sql = absl::StrCat(
      "WITH q AS (SELECT to_tsquery('english', ", tsq, ") AS q), "
      "cand AS (SELECT a.id, ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', a.search, q.q) AS rank "
      "FROM articles a, q WHERE ", where, " ORDER BY ", recency, " DESC, a.id DESC LIMIT ",
      window, "::int), "
      "page AS (SELECT id, rank, row_number() OVER (ORDER BY rank DESC, id DESC) AS n FROM cand "
      "ORDER BY rank DESC, id DESC OFFSET ", offset, "::bigint LIMIT ", limit, "::int + 1) "
      "SELECT page.id, page.rank::float8 AS rank, CASE WHEN page.n <= ", offset, "::bigint + ",
      limit,
      "::int THEN ts_headline('english', concat_ws(' \u2014 ', a.title, NULLIF(a.subtitle, ''), "
      "left(a.plain_text, ", kSnippetSourceChars, ")), q.q, 'StartSel=", kSnippetMatchStart,
      ", StopSel=", kSnippetMatchEnd, ", "
      "MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=\" \u2026 \"') END AS snippet "
      "FROM page JOIN articles a ON a.id = page.id, q ORDER BY page.rank DESC, page.id DESC");
  SearchPage page;
  absl::Status s = pool_.Query(deadline, [&](pqxx::transaction_base& tx) {
    const pqxx::result rows =
        tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params.values()));
    for (const pqxx::row& r : rows) {
      SearchHit hit;
      hit.id = r["id"].as<int64_t>();
      hit.score = r["rank"].as<double>();
      if (!r["snippet"].is_null()) hit.snippet = r["snippet"].c_str();
      page.hits.push_back(std::move(hit));
    }
    if (q.count_total) {
      SqlParams count_params = filter_params;
      const std::string ctsq = count_params.Add(q.tsquery);
      page.total = CountUpTo(tx,
                             absl::StrCat("articles a WHERE ",
                                          absl::StrReplaceAll(where, {{tsq, ctsq}})),
                             count_params);
    }
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  if (static_cast<int>(page.hits.size()) > q.limit) {
    page.hits.pop_back();
    page.more = true;
  }
  return page;
}

absl::StatusOr<std::vector<RelatedHit>> ArticleStore::Related(absl::Time deadline, int64_t id,
                                                              absl::Time now, int limit) {
  // score = 3 x shared tags + 2 x same section + 4 x text similarity + recency.
  // Text similarity: ts_rank of the candidate against any word of the
  // source's title and excerpt, normalized to 0..1 as r / (r + 1).
  // Recency: 0.5 ^ (age in days / 7). Candidates share a tag, the section or
  // a word with the source (all indexed), so the scan stays small.
  static const std::string sql = absl::StrCat(
      "WITH src AS (SELECT id, tags, section, title, excerpt FROM articles WHERE id = $1), "
      "srcq AS (SELECT NULLIF((SELECT string_agg('''' || lexeme || '''', ' | ') FROM "
      "unnest(to_tsvector('english', src.title || ' ' || src.excerpt)) "
      "WHERE lexeme !~ '[''\\\\]'), '')::tsquery AS q FROM src), "
      "scored AS (SELECT a.id, "
      "3 * cardinality(ARRAY(SELECT unnest(a.tags) INTERSECT SELECT unnest(src.tags))) "
      "+ CASE WHEN src.section <> '' AND a.section = src.section THEN 2 ELSE 0 END "
      "+ 4 * COALESCE(ts_rank(a.search, srcq.q, 32), 0) "
      "+ power(0.5, GREATEST(0, EXTRACT(EPOCH FROM ($2::timestamptz - a.publish_time))) "
      "/ 86400.0 / 7.0) AS score "
      "FROM articles a, src, srcq "
      "WHERE a.id <> src.id AND ", LiveCondition("$2"),
      " AND (a.tags && src.tags OR (src.section <> '' AND a.section = src.section) "
      "OR a.search @@ srcq.q) "
      "ORDER BY score DESC, a.id DESC LIMIT $3::int) "
      "SELECT ", kColumns, ", scored.score::float8 AS score "
      "FROM scored JOIN articles a ON a.id = scored.id "
      "ORDER BY scored.score DESC, a.id DESC");
  std::vector<RelatedHit> out;
  absl::Status s = pool_.Query(deadline, [&](pqxx::transaction_base& tx) {
    const pqxx::result rows = tx.exec_params(sql, id, FormatPgTime(now), limit);
    if (rows.empty()) return absl::OkStatus();
    const ArticleColumns columns(rows);
    const auto score = rows.column_number("score");
    for (const pqxx::row& r : rows) {
      out.push_back({RowToArticle(r, columns), r[score].as<double>()});
    }
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  return out;
}

absl::StatusOr<std::vector<StoredRevision>> ArticleStore::ListRevisions(absl::Time deadline,
                                                                        int64_t id, int64_t before,
                                                                        int limit) {
  std::vector<StoredRevision> out;
  absl::Status s = pool_.Transact(deadline, [&](pqxx::work& tx) -> absl::Status {
    if (tx.exec_params("SELECT 1 FROM articles WHERE id = $1", id).empty()) {
      return absl::NotFoundError(absl::StrCat("article ", ArticleName(id), " not found"));
    }
    for (const pqxx::row& r : tx.exec_params(
             "SELECT revision, actor, (EXTRACT(EPOCH FROM create_time) * 1000000)::bigint "
             "AS create_micros, action, changed_fields, encode(snapshot, 'base64') AS snapshot "
             "FROM revisions "
             "WHERE article_id = $1 AND ($2::bigint = 0 OR revision < $2::bigint) "
             "ORDER BY revision DESC LIMIT $3::int",
             id, before, limit)) {
      StoredRevision rev;
      rev.revision = r["revision"].as<int64_t>();
      rev.actor = r["actor"].c_str();
      rev.create_time = absl::FromUnixMicros(r["create_micros"].as<int64_t>());
      rev.action = r["action"].c_str();
      rev.changed_fields = ParseTextArray(r["changed_fields"]);
      std::string bytes;
      // PostgreSQL's base64 output wraps lines; the decoder skips whitespace.
      if (!absl::Base64Unescape(absl::StrReplaceAll(r["snapshot"].c_str(), {{"\n", ""}}), &bytes) ||
          !rev.snapshot.ParseFromString(bytes)) {
        return absl::InternalError("stored revision snapshot is unreadable");
      }
      SetComputedFields(id, &rev.snapshot);
      out.push_back(std::move(rev));
    }
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  return out;
}

absl::StatusOr<int> ArticleStore::RenderStaleBodies(absl::Time deadline, int limit) {
  int n = 0;
  absl::Status s = pool_.Transact(deadline, [&](pqxx::work& tx) {
    // SKIP LOCKED: replicas starting together share the work, and rows an
    // editor is changing right now get their fresh rendering from the edit.
    for (const pqxx::row& r : tx.exec_params(
             "SELECT id, body, body_format FROM articles WHERE body_html_version <> $1::int "
             "ORDER BY id LIMIT $2::int FOR UPDATE SKIP LOCKED",
             kBodyHtmlVersion, limit)) {
      const std::string html = RenderBodyHtml(
          absl::string_view(r["body"].c_str(), r["body"].size()),
          static_cast<news::article::v1::BodyFormat>(r["body_format"].as<int>()));
      tx.exec_params("UPDATE articles SET body_html = $2, body_html_version = $3::int "
                     "WHERE id = $1::bigint",
                     r["id"].as<int64_t>(), html, kBodyHtmlVersion);
      ++n;
    }
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  return n;
}

absl::StatusOr<int> ArticleStore::ExpireRequestIds(absl::Time deadline, absl::Time older_than) {
  int n = 0;
  absl::Status s = pool_.Transact(deadline, [&](pqxx::work& tx) {
    n = static_cast<int>(
        tx.exec_params("DELETE FROM create_requests WHERE create_time < $1::timestamptz",
                       FormatPgTime(older_than))
            .affected_rows());
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  return n;
}

}  // namespace newsgrid::article
