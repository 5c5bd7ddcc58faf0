"""Engaged time and readers on the page now, end to end: the trio
(article-service, trending-service, reader-web pinging every 11 s) and
headless Chromium running the page's own script (static/engage.js); the
reader's input comes from WebDriver actions (key presses), so the page sees
real keydown events.

1. A page left open with an active reader accumulates engaged time at the
   rate of the clock (GetArticleStats.engaged_time ~ the seconds from
   opening to the last input, plus the 5 s an input keeps the reader
   active); an open but idle page sends nothing more.
2. A hidden tab stops accumulating. It is hidden the way a reader hides
   it: another tab is opened in front of it, and the page's
   visibilitychange handler sees "hidden" (checked); brought back to the
   front it counts again.
3. A closed tab leaves CONCURRENT_READERS within 60 s; open, it counts.
4. The trending box shows "N reading now", and its Most read / Most
   engaged switch works without JavaScript (CSS) and with it (the live
   stream follows the switch).
5. The beacon and ping endpoints: pings forwarded as sent (form body or
   query), bad input answered 400 naming the parameter and not forwarded;
   a browser without JavaScript counts the view from <noscript>.
"""

import time
import unittest

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from harness import wait_until
from reader_support import READER_UA, TRENDING, Browser, ReaderTrio, http_get

PING_S = 11      # --engagement_ping_interval; the trending service takes one per 10 s
IDLE_S = 5       # an input keeps the reader active this long (engage.js)
READERS_WINDOW_S = 60
# Whole seconds per ping, the one-second timer, the page's start before
# WebDriver returns from the load.
TOLERANCE_S = 3

LONG_BODY = "\n\n".join(f"Paragraph {i} of a long read about the harbour." for i in range(60))


def keep_active(driver, seconds):
    """A key press every second for `seconds` (arrow down, then up: the page
    scrolls a little); returns the monotonic time of the last one."""
    end = time.monotonic() + seconds
    down = True
    last = time.monotonic()
    while time.monotonic() < end:
        ActionChains(driver).send_keys(Keys.ARROW_DOWN if down else Keys.ARROW_UP).perform()
        last = time.monotonic()
        down = not down
        time.sleep(1)
    return last


class ReaderEngagementTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.trio = ReaderTrio([f"--engagement_ping_interval={PING_S}s"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.trio.stop()

    def browser(self, **kwargs):
        b = Browser(**kwargs)
        self.addCleanup(b.quit)
        return b

    def stats(self, story):
        return self.trio.call("GetArticleStats", {"article": story["name"], "window": "3600s"},
                              service=TRENDING)

    def engaged(self, story):
        """Engaged seconds of the story in the last hour."""
        return float(self.stats(story).get("engagedTime", "0s").rstrip("s"))

    def readers_now(self, story):
        """The story's readers now in the CONCURRENT_READERS ranking (0 when
        it is not in it)."""
        ranking = self.trio.call("GetTrending", {"metric": "CONCURRENT_READERS", "limit": 100},
                                 service=TRENDING)
        for entry in ranking.get("entries", []):
            if entry["article"] == story["name"]:
                return int(entry.get("concurrentReaders", 0))
        return 0

    def open_article(self, browser, story):
        browser.get(self.trio.url(f"/articles/{story['slug']}"))
        start = time.monotonic()
        # The script made the page view's id and loaded the beacon with it.
        pv = wait_until(lambda: browser.driver.execute_script(
            "return document.getElementById('page-view').getAttribute('data-page-view-id')"),
            what="page view id")
        self.assertRegex(pv, r"^[0-9a-f]{32}$")
        return start

    # -- 1 ---------------------------------------------------------------------

    def test_active_page_accumulates_engaged_time_at_the_clock_rate(self):
        story = self.trio.publish("A long read kept open", LONG_BODY, section="science")
        browser = self.browser()
        start = self.open_article(browser, story)
        last_input = keep_active(browser.driver, 30)
        # Two pings went out while the reader was active (at 11 and 22 s).
        self.assertGreaterEqual(self.engaged(story), 2 * PING_S - TOLERANCE_S)
        # The reader counts as active IDLE_S after the last input; the rest
        # goes out with the next ping, at most a ping interval later.
        expected = last_input - start + IDLE_S
        time.sleep(max(0.0, last_input + IDLE_S + PING_S + 2 - time.monotonic()))
        settled = self.engaged(story)
        self.assertAlmostEqual(settled, expected, delta=TOLERANCE_S)
        # Open but idle: no more pings.
        time.sleep(PING_S + 2)
        self.assertEqual(self.engaged(story), settled)

    # -- 2 ---------------------------------------------------------------------

    def test_hidden_tab_stops_accumulating(self):
        story = self.trio.publish("A story left in a background tab", LONG_BODY, section="science")
        browser = self.browser()
        d = browser.driver
        start = self.open_article(browser, story)
        d.execute_script("window.__visibility = []; document.addEventListener('visibilitychange', "
                         "function () { window.__visibility.push(document.visibilityState); });")
        keep_active(d, PING_S + 3)
        article_tab = d.current_window_handle
        d.switch_to.new_window("tab")  # in front of the article: its tab is hidden
        hidden_at = time.monotonic()
        # The reader goes on in the other tab; the hidden page hears nothing.
        keep_active(d, 2 * PING_S + 5)
        before_hidden = hidden_at - start
        total = self.engaged(story)
        # What was counted before the tab was hidden arrived (in the last
        # ping, or the next one when a ping had just gone out); nothing since.
        self.assertAlmostEqual(total, before_hidden, delta=TOLERANCE_S)
        time.sleep(PING_S)
        self.assertEqual(self.engaged(story), total)
        # In front again: visible, counting again.
        d.switch_to.window(article_tab)
        self.assertEqual(d.execute_script("return window.__visibility"), ["hidden", "visible"])
        keep_active(d, PING_S + 3)
        wait_until(lambda: self.engaged(story) >= total + PING_S - TOLERANCE_S, timeout=PING_S + 5,
                   interval=0.5, what="engaged time counted again")

    # -- 3 ---------------------------------------------------------------------

    def test_closed_tab_leaves_readers_now_within_a_minute(self):
        story = self.trio.publish("A story read and closed", LONG_BODY, section="science")
        browser = self.browser()
        d = browser.driver
        self.open_article(browser, story)
        keep_active(d, PING_S + 2)
        wait_until(lambda: self.readers_now(story) == 1, timeout=10, interval=0.5,
                   what="one reader now")
        self.assertEqual(int(self.stats(story).get("concurrentReaders", 0)), 1)
        # Close the article's tab (the browser stays, in another tab).
        article_tab = d.current_window_handle
        d.switch_to.new_window("tab")
        other = d.current_window_handle
        d.switch_to.window(article_tab)
        d.close()
        closed_at = time.monotonic()
        d.switch_to.window(other)
        wait_until(lambda: self.readers_now(story) == 0, timeout=READERS_WINDOW_S + 10, interval=1,
                   what="no reader now")
        self.assertLessEqual(time.monotonic() - closed_at, READERS_WINDOW_S + 2)
        self.assertEqual(int(self.stats(story).get("concurrentReaders", 0)), 0)

    # -- 4 ---------------------------------------------------------------------

    def box_entries(self, driver, list_id):
        """{title: text of the entry} of a list of the trending box."""
        items = driver.find_elements(By.CSS_SELECTOR, f"#{list_id} li")
        return {li.find_element(By.TAG_NAME, "a").text: " ".join(li.text.split()) for li in items}

    def test_box_shows_readers_now_and_switches_ranking(self):
        story = self.trio.publish("The story everyone is reading now", LONG_BODY, section="world")
        title = story["title"]
        self.trio.record_views(story["name"], 30, prefix="box")  # tops Most read
        reader = self.browser()
        self.open_article(reader, story)
        keep_active(reader.driver, PING_S + 2)  # one ping: engaged time, one reader now
        wait_until(lambda: self.readers_now(story) == 1, timeout=10, interval=0.5,
                   what="one reader now")
        # The rest of this test has until the reader leaves the count (60 s
        # after that ping; idle, the page sends no more).

        # Without JavaScript: both rankings rendered in the page, the switch
        # is CSS.
        plain = self.browser(javascript=False)
        pd = plain.driver

        def rendered():
            plain.get(self.trio.url("/"))
            return self.box_entries(pd, "trending-list").get(title) == f"{title} 1 reading now"
        wait_until(rendered, timeout=15, interval=0.5, what="reading now in the rendered box")
        read_list = pd.find_element(By.ID, "trending-list")
        engaged_list = pd.find_element(By.ID, "trending-engaged-list")
        self.assertEqual(pd.find_element(By.CSS_SELECTOR, ".trending-switch").text.split(),
                         ["Most", "read", "Most", "engaged"])
        self.assertTrue(read_list.is_displayed())
        self.assertFalse(engaged_list.is_displayed())
        pd.find_element(By.CSS_SELECTOR, "label[for='trending-engaged']").click()
        self.assertFalse(read_list.is_displayed())
        self.assertTrue(engaged_list.is_displayed())
        self.assertEqual(self.box_entries(pd, "trending-engaged-list").get(title),
                         f"{title} 1 reading now")
        pd.find_element(By.CSS_SELECTOR, "label[for='trending-read']").click()
        self.assertTrue(read_list.is_displayed())
        self.assertFalse(engaged_list.is_displayed())

        # With JavaScript: the live box shows the count, and after the
        # switch its stream is the engaged ranking's (the list, emptied here,
        # is filled from it).
        live = self.browser()
        ld = live.driver
        live.get(self.trio.url("/"))
        wait_until(lambda: self.box_entries(ld, "trending-list").get(title) == f"{title} 1 reading now",
                   timeout=10, interval=0.3, what="reading now in the live box")
        ld.execute_script("document.getElementById('trending-engaged-list').replaceChildren()")
        ld.find_element(By.CSS_SELECTOR, "label[for='trending-engaged']").click()
        wait_until(lambda: self.box_entries(ld, "trending-engaged-list").get(title)
                   == f"{title} 1 reading now", timeout=10, interval=0.3,
                   what="engaged ranking from the live stream")
        self.assertFalse(ld.find_element(By.ID, "trending-list").is_displayed())

    # -- 5 ---------------------------------------------------------------------

    def test_beacon_and_ping_endpoints(self):
        story = self.trio.publish("A story pinged over plain HTTP", section="science")
        article_id = story["name"].split("/")[1]
        reader = {"User-Agent": READER_UA, "Cookie": "ngv=" + "ab" * 16}
        form = dict(reader, **{"Content-Type": "application/x-www-form-urlencoded"})
        status, headers, _ = http_get(self.trio.url(f"/views/{article_id}?pv=http-view-1"), reader)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Cache-Control"], "no-store")
        # The view registers the page view (a page pings 10 s after it at the
        # earliest; a ping sent with its view in one batch is not counted).
        wait_until(lambda: self.trio.total_views(story["name"]) == 1, timeout=10, what="the view")
        # A ping as the page's sendBeacon sends it: a form body.
        status, headers, body = http_get(self.trio.url(f"/engaged/{article_id}"), form,
                                         method="POST", data=b"pv=http-view-1&s=7")
        self.assertEqual(status, 204)
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertEqual(body, "")
        sent = time.monotonic()
        wait_until(lambda: self.engaged(story) == 7, timeout=10, what="7 engaged seconds")

        # Bad input: 400 (404 for a path naming no article, 405 for GET),
        # nothing forwarded.
        url = self.trio.url(f"/engaged/{article_id}")
        for bad in (b"pv=http-view-1&s=0", b"pv=http-view-1&s=-1", b"pv=http-view-1&s=1.5",
                    b"pv=http-view-1&s=3601", b"pv=http-view-1&s=", b"pv=http-view-1",
                    b"pv=&s=5", b"s=5", b"pv=" + b"a" * 101 + b"&s=5", b"pv=a%20b&s=5",
                    b"pv=%3Cb%3E&s=5"):
            status, _, body = http_get(url, form, method="POST", data=bad)
            self.assertEqual(status, 400, bad)
            self.assertRegex(body, r"^(pv|s): ", bad)  # names the parameter
        self.assertEqual(http_get(self.trio.url("/engaged/abc"), form, method="POST",
                                  data=b"pv=http-view-1&s=5")[0], 404)
        status, headers, _ = http_get(url, reader)
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "POST")
        self.assertEqual(http_get(self.trio.url(f"/views/{article_id}?pv=a%20b"), reader)[0], 400)
        self.assertEqual(http_get(self.trio.url(f"/views/{article_id}?pv={'a' * 101}"), reader)[0], 400)
        self.assertEqual(http_get(self.trio.url("/live/trending?metric=nope"))[0], 400)

        # The next ping of the page view, the trending service's 10 s later,
        # with its parameters in the query.
        time.sleep(max(0.0, 10.5 - (time.monotonic() - sent)))
        status, _, _ = http_get(self.trio.url(f"/engaged/{article_id}?pv=http-view-1&s=5"), reader,
                                method="POST", data=b"")
        self.assertEqual(status, 204)
        wait_until(lambda: self.engaged(story) == 12, timeout=10, what="12 engaged seconds")
        self.assertEqual(self.trio.total_views(story["name"]), 1)

        # No JavaScript: the <noscript> beacon counts the view.
        plain = self.browser(javascript=False)
        plain.get(self.trio.url(f"/articles/{story['slug']}"))
        wait_until(lambda: self.trio.total_views(story["name"]) == 2, timeout=10,
                   what="the view of a browser without JavaScript")


if __name__ == "__main__":
    unittest.main()
