// HTML escaping, the one way both the article service (body rendering) and
// reader-web (templates) write text into HTML.
//
//   std::string safe = EscapeHtml("<b>\"Tom\" & 'Jerry'</b>");
//   // "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
#ifndef NEWSGRID_RUNTIME_HTML_H_
#define NEWSGRID_RUNTIME_HTML_H_

#include <string>

#include "absl/strings/string_view.h"

namespace newsgrid {

// `text` with & < > " ' and ` as character references: safe as element
// text and as an attribute value in any quoting.
std::string EscapeHtml(absl::string_view text);

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_HTML_H_
