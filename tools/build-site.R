#!/usr/bin/env Rscript
# Build the documentation site with pkgdown (configured by _pkgdown.yml):
# the README as home page, the reference grouped by concept with the
# examples run, every vignette as an article, the news.
#
# The pages pkgdown 2.0 writes load their scripts, styles, icons and a
# MathJax from the web; this site works with no network, and everything it
# serves comes from Debian packages or from this repository. So the script
#   - serves Font Awesome 4.7 (fonts-font-awesome) for the icons and
#     clipboard.js (node-clipboard) for the copy buttons from the site
#     itself (vendor/), next to jQuery and Bootstrap, which pkgdown already
#     copies there from bslib and jquerylib (r-cran-bslib, r-cran-jquerylib);
#   - replaces pkgdown.js, which also needs libraries Debian does not have
#     (headroom.js, fuse.js, autocomplete.js, mark.js, bootstrap-toc), by
#     the site's own scripts in tools/site/: site.js (what the pages do once
#     loaded), toc.js (table of contents) and search.js (search box); the
#     navbar no longer hides while scrolling;
#   - renders every formula (help pages and articles) as MathML with
#     pandoc, which browsers display natively, instead of MathJax;
#   - fails when a page would still load anything from another host, or
#     shows an icon that Font Awesome 4.7 does not have.
# It also fails on any warning of the build (pkgdown's, R's, or pandoc's
# while rendering the articles) and when an exported function is missing
# from the reference index.
#
# Usage: Rscript tools/build-site.R [--out DIR] [--lib DIR]
#   --out DIR  where the site goes (default: docs/ in the checkout)
#   --lib DIR  library holding this checkout's moerates, installed (the
#              examples and articles run against it); default: R's libraries
# Needs pkgdown (Debian: r-cran-pkgdown), pandoc, and Debian's
# fonts-font-awesome and node-clipboard.
# Check the result in a browser with tools/site/browser-test.py.

args <- commandArgs(trailingOnly = TRUE)
arg_value <- function(name) {
  i <- match(name, args)
  if (is.na(i) || i == length(args)) NULL else args[[i + 1]]
}
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])
root <- normalizePath(file.path(dirname(script), ".."))
out <- arg_value("--out")
out <- if (is.null(out)) file.path(root, "docs") else normalizePath(out, mustWork = FALSE)
lib <- arg_value("--lib")
if (!is.null(lib)) .libPaths(c(normalizePath(lib, mustWork = TRUE), .libPaths()))
started <- Sys.time()

fail <- function(...) {
  cat("build-site: ", ..., "\n", sep = "", file = stderr())
  quit(save = "no", status = 1)
}
for (p in c("pkgdown", "moerates")) {
  if (!requireNamespace(p, quietly = TRUE)) fail("package ", p, " is not installed.")
}

# --- what the site serves itself, from Debian packages and tools/site/ -------
site_tools <- file.path(root, "tools", "site")
debian <- c(font_awesome = "/usr/share/fonts-font-awesome",
            clipboard = "/usr/share/javascript/clipboard/clipboard.js")
if (!file.exists(file.path(debian[["font_awesome"]], "css", "font-awesome.min.css"))) {
  fail("Font Awesome 4.7 is missing: install Debian's fonts-font-awesome.")
}
if (!file.exists(debian[["clipboard"]])) fail("clipboard.js is missing: install Debian's node-clipboard.")

