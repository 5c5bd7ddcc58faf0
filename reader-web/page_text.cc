#include "reader-web/page_text.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "runtime/logging.h"

namespace newsgrid::reader {
namespace {

constexpr char kHttpDateFormat[] = "%a, %d %b %Y %H:%M:%S GMT";

// JSON string literal safe inside an HTML <script> element.
void AppendScriptSafeJson(std::string& out, absl::string_view s) {
  std::string literal;
  AppendJsonString(literal, s);
  out += absl::StrReplaceAll(literal, {{"<", "\\u003c"}, {">", "\\u003e"}, {"&", "\\u0026"}});
}

}  // namespace

std::string ReaderTime(absl::Time t, absl::TimeZone zone) {
  return absl::FormatTime("%d %b %Y %H:%M", t, zone);
}

std::string IsoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(absl::ToUnixSeconds(t)),
                          absl::UTCTimeZone());
}

std::string HttpDate(absl::Time t) {
  return absl::FormatTime(kHttpDateFormat, t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseHttpDate(absl::string_view s) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(kHttpDateFormat, s, absl::UTCTimeZone(), &t, &err)) return std::nullopt;
  return t;
}

std::string BodyEtag(absl::string_view body) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  return absl::StrCat("\"", absl::BytesToHexString(absl::string_view(
                                  reinterpret_cast<const char*>(digest), 8)), "\"");
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string Byline(const google::protobuf::RepeatedPtrField<std::string>& authors) {
  std::string out;
  for (int i = 0; i < authors.size(); ++i) {
    if (i > 0) out += i + 1 == authors.size() ? " and " : ", ";
    out += authors[i];
  }
  return out;
}

std::vector<SnippetPart> SnippetParts(absl::string_view snippet) {
  auto unescape = [](absl::string_view s) {
    return absl::StrReplaceAll(
        s, {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}});
  };
  std::vector<SnippetPart> parts;
  while (!snippet.empty()) {
    const size_t open = snippet.find("<mark>");
    if (open == absl::string_view::npos) {
      parts.push_back({unescape(snippet), false});
      break;
    }
    if (open > 0) parts.push_back({unescape(snippet.substr(0, open)), false});
    snippet.remove_prefix(open + 6);
    const size_t close = snippet.find("</mark>");
    parts.push_back({unescape(snippet.substr(0, close)), true});
    if (close == absl::string_view::npos) break;
    snippet.remove_prefix(close + 7);
  }
  return parts;
}

std::string NewsArticleJsonLd(const news::article::v1::Article& a, absl::string_view canonical_url,
                              absl::string_view site_name) {
  std::string out = "{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\",\"headline\":";
  AppendScriptSafeJson(out, a.title());
  if (!a.excerpt().empty()) {
    out += ",\"description\":";
    AppendScriptSafeJson(out, a.excerpt());
  }
  out += ",\"mainEntityOfPage\":";
  AppendScriptSafeJson(out, canonical_url);
  out += ",\"url\":";
  AppendScriptSafeJson(out, canonical_url);
  if (a.has_publish_time()) {
    absl::StrAppend(&out, ",\"datePublished\":\"", IsoTime(FromProto(a.publish_time())), "\"");
  }
  absl::StrAppend(&out, ",\"dateModified\":\"", IsoTime(FromProto(a.update_time())), "\"");
  if (!a.feature_image().url().empty()) {
    out += ",\"image\":[";
    AppendScriptSafeJson(out, a.feature_image().url());
    out += "]";
  }
  if (!a.section().empty()) {
    out += ",\"articleSection\":";
    AppendScriptSafeJson(out, a.section());
  }
  if (!a.tags().empty()) {
    out += ",\"keywords\":[";
    for (int i = 0; i < a.tags_size(); ++i) {
      if (i > 0) out += ',';
      AppendScriptSafeJson(out, a.tags(i));
    }
    out += "]";
  }
  absl::StrAppend(&out, ",\"wordCount\":", a.word_count());
  if (!a.authors().empty()) {
    out += ",\"author\":[";
    for (int i = 0; i < a.authors_size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"@type\":\"Person\",\"name\":";
      AppendScriptSafeJson(out, a.authors(i));
      out += "}";
    }
    out += "]";
  }
  out += ",\"publisher\":{\"@type\":\"Organization\",\"name\":";
  AppendScriptSafeJson(out, site_name);
  out += "}}";
  return out;
}

}  // namespace newsgrid::reader
