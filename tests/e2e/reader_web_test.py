"""The reader's pages in a real browser (headless Chromium), against the
running trio and PostgreSQL:

1. The article page shows every element (headline, standfirst, byline,
   Published/Updated times, reading time, feature image with alt and
   caption, sanitized body, tags and section links, Read more, Top content),
   with canonical, Open Graph, Twitter and NewsArticle JSON-LD metadata,
   lang and landmarks; ETag/Last-Modified answer 304; Cache-Control and CSP.
2. Read mode and font size work with JavaScript off and on, and are
   remembered in a cookie.
3. A page view shows up in the page's trending box after a reload; the
   visitor cookie is HttpOnly and SameSite=Lax; bots' views do not count.
4. The live box updates without a reload (Server-Sent Events).
5. A former slug answers 301; a draft and an unknown slug a real 404 page.
6. A hostile body and title render inert (no alert, no script element).
7. Front, section, tag and search pages (highlighted snippets, page tokens).
8. Trending down: pages still render; article service down: 503 with
   Retry-After.
Screenshots of the pages go to $NEWSGRID_SCREENSHOT_DIR (default
build/screenshots); docs/screenshots holds the committed ones.
"""

import os
import sys
import time
import unittest

from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.common.by import By

import harness
from reader_support import READER_UA, TRENDING, Browser, ReaderTrio, http_get, json_ld
from harness import wait_until

BODY = """The new tram line links the harbour with the university.

## Timetable

Trams run every *six minutes* from early morning. [The full timetable](https://example.com/timetable)
is online.

> "It changes how the city moves," the mayor said."""


class ReaderWebTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.trio = ReaderTrio().start()
        cls.browser = Browser()
        cls.d = cls.browser.driver
        image = cls.trio.url("/static/demo/harbour.svg")
        cls.main = cls.trio.publish(
            "Tram line 9 opens on Saturday", BODY, subtitle="The harbour gets its first tram in 60 years",
            section="local", tags=["transport", "trams"], authors=["Tomas Berg", "Ada Lind"],
            feature_image={"url": image, "alt": "A tram at the harbour stop", "caption": "Line 9 at the harbour"})
        # An edit after publishing: the page shows an Updated time.
        time.sleep(1.1)
        cls.main = cls.trio.call("UpdateArticle", {
            "article": {"name": cls.main["name"], "customExcerpt": "Tram line 9 links the harbour and the university."},
            "updateMask": "customExcerpt", "actor": "test"})
        cls.related = [cls.trio.publish(f"Harbour transport story {i}", "Trams and buses at the harbour.",
                                        section="local", tags=["transport"]) for i in range(4)]
        # Some reading, so the trending box has entries from the start.
        cls.trio.record_views(cls.related[0]["name"], 1, prefix="setup")
        wait_until(lambda: "<li><a href=" in http_get(cls.trio.url("/"))[2].split('id="trending-list"')[-1],
                   timeout=20, interval=0.3, what="trending box filled")

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.trio.stop()

    def page(self, path):
        self.browser.get(self.trio.url(path))
        return self.d

    def css(self, selector):
        return self.d.find_elements(By.CSS_SELECTOR, selector)

    def text(self, selector):
        return self.d.find_element(By.CSS_SELECTOR, selector).text

    # -- 1 ---------------------------------------------------------------------

    def test_article_page_shows_every_element(self):
        self.page(f"/articles/{self.main['slug']}")
        d = self.d
        self.assertEqual(self.text("h1"), "Tram line 9 opens on Saturday")
        self.assertEqual(d.title, "Tram line 9 opens on Saturday · newsgrid")
        self.assertEqual(self.text(".standfirst"), "The harbour gets its first tram in 60 years")
        self.assertEqual(self.text(".byline"), "By Tomas Berg and Ada Lind")
        published = self.css(".published time")[0]
        self.assertRegex(self.text(".published"), r"^Published: \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}$")
        self.assertRegex(published.get_attribute("datetime"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(self.text(".updated"), r"^Updated: \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}$")
        self.assertEqual(self.text(".reading-time"), "1 min read")
        img = self.css("figure.feature img")[0]
        self.assertEqual(img.get_attribute("alt"), "A tram at the harbour stop")
        wait_until(lambda: d.execute_script("return arguments[0].naturalWidth", img) > 0, what="image loaded")
        self.assertEqual(self.text("figure.feature figcaption"), "Line 9 at the harbour")
        self.assertEqual(self.text(".body h2"), "Timetable")
        self.assertEqual(self.text(".body em"), "six minutes")
        self.assertEqual(self.css(".body a")[0].get_attribute("href"), "https://example.com/timetable")
        self.assertIn("the mayor said", self.text(".body blockquote"))
        self.assertEqual([a.text for a in self.css(".tags a")], ["transport", "trams"])
        self.assertTrue(self.css(".tags a")[0].get_attribute("href").endswith("/tags/transport"))
        self.assertTrue(self.css(".kicker a")[0].get_attribute("href").endswith("/sections/local"))
        read_more = self.css(".read-more li a")
        self.assertGreaterEqual(len(read_more), 3)
        self.assertLessEqual(len(read_more), 5)
        # The four stories sharing tags and section rank first; a fifth may
        # share only a word (stories other tests published).
        self.assertTrue(all("Harbour transport story" in a.text for a in read_more[:4]),
                        [a.text for a in read_more])
        self.assertIn("Top content", self.text(".trending h2"))
        self.assertIn("TRENDING", self.text(".trending h2").upper())
        self.assertGreater(len(self.css("#trending-list li a")), 0)
        # Publisher metadata.
        canonical = self.trio.url(f"/articles/{self.main['slug']}")
        self.assertEqual(self.css('link[rel="canonical"]')[0].get_attribute("href"), canonical)
        meta = {m.get_attribute("property") or m.get_attribute("name"): m.get_attribute("content")
                for m in self.css("meta[property], meta[name]")}
        self.assertEqual(meta["og:title"], "Tram line 9 opens on Saturday")
        self.assertEqual(meta["og:type"], "article")
        self.assertEqual(meta["og:url"], canonical)
        self.assertTrue(meta["og:image"].endswith("/static/demo/harbour.svg"))
        self.assertEqual(meta["twitter:card"], "summary_large_image")
        self.assertIn("tram line", meta["description"].lower())
        ld = json_ld(d)
        self.assertEqual(ld["@type"], "NewsArticle")
        self.assertEqual(ld["headline"], "Tram line 9 opens on Saturday")
        self.assertEqual(ld["datePublished"], published.get_attribute("datetime"))
        self.assertIn("dateModified", ld)
        self.assertEqual([a["name"] for a in ld["author"]], ["Tomas Berg", "Ada Lind"])
        self.assertEqual(d.find_element(By.TAG_NAME, "html").get_attribute("lang"), "en")
        for landmark in ("header.site-header", "nav", "main#main", "aside.trending", "footer.site-footer", "article"):
            self.assertEqual(len(self.css(landmark)), 1, landmark)

    def test_http_caching_headers_and_304(self):
        url = self.trio.url(f"/articles/{self.main['slug']}")
        status, headers, body = http_get(url)
        self.assertEqual(status, 200)
        etag, last_modified = headers["ETag"], headers["Last-Modified"]
        self.assertRegex(etag, r'^"[0-9a-f]{16}"$')
        self.assertRegex(last_modified, r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$")
        cc = headers["Cache-Control"]
        self.assertIn("public", cc)
        self.assertRegex(cc, r"s-maxage=\d+")
        self.assertRegex(cc, r"stale-while-revalidate=\d+")
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'none'", "script-src 'self'", "object-src 'none'",
                          "base-uri 'none'", "frame-ancestors 'none'"):
            self.assertIn(directive, csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        # Conditional requests while the page is unchanged.
        status, headers304, body304 = http_get(url, {"If-None-Match": etag})
        self.assertEqual(status, 304)
        self.assertEqual(body304, "")
        self.assertEqual(headers304["ETag"], etag)
        self.assertEqual(http_get(url, {"If-Modified-Since": last_modified})[0], 304)
        self.assertEqual(http_get(url, {"If-None-Match": '"0000000000000000"'})[0], 200)
        self.assertEqual(http_get(url, {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})[0], 200)

    # -- 2 ---------------------------------------------------------------------

    def check_reader_controls(self, browser):
        d = browser.driver
        d.delete_all_cookies()
        slug = self.main["slug"]
        browser.get(self.trio.url(f"/articles/{slug}"))
        self.assertNotIn("read-mode", browser.html_class())
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, "aside.trending")), 1)
        d.find_element(By.ID, "read-mode-toggle").click()
        wait_until(lambda: "read-mode" in browser.html_class(), what="read mode")
        self.assertTrue(d.current_url.endswith(f"/articles/{slug}"))
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "header.site-header, aside.trending, .read-more, footer.site-footer"), [])
        self.assertEqual(d.find_element(By.CSS_SELECTOR, "h1").text, "Tram line 9 opens on Saturday")
        self.assertIn("six minutes", d.find_element(By.CSS_SELECTOR, ".body").text)
        # Remembered: a new visit of the page is still in read mode.
        browser.get(self.trio.url(f"/articles/{slug}"))
        self.assertIn("read-mode", browser.html_class())
        self.assertEqual(d.get_cookie("ngprefs")["value"], "read.100")
        # Font size.
        base = float(d.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)"))
        d.find_element(By.CSS_SELECTOR, "button.size-130").click()
        wait_until(lambda: "font-130" in browser.html_class(), what="font 130%")
        size = float(d.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)"))
        self.assertAlmostEqual(size, base * 1.3, places=1)
        self.assertEqual(d.find_element(By.CSS_SELECTOR, "button.size-130").get_attribute("aria-pressed"), "true")
        browser.get(self.trio.url("/"))  # the font size applies on every page
        self.assertIn("font-130", browser.html_class())
        browser.get(self.trio.url(f"/articles/{slug}"))
        d.find_element(By.ID, "read-mode-toggle").click()
        wait_until(lambda: "read-mode" not in browser.html_class(), what="read mode off")
        self.assertIn("font-130", browser.html_class())
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, "aside.trending")), 1)

    def test_read_mode_and_font_size_without_javascript(self):
        browser = Browser(javascript=False)
        try:
            self.check_reader_controls(browser)
        finally:
            browser.quit()

    def test_read_mode_and_font_size_with_javascript(self):
        browser = Browser(javascript=True)
        try:
            self.check_reader_controls(browser)
        finally:
            browser.quit()

    # -- 3 ---------------------------------------------------------------------

    def test_page_view_shows_in_trending_box_after_reload(self):
        viewed = self.trio.publish("A story readers open in the browser", section="science")
        # Enough other views that the box is full, without this story.
        for i, other in enumerate(self.related[:4]):
            self.trio.record_views(other["name"], 2, prefix=f"bulk{i}")
        self.page(f"/articles/{viewed['slug']}")
        # The beacon image's response sets the visitor cookie.
        wait_until(lambda: self.d.get_cookie("ngv") is not None, what="visitor cookie")
        cookie = self.d.get_cookie("ngv")
        self.assertTrue(cookie["httpOnly"])
        self.assertEqual(cookie["sameSite"], "Lax")
        self.assertRegex(cookie["value"], r"^[0-9a-f]{32}$")
        self.assertIsNone(self.d.execute_script("return document.cookie.match(/ngv=/)"))

        def in_box():
            self.d.refresh()
            try:
                return viewed["title"] in [a.text for a in self.css("#trending-list a")]
            except StaleElementReferenceException:  # the live box replaced the list
                return False
        # Enough distinct readers to rank in the top five.
        for i in range(3):
            status, _, _ = http_get(self.trio.url(f"/views/{viewed['name'].split('/')[1]}"),
                                    {"User-Agent": READER_UA, "Cookie": f"ngv={i:032x}"})
            self.assertEqual(status, 200)
        wait_until(in_box, timeout=20, interval=0.5, what="viewed story in the trending box")
        self.assertGreaterEqual(self.trio.total_views(viewed["name"]), 4)

    def test_bot_views_do_not_count(self):
        story = self.trio.publish("A story only crawlers read", section="science")
        beacon = self.trio.url(f"/views/{story['name'].split('/')[1]}")
        for ua in ("Googlebot/2.1 (+http://www.google.com/bot.html)", "Mozilla/5.0 HeadlessChrome/120"):
            self.assertEqual(http_get(beacon, {"User-Agent": ua})[0], 200)
        self.assertEqual(http_get(beacon, {"User-Agent": READER_UA})[0], 200)
        wait_until(lambda: self.trio.total_views(story["name"]) >= 1, timeout=10, what="human view")
        time.sleep(1)
        self.assertEqual(self.trio.total_views(story["name"]), 1)
        status, headers, _ = http_get(beacon)
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertIn("HttpOnly", headers["Set-Cookie"])
        self.assertEqual(http_get(self.trio.url("/views/abc"))[0], 404)

    # -- 4 ---------------------------------------------------------------------

    def test_live_box_updates_without_reload(self):
        self.page("/")
        self.d.execute_script("window.__notReloaded = 42")
        story = self.trio.publish("Breaking story climbs the ranking live", section="world")
        self.trio.record_views(story["name"], 40, prefix="live")

        def shown():
            try:
                return story["title"] in [a.text for a in self.css("#trending-list a")]
            except StaleElementReferenceException:  # replaced while read
                return False
        wait_until(shown, timeout=20, interval=0.3, what="live trending update")
        self.assertEqual(self.d.execute_script("return window.__notReloaded"), 42)
        self.assertEqual(self.css("#trending-list a")[0].text, story["title"])

    # -- 5 ---------------------------------------------------------------------

    def test_former_slug_redirects_draft_and_unknown_are_404(self):
        story = self.trio.publish("Original headline of a renamed story")
        self.trio.call("UpdateArticle", {"article": {"name": story["name"], "slug": "renamed-story"},
                                         "updateMask": "slug", "actor": "test"})
        status, headers, _ = http_get(self.trio.url(f"/articles/{story['slug']}"))
        self.assertEqual(status, 301)
        self.assertEqual(headers["Location"], "/articles/renamed-story")
        self.page(f"/articles/{story['slug']}")
        self.assertTrue(self.d.current_url.endswith("/articles/renamed-story"))
        self.assertEqual(self.text("h1"), "Original headline of a renamed story")

        draft = self.trio.publish("A draft nobody may read yet", publish=False)
        for slug in (draft["slug"], "no-such-story", "BAD%20slug"):
            status, headers, body = http_get(self.trio.url(f"/articles/{slug}"))
            self.assertEqual(status, 404, slug)
            self.assertIn("Page not found", body)
            self.assertNotIn("A draft nobody may read yet", body)
        self.page(f"/articles/{draft['slug']}")
        self.assertEqual(self.text("h1"), "Page not found")

    # -- 6 ---------------------------------------------------------------------

    def test_hostile_body_and_title_render_inert(self):
        story = self.trio.publish(
            "<script>alert('title')</script> headline",
            "<p>Hello</p><script>window.__xss = 1; alert(1)</script>"
            "<img src=x onerror=\"window.__xss = 2\"><a id=j href=\"javascript:window.__xss = 3\">link</a>"
            "<iframe src=\"javascript:alert(4)\"></iframe><svg onload=\"window.__xss = 5\"></svg>"
            "<p style=\"background:url(javascript:alert(6))\" onclick=\"window.__xss = 7\">click</p>",
            body_format="HTML")
        self.page(f"/articles/{story['slug']}")
        with self.assertRaises(NoAlertPresentException):
            self.d.switch_to.alert.text
        self.assertEqual(self.text("h1"), "<script>alert('title')</script> headline")
        self.assertEqual(self.css("article script, main script, .body iframe, .body svg"), [])
        for el in self.css(".body *"):
            attrs = self.d.execute_script("return Array.from(arguments[0].attributes).map(a => a.name)", el)
            self.assertFalse([a for a in attrs if a.startswith("on") or a == "style"], attrs)
        links = self.css(".body a")
        self.assertEqual(len(links), 1)
        self.assertIsNone(links[0].get_attribute("href"))
        self.css(".body p")[-1].click()
        self.assertIsNone(self.d.execute_script("return window.__xss"))

    # -- 7 ---------------------------------------------------------------------

    def test_front_section_tag_and_search_pages(self):
        self.page("/")
        titles = [a.text for a in self.css(".stories h3 a")]
        self.assertIn("Tram line 9 opens on Saturday", titles)
        self.assertEqual(len(self.css("main#main")), 1)
        self.page("/sections/local")
        self.assertEqual(self.text("h1"), "local")
        self.assertIn("Tram line 9 opens on Saturday", [a.text for a in self.css(".stories h3 a")])
        self.page("/tags/trams")
        self.assertEqual(self.text("h1"), "#trams")
        self.assertEqual([a.text for a in self.css(".stories h3 a")], ["Tram line 9 opens on Saturday"])
        self.assertEqual(http_get(self.trio.url("/sections/nothing-here"))[0], 404)

        for i in range(12):
            self.trio.publish(f"Zebra crossing report {i}", "Zebra crossings are being repainted.",
                              section="local")
        self.page("/search?q=zebra")
        marks = self.css(".snippet mark")
        self.assertTrue(marks)
        self.assertTrue(all(m.text.lower().startswith("zebra") for m in marks))
        first = [a.text for a in self.css(".stories h3 a")]
        self.assertEqual(len(first), 10)
        self.assertEqual(self.text(".summary"), "12 results for \u201czebra\u201d")
        self.d.find_element(By.CSS_SELECTOR, 'a[rel="next"]').click()
        second = [a.text for a in self.css(".stories h3 a")]
        self.assertEqual(len(second), 2)
        self.assertEqual(self.css(".summary"), [])  # counted on the first page only
        self.assertEqual(len(set(first) | set(second)), 12)
        self.assertEqual(self.css('a[rel="next"]'), [])
        # Search text is shown as text.
        self.page("/search?q=%3Cb%3Enothing%3C%2Fb%3E")
        self.assertIn("<b>nothing</b>", self.text(".empty"))


