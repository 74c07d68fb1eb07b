// The language switch submits its form as soon as a language is chosen (no inline handler: the CSP forbids them).
(function () {
  "use strict";
  document.querySelectorAll("form.va-lang select[name=language]").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });
})();
