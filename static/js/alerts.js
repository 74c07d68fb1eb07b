// Alerts: the page refreshes its counts (and the top bar's) every half minute or so; the rule form shows only the
// thresholds of the chosen kind. Without scripts the page is whole and every fieldset stays visible.
(function () {
  "use strict";
  var kind = document.getElementById("id_kind");
  if (kind) {
    var sets = document.querySelectorAll("[data-va-alert-kind]");
    var show = function () {
      sets.forEach(function (set) { set.hidden = set.dataset.vaAlertKind !== kind.value; });
    };
    kind.addEventListener("change", show);
    show();
  }
  var root = document.getElementById("va-alerts");
  if (!root) { return; }
  var every = Math.max(parseInt(root.dataset.refreshSeconds, 10) || 30, 1) * 1000;
  function setCount(element, value) {
    if (element.firstChild) { element.firstChild.nodeValue = String(value); }
  }
  function poll() {
    fetch(root.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        document.querySelectorAll("[data-va-alerts-state]").forEach(function (badge) {
          setCount(badge, data.by_state[badge.dataset.vaAlertsState] || 0);
        });
        document.querySelectorAll("[data-va-alerts-count]").forEach(function (badge) {
          setCount(badge, data.open);
          badge.hidden = !data.open;
        });
      })
      .catch(function () { /* the counts shown stay until the next try */ })
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
}());
