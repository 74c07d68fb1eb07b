// Alerts: the page refreshes its counts (and the top bar's) every half minute; the rule form shows only the
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
        document.querySelectorAll("[data-va-alerts-count]").forEach(function (badge) { setCount(badge, data.open); });
      })
      .catch(function () { /* the counts shown stay until the next try */ })
      .then(function () { window.setTimeout(poll, 30000); });
  }
  window.setTimeout(poll, 30000);
}());
