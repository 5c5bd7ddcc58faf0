#include "article-service/filter_sql.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace newsgrid::article {
namespace {

using news::article::v1::Article;

// Article::State as the `state` column stores it.
int StateColumn(Article::State s) { return static_cast<int>(s); }

const char* ColumnOf(FilterField f) {
  switch (f) {
    case FilterField::kSection: return "section";
    case FilterField::kSlug: return "slug";
    case FilterField::kState: return "state";
    case FilterField::kPublishTime: return "publish_time";
    case FilterField::kCreateTime: return "create_time";
    case FilterField::kUpdateTime: return "update_time";
    case FilterField::kTags: return "tags";
    case FilterField::kAuthors: return "authors";
  }
  return "id";
}

const char* SqlOp(FilterOp op) {
  switch (op) {
    case FilterOp::kEq: return "=";
    case FilterOp::kNe: return "<>";
    case FilterOp::kLt: return "<";
    case FilterOp::kLe: return "<=";
    case FilterOp::kGt: return ">";
    case FilterOp::kGe: return ">=";
    case FilterOp::kHas: return "@>";
  }
  return "=";
}

class Translator {
 public:
  Translator(SqlParams& params, absl::string_view now, FilterSql& out)
      : params_(params), now_(now), out_(out) {}

  std::string Sql(const FilterExpr& e) {
    switch (e.kind) {
      case FilterExpr::Kind::kMatchAll: return "TRUE";
      case FilterExpr::Kind::kAnd: return Joined(e, " AND ");
      case FilterExpr::Kind::kOr: return Joined(e, " OR ");
      case FilterExpr::Kind::kNot: return absl::StrCat("(NOT ", Sql(e.children[0]), ")");
      case FilterExpr::Kind::kCompare: return Compare(e);
    }
    return "FALSE";
  }

 private:
  std::string Joined(const FilterExpr& e, absl::string_view sep) {
    std::vector<std::string> parts;
    parts.reserve(e.children.size());
    for (const FilterExpr& c : e.children) parts.push_back(Sql(c));
    return absl::StrCat("(", absl::StrJoin(parts, sep), ")");
  }

  std::string Compare(const FilterExpr& e) {
    switch (e.field) {
      case FilterField::kSection:
      case FilterField::kSlug:
        return absl::StrCat("(a.", ColumnOf(e.field), " ", SqlOp(e.op), " ", params_.Add(e.text),
                            ")");
      case FilterField::kState: {
        std::string cond;
        if (e.state == Article::PUBLISHED) {
          cond = absl::StrCat("(a.state IN (", StateColumn(Article::SCHEDULED), ", ",
                              StateColumn(Article::PUBLISHED), ") AND a.publish_time <= ", now_,
                              "::timestamptz)");
        } else if (e.state == Article::SCHEDULED) {
          cond = absl::StrCat("(a.state = ", StateColumn(Article::SCHEDULED),
                              " AND a.publish_time > ", now_, "::timestamptz)");
        } else {
          cond = absl::StrCat("(a.state = ", StateColumn(Article::DRAFT), ")");
        }
        return e.op == FilterOp::kEq ? cond : absl::StrCat("(NOT ", cond, ")");
      }
      case FilterField::kPublishTime:
      case FilterField::kCreateTime:
      case FilterField::kUpdateTime:
        // COALESCE: drafts have no publish_time; a comparison with it is
        // false, so NOT(...) of it is true, as a reader would expect.
        return absl::StrCat("COALESCE(a.", ColumnOf(e.field), " ", SqlOp(e.op), " ",
                            params_.Add(FormatPgTime(e.time)), "::timestamptz, false)");
      case FilterField::kTags: {
        const std::string p = params_.Add(e.text);
        if (e.required_tag) out_.required_tag_params.push_back(p);
        return TagCondition(p);
      }
      case FilterField::kAuthors:
        return absl::StrCat("(a.authors @> ARRAY[", params_.Add(e.text), "]::text[])");
    }
    return "FALSE";
  }

  SqlParams& params_;
  absl::string_view now_;
  FilterSql& out_;
};

}  // namespace

std::string SqlParams::Add(std::string value) {
  values_.push_back(std::move(value));
  return absl::StrCat("$", values_.size());
}

std::string FormatPgTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

std::string TagCondition(absl::string_view param) {
  return absl::StrCat("(a.tags @> ARRAY[", param, "]::text[])");
}

FilterSql FilterToSql(const FilterExpr& filter, SqlParams& params, absl::string_view now_param) {
  FilterSql out;
  out.where = Translator(params, now_param, out).Sql(filter);
  return out;
}

}  // namespace newsgrid::article
