/* Relais' only script, loaded by every page (the Content-Security-Policy forbids inline script
   and event-handler attributes). Pages work without it. */
(function () {
  "use strict";

  // The menu button (phones): with script the menu folds into it; without, the menu stays open.
  document.documentElement.classList.add("js");
  function menuButton() {
    var button = document.querySelector(".nav-toggle");
    var nav = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) return;
    button.hidden = false;
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    }
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
    // Escape closes the open menu and gives the focus back to its button.
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") { set(false); button.focus(); }
    });
  }

  // <form data-confirm="Question?">: ask before submitting (removing, revoking, declining).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // <form data-autosubmit>: sent as soon as the page loads (an LTI deep-linking answer goes
  // back to the LMS); its button stays for browsers without script.
  var auto = document.querySelector("form[data-autosubmit]");
  if (auto) auto.submit();
  // A table wider than its box scrolls inside it: keyboard users must be able to reach it to
  // scroll it (WCAG 2.1.1), so a scrolling box gets a tab stop, named after the table's caption.
  // data_table() writes this in the page already; this catches the other tables, and only those
  // that really scroll at the current width.
  function focusableScrollers() {
    var boxes = document.querySelectorAll("main .table-wrap, main .scroll, main table");
    Array.prototype.forEach.call(boxes, function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible";
      if (!scrolls || box.hasAttribute("tabindex")) return;
      box.setAttribute("tabindex", "0");
      var caption = box.querySelector("caption");
      if (!box.hasAttribute("role") && box.tagName !== "TABLE") box.setAttribute("role", "region");
      if (caption && !box.hasAttribute("aria-label") && box.tagName !== "TABLE") box.setAttribute("aria-label", caption.textContent.trim());
    });
  }

  // A job's page: follow its progress until it finishes, then reload once.
  function followJob() {
    var box = document.getElementById("job");
    if (!box || box.dataset.finished === "true" || !window.fetch) return;
    var delay = 1000;
    function show(data) {
      // The state in the reader's language; its code stays in data-state for scripts and tests.
      var state = document.getElementById("job-state");
      state.textContent = data.state_label || data.state; state.dataset.state = data.state;
      var bar = document.getElementById("job-progress");
      var p = data.progress;
      if (p.total) { bar.max = p.total; bar.value = p.current; }
      document.getElementById("job-count").textContent = p.current + (p.total != null ? " / " + p.total : "");
      document.getElementById("job-message").textContent = data.message || "";
      var err = document.getElementById("job-error");
      err.textContent = data.error || ""; err.hidden = !data.error;
    }
    function poll() {
      fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          show(data);
          // A finished job: reload once so the summary, the download and the buttons are current.
          if (["succeeded", "failed", "cancelled"].indexOf(data.state) >= 0) { window.location.reload(); return; }
          delay = 1000; setTimeout(poll, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 15000); setTimeout(poll, delay); });
    }
    setTimeout(poll, delay);
  }

  function ready() {
    menuButton(); followJob(); focusableScrollers();
    var timer;
    window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(focusableScrollers, 200); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
