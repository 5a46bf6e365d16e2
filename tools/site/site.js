/* What the pages of this site do once loaded, in place of pkgdown's
   pkgdown.js: that script also needs headroom.js, mark.js, fuse.js and
   autocomplete.js, libraries this site does not serve (it serves only what
   Debian packages provide, and scripts of its own). So the navbar stays
   fixed instead of hiding while scrolling, and search terms are not
   highlighted on the page a search result opens. Here:
   - the table of contents of articles and help pages (toc.js), with the
     section in view marked (Bootstrap's scrollspy);
   - Bootstrap's tooltips;
   - a copy button on every code block (clipboard.js, Debian's
     node-clipboard), which copies the code without its output lines;
   - the search box (search.js). */
(function () {
  "use strict";

  function tableOfContents() {
    var nav = document.getElementById("toc");
    if (!nav) return;
    Toc.init({
      $nav: window.jQuery(nav),
      $scope: window.jQuery("main h2, main h3")
    });
    if (nav.querySelector("a.nav-link")) {
      // a section is the current one once it reaches the fixed navbar
      var navbar = document.querySelector("nav.navbar");
      new bootstrap.ScrollSpy(document.body, {
        target: "#toc",
        offset: (navbar ? navbar.offsetHeight : 0) + 1
      });
    }
  }

  function tooltips() {
    document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (e) {
      new bootstrap.Tooltip(e);
    });
  }

  // Shows `message` on the button for a moment. (The button has no title:
  // Bootstrap 5.1's tooltips would show the title instead.)
  function flash(button, message) {
    var shown = bootstrap.Tooltip.getInstance(button);
    if (shown) shown.dispose();
    var tip = new bootstrap.Tooltip(button, { trigger: "manual", title: message });
    tip.show();
    setTimeout(function () { tip.dispose(); }, 1500);
  }

  function copyButtons() {
    if (!window.ClipboardJS || !ClipboardJS.isSupported()) return;
    var blocks = document.querySelectorAll("div.sourceCode");
    blocks.forEach(function (block) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-primary btn-copy-ex";
      button.setAttribute("aria-label", "Copy to clipboard");
      var icon = document.createElement("i");
      icon.className = "fa fa-copy";
      icon.setAttribute("aria-hidden", "true");
      button.appendChild(icon);
      block.classList.add("hasCopyButton");
      block.insertBefore(button, block.firstChild);
    });
    if (!blocks.length) return;
    var clipboard = new ClipboardJS(".btn-copy-ex", {
      // the code only: the lines of output (starting "#>") left out
      text: function (button) {
        return button.parentNode.textContent.replace(/\n#>[^\n]*/g, "");
      }
    });
    clipboard.on("success", function (e) {
      e.clearSelection();
      flash(e.trigger, "Copied");
    });
    clipboard.on("error", function (e) {
      flash(e.trigger, "Press Ctrl+C or Command+C to copy");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tableOfContents();
    tooltips();
    copyButtons();
    var input = document.getElementById("search-input");
    if (input) Search.init(input);
  });
})();
