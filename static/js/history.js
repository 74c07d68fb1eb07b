// Call log filters: choosing a quick range clears the explicit dates and applies at once.
(function () {
  "use strict";
  var form = document.getElementById("va-history-filters");
  if (!form) { return; }
  var range = form.querySelector("[name=range]");
  if (!range) { return; }
  range.addEventListener("change", function () {
    form.querySelectorAll("[name=date_from], [name=date_to]").forEach(function (input) { input.value = ""; });
    form.submit();
  });
})();
