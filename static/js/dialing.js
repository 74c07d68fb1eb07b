// Test-dial form: another template or voice file is loaded with its own button, keeping what was typed; the
// preview follows what is typed.
(function () {
  "use strict";
  var form = document.getElementById("va-dial-form");
  if (!form) { return; }
  // Carried over in the tab's own storage, not the URL: a callee number does not belong in addresses and logs.
  var CARRIED_KEY = "va-dial-carried";
  var CARRIED_FIELDS = ["called_number", "play_times", "volume", "speed"];

  function carriedSave() {
    var values = {};
    CARRIED_FIELDS.forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value) { values[name] = field.value; }
    });
    form.querySelectorAll("[data-variable]").forEach(function (input) {
      if (input.value) { values["${" + input.dataset.variable + "}"] = input.value; }
    });
    try { window.sessionStorage.setItem(CARRIED_KEY, JSON.stringify(values)); } catch (error) { /* storage off: start empty */ }
  }

  function carriedRestore() {
    var values;
    try {
      values = JSON.parse(window.sessionStorage.getItem(CARRIED_KEY) || "{}");
      window.sessionStorage.removeItem(CARRIED_KEY);
    } catch (error) { return; }
    Object.keys(values).forEach(function (name) {
      var variable = /^\$\{(.*)\}$/.exec(name);
      var field = variable ? form.querySelector("[data-variable='" + CSS.escape(variable[1]) + "']") : form.elements[name];
      if (field) { field.value = values[name]; }
    });
  }

  carriedRestore();
  // Choosing another template or voice file only offers to load it: a select that reloads the page on change
  // would fire on every arrow key and take the keyboard user's focus away (WCAG 3.2.2).
  var resourceField = form.querySelector("[name='" + form.dataset.resourceField + "']");
  var switchButton = document.getElementById("va-dial-switch");
  if (resourceField && switchButton) {
    var loaded = resourceField.value;
    resourceField.addEventListener("change", function () {
      switchButton.hidden = !resourceField.value || resourceField.value === loaded;
    });
    switchButton.addEventListener("click", function () {
      carriedSave();
      var url = new URL(window.location.href);
      url.search = "";
      url.searchParams.set(form.dataset.resourceField, resourceField.value);
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
