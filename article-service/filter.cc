#include "article-service/filter.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "article-service/slug.h"
#include "article-service/utf8.h"
#include "runtime/status.h"
#include "runtime/status_macros.h"

namespace newsgrid::article {
namespace {

enum class Tok { kLParen, kRParen, kOp, kMinus, kString, kWord, kEnd };

struct Token {
  Tok kind;
  std::string text;  // operator, unquoted string or word
  size_t pos = 0;    // 1-based
};

constexpr int kMaxDepth = 32;

class Parser {
 public:
  Parser(absl::string_view input, absl::string_view field) : input_(input), field_(field) {}

  absl::StatusOr<FilterExpr> Run() {
    if (input_.size() > kMaxFilterLength) {
      return InvalidFieldError(field_, absl::StrCat("is longer than ", kMaxFilterLength,
                                                    " characters"));
    }
    if (!IsValidUtf8(input_)) return InvalidFieldError(field_, "is not valid UTF-8");
    RETURN_IF_ERROR(Tokenize());
    if (tokens_.size() == 1) return FilterExpr();
    FilterExpr e;
    RETURN_IF_ERROR(Expression(0, e));
    if (Peek().kind != Tok::kEnd) {
      return Error(Peek().pos, absl::StrCat("unexpected ", Describe(Peek()),
                                            "; join conditions with AND or OR"));
    }
    return e;
  }

 private:
  absl::Status Error(size_t pos, absl::string_view what) const {
    return InvalidFieldError(field_, absl::StrCat(what, " at position ", pos));
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd: return "end of filter";
      case Tok::kString: return absl::StrCat("\"", t.text, "\"");
      default: return absl::StrCat("'", t.text, "'");
    }
  }