# --- pkgdown ----------------------------------------------------------------
# pkgdown asks the web whether the package is on CRAN or Bioconductor, for a
# link on the home page; this option (documented in its NEWS) stops that.
options(pkgdown.internet = FALSE)
# build_site()'s steps, one by one, so that the articles are rendered with
# their output shown (build_site() hides it): pandoc's warnings are in it.
# Everything the build prints goes to a log that is then searched for
# warnings; R's own warnings are collected as they come.
unlink(out, recursive = TRUE)
log_file <- tempfile("pkgdown-", fileext = ".log")
log <- file(log_file, open = "wt")
sink(log)
sink(log, type = "message")
warnings <- character(0)
build_error <- tryCatch({
  withCallingHandlers({
    pkg <- pkgdown::as_pkgdown(root, override = list(destination = out))
    pkgdown::init_site(pkg)
    pkgdown::build_home(pkg, preview = FALSE)
    pkgdown::build_reference(pkg, lazy = FALSE, examples = TRUE, devel = FALSE, preview = FALSE)
    pkgdown::build_articles(pkg, lazy = FALSE, quiet = FALSE, preview = FALSE)
    pkgdown::build_news(pkg, preview = FALSE)
    pkgdown::build_search(pkg)
    NULL
  }, warning = function(w) {
    warnings <<- c(warnings, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
}, error = function(e) conditionMessage(e))
sink(type = "message")
sink()
close(log)
build_log <- gsub("\033\\[[0-9;]*m", "", readLines(log_file))
# (knitr's progress bars left out)
cat(build_log[!grepl("^\\s*\\|", build_log) & nzchar(trimws(build_log))], sep = "\n")
if (!is.null(build_error)) fail("pkgdown stopped: ", build_error)
logged <- grep("^\\[WARNING\\]|^Warning|^There (was|were) .*warning", build_log, value = TRUE)
warnings <- c(warnings, logged)
if (length(warnings)) {
  fail("the build gave ", length(warnings), " warning(s):\n  ", paste(warnings, collapse = "\n  "))
}

# --- every export in the reference index ------------------------------------
exports <- parseNamespaceFile(basename(root), dirname(root))$exports
rd_files <- list.files(file.path(root, "man"), pattern = "\\.Rd$", full.names = TRUE)
topic_of <- list()
for (f in rd_files) {
  aliases <- regmatches(readLines(f), regexpr("(?<=\\\\alias\\{)[^}]+(?=\\})", readLines(f), perl = TRUE))
  for (a in aliases) topic_of[[a]] <- sub("\\.Rd$", "", basename(f))
}
index <- paste(readLines(file.path(out, "reference", "index.html")), collapse = "\n")
listed <- vapply(exports, function(e) {
  topic <- topic_of[[e]]
  !is.null(topic) && grepl(sprintf("href=\"%s.html\"", topic), index, fixed = TRUE)
}, logical(1))
if (!all(listed)) {
  fail("exported but not in the reference index (add them to a section of _pkgdown.yml): ",
       paste(exports[!listed], collapse = ", "))
}
cat(sprintf("build-site: all %d exports are in the reference index\n", length(exports)))

# --- serve the libraries from the site --------------------------------------
vendor <- file.path(out, "vendor")
dir.create(file.path(vendor, "font-awesome"), recursive = TRUE)
# (file.copy() copies what Debian's symbolic links point to)
copied <- file.copy(file.path(debian[["font_awesome"]], c("css", "fonts")), file.path(vendor, "font-awesome"),
                    recursive = TRUE)
own_scripts <- c("toc.js", "search.js", "site.js")
copied <- c(copied, file.copy(c(debian[["clipboard"]], file.path(site_tools, own_scripts)), vendor))
if (!all(copied)) fail("could not copy the libraries into ", vendor)
unlink(file.path(out, "pkgdown.js"))
# What the pages load, by address (a regular expression), and what the site
# serves instead, from vendor/ (nothing: dropped). The libraries named in
# this script's header are dropped; so are MathJax, whose formulas are
# MathML now, and respond.js (for Internet Explorer 8). pkgdown.js is the
# site's own file, the others come from the web.
served_instead <- list(
  "^(\\.\\./)*pkgdown\\.js$" = own_scripts,
  "font-awesome/[^\"]*/all\\.min\\.css" = "font-awesome/css/font-awesome.min.css",
  "font-awesome/[^\"]*/v4-shims\\.min\\.css" = character(0),
  "clipboard\\.js/[^\"]*/clipboard\\.min\\.js" = "clipboard.js",
  "bootstrap-toc|headroom|fuse\\.js|autocomplete\\.js|mark\\.js|respond\\.min\\.js" = character(0),
  "[Mm]ath[Jj]ax" = character(0))

external <- "(src|href)=\"((https?:|file:)?//[^\"]+)\""
relink <- function(html, prefix) {
  tags <- gregexpr("<(script|link)\\b[^>]*>(</script>)?", html, perl = TRUE)
  regmatches(html, tags) <- lapply(regmatches(html, tags), function(found) {
    vapply(found, function(tag) {
      url <- regmatches(tag, regexec("(src|href)=\"([^\"]+)\"", tag))[[1]][3]
      if (is.na(url) || (startsWith(tag, "<link") && !grepl("stylesheet", tag))) return(tag)
      hit <- which(vapply(names(served_instead), grepl, logical(1), x = url))
      if (!length(hit)) return(tag)
      to <- served_instead[[hit[1]]]
      paste(ifelse(endsWith(to, ".css"),
                   sprintf("<link rel=\"stylesheet\" href=\"%svendor/%s\">", prefix, to),
                   sprintf("<script src=\"%svendor/%s\"></script>", prefix, to)),
            collapse = "\n")
    }, character(1), USE.NAMES = FALSE)
  })
  html
}

# --- icons ------------------------------------------------------------------
# pkgdown names Font Awesome 5 icons ("fab fa-github") and adds Font Awesome
# 4's class "fa" next to them; the site serves Font Awesome 4.7, in which
# most of those icons have the same name. Font Awesome 5's style classes
# (fab, fas, far) are taken off, since pkgdown's styles give "fab" Font
# Awesome 5's font, and "fa" is added where it is missing. An icon Font
# Awesome 4.7 does not have would show as an empty box: the build fails
# instead, naming it.
fa_css <- readLines(file.path(debian[["font_awesome"]], "css", "font-awesome.css"), warn = FALSE)
fa_classes <- function(pattern) unique(unlist(regmatches(fa_css, gregexpr(pattern, fa_css, perl = TRUE))))
fa_icons <- fa_classes("(?<=\\.)fa-[a-z0-9-]+(?=:before)")
# (sizes, rotations and the like)
fa_modifiers <- setdiff(fa_classes("(?<=\\.)fa-[a-z0-9-]+(?![a-z0-9-])"), fa_icons)
# an icon: an element with the class fa, fab, fas or far
icon_class <- "class=\"[^\"]*(?<![\\w-])fa[bsr]?(?![\\w-])[^\"]*\""
class_words <- function(cl) strsplit(trimws(gsub("^class=\"|\"$", "", cl)), "\\s+")[[1]]
fa4_icons <- function(html) {
  found <- gregexpr(icon_class, html, perl = TRUE)
  regmatches(html, found) <- lapply(regmatches(html, found), function(classes) {
    vapply(classes, function(cl) {
      words <- unique(setdiff(class_words(cl), c("fab", "fas", "far")))
      if (!"fa" %in% words) words <- c("fa", words)
      sprintf("class=\"%s\"", paste(words, collapse = " "))
    }, "", USE.NAMES = FALSE)
  })
  html
}
icon_problems <- function(html) {
  classes <- regmatches(html, gregexpr(icon_class, html, perl = TRUE))[[1]]
  unlist(lapply(classes, function(cl) {
    words <- class_words(cl)
    icons <- setdiff(grep("^fa-", words, value = TRUE), fa_modifiers)
    if (length(icons) != 1 || !icons %in% fa_icons) paste0("an icon Font Awesome 4.7 does not have: ", cl)
  }))
}

# --- formulas as MathML -----------------------------------------------------
# pkgdown leaves TeX for MathJax: in articles as pandoc's
# <span class="math inline">\(...\)</span> (or "math display" and \[...\]),
# in help pages bare in the text: \eqn as \(...\), \deqn as $$...$$.
# Code, scripts and styles are set aside first, so that nothing in them is
# taken for a formula.
code_block <- "(?s)<(pre|code|script|style|textarea)\\b.*?</\\1>"
any_tag <- "<[^>]*>"
# Replaces what `pattern` matches by numbered place-holders (marked by the
# control characters `mark`), to be put back by unmask().
mask <- function(h, pattern, mark) {
  found <- gregexpr(pattern, h, perl = TRUE)
  kept <- regmatches(h, found)[[1]]
  regmatches(h, found) <- list(sprintf("%s%d%s", mark[1], seq_along(kept), mark[2]))
  list(text = h, kept = kept, mark = mark)
}
unmask <- function(masked) {
  h <- masked$text
  found <- gregexpr(paste0(masked$mark[1], "[0-9]+", masked$mark[2]), h)
  index <- as.integer(gsub("[^0-9]", "", regmatches(h, found)[[1]]))
  regmatches(h, found) <- list(masked$kept[index])
  h
}
code_mark <- c("\001", "\002")
tag_mark <- c("\003", "\004")
math_span <- "<span class=\"math (inline|display)\">\\\\[(\\[]([^<]*?)\\\\[)\\]]</span>"
math_bare <- "\\\\\\(([^<]*?)\\\\\\)|\\\\\\[([^<]*?)\\\\\\]|\\$\\$([^<$]*?)\\$\\$"
formula_of <- function(found, pattern) {
  parts <- regmatches(found, regexec(pattern, found, perl = TRUE))
  if (identical(pattern, math_span)) {
    display <- vapply(parts, `[`, "", 2) == "display"
    tex <- vapply(parts, `[`, "", 3)
  } else {
    display <- !startsWith(found, "\\(")
    tex <- vapply(parts, function(p) paste(p[2:4], collapse = ""), "")
  }
  tex <- trimws(unescape(tex))
  read_back <- vapply(seq_along(tex), function(i) grepl(tex[i], unescape(found[i]), fixed = TRUE), logical(1))
  if (!all(nzchar(tex) & read_back)) {
    fail("formulas read wrongly from: ", paste(found, collapse = " | "))
  }
  list(display = display, tex = tex, key = paste(display, tex))
}
unescape <- function(x) {
  for (e in list(c("&lt;", "<"), c("&gt;", ">"), c("&quot;", "\""), c("&#39;", "'"), c("&amp;", "&"))) {
    x <- gsub(e[1], e[2], x, fixed = TRUE)
  }
  x
}
pages <- list.files(out, pattern = "\\.html$", recursive = TRUE)
masked <- lapply(file.path(out, pages), function(f) {
  mask(paste(readLines(f, encoding = "UTF-8", warn = FALSE), collapse = "\n"), code_block, code_mark)
})
# Bare formulas are looked for in the text only, not inside tags (a page's
# description in its <meta> holds the TeX as it is).
in_text <- function(h, pattern) {
  if (identical(pattern, math_span)) h else mask(h, any_tag, tag_mark)$text
}
all_found <- list(display = logical(0), tex = character(0), key = character(0))
for (m in masked) for (pattern in c(math_span, math_bare)) {
  h <- in_text(m$text, pattern)
  f <- formula_of(regmatches(h, gregexpr(pattern, h, perl = TRUE))[[1]], pattern)
  for (n in names(all_found)) all_found[[n]] <- c(all_found[[n]], f[[n]])
}
first <- !duplicated(all_found$key)
formulas <- lapply(all_found, `[`, first)
mathml <- character(0)
if (length(formulas$key)) {
  md <- tempfile(fileext = ".md")
  writeLines(sprintf("::: {#f%d}\n%s\n:::\n", seq_along(formulas$tex),
                     ifelse(formulas$display, paste0("$$", formulas$tex, "$$"),
                            paste0("$", formulas$tex, "$"))), md)
  converted <- suppressWarnings(system2("pandoc", c("--from=markdown", "--to=html", "--mathml", shQuote(md)),
                                        stdout = TRUE, stderr = TRUE))
  if (!is.null(attr(converted, "status")) || any(grepl("^\\[WARNING\\]", converted))) {
    fail("pandoc could not turn the formulas into MathML:\n", paste(converted, collapse = "\n"))
  }
  converted <- paste(converted, collapse = "\n")
  blocks <- regmatches(converted, gregexpr("(?s)<div id=\"f[0-9]+\">.*?</div>", converted, perl = TRUE))[[1]]
  ids <- as.integer(sub("(?s)^<div id=\"f([0-9]+)\">.*", "\\1", blocks, perl = TRUE))
  inner <- sub("(?s)^<div id=\"f[0-9]+\">\\s*<p>(.*)</p>\\s*</div>$", "\\1", blocks, perl = TRUE)
  ok <- grepl("(?s)^<math[^>]*>.*</math>$", inner, perl = TRUE)
  if (!setequal(ids[ok], seq_along(formulas$key))) {
    fail("pandoc gave no MathML for: ",
         paste(formulas$tex[setdiff(seq_along(formulas$key), ids[ok])], collapse = " | "))
  }
  mathml[formulas$key[ids]] <- sprintf("<span class=\"math %s\">%s</span>",
                                       ifelse(formulas$display[ids], "display", "inline"), inner)
}

problems <- character(0)
for (i in seq_along(pages)) {
  m <- masked[[i]]
  to_mathml <- function(h, pattern) {
    found <- gregexpr(pattern, h, perl = TRUE)
    regmatches(h, found) <- lapply(regmatches(h, found), function(s) {
      unname(mathml[formula_of(s, pattern)$key])
    })
    h
  }
  m$text <- to_mathml(m$text, math_span)
  tagged <- mask(m$text, any_tag, tag_mark)
  tagged$text <- to_mathml(tagged$text, math_bare)
  m$text <- unmask(tagged)
  if (grepl(math_bare, mask(m$text, any_tag, tag_mark)$text, perl = TRUE)) {
    problems <- c(problems, paste0(pages[i], ": a formula left as TeX"))
  }
  prefix <- strrep("../", lengths(regmatches(pages[i], gregexpr("/", pages[i]))))
  h <- fa4_icons(relink(unmask(m), prefix))
  writeLines(h, file.path(out, pages[i]), useBytes = TRUE)
  # what would still come from elsewhere: any script, style sheet, image or
  # frame whose address names a scheme or a host (comments aside)
  live <- gsub("(?s)<!--.*?-->", "", h, perl = TRUE)
  tags <- regmatches(live, gregexpr("<(script|link|img|iframe|source|audio|video|embed)\\b[^>]*>", live, perl = TRUE))[[1]]
  loads <- tags[grepl(external, tags) & !(startsWith(tags, "<link") & !grepl("stylesheet|icon|preload", tags))]
  if (length(loads)) problems <- c(problems, paste0(pages[i], ": ", loads))
  problems <- c(problems, if (length(icon_problems(live))) paste0(pages[i], ": ", icon_problems(live)))
  if (grepl("<script[^>]*pkgdown\\.js", live)) problems <- c(problems, paste0(pages[i], ": still loads pkgdown.js"))
}
css <- list.files(out, pattern = "\\.css$", recursive = TRUE, full.names = TRUE)
for (f in css) {
  if (any(grepl("@import\\s+url\\(\\s*[\"']?(https?:)?//|url\\(\\s*[\"']?(https?:)?//", readLines(f, warn = FALSE)))) {
    problems <- c(problems, paste0(sub(paste0(out, "/"), "", f, fixed = TRUE), ": loads from another host"))
  }
}
if (length(problems)) {
  fail("pages that would need the network, or that show a missing icon:\n  ",
       paste(unique(problems), collapse = "\n  "))
}

articles <- list.files(file.path(out, "articles"), pattern = "\\.html$")
cat(sprintf(paste0("build-site: %d pages (%d articles: %s), %d formulas as MathML, nothing loaded ",
                   "from another host, no warnings; %.0f s\nbuild-site: %s/index.html\n"),
            length(pages), length(setdiff(articles, "index.html")),
            paste(setdiff(articles, "index.html"), collapse = ", "), length(formulas$key),
            as.numeric(difftime(Sys.time(), started, units = "secs")), out))
