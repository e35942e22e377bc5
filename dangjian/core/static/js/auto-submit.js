/* A control marked data-auto-submit (the year chooser of the calendar and the contact points)
   submits its form as soon as it changes. In this file rather than an onchange="…" attribute,
   which the Content-Security-Policy refuses. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var control = event.target.closest("[data-auto-submit]");
    if (!control || !control.form) return;
    if (control.form.requestSubmit) control.form.requestSubmit();  // as a click on submit would (submit events fire)
    else control.form.submit();
  });
})();
