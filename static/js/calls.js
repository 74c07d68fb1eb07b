// Call detail page: poll the status endpoint every 2 s and swap the status card, the provider-answer card and the timeline until the call is final.
(function () {
  "use strict";
  var root = document.getElementById("va-call");
  if (!root) { return; }
  var url = root.dataset.statusUrl;
  var statusSlot = document.getElementById("va-call-status-slot");
  var timelineSlot = document.getElementById("va-call-timeline-slot");
  var answerSlot = document.getElementById("va-call-answer-slot");
  var announcer = document.getElementById("va-call-announcer");
  function statusText() {
    var badges = statusSlot.querySelectorAll(".va-state");
    return Array.prototype.map.call(badges, function (badge) { return badge.textContent.trim(); }).join(", ");
  }
  function entries() {
    return Array.prototype.map.call(timelineSlot.querySelectorAll("#va-call-timeline > li > div > strong"), function (title) {
      return title.textContent.trim();
    });
  }
  // Says what changed, once: the status when its words change, and the names of timeline entries that arrived.
  function announce(statusBefore, entriesBefore) {
    var parts = [];
    var status = statusText();
    if (status !== statusBefore) { parts.push(announcer.dataset.statusText + " " + status); }
    var added = entries().slice(entriesBefore.length);
    if (added.length) { parts.push(announcer.dataset.newText + " " + added.join(", ")); }
    if (parts.length) { announcer.textContent = parts.join(". "); }
  }
  var openPayloads = function () {
    // Keep the payloads someone opened open across refreshes.
    return Array.prototype.map.call(timelineSlot.querySelectorAll("details"), function (d) { return d.open; });
  };
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        var open = openPayloads();
        var statusBefore = statusText();
        var entriesBefore = entries();
        statusSlot.innerHTML = data.status_html;
        timelineSlot.innerHTML = data.timeline_html;
        if (answerSlot && data.answer_html) { answerSlot.innerHTML = data.answer_html; }
        timelineSlot.querySelectorAll("details").forEach(function (d, i) { d.open = !!open[i]; });
        if (announcer) { announce(statusBefore, entriesBefore); }
        if (!data.final) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
