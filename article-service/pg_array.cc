#include "article-service/pg_array.h"

namespace newsgrid::article {

std::vector<std::string> ParsePgTextArray(absl::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  const size_t n = text.size();
  // An optional dimension decoration ("[1:2]={...}") comes before '='.
  if (n > 0 && text[0] == '[') {
    const size_t eq = text.find('=');
    if (eq == absl::string_view::npos) return out;
    i = eq + 1;
  }
  if (i >= n || text[i] != '{') return out;
  ++i;
  if (i < n && text[i] == '}') return out;
  while (i < n) {
    std::string value;
    bool quoted = false;
    if (text[i] == '"') {
      quoted = true;
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = text[i++];
        if (c == '\\') {
          if (i >= n) return out;
          value.push_back(text[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value.push_back(c);
        }
      }
      if (!closed) return out;
    } else {
      while (i < n && text[i] != ',' && text[i] != '}') {
        if (text[i] == '\\') {
          if (++i >= n) return out;
        }
        value.push_back(text[i++]);
      }
    }
    if (quoted || value != "NULL") out.push_back(std::move(value));
    if (i >= n) return out;
    if (text[i] == '}') return out;
    if (text[i] != ',') return out;
    ++i;
  }
  return out;
}

}  // namespace newsgrid::article
