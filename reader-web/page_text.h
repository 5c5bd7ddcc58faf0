// The words and machine-readable facts of a page: dates in the reader's
// wording and for machines, bylines, HTTP dates, search snippets split
// into highlighted parts, and the schema.org NewsArticle JSON-LD.
//
//   ReaderTime(t, absl::UTCTimeZone());   // "17 Jun 2023 09:14"
//   IsoTime(t);                            // "2023-06-17T09:14:00Z"
//   Byline({"Ada", "Li", "Mo"});            // "Ada, Li and Mo"
//   NewsArticleJsonLd(article, "https://news.example/articles/x", "Example News");
#ifndef NEWSGRID_READER_WEB_PAGE_TEXT_H_
#define NEWSGRID_READER_WEB_PAGE_TEXT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "news/article/v1/article_service.pb.h"

namespace newsgrid::reader {

// "17 Jun 2023 09:14" in `zone`.
std::string ReaderTime(absl::Time t, absl::TimeZone zone);
// RFC 3339 in UTC, whole seconds: for <time datetime> and JSON-LD.
std::string IsoTime(absl::Time t);
// IMF-fixdate for Last-Modified ("Sat, 17 Jun 2023 09:14:00 GMT").
std::string HttpDate(absl::Time t);
// Parses an IMF-fixdate (If-Modified-Since); nullopt when malformed.
std::optional<absl::Time> ParseHttpDate(absl::string_view s);

// A strong ETag of `body`: "\"<16 hex digits>\"" of its SHA-256, the same
// in every process (replicas behind one CDN agree).
std::string BodyEtag(absl::string_view body);

absl::Time FromProto(const google::protobuf::Timestamp& ts);

// "Ada", "Ada and Li", "Ada, Li and Mo".
std::string Byline(const google::protobuf::RepeatedPtrField<std::string>& authors);

struct SnippetPart {
  std::string text;  // plain text (unescaped)
  bool marked = false;
};
// SearchResult.snippet (HTML-escaped text with <mark>…</mark>) as parts, so
// the template escapes every part itself and highlights the marked ones.
std::vector<SnippetPart> SnippetParts(absl::string_view snippet);

// schema.org NewsArticle as JSON that is safe inside <script
// type="application/ld+json">: "<", ">" and "&" are written as \u003c etc.,
// so no text can close the element.
std::string NewsArticleJsonLd(const news::article::v1::Article& article,
                              absl::string_view canonical_url, absl::string_view site_name);

}  // namespace newsgrid::reader

#endif  // NEWSGRID_READER_WEB_PAGE_TEXT_H_
