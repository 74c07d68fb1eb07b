// Filter forms with a quick range and From/To dates (call log, dashboard): only one of the two decides the
// period. Choosing a quick range clears the dates; typing a date sets the range back to its empty choice, so the
// form never says "Last 7 days" beside other dates. Nothing is sent until the form's button is pressed (WCAG 3.2.2).
(function () {
  "use strict";
  document.querySelectorAll("form[data-quick-range]").forEach(function (form) {
    var range = form.querySelector("[name=range]");
    var dates = form.querySelectorAll("[name=date_from], [name=date_to]");
    if (!range) { return; }
    range.addEventListener("change", function () {
      if (!range.value) { return; }
      dates.forEach(function (input) { input.value = ""; });
    });
    dates.forEach(function (input) {
      input.addEventListener("change", function () { if (input.value) { range.value = ""; } });
    });
  });
})();
