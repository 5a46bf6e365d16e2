/* The search box of the navbar, written for this site (pkgdown's pages
   search with fuse.js and autocomplete.js, which this site does not serve).
   It searches the index pkgdown writes, search.json: one entry per section
   of every page (its heading, page title, words and code). Every word typed
   must occur in an entry; entries whose heading holds the words come
   first. The results are links in a list under the box: arrow keys
   move through them, Enter opens one (the first from the box), Escape
   closes the list. The index is read over HTTP, so search works when the
   site is served, not from files opened directly (the list says so). */
window.Search = {
  init: function (input) {
    "use strict";
    var MAX_RESULTS = 20;
    var entries = null, loading = null;
    var indexUrl = new URL(input.getAttribute("data-search-index"), window.location.href);

    var list = document.createElement("div");
    list.id = "search-results";
    list.className = "dropdown-menu";
    list.setAttribute("role", "listbox");
    input.parentNode.classList.add("position-relative");
    input.parentNode.appendChild(list);
    input.setAttribute("aria-controls", list.id);

    // Reads the index once; a failure (as when the pages are opened as
    // files) is shown in the list instead of results.
    var failure = null;
    function load() {
      if (!loading) {
        loading = fetch(indexUrl).then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        }).then(function (data) {
          entries = data.map(function (e) {
            return {
              entry: e,
              heading: String(e.what || "").toLowerCase(),
              title: String(e.title || "").toLowerCase(),
              body: (String(e.text || "") + " " + String(e.code || "")).toLowerCase()
            };
          });
        }, function (error) {
          failure = "Search needs the site served over HTTP (its index could not be read: " +
            error.message + ")";
        });
      }
      return loading;
    }

    // The entries in which every word occurs in the heading or the text
    // (a page's title alone is not enough: its own entry is the one to
    // show), best first: a word in the heading counts most; ties keep the
    // order of the index.
    function find(query) {
      var words = query.toLowerCase().split(/\s+/).filter(Boolean);
      var found = [];
      entries.forEach(function (e, i) {
        var score = 0;
        for (var w = 0; w < words.length; w++) {
          var inHeading = e.heading.indexOf(words[w]) >= 0, inBody = e.body.indexOf(words[w]) >= 0;
          if (!inHeading && !inBody) return;
          score += (inHeading ? 3 : 0) + (inBody ? 1 : 0) + (e.title.indexOf(words[w]) >= 0 ? 1 : 0);
        }
        found.push({ entry: e.entry, score: score, order: i });
      });
      found.sort(function (a, b) { return b.score - a.score || a.order - b.order; });
      return found.slice(0, MAX_RESULTS).map(function (f) { return f.entry; });
    }

    function link(e) {
      var a = document.createElement("a");
      a.className = "dropdown-item";
      a.setAttribute("role", "option");
      var url = new URL(e.path.replace(/^\//, ""), indexUrl);
      url.hash = e.id || "";
      a.href = url.href;
      var where = document.createElement("small");
      where.className = "text-muted d-block";
      where.textContent = [e.dir].concat(e.what === e.title ? [] : [e.title])
        .concat(e.previous_headings ? [e.previous_headings] : []).join(" \u203a ");
      var what = document.createElement("span");
      what.textContent = e.what;
      a.appendChild(where);
      a.appendChild(what);
      return a;
    }

    function close() {
      list.classList.remove("show");
      input.setAttribute("aria-expanded", "false");
    }

    function show() {
      var query = input.value.trim();
      list.textContent = "";
      if (query.length < 2) { close(); return; }
      var results = failure ? [] : find(query);
      if (results.length) {
        results.forEach(function (e) { list.appendChild(link(e)); });
      } else {
        var none = document.createElement("span");
        none.className = "dropdown-item-text text-muted";
        none.textContent = failure || "Nothing found for \u201c" + query + "\u201d";
        list.appendChild(none);
      }
      list.classList.add("show");
      input.setAttribute("aria-expanded", "true");
    }

    input.addEventListener("focus", load);
    input.addEventListener("input", function () { load().then(show); });
    input.form.addEventListener("submit", function (event) { event.preventDefault(); });
    input.addEventListener("keydown", function (event) {
      var first = list.querySelector("a.dropdown-item");
      if (event.key === "ArrowDown" && first) {
        event.preventDefault();
        first.focus();
      } else if (event.key === "Enter" && first && list.classList.contains("show")) {
        event.preventDefault();
        window.location.href = first.href;
      } else if (event.key === "Escape") {
        close();
      }
    });
    list.addEventListener("keydown", function (event) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a.dropdown-item"));
      var at = links.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && at < links.length - 1) {
        event.preventDefault();
        links[at + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (at > 0 ? links[at - 1] : input).focus();
      } else if (event.key === "Escape") {
        close();
        input.focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (!input.parentNode.contains(event.target)) close();
    });
  }
};
