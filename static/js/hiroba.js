// Hiroba: progressive enhancement only; every page works without this file.
(function () {
  "use strict";
  // Live character counter for fields that declare data-maxlength-counter="<id of output>".
  function updateCounter(field) {
    var out = document.getElementById(field.getAttribute("data-maxlength-counter"));
    if (!out) return;
    var max = parseInt(field.getAttribute("maxlength"), 10);
    var left = max - Array.from(field.value).length;
    out.textContent = out.getAttribute("data-template").replace("%d", String(left));
    out.classList.toggle("error", left < 0);
  }
  function bindCounters(root) {
    root.querySelectorAll("[data-maxlength-counter]").forEach(function (field) {
      updateCounter(field);
      field.addEventListener("input", function () { updateCounter(field); });
    });
  }
  // A long proposal scrolls inside the vote card; only then can the keyboard reach it
  // (short ones stay out of the Tab order, so Tab goes from the heading to "Agree").
  function focusableWhenScrolling(root) {
    root.querySelectorAll(".proposal-text").forEach(function (text) {
      if (text.scrollHeight > text.clientHeight + 1) text.setAttribute("tabindex", "0");
    });
  }
  // What is typed into a field with data-keep-draft="<form>:<account>" is kept in this tab
  // (sessionStorage: gone when the tab closes), so that a form refused because the login
  // had ended gets its words back after the new login: the page then says so with
  // data-restore-draft="<id of its note>". Opened any other way, the form starts from what
  // the server put in it.
  function keepDrafts(root) {
    root.querySelectorAll("[data-keep-draft]").forEach(function (field) {
      var key = "hiroba-draft:" + field.getAttribute("data-keep-draft");
      var store, kept;
      try { store = window.sessionStorage; kept = store.getItem(key); } catch (e) { return; }
      var note = document.getElementById(field.getAttribute("data-restore-draft") || "");
      if (note && kept && !field.value) {
        field.value = kept;
        updateCounter(field);
        note.hidden = false;
      } else if (field.value) {
        store.setItem(key, field.value);
      } else {
        store.removeItem(key);
      }
      field.addEventListener("input", function () { store.setItem(key, field.value); });
    });
  }
  // Logging out forgets every kept draft of the tab: the next person at a shared terminal
  // (logged in as themselves, so never shown them) should not find them in it either.
  document.addEventListener("submit", function (event) {
    if (!event.target.hasAttribute("data-forget-drafts")) return;
    try {
      var store = window.sessionStorage;
      for (var i = store.length - 1; i >= 0; i--) {
        var key = store.key(i);
        if (key && key.indexOf("hiroba-draft:") === 0) store.removeItem(key);
      }
    } catch (e) { /* storage unavailable: nothing was kept */ }
  });
  document.addEventListener("DOMContentLoaded", function () {
    bindCounters(document);
    keepDrafts(document);
    focusableWhenScrolling(document);
  });

  // htmx leaves 4xx/5xx responses unswapped by default, so a refused action would fail
  // silently. The server answers every htmx error with a translated fragment: either the
  // target's own content with the error in it (a form keeps what was entered), or a generic
  // error box sent with HX-Retarget to #htmx-errors. Swap it either way.
  // An empty error answer, or a whole page (a proxy's "502 Bad Gateway" while the app
  // restarts), is not the app's: it must not replace part of the page, so the page says in
  // its own words that the action did not go through.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status < 400) return;
    var body = event.detail.serverResponse || "";
    if (body.trim() && !/^\s*<(!doctype|html)/i.test(body)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    } else {
      event.detail.shouldSwap = false;
      showProblem("data-failed");
    }
  });
  // No answer at all (network down), or none from the app: say so in the page's error
  // region.
  function showProblem(attribute) {
    var region = document.getElementById("htmx-errors");
    if (!region) return;
    var box = document.createElement("p");
    box.className = "error-box";
    box.setAttribute("role", "alert");
    box.textContent = region.getAttribute(attribute);
    region.replaceChildren(box);
    region.scrollIntoView({ block: "nearest" });
  }
  function showOffline() { showProblem("data-offline"); }
  document.addEventListener("htmx:sendError", showOffline);
  document.addEventListener("htmx:timeout", showOffline);
  document.addEventListener("htmx:afterSwap", function (event) {
    bindCounters(event.target);
    focusableWhenScrolling(event.target.parentNode || document);
    if (event.target.id === "htmx-errors") {
      event.target.scrollIntoView({ block: "nearest" });
      return;
    }
    var region = document.getElementById("htmx-errors");
    if (region && event.detail.xhr.status < 400) region.replaceChildren();
    var focusTarget = event.target.querySelector("[data-autofocus]") ||
      event.target.querySelector("[autofocus]");
    // A refused action answered with its form again: the button that was pressed is gone
    // and the error may be far above it, off the screen. Bring the error to the person.
    if (!focusTarget && event.detail.xhr.status >= 400) {
      focusTarget = event.target.querySelector("[role=alert]");
      if (focusTarget) focusTarget.setAttribute("tabindex", "-1");
    }
    if (focusTarget) focusTarget.focus();
    announceResults(event.target);
  });
  // Results swapped in by a search or filter: their summary ("34 proposals") is read out
  // from the page's own status region, emptied first so that the same count is read again.
  function announceResults(swapped) {
    var status = document.getElementById("results-status");
    var summary = swapped.querySelector("[data-results-summary]");
    if (!status || !summary) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = summary.textContent.trim(); }, 100);
  }
})();