class ReaderDegradedTest(unittest.TestCase):
    """The page with a service down. A trio of its own: this test stops the
    services."""

    def test_degraded_modes(self):
        trio = ReaderTrio().start()
        try:
            main = trio.publish("Tram line 9 opens on Saturday", BODY, section="local")
            for i in range(5):
                other = trio.publish(f"Harbour story {i}", "Trams and buses.", section="local")
                trio.record_views(other["name"], 1, prefix=f"degraded{i}")
            slug = main["slug"]

            def box_links():
                body = http_get(trio.url(f"/articles/{slug}"))[2]
                return body.split('id="trending-list"')[-1].split("</ol>")[0].count("<li><a href=")
            wait_until(lambda: box_links() == 5, timeout=20, interval=0.3, what="trending box filled")
            trio.trending.kill()
            time.sleep(1.5)
            status, _, body = http_get(trio.url(f"/articles/{slug}"))
            self.assertEqual(status, 200)
            self.assertIn("Tram line 9 opens on Saturday", body)
            self.assertIn('id="trending-list"', body)
            self.assertEqual(http_get(trio.url(f"/views/{main['name'].split('/')[1]}"))[0], 200)
            trio.article.kill()
            status, headers, body = http_get(trio.url("/articles/never-rendered-before"))
            self.assertEqual(status, 503)
            self.assertEqual(headers["Retry-After"], "5")
            self.assertEqual(headers["Cache-Control"], "no-store")
            self.assertIn("Temporarily unavailable", body)
            self.assertEqual(http_get(trio.url("/healthz"))[0], 200)
        finally:
            trio.stop()


