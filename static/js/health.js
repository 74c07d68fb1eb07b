// System health page: fetch the checks every few seconds and swap them in; say so when a refresh fails.
(function () {
  "use strict";
  var root = document.getElementById("va-health");
  if (!root) { return; }
  var url = root.dataset.statusUrl;
  var every = Math.max(parseInt(root.dataset.refreshSeconds, 10) || 10, 2) * 1000;
  var slot = document.getElementById("va-health-checks");
  var notice = document.getElementById("va-health-refresh");
  var usual = notice.textContent;
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        slot.innerHTML = data.html;
        if (window.vaLabelTables) { window.vaLabelTables(slot); }
        root.dataset.state = data.state;
        notice.textContent = usual;
        notice.classList.remove("text-danger");
      })
      .catch(function () {
        // The last checks stay on screen, marked as not current.
        notice.textContent = notice.dataset.failedText;
        notice.classList.add("text-danger");
      })
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
}());
