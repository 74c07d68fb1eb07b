// Idle timeout warning: two minutes before the server signs this session out (SESSION_IDLE_MINUTES), show an
// alert with "Stay signed in"; the button posts to the keep-alive endpoint, which counts as activity.
(function () {
  "use strict";
  var box = document.getElementById("va-idle-warning");
  if (!box) { return; }
  var limit = parseInt(box.getAttribute("data-idle-seconds"), 10) * 1000;
  if (!limit) { return; }
  var warnBefore = Math.min(120000, limit / 2);
  var remaining = box.querySelector("[data-idle-remaining]");
  var template = box.querySelector("[data-idle-remaining-text]");
  var text = template ? template.innerHTML : "%(seconds)s";
  var deadline, warnTimer, tick;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function showRemaining() {
    var seconds = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    remaining.textContent = text.replace("%(seconds)s", seconds);
    if (seconds === 0) {
      clearInterval(tick);
      window.location.href = box.getAttribute("data-login-url");
    }
  }

  function start() {
    deadline = Date.now() + limit;
    box.hidden = true;
    clearTimeout(warnTimer);
    clearInterval(tick);
    warnTimer = setTimeout(function () {
      box.hidden = false;
      showRemaining();
      tick = setInterval(showRemaining, 1000);
      var button = box.querySelector("[data-idle-stay]");
      if (button) { button.focus(); }
    }, limit - warnBefore);
  }

  box.querySelector("[data-idle-stay]").addEventListener("click", function () {
    fetch(box.getAttribute("data-keep-alive-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "X-Requested-With": "fetch"}
    }).then(function (response) {
      if (response.ok && !response.redirected) { start(); } else { window.location.href = box.getAttribute("data-login-url"); }
    });
  });
  start();
}());
