#include "article-service/search_query.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "article-service/utf8.h"
#include "runtime/status.h"

namespace newsgrid::article {
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
  if (CodepointCount(query) > kMaxSearchQueryChars) {
    return InvalidFieldError(f,
                             absl::StrCat("is longer than ", kMaxSearchQueryChars, " characters"));
  }
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
    anded.push_back(ored.size() == 1 ? ored[0]
                                     : absl::StrCat("(", absl::StrJoin(ored, " | "), ")"));
  }
  if (!any_positive) {
    return InvalidFieldError(f, "needs at least one word to search for");
  }
  return absl::StrJoin(anded, " & ");
}

}  // namespace newsgrid::article