class ReaderScreenshotsTest(unittest.TestCase):
    """Full-page screenshots of the demo site: article, read mode, front page,
    phone width."""

    def test_screenshots(self):
        out = os.environ.get("NEWSGRID_SCREENSHOT_DIR", os.path.join(harness.BUILD_DIR, "screenshots"))
        trio = ReaderTrio(["--site_name=The Harbour Herald"]).start()
        browsers = []
        try:
            sys.path.insert(0, os.path.join(os.environ["NEWSGRID_SOURCE_DIR"], "deploy", "local"))
            import demo_data
            from news.article.v1 import article_service_pb2_grpc
            names = demo_data.create_articles(article_service_pb2_grpc.ArticleServiceStub(trio.article.channel()),
                                              trio.url("/static/demo/"))
            for name, weight in zip(names, demo_data.WEIGHTS):
                trio.record_views(name, weight, prefix=f"demo-{name}")
            # Readers on the first two pages now: a page view and its ping each.
            for name, readers in zip(names, (3, 1)):
                for r in range(readers):
                    view = {"article": name, "visitor_id": f"reader-{name}-{r}", "user_agent": READER_UA,
                            "page_view_id": f"pv-{r}"}
                    trio.call("RecordView", {"event": view}, service=TRENDING)
                    trio.call("RecordView", {"event": dict(view, kind="ENGAGEMENT", engaged_duration="12s")},
                              service=TRENDING)
            browser = Browser(width=1280, height=900)
            browsers.append(browser)
            d = browser.driver
            first = trio.call("GetArticle", {"name": names[0]})
            browser.get(trio.url(f"/articles/{first['slug']}"))
            wait_until(lambda: len(d.find_elements(By.CSS_SELECTOR, "#trending-list a")) == 5,
                       timeout=20, what="trending box filled")
            wait_until(lambda: [s.text for s in d.find_elements(By.CSS_SELECTOR, "#trending-list .reading-now")]
                       == ["3 reading now", "1 reading now"], timeout=20, what="readers now in the box")
            wait_until(lambda: d.execute_script(
                "return document.querySelector('figure img').naturalWidth") > 0, what="image")
            browser.full_page_screenshot(os.path.join(out, "article.png"))
            d.find_element(By.ID, "read-mode-toggle").click()
            wait_until(lambda: "read-mode" in browser.html_class(), what="read mode")
            browser.full_page_screenshot(os.path.join(out, "read-mode.png"))
            d.find_element(By.ID, "read-mode-toggle").click()
            wait_until(lambda: "read-mode" not in browser.html_class(), what="read mode off")
            browser.get(trio.url("/"))
            # The toggle's POST and its redirect back must not land after the
            # front page was asked for: the front page is a listing.
            wait_until(lambda: d.find_elements(By.CSS_SELECTOR, "h1.page-title")
                       and len(d.find_elements(By.CSS_SELECTOR, "#trending-list a")) == 5,
                       timeout=20, what="the front page")
            browser.full_page_screenshot(os.path.join(out, "front.png"))
            phone = Browser(width=390, height=844, mobile=True)
            browsers.append(phone)
            phone.get(trio.url(f"/articles/{first['slug']}"))
            wait_until(lambda: phone.driver.execute_script(
                "return document.querySelector('figure img').naturalWidth") > 0, what="image")
            phone.full_page_screenshot(os.path.join(out, "article-phone.png"))
            # The phone layout is one column: the box comes after the article.
            box = phone.driver.find_element(By.CSS_SELECTOR, "aside.trending").rect
            article = phone.driver.find_element(By.CSS_SELECTOR, "article").rect
            self.assertGreater(box["y"], article["y"] + article["height"] - 1)
            self.assertLessEqual(phone.driver.execute_script("return document.documentElement.scrollWidth"), 390)
            for name in ("article", "read-mode", "front", "article-phone"):
                self.assertGreater(os.path.getsize(os.path.join(out, f"{name}.png")), 10000)
            with open(os.path.join(out, "front.png"), "rb") as f, open(os.path.join(out, "article.png"), "rb") as g:
                self.assertNotEqual(f.read(), g.read(), "the front page's screenshot is the article's")
        finally:
            for b in browsers:
                b.quit()
            trio.stop()


if __name__ == "__main__":
    unittest.main()
