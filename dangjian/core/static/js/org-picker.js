/* Searchable organisation pickers (core.forms.TreePicker): once the search's matches have replaced
   a select's options, the select has a new value, so tell whoever listens for its change (the
   meeting form loads the chosen organisation's attendance). A static file: the CSP refuses inline
   scripts. */
(function () {
  "use strict";

  document.addEventListener("htmx:afterSwap", function (event) {
    var select = event.target;
    if (select.tagName !== "SELECT" || !select.closest(".org-picker")) return;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
