// Test-dial form: choosing another template or voice file reloads the form for it; the preview follows what is typed.
(function () {
  "use strict";
  var form = document.getElementById("va-dial-form");
  if (!form) { return; }
  var resourceField = form.querySelector("[name='" + form.dataset.resourceField + "']");
  if (resourceField) {
    resourceField.addEventListener("change", function () {
      var url = new URL(window.location.href);
      url.search = "";
      if (resourceField.value) { url.searchParams.set(form.dataset.resourceField, resourceField.value); }
      window.location.assign(url.toString());
    });
  }
  var preview = document.getElementById("va-dial-preview");
  if (!preview) { return; }
  var inputs = form.querySelectorAll("[data-variable]");
  function render() {
    var values = {};
    inputs.forEach(function (input) { values[input.dataset.variable] = input.value; });
    // Same rule as rules.templates.render_preview: a variable without a value stays visible as ${name}.
    preview.textContent = preview.dataset.content.replace(/\$\{([^}]*)\}/g, function (placeholder, name) {
      return values[name] ? values[name] : placeholder;
    });
  }
  inputs.forEach(function (input) { input.addEventListener("input", render); });
  render();
}());
