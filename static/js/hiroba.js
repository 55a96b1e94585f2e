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
  document.addEventListener("DOMContentLoaded", function () { bindCounters(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    bindCounters(event.target);
    var focusTarget = event.target.querySelector("[data-autofocus]");
    if (focusTarget) focusTarget.focus();
  });
})();
