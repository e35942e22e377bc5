// After a failed submit the page reloads at its top and the problems may be far below: move the
// focus (and the view) to the form's error summary, so it is seen and read out at once. A link in
// the summary focuses its field rather than only scrolling to it.
(function () {
  "use strict";

  function show(root) {
    var summary = (root || document).querySelector("[data-form-errors]");
    if (!summary) return;
    summary.scrollIntoView({ block: "start" });
    summary.focus({ preventScroll: true });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-form-errors] a[data-field]");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("data-field"));
    if (!field) return;
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  });

  document.addEventListener("DOMContentLoaded", function () { show(document); });
  // A form re-rendered by htmx (a fragment swapped in) shows its summary the same way.
  document.addEventListener("htmx:afterSwap", function (event) { show(event.target); });
})();
