#include "reader-web/templates.h"

#include <dirent.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reader-web/page_text.h"
#include "runtime/html.h"
#include "runtime/status_macros.h"

namespace newsgrid::reader {

// Generated from reader-web/templates and reader-web/static (CMake).
const std::map<std::string, std::string>& EmbeddedTemplateFiles();
const std::map<std::string, std::string>& EmbeddedStaticFiles();

namespace {

std::string ContentType(const std::string& path) {
  if (absl::EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (absl::EndsWith(path, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(path, ".svg")) return "image/svg+xml";
  if (absl::EndsWith(path, ".png")) return "image/png";
  if (absl::EndsWith(path, ".jpg")) return "image/jpeg";
  return "application/octet-stream";
}

StaticFile MakeStatic(const std::string& path, std::string content) {
  StaticFile f;
  f.etag = BodyEtag(content);
  f.content = std::move(content);
  f.content_type = ContentType(path);
  return f;
}

// Regular files of `dir` with names ending in `suffix`, by name.
absl::StatusOr<std::map<std::string, std::string>> ReadFolder(const std::string& dir,
                                                              const std::string& suffix) {
  std::map<std::string, std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return absl::NotFoundError(absl::StrCat("cannot open folder ", dir));
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.' || !absl::EndsWith(name, suffix)) continue;
    std::ifstream in(dir + "/" + name, std::ios::binary);
    if (!in) continue;  // a sub-folder
    std::stringstream ss;
    ss << in.rdbuf();
    out[name.substr(0, name.size() - suffix.size())] = ss.str();
  }
  closedir(d);
  return out;
}

}  // namespace

std::string Templates::Escape(const std::string& text) { return EscapeHtml(text); }

Templates Templates::Embedded() {
  // The engine's escaping is a process-wide setting; ours covers attribute
  // values in any quoting.
  mstch::config::escape = [](const std::string& s) { return Escape(s); };
  Templates t;
  for (const auto& [name, text] : EmbeddedTemplateFiles()) {
    const std::string base = absl::EndsWith(name, ".mustache")
                                 ? name.substr(0, name.size() - std::string(".mustache").size())
                                 : name;
    t.templates_[base] = text;
  }
  for (const auto& [path, content] : EmbeddedStaticFiles()) {
    t.static_[path] = MakeStatic(path, content);
  }
  return t;
}

absl::StatusOr<Templates> Templates::Load(const std::string& templates_dir,
                                          const std::string& static_dir) {
  Templates t = Embedded();
  if (!templates_dir.empty()) {
    ASSIGN_OR_RETURN(auto files, ReadFolder(templates_dir, ".mustache"));
    for (auto& [name, text] : files) t.templates_[name] = std::move(text);
  }
  if (!static_dir.empty()) {
    ASSIGN_OR_RETURN(auto files, ReadFolder(static_dir, ""));
    for (auto& [name, content] : files) t.static_[name] = MakeStatic(name, std::move(content));
  }
  return t;
}

std::string Templates::Render(const std::string& name, const mstch::node& context) const {
  auto it = templates_.find(name);
  if (it == templates_.end()) return "";
  return mstch::render(it->second, context, templates_);
}

const StaticFile* Templates::Static(const std::string& path) const {
  auto it = static_.find(path);
  return it == static_.end() ? nullptr : &it->second;
}

}  // namespace newsgrid::reader
