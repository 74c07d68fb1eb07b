// After a refused submit, focus goes to the form's error summary (not to the top of the page), so keyboard and screen
// reader users start from what went wrong; its links lead to each field.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
  document.querySelectorAll("[data-error-summary] a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (field) { event.preventDefault(); field.focus(); }
    });
  });
})();

// A form whose work takes seconds (reading or checking a list of 100,000 rows) says so while the request runs, and
// its buttons are disabled so a second click cannot send it twice. The text comes from the button pressed
// (data-busy-text) and goes into the form's status line, which screen readers announce.
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    var status = form.querySelector("[data-busy-status]");
    var buttons = form.querySelectorAll("button[type=submit]");
    form.addEventListener("submit", function (event) {
      var pressed = event.submitter || buttons[0];
      if (status) { status.textContent = (pressed && pressed.getAttribute("data-busy-text")) || ""; }
      form.setAttribute("aria-busy", "true");
      // After this turn: a button disabled now would leave its name=value out of the request.
      window.setTimeout(function () { buttons.forEach(function (button) { button.disabled = true; }); }, 0);
    });
    // Back to this page from the history: the form is usable again.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) { return; }
      form.removeAttribute("aria-busy");
      buttons.forEach(function (button) { button.disabled = false; });
      if (status) { status.textContent = ""; }
    });
  });
})();
