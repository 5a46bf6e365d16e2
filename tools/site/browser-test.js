// The documentation site and the installed vignettes in a real browser:
// headless Chromium (Debian's), driven by playwright-core, with no network.
// The site is served from 127.0.0.1 by this script; any request to another
// host is blocked and counts as a failure.
//
// Every page of the site, and every vignette given, must load with no
// console error or warning, no uncaught exception, no failed request, and
// every formula rendered as MathML (none left as TeX). The home page's
// search must find a function (its index and libraries are served by the
// site), and every article must have its table of contents. Screenshots of
// the home page, the reference index, each article and each vignette, and
// of the first displayed formula of every page that has one, go to --shots.
//
// Usage: node tools/site/browser-test.js --site DIR [--vignettes DIR] [--shots DIR]
//   (after `npm install --prefix tools/site`, which tools/build-site.R runs)
// Prints each check and "site browser test: N passed, N failed"; exits 1 on a failure.
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");
const { chromium } = require("playwright-core");

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const site = path.resolve(option("--site", "docs"));
const vignettes = option("--vignettes", null);
const shots = path.resolve(option("--shots", path.join(site, "..", "site-screenshots")));
fs.mkdirSync(shots, { recursive: true });

const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
  ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png",
  ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".eot": "application/vnd.ms-fontobject",
  ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
};
function serve(root) {
  const server = http.createServer((req, res) => {
    let file = path.join(root, decodeURIComponent(new URL(req.url, "http://localhost").pathname));
    if (!file.startsWith(root)) { res.writeHead(403); res.end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404); res.end("not found"); return; }
      res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/octet-stream" });
      res.end(data);
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function htmlFiles(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "vendor" || e.name === "deps" ? [] : htmlFiles(p, base);
    return e.name.endsWith(".html") ? [path.relative(base, p)] : [];
  }).sort();
}

let passed = 0, failed = 0;
function check(ok, what, details = []) {
  if (ok) passed++; else failed++;
  console.log(`  ${ok ? "ok  " : "FAIL"}  ${what}`);
  if (!ok) for (const d of details.slice(0, 10)) console.log(`          ${d}`);
}

(async () => {
  const server = await serve(site);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  let problems = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + "/") || url.startsWith("file://") || url.startsWith("data:")) {
      return route.continue();
    }
    problems.push(`request to another host, blocked: ${url}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`uncaught exception: ${e.message}`));
  page.on("requestfailed", (r) => {
    if (!problems.some((p) => p.includes(r.url()))) problems.push(`request failed: ${r.url()} (${r.failure().errorText})`);
  });
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

  async function visit(url, label, shot) {
    problems = [];
    await page.goto(url, { waitUntil: "load" });
    await page.waitForTimeout(150);
    const math = await page.evaluate(() => {
      const spans = [...document.querySelectorAll("span.math")];
      const raw = spans.filter((s) => !s.querySelector("math")).map((s) => s.textContent.slice(0, 60));
      // TeX delimiters left in the text, outside code
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement.closest("pre, code, script, style, textarea")) continue;
        const m = n.textContent.match(/\\\(.{0,40}|\\\[.{0,40}|\$\$.{0,40}/);
        if (m) raw.push(m[0]);
      }
      return { rendered: document.querySelectorAll("math").length, raw };
    });
    const issues = problems.concat(math.raw.map((t) => `formula left as TeX: ${t}`));
    check(issues.length === 0,
      `${label}: loads with no console error, no failed request, ${math.rendered} formulas as MathML`, issues);
    if (shot) await page.screenshot({ path: path.join(shots, `${shot}.png`) });
    const display = await page.$("math[display='block']");
    if (display) {
      await display.evaluate((e) => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 300));
      await page.waitForTimeout(100);
      const name = shot || label.replace(/\.html$/, "").replace(/[^A-Za-z0-9_.-]+/g, "-");
      await page.screenshot({ path: path.join(shots, `${name}-formula.png`) });
    }
    return math;
  }

  console.log(`== the site (${site}, served at ${origin}) ==`);
  const pages = htmlFiles(site);
  const articles = pages.filter((p) => p.startsWith("articles/") && p !== "articles/index.html");
  const named = { "index.html": "home", "reference/index.html": "reference-index" };
  for (const a of articles) named[a] = "article-" + path.basename(a, ".html");
  for (const p of pages) await visit(`${origin}/${p}`, p, named[p]);
  check(articles.length > 0, `articles: ${articles.map((a) => path.basename(a)).join(", ")}`);

  for (const a of articles) {
    await page.goto(`${origin}/${a}`, { waitUntil: "load" });
    const toc = await page.$$eval("#toc a.nav-link", (links) => links.length);
    check(toc > 0, `${a}: table of contents with ${toc} entries`);
  }

  problems = [];
  await page.goto(`${origin}/index.html`, { waitUntil: "load" });
  await page.click("#search-input");
  await page.keyboard.type("voronoi", { delay: 30 });
  let hits = 0;
  try {
    await page.waitForSelector(".aa-suggestion", { timeout: 10000 });
    hits = await page.$$eval(".aa-suggestion", (s) => s.length);
  } catch (e) { /* no suggestion: reported below */ }
  await page.screenshot({ path: path.join(shots, "search.png") });
  check(hits > 0 && problems.length === 0, `search for "voronoi" on the home page: ${hits} results`, problems);

  if (vignettes) {
    const dir = path.resolve(vignettes);
    // the vignettes: the HTML files built from a source next to them (not
    // R's index.html, which only works in R's help server)
    const all = fs.readdirSync(dir);
    const files = all.filter((f) => f.endsWith(".html") &&
      all.some((g) => g !== f && path.parse(g).name === path.parse(f).name && /^\.R(md|nw)$/i.test(path.extname(g)))).sort();
    console.log(`== the installed vignettes (${dir}) ==`);
    check(files.length > 0, `vignettes: ${files.join(", ")}`);
    for (const f of files) {
      await visit("file://" + path.join(dir, f), `vignette ${f}`, "vignette-" + path.basename(f, ".html"));
    }
  }

  await browser.close();
  server.close();
  console.log(`screenshots in ${shots}`);
  console.log(`site browser test: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
})().catch((e) => {
  console.log(`  FAIL  the browser test stopped: ${e.stack || e}`);
  console.log(`site browser test: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
