"""The reader pages end to end: the trio (article-service, trending-service,
reader-web) on one PostgreSQL, and a real browser (Debian's chromium through
chromedriver and python3-selenium, headless).

    trio = ReaderTrio().start()
    browser = Browser()              # javascript=False for a browser without it
    browser.get(trio.url("/"))
"""

import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request

import harness
from harness import PgCluster, ServiceProcess, call_json, create_database, free_port, wait_until

ARTICLE = "news.article.v1.ArticleService"
TRENDING = "news.trending.v1.TrendingService"
# A desktop browser's user agent: headless Chromium says "HeadlessChrome",
# which the trending service counts as a bot.
READER_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/120.0 Safari/537.36")
CHROMIUM = os.environ.get("NEWSGRID_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("NEWSGRID_CHROMEDRIVER", "/usr/bin/chromedriver")


class ReaderWeb(ServiceProcess):
    """reader-web as a process; ready when /readyz answers 200."""

    def __init__(self, article_addr, trending_addr, args=()):
        super().__init__("reader-web", "", args=[
            f"--article_service_addr={article_addr}", f"--trending_service_addr={trending_addr}",
            "--drain_deadline=3s"] + list(args))

    def command(self):
        return [self.binary, f"--port={self.port}", f"--metrics_port={self.metrics_port}",
                "--host=127.0.0.1"] + self.args

    def start(self, wait_serving=True, timeout=30):
        super().start(wait_serving=False)
        if wait_serving:
            def ready():
                if self.proc.poll() is not None:
                    raise AssertionError(f"reader-web exited:\n{self.log_text()[-3000:]}")
                return http_get(f"http://127.0.0.1:{self.port}/readyz")[0] == 200
            wait_until(ready, timeout=timeout, interval=0.1, what="reader-web ready")
        return self


def http_get(url, headers=None, method="GET", data=None):
    """(status, headers, body) without following redirects; `data` (bytes)
    is the request's body."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError):
        return 0, {}, ""


class ReaderTrio:
    """PostgreSQL, both services and reader-web on loopback."""

    def __init__(self, reader_args=()):
        self.reader_args = list(reader_args)

    def start(self):
        self.pg = PgCluster().start()
        self.dsn = create_database(self.pg.dsn)
        article_port, trending_port = free_port(), free_port()
        self.article = ServiceProcess("article-service", self.dsn, port=article_port, args=[
            f"--trending_service_addr=127.0.0.1:{trending_port}", "--view_batch_linger=50ms",
            "--view_stream_max_age=300ms", "--db_check_interval=200ms", "--drain_deadline=3s"])
        self.trending = ServiceProcess("trending-service", self.dsn, port=trending_port, args=[
            f"--article_service_addr=127.0.0.1:{article_port}", "--article_metadata_ttl=1s",
            "--ranking_max_staleness=200ms", "--flush_interval=200ms",
            "--db_check_interval=200ms", "--drain_deadline=3s"])
        harness.start_together(self.article, self.trending)
        self.reader = ReaderWeb(self.article.address, self.trending.address,
                                ["--page_ttl=300ms"] + self.reader_args).start()
        return self

    def stop(self):
        for p in (self.reader, self.article, self.trending):
            p.kill()
        self.pg.destroy()

    def url(self, path):
        return f"http://127.0.0.1:{self.reader.port}{path}"

    def call(self, method, request, service=ARTICLE):
        channel = self.article.channel() if service == ARTICLE else self.trending.channel()
        return call_json(channel, service, method, request)

    def publish(self, title, body="A paragraph of text.", publish=True, **fields):
        article = {"title": title, "body": body}
        article.update(fields)
        created = self.call("CreateArticle", {"article": article, "actor": "test"})
        if publish:
            return self.call("PublishArticle", {"name": created["name"], "actor": "test"})
        return created

    def record_views(self, name, count, user_agent=READER_UA, prefix="v"):
        for i in range(count):
            self.call("RecordView", {"event": {"article": name, "visitor_id": f"{prefix}-{i}",
                                               "user_agent": user_agent}}, service=TRENDING)

    def total_views(self, name):
        stats = self.call("GetArticleStats", {"article": name, "window": "3600s"}, service=TRENDING)
        return int(stats.get("totalViews", 0))


class Browser:
    """Headless Chromium driven by chromedriver."""

    def __init__(self, javascript=True, width=1280, height=900, user_agent=READER_UA, mobile=False):
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
        self.profile = tempfile.mkdtemp(prefix="newsgrid-chromium.")
        opts = Options()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--hide-scrollbars", f"--user-data-dir={self.profile}",
                  f"--window-size={width},{height}", f"--user-agent={user_agent}"):
            opts.add_argument(a)
        if not javascript:
            opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.set_page_load_timeout(30)
        # A phone: the viewport of one (a headless window is at least 500
        # px wide), touch, mobile layout rules.
        self.mobile = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True} \
            if mobile else None
        if self.mobile:
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", self.mobile)

    def get(self, url, attempts=3):
        """Loads url; retried when Chromium shows its own error page (a
        network change on the machine aborts navigations)."""
        for i in range(attempts):
            self.driver.get(url)
            if not self.driver.find_elements("css selector", "#main-frame-error"):
                return
            time.sleep(0.5)
        error = self.driver.find_element("css selector", "#main-frame-error").text
        raise AssertionError(f"{url}: Chromium error page after {attempts} attempts: {error}")

    def html_class(self):
        """The class attribute of the <html> element of the page loaded now;
        "" while a navigation replaces the page (the old element goes stale,
        the new document has no element yet, or Chromium finds the element
        in neither document)."""
        from selenium.common.exceptions import (NoSuchElementException, StaleElementReferenceException,
                                                WebDriverException)
        try:
            return self.driver.find_element("tag name", "html").get_attribute("class") or ""
        except (NoSuchElementException, StaleElementReferenceException):
            return ""
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return ""
            raise

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def full_page_screenshot(self, path, width=None):
        """A PNG of the whole page (not just the viewport)."""
        d = self.driver
        metrics = d.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        w = width or (self.mobile["width"] if self.mobile else int(size["width"]))
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": w, "height": int(size["height"]), "deviceScaleFactor": 1, "mobile": bool(self.mobile)})
        data = d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        if self.mobile:
            d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", self.mobile)
        else:
            d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        import base64
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data["data"]))


def json_ld(driver):
    from selenium.webdriver.common.by import By
    el = driver.find_element(By.CSS_SELECTOR, 'script[type="application/ld+json"]')
    return json.loads(el.get_attribute("textContent"))