  absl::Status Tokenize() {
    size_t i = 0;
    while (i < input_.size()) {
      const char c = input_[i];
      const size_t pos = i + 1;
      if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '(' || c == ')') {
        tokens_.push_back({c == '(' ? Tok::kLParen : Tok::kRParen, std::string(1, c), pos});
        ++i;
      } else if (c == '"' || c == '\'') {
        std::string value;
        size_t j = i + 1;
        bool closed = false;
        while (j < input_.size()) {
          if (input_[j] == '\\' && j + 1 < input_.size()) {
            value += input_[j + 1];
            j += 2;
          } else if (input_[j] == c) {
            closed = true;
            ++j;
            break;
          } else {
            value += input_[j++];
          }
        }
        if (!closed) return Error(pos, "unterminated string");
        tokens_.push_back({Tok::kString, std::move(value), pos});
        i = j;
      } else if (c == '=' || c == ':') {
        tokens_.push_back({Tok::kOp, std::string(1, c), pos});
        ++i;
      } else if (c == '!' || c == '<' || c == '>') {
        if (i + 1 < input_.size() && input_[i + 1] == '=') {
          tokens_.push_back({Tok::kOp, std::string(input_.substr(i, 2)), pos});
          i += 2;
        } else if (c == '!') {
          return Error(pos, "unexpected '!' (use != or NOT)");
        } else {
          tokens_.push_back({Tok::kOp, std::string(1, c), pos});
          ++i;
        }
      } else if (c == '-') {
        tokens_.push_back({Tok::kMinus, "-", pos});
        ++i;
      } else if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                 static_cast<unsigned char>(c) >= 0x80) {
        size_t j = i;
        while (j < input_.size()) {
          const auto d = static_cast<unsigned char>(input_[j]);
          if (absl::ascii_isalnum(d) || d == '_' || d == '.' || d == '-' || d >= 0x80) {
            ++j;
          } else {
            break;
          }
        }
        tokens_.push_back({Tok::kWord, std::string(input_.substr(i, j - i)), pos});
        i = j;
      } else {
        return Error(pos, absl::StrCat("unexpected character '", std::string(1, c), "'"));
      }
    }
    tokens_.push_back({Tok::kEnd, "", input_.size() + 1});
    return absl::OkStatus();
  }

  const Token& Peek() const { return tokens_[next_]; }
  const Token& Take() { return tokens_[next_ < tokens_.size() - 1 ? next_++ : next_]; }
  bool IsKeyword(const Token& t, absl::string_view kw) const {
    return t.kind == Tok::kWord && t.text == kw;
  }

  // The parse functions fill `out` in place: a node is built where it ends
  // up in the tree, not moved up through each level.

  // `out` (already parsed) becomes the first of `kind`'s children.
  static void StartList(FilterExpr::Kind kind, FilterExpr& out) {
    FilterExpr first = std::move(out);
    out = FilterExpr();
    out.kind = kind;
    out.children.reserve(4);
    out.children.push_back(std::move(first));
  }

  // expression := factor { AND factor }
  absl::Status Expression(int depth, FilterExpr& out) {
    if (depth > kMaxDepth) return Error(Peek().pos, "filter is nested too deeply");
    bare_tag_ = false;
    RETURN_IF_ERROR(Factor(depth, out));
    // A factor that is just `tags:"x"` at the top level: every match has x.
    if (depth == 0 && bare_tag_) out.required_tag = true;
    if (!IsKeyword(Peek(), "AND")) return absl::OkStatus();
    StartList(FilterExpr::Kind::kAnd, out);
    while (IsKeyword(Peek(), "AND")) {
      Take();
      bare_tag_ = false;
      FilterExpr& f = out.children.emplace_back();
      RETURN_IF_ERROR(Factor(depth, f));
      if (depth == 0 && bare_tag_) f.required_tag = true;
    }
    return absl::OkStatus();
  }

  // factor := term { OR term }
  absl::Status Factor(int depth, FilterExpr& out) {
    RETURN_IF_ERROR(Term(depth, out));
    if (!IsKeyword(Peek(), "OR")) return absl::OkStatus();
    StartList(FilterExpr::Kind::kOr, out);
    while (IsKeyword(Peek(), "OR")) {
      Take();
      RETURN_IF_ERROR(Term(depth, out.children.emplace_back()));
    }
    bare_tag_ = false;  // one of alternatives: not required
    return absl::OkStatus();
  }

  // term := [NOT | -] term | ( expression ) | restriction
  absl::Status Term(int depth, FilterExpr& out) {
    if (depth > kMaxDepth) return Error(Peek().pos, "filter is nested too deeply");
    if (IsKeyword(Peek(), "NOT") || Peek().kind == Tok::kMinus) {
      Take();
      out.kind = FilterExpr::Kind::kNot;
      RETURN_IF_ERROR(Term(depth + 1, out.children.emplace_back()));
      bare_tag_ = false;
      return absl::OkStatus();
    }
    if (Peek().kind == Tok::kLParen) {
      const size_t open = Take().pos;
      RETURN_IF_ERROR(Expression(depth + 1, out));
      bare_tag_ = false;
      if (Peek().kind != Tok::kRParen) {
        return Error(Peek().pos, absl::StrCat("expected ')' to close the '(' at position ",
                                              open, ", found ", Describe(Peek())));
      }
      Take();
      return absl::OkStatus();
    }
    return Restriction(out);
  }

  absl::Status Restriction(FilterExpr& e) {
    const Token& field = Take();
    if (field.kind != Tok::kWord || IsKeyword(field, "AND") || IsKeyword(field, "OR")) {
      return Error(field.pos, absl::StrCat("expected a field name, found ", Describe(field)));
    }
    const Token& op = Take();
    if (op.kind != Tok::kOp) {
      return Error(op.pos, absl::StrCat("expected an operator after \"", field.text,
                                        "\", found ", Describe(op)));
    }
    const Token& value = Take();
    if (value.kind != Tok::kString && value.kind != Tok::kWord) {
      return Error(value.pos, absl::StrCat("expected a value after '", op.text, "', found ",
                                           Describe(value)));
    }
    const std::string& f = field.text;
    const std::string& o = op.text;
    auto equality_only = [&]() -> absl::Status {
      if (o == "=" || o == "!=") return absl::OkStatus();
      return Error(op.pos, absl::StrCat("operator '", o, "' is not supported for ", f,
                                        " (use = or !=)"));
    };
    e.kind = FilterExpr::Kind::kCompare;
    e.op = OpOf(o);
    if (f == "section" || f == "slug") {
      RETURN_IF_ERROR(equality_only());
      e.field = f == "section" ? FilterField::kSection : FilterField::kSlug;
      e.text = f == "section" ? NormalizeLower(value.text) : value.text;
      return absl::OkStatus();
    }
    if (f == "state") {
      RETURN_IF_ERROR(equality_only());
      e.field = FilterField::kState;
      if (value.text == "PUBLISHED") {
        e.state = news::article::v1::Article::PUBLISHED;
      } else if (value.text == "SCHEDULED") {
        e.state = news::article::v1::Article::SCHEDULED;
      } else if (value.text == "DRAFT") {
        e.state = news::article::v1::Article::DRAFT;
      } else {
        return Error(value.pos, absl::StrCat("unknown state ", Describe(value),
                                             " (DRAFT, SCHEDULED or PUBLISHED)"));
      }
      return absl::OkStatus();
    }
    if (f == "publish_time" || f == "create_time" || f == "update_time") {
      if (o == ":") {
        return Error(op.pos, absl::StrCat("operator ':' is not supported for ", f));
      }
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, value.text, &e.time, &err)) {
        return Error(value.pos, absl::StrCat("\"", value.text,
                                             "\" is not an RFC 3339 time such as "
                                             "\"2023-06-01T00:00:00Z\""));
      }
      e.field = f == "publish_time" ? FilterField::kPublishTime
                : f == "create_time" ? FilterField::kCreateTime
                                     : FilterField::kUpdateTime;
      return absl::OkStatus();
    }
    if (f == "tags" || f == "authors") {
      if (o != ":") {
        return Error(op.pos, absl::StrCat("use ':' to test ", f, ", e.g. ", f, ":\"value\""));
      }
      if (f == "tags") {
        e.field = FilterField::kTags;
        e.text = NormalizeTag(value.text);
        bare_tag_ = true;
      } else {
        e.field = FilterField::kAuthors;
        e.text = value.text;
      }
      return absl::OkStatus();
    }
    return Error(field.pos, absl::StrCat("unknown field \"", f,
                                         "\" (section, slug, state, publish_time, "
                                         "create_time, update_time, tags, authors)"));
  }

  static FilterOp OpOf(absl::string_view o) {
    if (o == "=") return FilterOp::kEq;
    if (o == "!=") return FilterOp::kNe;
    if (o == "<") return FilterOp::kLt;
    if (o == "<=") return FilterOp::kLe;
    if (o == ">") return FilterOp::kGt;
    if (o == ">=") return FilterOp::kGe;
    return FilterOp::kHas;
  }

  absl::string_view input_;
  std::string field_;
  // The last restriction was a `tags:` test and nothing (OR, NOT,
  // parentheses) has wrapped it yet.
  bool bare_tag_ = false;
  std::vector<Token> tokens_;
  size_t next_ = 0;
};

void CollectRequiredTags(const FilterExpr& e, std::vector<std::string>& out) {
  if (e.required_tag) out.push_back(e.text);
  // Required tags sit at the top: the root or the root AND's children.
  if (e.kind == FilterExpr::Kind::kAnd) {
    for (const FilterExpr& c : e.children) {
      if (c.required_tag) out.push_back(c.text);
    }
  }
}

}  // namespace

absl::StatusOr<FilterExpr> ParseFilter(absl::string_view filter, absl::string_view field) {
  return Parser(filter, field).Run();
}

std::vector<std::string> RequiredTags(const FilterExpr& filter) {
  std::vector<std::string> out;
  CollectRequiredTags(filter, out);
  return out;
}

}  // namespace newsgrid::article
