// Campaign page: poll the progress endpoint every 2 s while the campaign runs, swap the progress card and the state
// badge, and say what changed in one short sentence in the live region. When the campaign ends (or is paused or
// cancelled) the page is loaded again, so the final report and the buttons of the new state show. Without script
// the page is right at load.
(function () {
  "use strict";
  var root = document.getElementById("va-campaign-live");
  if (!root || !root.dataset.progressUrl) { return; }
  var url = root.dataset.progressUrl;
  var slot = document.getElementById("va-campaign-progress");
  var badge = document.getElementById("va-campaign-state");
  var announcer = document.getElementById("va-campaign-announcer");
  var stateBefore = root.dataset.state || "";
  function sentence() {
    var line = slot.querySelector("[data-announce]");
    return line ? line.textContent.trim() : "";
  }
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        var before = sentence();
        slot.innerHTML = data.html;
        if (window.vaLabelTables) { window.vaLabelTables(slot); }
        if (badge) {
          badge.className = "va-state va-state-" + data.state + " align-middle";
          badge.textContent = data.state_label;
        }
        var now = sentence();
        if (announcer && now && now !== before) { announcer.textContent = now; }
        // Starting to send changes only the badge and the figures; any other new state (finished, paused by a
        // colleague, cancelled) brings other buttons and the final report, so the page is loaded again.
        if (data.final || (data.state !== stateBefore && !(stateBefore === "scheduled" && data.state === "sending"))) {
          window.location.reload();
          return;
        }
        stateBefore = data.state;
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
