/* The table of contents in the sidebar of articles and help pages, written
   for this site (pkgdown's pages load bootstrap-toc from the web); site.js
   calls Toc.init() as pkgdown.js would. Each h2 of the page becomes a link,
   with its h3 below it (shown while its h2 is the active one, as pkgdown's
   styles do); headings marked data-toc-skip are left out. The list goes
   under the sidebar's own heading ("On this page"). */
window.Toc = {
  init: function (options) {
    var $nav = options.$nav;
    if (!$nav || !$nav.length) return;
    var headings = options.$scope.toArray().filter(function (h) {
      return !h.hasAttribute("data-toc-skip") && (h.tagName === "H2" || h.tagName === "H3");
    });
    var used = {};
    function anchor(h) {
      var id = h.id || (h.parentElement && h.parentElement.id) || "";
      if (!id || used[id]) {
        var base = (h.textContent || "section").trim().toLowerCase()
          .replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "section";
        id = base;
        for (var i = 2; used[id] || document.getElementById(id) && document.getElementById(id) !== h; i++) {
          id = base + "-" + i;
        }
        h.id = id;
      }
      used[id] = true;
      return id;
    }
    function text(h) {
      var copy = h.cloneNode(true);
      copy.querySelectorAll(".anchor").forEach(function (a) { a.remove(); });
      return h.getAttribute("data-toc-text") || copy.textContent.trim();
    }
    function item(h) {
      var li = document.createElement("li");
      li.className = "nav-item";
      var a = document.createElement("a");
      a.className = "nav-link";
      a.href = "#" + anchor(h);
      a.textContent = text(h);
      li.appendChild(a);
      return li;
    }
    function list() {
      var ul = document.createElement("ul");
      ul.className = "nav nav-pills flex-column";
      return ul;
    }
    var top = list(), current = null;
    headings.forEach(function (h) {
      if (h.tagName === "H2" || !current) {
        current = item(h);
        top.appendChild(current);
      } else {
        var sub = current.querySelector("ul");
        if (!sub) {
          sub = list();
          current.appendChild(sub);
        }
        sub.appendChild(item(h));
      }
    });
    $nav.append(top);
  }
};
