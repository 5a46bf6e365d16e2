#!/usr/bin/env python3
"""The documentation site and the installed vignettes in a real browser.

Headless Chromium (Debian's chromium) driven through the DevTools protocol
over --remote-debugging-pipe, with Python's standard library only. The site
is served from 127.0.0.1 by this script; Chromium resolves no other host
name, and any request to another host is failed and counts as a failure.

Every page of the site, and every vignette given, must load with no console
error or warning, no uncaught exception, no failed request, every formula
rendered as MathML (none left as TeX) and every icon drawn in Font Awesome.
Every article must have its table of contents; the home page's search must
find a function and open its page; a copy button must copy a code block.
Screenshots of the home page, the reference index, each article and each
vignette, of the search, of the first displayed formula of every page that
has one, go to --shots.

Usage: python3 tools/site/browser-test.py --site DIR [--vignettes DIR] [--shots DIR]
Prints each check and "site browser test: N passed, N failed"; exits 1 on a
failure.
"""
import argparse
import base64
import fcntl
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
COMMAND_TIMEOUT = 60
LOAD_TIMEOUT = 60


class ProtocolError(Exception):
    pass


class Browser:
    """Chromium with the DevTools protocol on its file descriptors 3 (it
    reads commands) and 4 (it writes replies and events): JSON messages,
    each ended by a NUL byte."""

    def __init__(self, on_event):
        self.profile = tempfile.mkdtemp(prefix="browser-test-")
        to_browser = os.pipe()
        from_browser = os.pipe()

        def give_pipes():
            # in the child: its ends of the pipes become 3 and 4 (copied above
            # 10 first, so that neither is overwritten by the other)
            read_end = fcntl.fcntl(to_browser[0], fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_browser[1], fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        args = [
            CHROMIUM, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--metrics-recording-only", "--password-store=basic",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--user-data-dir=" + self.profile, "about:blank",
        ]
        # started before any other thread of this script (preexec_fn)
        self.process = subprocess.Popen(args, preexec_fn=give_pipes, close_fds=False,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        os.close(to_browser[0])
        os.close(from_browser[1])
        self.writer = os.fdopen(to_browser[1], "wb", buffering=0)
        self.reader = os.fdopen(from_browser[0], "rb", buffering=0)
        self.write_lock = threading.Lock()
        self.next_id = 0
        self.replies = {}
        self.replied = threading.Condition()
        self.closed = False
        self.on_event = on_event
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        pending = b""
        while True:
            chunk = self.reader.read(1 << 16)
            if not chunk:
                break
            pending += chunk
            *messages, pending = pending.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self.replied:
                        self.replies[message["id"]] = message
                        self.replied.notify_all()
                else:
                    self.on_event(message)
        with self.replied:
            self.closed = True
            self.replied.notify_all()

    def send(self, method, params=None, session=None):
        """Sends a command; returns its id (the reply: wait())."""
        with self.write_lock:
            self.next_id += 1
            message = {"id": self.next_id, "method": method, "params": params or {}}
            if session:
                message["sessionId"] = session
            self.writer.write(json.dumps(message).encode() + b"\0")
            return self.next_id

    def wait(self, command_id, what):
        with self.replied:
            if not self.replied.wait_for(lambda: command_id in self.replies or self.closed,
                                         COMMAND_TIMEOUT):
                raise ProtocolError(f"{what}: no reply within {COMMAND_TIMEOUT} s")
            if command_id not in self.replies:
                raise ProtocolError(f"{what}: the browser has gone")
            reply = self.replies.pop(command_id)
        if "error" in reply:
            raise ProtocolError(f"{what}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def call(self, method, params=None, session=None):
        return self.wait(self.send(method, params, session), method)

    def close(self):
        try:
            self.call("Browser.close")
        except ProtocolError:
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab. Collects what goes wrong on the page shown (problems), fails
    every request that does not go to `origin` (set once the site is
    served) or to a file."""

    def __init__(self):
        self.origin = None
        self.lock = threading.Lock()
        self.problems = []
        self.urls = {}
        self.loaded = threading.Event()
        self.session = None
        self.browser = Browser(self._event)
        target = self.browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.browser.call("Target.attachToTarget",
                                         {"targetId": target, "flatten": True})["sessionId"]
        for method, params in [("Page.enable", None), ("Runtime.enable", None), ("Log.enable", None),
                               ("Network.enable", None),
                               ("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}),
                               ("Emulation.setDeviceMetricsOverride", VIEWPORT)]:
            self.call(method, params)

    def call(self, method, params=None):
        return self.browser.call(method, params, self.session)

    def _problem(self, text):
        with self.lock:
            if text not in self.problems:
                self.problems.append(text)

    def _event(self, message):
        if message.get("sessionId") != self.session:
            return
        try:
            self._record(message["method"], message.get("params", {}))
        except Exception as e:  # (the thread that reads the browser must go on)
            self._problem(f"the test could not handle the browser's {message['method']}: {e!r}")

    def _record(self, method, p):
        if method == "Fetch.requestPaused":
            url = p["request"]["url"]
            if (self.origin and url.startswith(self.origin + "/")) or url.startswith(("file:", "data:")):
                self.browser.send("Fetch.continueRequest", {"requestId": p["requestId"]}, self.session)
            else:
                self._problem(f"request to another host, blocked: {url}")
                self.browser.send("Fetch.failRequest",
                                  {"requestId": p["requestId"], "errorReason": "BlockedByClient"},
                                  self.session)
        elif method == "Page.loadEventFired":
            self.loaded.set()
        elif method == "Network.requestWillBeSent":
            self.urls[p["requestId"]] = p["request"]["url"]
        elif method == "Network.loadingFailed":
            url = self.urls.get(p["requestId"], "?")
            if not any(url in q for q in self.problems):
                self._problem(f"request failed: {url} ({p.get('errorText')})")
        elif method == "Network.responseReceived":
            if p["response"]["status"] >= 400:
                self._problem(f"HTTP {p['response']['status']}: {p['response']['url']}")
        elif method == "Runtime.consoleAPICalled":
            if p["type"] in ("error", "warning", "assert"):
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                self._problem(f"console {p['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self._problem(f"uncaught exception: {d.get('exception', {}).get('description', d.get('text'))}")
        elif method == "Log.entryAdded":
            entry = p["entry"]
            if entry["level"] == "error":
                self._problem(f"browser log, {entry['source']} error: {entry['text']} {entry.get('url', '')}")

    def goto(self, url):
        """Opens url, waits for its load event and its fonts; returns the
        problems seen from then on (a list that keeps growing)."""
        with self.lock:
            self.problems = []
        self.loaded.clear()
        reply = self.call("Page.navigate", {"url": url})
        if reply.get("errorText"):
            self._problem(f"navigation failed: {reply['errorText']}")
            return self.problems
        if not self.loaded.wait(LOAD_TIMEOUT):
            self._problem(f"no load event within {LOAD_TIMEOUT} s")
        self.evaluate("document.fonts.ready.then(() => true)")
        time.sleep(0.15)
        return self.problems

    def evaluate(self, expression):
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": True})
        if "exceptionDetails" in reply:
            d = reply["exceptionDetails"]
            raise ProtocolError(f"evaluating {expression[:60]!r}: "
                                f"{d.get('exception', {}).get('description', d.get('text'))}")
        return reply["result"].get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def click(self, selector):
        """A real mouse click in the middle of the first element matching
        selector (scrolled into view)."""
        box = self.evaluate(f"""(() => {{
            const e = document.querySelector({json.dumps(selector)});
            if (!e) return null;
            e.scrollIntoView({{block: "center"}});
            const r = e.getBoundingClientRect();
            return {{x: r.x + r.width / 2, y: r.y + r.height / 2}};
        }})()""")
        if box is None:
            raise ProtocolError(f"nothing to click: {selector}")
        self.call("Input.dispatchMouseEvent", {"type": "mouseMoved", **box})
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "button": "left", "clickCount": 1, **box})

    def close(self):
        self.browser.close()


# What a page shows: its formulas (MathML, and TeX left in the text), and its
# icons (those not drawn from the Font Awesome font).
INSPECT = r"""(() => {
  const raw = [...document.querySelectorAll("span.math")]
    .filter((s) => !s.querySelector("math")).map((s) => s.textContent.slice(0, 60));
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest("pre, code, script, style, textarea")) continue;
    const m = n.textContent.match(/\\\(.{0,40}|\\\[.{0,40}|\$\$.{0,40}/);
    if (m) raw.push(m[0]);
  }
  const fontLoaded = [...document.fonts].some((f) => f.family.replace(/"/g, "") === "FontAwesome" &&
                                                     f.status === "loaded");
  const icons = [...document.querySelectorAll(".fa")];
  const badIcons = icons.filter((e) => {
    const before = getComputedStyle(e, "::before");
    return !/FontAwesome/.test(before.fontFamily) || before.content === "none" || before.content === "" ||
      !fontLoaded;
  }).map((e) => e.className);
  return {rendered: document.querySelectorAll("math").length, raw: raw, icons: icons.length,
          badIcons: badIcons};
})()"""


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, ok, what, details=()):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"  {'ok  ' if ok else 'FAIL'}  {what}", flush=True)
        if not ok:
            for d in list(details)[:10]:
                print(f"          {d}", flush=True)


def html_files(site):
    found = []
    for directory, subdirs, files in os.walk(site):
        subdirs[:] = [d for d in subdirs if d not in ("vendor", "deps")]
        found += [os.path.relpath(os.path.join(directory, f), site) for f in files if f.endswith(".html")]
    return sorted(found)


def serve(site):
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          ".js": "text/javascript", ".woff2": "font/woff2", ".woff": "font/woff",
                          ".ttf": "font/ttf", ".json": "application/json"}

        def log_message(self, *args):
            pass

        def send_error(self, code, message=None, explain=None):
            # Browsers ask for /favicon.ico by themselves when a page names
            # no icon (this site has none): not a request of the page.
            if code == 404 and self.path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
            else:
                super().send_error(code, message, explain)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Handler, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default="docs")
    parser.add_argument("--vignettes")
    parser.add_argument("--shots")
    options = parser.parse_args()
    site = os.path.abspath(options.site)
    shots = os.path.abspath(options.shots or os.path.join(site, "..", "site-screenshots"))
    os.makedirs(shots, exist_ok=True)
    check = Checks()

    # the browser first: it is started before the server's thread
    page = Page()
    server = serve(site)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    page.origin = origin

    def visit(url, label, shot):
        problems = page.goto(url)
        shown = page.evaluate(INSPECT)
        issues = (list(problems) + [f"formula left as TeX: {t}" for t in shown["raw"]] +
                  [f"icon not drawn: {c}" for c in shown["badIcons"]])
        check(not issues, f"{label}: loads with no console error, no failed request, "
                          f"{shown['rendered']} formulas as MathML, {shown['icons']} icons", issues)
        if shot:
            page.screenshot(os.path.join(shots, shot + ".png"))
        if page.evaluate("""(() => {
              const e = document.querySelector("math[display='block']");
              if (!e) return false;
              window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 300);
              return true;
            })()"""):
            time.sleep(0.1)
            name = shot or label.removesuffix(".html").replace("/", "-")
            page.screenshot(os.path.join(shots, name + "-formula.png"))

    try:
        print(f"== the site ({site}, served at {origin}) ==", flush=True)
        pages = html_files(site)
        articles = [p for p in pages if p.startswith("articles/") and p != "articles/index.html"]
        named = {"index.html": "home", "reference/index.html": "reference-index"}
        named.update({a: "article-" + os.path.basename(a).removesuffix(".html") for a in articles})
        for p in pages:
            visit(f"{origin}/{p}", p, named.get(p))
        check(bool(articles), "articles: " + ", ".join(os.path.basename(a) for a in articles))

        for a in articles:
            page.goto(f"{origin}/{a}")
            toc = page.evaluate("document.querySelectorAll('#toc a.nav-link').length")
            check(toc > 0, f"{a}: table of contents with {toc} entries")

        # search: type a word, see results, open the first
        problems = page.goto(f"{origin}/index.html")
        page.click("#search-input")
        page.call("Input.insertText", {"text": "voronoi"})
        results = []
        deadline = time.time() + 10
        while time.time() < deadline and not results:
            time.sleep(0.2)
            results = page.evaluate("[...document.querySelectorAll('#search-results a.dropdown-item')]"
                                    ".map((a) => a.href)")
        page.screenshot(os.path.join(shots, "search.png"))
        check(bool(results) and not problems, f'search for "voronoi" on the home page: {len(results)} results',
              list(problems) + ([] if results else ["no result shown"]))
        if results:
            target = urllib.parse.urlsplit(results[0])
            same_page = target[:3] == urllib.parse.urlsplit(f"{origin}/index.html")[:3]
            page.loaded.clear()
            page.click("#search-results a.dropdown-item")
            # (a section of the home page itself: no new page loads)
            arrived = page.loaded.wait(LOAD_TIMEOUT) if not same_page else not time.sleep(0.3)
            where = page.evaluate("location.href")
            shown = page.evaluate(f"!!document.getElementById({json.dumps(target.fragment)})") \
                if target.fragment else True
            check(arrived and where == results[0] and shown and not problems,
                  f"the first result opens {where.removeprefix(origin)}",
                  list(problems) + [f"expected {results[0]}"])

        # copy button: the first code block of an article with its output
        article = next((a for a in articles if "getting-started" in a), articles[0] if articles else None)
        if article:
            page.browser.call("Browser.grantPermissions", {"origin": origin,
                                                   "permissions": ["clipboardReadWrite",
                                                                   "clipboardSanitizedWrite"]})
            problems = page.goto(f"{origin}/{article}")
            block = "div.sourceCode:has(.btn-copy-ex)"
            expected = page.evaluate(f"document.querySelector({json.dumps(block)})"
                                     ".textContent.replace(/\\n#>[^\\n]*/g, '')")
            page.click(block + " .btn-copy-ex")
            time.sleep(0.3)
            tip = page.evaluate("(document.querySelector('.tooltip-inner') || {}).textContent || ''")
            copied = page.evaluate("navigator.clipboard.readText()")
            page.screenshot(os.path.join(shots, "copy-button.png"))
            check(tip == "Copied" and copied == expected and not problems,
                  f"{article}: the copy button copies the first code block ({len(copied)} characters) "
                  f"and says \"{tip}\"", list(problems) + [f"copied: {copied[:80]!r}", f"expected: {expected[:80]!r}"])

        if options.vignettes:
            directory = os.path.abspath(options.vignettes)
            # the vignettes: HTML files built from a source next to them (not
            # R's index.html, which works only in R's help server)
            everything = os.listdir(directory) if os.path.isdir(directory) else []
            sources = {os.path.splitext(f)[0] for f in everything
                       if os.path.splitext(f)[1].lower() in (".rmd", ".rnw")}
            files = sorted(f for f in everything if f.endswith(".html") and f[:-5] in sources)
            print(f"== the installed vignettes ({directory}) ==", flush=True)
            check(bool(files), "vignettes: " + ", ".join(files))
            for f in files:
                visit("file://" + os.path.join(directory, f), f"vignette {f}",
                      "vignette-" + f.removesuffix(".html"))
    except ProtocolError as e:
        check(False, f"the browser test stopped: {e}")
    finally:
        page.close()
        server.shutdown()
    print(f"screenshots in {shots}")
    print(f"site browser test: {check.passed} passed, {check.failed} failed")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
