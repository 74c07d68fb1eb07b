// Call detail page: poll the status endpoint every 2 s and swap the status card, the provider-answer card and the timeline until the call is final.
(function () {
  "use strict";
  var root = document.getElementById("va-call");
  if (!root) { return; }
  var url = root.dataset.statusUrl;
  var statusSlot = document.getElementById("va-call-status-slot");
  var timelineSlot = document.getElementById("va-call-timeline-slot");
  var answerSlot = document.getElementById("va-call-answer-slot");
  var openPayloads = function () {
    // Keep the payloads someone opened open across refreshes.
    return Array.prototype.map.call(timelineSlot.querySelectorAll("details"), function (d) { return d.open; });
  };
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        var open = openPayloads();
        statusSlot.innerHTML = data.status_html;
        timelineSlot.innerHTML = data.timeline_html;
        if (answerSlot && data.answer_html) { answerSlot.innerHTML = data.answer_html; }
        timelineSlot.querySelectorAll("details").forEach(function (d, i) { d.open = !!open[i]; });
        if (!data.final) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
