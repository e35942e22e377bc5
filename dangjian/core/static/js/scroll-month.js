/* Open a sideways-scrolling box (the compliance matrix, the calendar's month strip) on this month.

   A box marked data-scroll-month that is wider than the screen is scrolled, once, on load, so that
   its element marked data-current-month is the last one fully in view, with the months before it
   (what is due or overdue) to its left. If the box's first column is sticky (the organisation's name
   in the matrix), the month is kept clear of it. Nothing moves when the box fits, or when the page
   shows another year (the server marks no month then). */
(function () {
  "use strict";

  function reveal(box) {
    var current = box.querySelector("[data-current-month]");
    if (!current || box.scrollWidth <= box.clientWidth) return;
    var first = box.querySelector("th, td");
    var covered = first && getComputedStyle(first).position === "sticky"
      ? first.getBoundingClientRect().width : 0;
    var rect = current.getBoundingClientRect();
    var start = rect.left - box.getBoundingClientRect().left - box.clientLeft + box.scrollLeft;
    var end = start + rect.width;
    var target = Math.max(0, end - box.clientWidth);
    if (start - target < covered) target = Math.max(0, start - covered);
    box.scrollLeft = target;
  }

  function run() {
    document.querySelectorAll("[data-scroll-month]").forEach(reveal);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
