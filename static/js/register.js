/* Register pages: confirmation of lifecycle actions and the live preview of TTS templates. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = (submitter && submitter.dataset.vaConfirm) || event.target.dataset.vaConfirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // The chosen qualification's state beside its select, in words and colour, with a warning unless it is approved.
  Array.prototype.forEach.call(document.querySelectorAll("[data-va-qualification-state]"), function (box) {
    var select = document.getElementById(box.dataset.vaQualificationState);
    if (!select) {
      return;
    }
    var badge = box.querySelector("[data-va-state-badge]");
    var warning = box.querySelector("[data-va-state-warning]");
    function show() {
      var option = select.options[select.selectedIndex];
      var state = option ? option.dataset.state : "";
      badge.className = state ? "va-state va-state-" + state : "";
      badge.textContent = state ? option.dataset.stateLabel : "";
      warning.classList.toggle("d-none", !state || state === "approved");
    }
    select.addEventListener("change", show);
  });

  var content = document.querySelector("[data-va-preview]");
  var preview = document.getElementById("va-preview");
  if (!content || !preview) {
    return;
  }
  var kind = document.getElementById("id_kind");
  var samples = { name: "张三", code: "123456", time: "10:30", date: "11月25日", amount: "128.00", order: "A10086" };
  var placeholder = /\$\{([^}]*)\}/g;

  function sampleFor(name) {
    if (kind && kind.value === "verification") {
      return "123456";
    }
    return samples[name.toLowerCase()] || "〈" + name + "〉";
  }

  function render() {
    var text = content.value;
    var names = [];
    var last = 0;
    var match;
    preview.textContent = "";
    placeholder.lastIndex = 0;
    while ((match = placeholder.exec(text)) !== null) {
      preview.appendChild(document.createTextNode(text.slice(last, match.index)));
      var value = document.createElement("span");
      value.className = "va-var";
      value.title = match[0];
      value.textContent = sampleFor(match[1]);
      preview.appendChild(value);
      if (names.indexOf(match[1]) === -1) {
        names.push(match[1]);
      }
      last = placeholder.lastIndex;
    }
    preview.appendChild(document.createTextNode(text.slice(last)));
    document.getElementById("va-count").textContent = String(text.length);
    document.getElementById("va-vars").textContent = names.length ? names.join(", ") : "—";
  }

  content.addEventListener("input", render);
  if (kind) {
    kind.addEventListener("change", render);
  }
  render();
})();
