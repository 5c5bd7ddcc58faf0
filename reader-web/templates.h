// Page templates (mustache, reader-web/templates/*.mustache) and static
// files (reader-web/static/), compiled into the binary from those files, or
// read from folders at start (--templates_dir, --static_dir) to work on
// them without a rebuild.
//
// Every {{value}} is HTML-escaped by the template engine (& < > " ' and `
// become entities); only the article body, already sanitized by the
// article service, and the JSON-LD, made safe for <script> by
// NewsArticleJsonLd, are inserted raw with {{{...}}}.
//
//   Templates t = Templates::Embedded();
//   std::string html = t.Render("article", context);  // partials: the other templates
#ifndef NEWSGRID_READER_WEB_TEMPLATES_H_
#define NEWSGRID_READER_WEB_TEMPLATES_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "mstch/mstch.hpp"

namespace newsgrid::reader {

struct StaticFile {
  std::string content;
  std::string content_type;
  std::string etag;
};

class Templates {
 public:
  // The templates and static files built into the binary.
  static Templates Embedded();
  // Overrides from folders (either may be empty: the embedded ones stay).
  static absl::StatusOr<Templates> Load(const std::string& templates_dir,
                                        const std::string& static_dir);

  // Renders template `name` with every template available as a partial.
  std::string Render(const std::string& name, const mstch::node& context) const;

  // A static file by its path under static/ ("site.css"); null if none.
  const StaticFile* Static(const std::string& path) const;

  // `text` with & < > " ' and ` escaped (the engine's escaping).
  static std::string Escape(const std::string& text);

 private:
  std::map<std::string, std::string> templates_;
  std::map<std::string, StaticFile> static_;
};

}  // namespace newsgrid::reader

#endif  // NEWSGRID_READER_WEB_TEMPLATES_H_
