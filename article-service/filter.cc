#include "article-service/filter.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "article-service/slug.h"
#include "article-service/utf8.h"
#include "runtime/status.h"

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
  Parser(absl::string_view input, SqlParams& params, absl::string_view now,
         absl::string_view field, FilterFacts* facts)
      : input_(input), params_(params), now_(now), field_(field), facts_(facts) {}

  absl::StatusOr<std::string> Run() {
    if (input_.size() > kMaxFilterLength) {
      return InvalidFieldError(field_, absl::StrCat("is longer than ", kMaxFilterLength,
                                                    " characters"));
    }
    if (!IsValidUtf8(input_)) return InvalidFieldError(field_, "is not valid UTF-8");
    if (absl::Status s = Tokenize(); !s.ok()) return s;
    if (tokens_.size() == 1) return std::string("TRUE");
    absl::StatusOr<std::string> e = Expression(0);
    if (!e.ok()) return e;
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

  // expression := factor { AND factor }
  absl::StatusOr<std::string> Expression(int depth) {
    if (depth > kMaxDepth) return Error(Peek().pos, "filter is nested too deeply");
    std::vector<std::string> parts;
    for (;;) {
      bare_tag_.clear();
      absl::StatusOr<std::string> f = Factor(depth);
      if (!f.ok()) return f;
      // A factor that is just `tags:"x"` at the top level: every match has x.
      if (depth == 0 && !bare_tag_.empty() && facts_ != nullptr) {
        facts_->required_tag_params.push_back(bare_tag_);
      }
      parts.push_back(*std::move(f));
      if (!IsKeyword(Peek(), "AND")) break;
      Take();
    }
    return parts.size() == 1 ? parts[0] : absl::StrCat("(", absl::StrJoin(parts, " AND "), ")");
  }

  // factor := term { OR term }
  absl::StatusOr<std::string> Factor(int depth) {
    std::vector<std::string> parts;
    for (;;) {
      absl::StatusOr<std::string> t = Term(depth);
      if (!t.ok()) return t;
      parts.push_back(*std::move(t));
      if (!IsKeyword(Peek(), "OR")) break;
      Take();
    }
    if (parts.size() > 1) bare_tag_.clear();  // one of alternatives: not required
    return parts.size() == 1 ? parts[0] : absl::StrCat("(", absl::StrJoin(parts, " OR "), ")");
  }

  // term := [NOT | -] term | ( expression ) | restriction
  absl::StatusOr<std::string> Term(int depth) {
    if (depth > kMaxDepth) return Error(Peek().pos, "filter is nested too deeply");
    if (IsKeyword(Peek(), "NOT") || Peek().kind == Tok::kMinus) {
      Take();
      absl::StatusOr<std::string> t = Term(depth + 1);
      if (!t.ok()) return t;
      bare_tag_.clear();
      return absl::StrCat("(NOT ", *t, ")");
    }
    if (Peek().kind == Tok::kLParen) {
      const size_t open = Take().pos;
      absl::StatusOr<std::string> e = Expression(depth + 1);
      bare_tag_.clear();
      if (!e.ok()) return e;
      if (Peek().kind != Tok::kRParen) {
        return Error(Peek().pos, absl::StrCat("expected ')' to close the '(' at position ",
                                              open, ", found ", Describe(Peek())));
      }
      Take();
      return e;
    }
    return Restriction();
  }

  absl::StatusOr<std::string> Restriction() {
    const Token field = Take();
    if (field.kind != Tok::kWord || IsKeyword(field, "AND") || IsKeyword(field, "OR")) {
      return Error(field.pos, absl::StrCat("expected a field name, found ", Describe(field)));
    }
    const Token op = Take();
    if (op.kind != Tok::kOp) {
      return Error(op.pos, absl::StrCat("expected an operator after \"", field.text,
                                        "\", found ", Describe(op)));
    }
    const Token value = Take();
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
    if (f == "section" || f == "slug") {
      if (absl::Status s = equality_only(); !s.ok()) return s;
      const std::string v = f == "section" ? NormalizeLower(value.text) : value.text;
      return absl::StrCat("(a.", f, o == "=" ? " = " : " <> ", params_.Add(v), ")");
    }
    if (f == "state") {
      if (absl::Status s = equality_only(); !s.ok()) return s;
      std::string cond;
      if (value.text == "PUBLISHED") {
        cond = absl::StrCat("(a.state IN (2, 3) AND a.publish_time <= ", now_, "::timestamptz)");
      } else if (value.text == "SCHEDULED") {
        cond = absl::StrCat("(a.state = 2 AND a.publish_time > ", now_, "::timestamptz)");
      } else if (value.text == "DRAFT") {
        cond = "(a.state = 1)";
      } else {
        return Error(value.pos, absl::StrCat("unknown state ", Describe(value),
                                             " (DRAFT, SCHEDULED or PUBLISHED)"));
      }
      return o == "=" ? cond : absl::StrCat("(NOT ", cond, ")");
    }
    if (f == "publish_time" || f == "create_time" || f == "update_time") {
      if (o == ":") {
        return Error(op.pos, absl::StrCat("operator ':' is not supported for ", f));
      }
      absl::Time t;
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, value.text, &t, &err)) {
        return Error(value.pos, absl::StrCat("\"", value.text,
                                             "\" is not an RFC 3339 time such as "
                                             "\"2023-06-01T00:00:00Z\""));
      }
      const std::string sql_op = o == "!=" ? "<>" : o;
      // COALESCE: drafts have no publish_time; a comparison with it is false,
      // so NOT(...) of it is true, as a reader would expect.
      return absl::StrCat("COALESCE(a.", f, " ", sql_op, " ", params_.Add(FormatPgTime(t)),
                          "::timestamptz, false)");
    }
    if (f == "tags" || f == "authors") {
      if (o != ":") {
        return Error(op.pos, absl::StrCat("use ':' to test ", f, ", e.g. ", f, ":\"value\""));
      }
      const std::string v = f == "tags" ? NormalizeTag(value.text) : value.text;
      const std::string p = params_.Add(v);
      if (f == "tags") {
        bare_tag_ = p;
        return TagCondition(p);
      }
      return absl::StrCat("(a.authors @> ARRAY[", p, "]::text[])");
    }
    return Error(field.pos, absl::StrCat("unknown field \"", f,
                                         "\" (section, slug, state, publish_time, "
                                         "create_time, update_time, tags, authors)"));
  }

  absl::string_view input_;
  SqlParams& params_;
  std::string now_;
  std::string field_;
  FilterFacts* facts_;
  // Placeholder of the last `tags:` restriction while nothing (OR, NOT,
  // parentheses) has wrapped it yet.
  std::string bare_tag_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
};

}  // namespace

std::string TagCondition(absl::string_view param) {
  return absl::StrCat("(a.tags @> ARRAY[", param, "]::text[])");
}

std::string SqlParams::Add(std::string value) {
  values_.push_back(std::move(value));
  return absl::StrCat("$", values_.size());
}

std::string FormatPgTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<std::string> CompileFilter(absl::string_view filter, SqlParams& params,
                                          absl::string_view now_param, absl::string_view field,
                                          FilterFacts* facts) {
  return Parser(filter, params, now_param, field, facts).Run();
}

namespace {

bool IsLexemeByte(unsigned char c) { return absl::ascii_isalnum(c) || c >= 0x80; }

// Splits text into lexemes quoted for tsquery: only letters, digits and
// non-ASCII bytes, so no quote or operator character can get through.
std::vector<std::string> Lexemes(absl::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsLexemeByte(c)) {
      cur += ch;
    } else if (!cur.empty()) {
      out.push_back(absl::StrCat("'", cur, "'"));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(absl::StrCat("'", cur, "'"));
  return out;
}

}  // namespace

absl::StatusOr<std::string> CompileSearchQuery(absl::string_view query, absl::string_view field) {
  const std::string f(field);
  if (query.empty()) return InvalidFieldError(f, "is required");
  if (!IsValidUtf8(query)) return InvalidFieldError(f, "is not valid UTF-8");
  if (CodepointCount(query) > 500) return InvalidFieldError(f, "is longer than 500 characters");
  struct Term {
    std::string text;
    bool negated = false;
  };
  // Clauses are ANDed; the terms of a clause are ORed.
  std::vector<std::vector<Term>> clauses;
  bool pending_or = false;
  bool any_positive = false;
  size_t i = 0;
  while (i < query.size()) {
    if (absl::ascii_isspace(static_cast<unsigned char>(query[i]))) {
      ++i;
      continue;
    }
    bool negated = false;
    if (query[i] == '-') {
      negated = true;
      ++i;
    }
    std::string text;
    if (i < query.size() && query[i] == '"') {
      size_t end = query.find('"', i + 1);
      if (end == absl::string_view::npos) end = query.size();
      text = absl::StrJoin(Lexemes(query.substr(i + 1, end - i - 1)), " <-> ");
      i = std::min(end + 1, query.size());
    } else {
      size_t end = i;
      while (end < query.size() && !absl::ascii_isspace(static_cast<unsigned char>(query[end]))) {
        ++end;
      }
      absl::string_view word = query.substr(i, end - i);
      i = end;
      if (word == "OR" && !negated) {
        pending_or = !clauses.empty();
        continue;
      }
      const bool prefix = absl::EndsWith(word, "*");
      std::vector<std::string> parts = Lexemes(word);
      if (prefix && !parts.empty()) parts.back() += ":*";
      text = absl::StrJoin(parts, " <-> ");
    }
    if (text.empty()) {
      pending_or = false;
      continue;
    }
    Term t{absl::StrCat("(", text, ")"), negated};
    if (pending_or && !clauses.empty()) {
      clauses.back().push_back(std::move(t));
    } else {
      clauses.push_back({std::move(t)});
    }
    pending_or = false;
  }
  std::vector<std::string> anded;
  for (const auto& clause : clauses) {
    std::vector<std::string> ored;
    bool positive = false;
    for (const Term& t : clause) {
      ored.push_back(t.negated ? absl::StrCat("!", t.text) : t.text);
      positive = positive || !t.negated;
    }
    any_positive = any_positive || positive;
    anded.push_back(ored.size() == 1 ? ored[0] : absl::StrCat("(", absl::StrJoin(ored, " | "), ")"));
  }
  if (!any_positive) {
    return InvalidFieldError(f, "needs at least one word to search for");
  }
  return absl::StrJoin(anded, " & ");
}

}  // namespace newsgrid::article
