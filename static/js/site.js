/* Small progressive enhancements; every page works without them.
 * - countdowns: elements with data-countdown-to="<UTC ISO time>" tick every second
 *   (clock arithmetic only: the server renders the values, and re-renders them on its polls)
 * - idle warning: two minutes before the server's idle logout, offer to stay logged in
 * - data-select-on-focus: a field whose whole value is selected on focus (a new API key);
 *   here rather than an onfocus attribute, which the Content-Security-Policy refuses */
(function () {
  "use strict";

  function duration(seconds, withSeconds) {
    var s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60), rest = s % 60;
    var h = Math.floor(m / 60); m = m % 60;
    var d = Math.floor(h / 24); h = h % 24;
    if (d) return h ? d + " d " + h + " h" : d + " d";
    if (h) return h + " h " + String(m).padStart(2, "0") + " min";
    if (withSeconds) return m + " min " + String(rest).padStart(2, "0") + " s";
    return m + " min";
  }

  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      var until = Date.parse(el.getAttribute("data-countdown-to"));
      if (isNaN(until)) return;
      var left = (until - now) / 1000;
      el.textContent = left > 0 ? duration(left, el.hasAttribute("data-countdown-seconds")) : "now";
    });
  }

  function idleWarning() {
    var body = document.body;
    var timeout = parseInt(body.getAttribute("data-idle-timeout") || "0", 10);
    var box = document.getElementById("idle-warning");
    if (!timeout || !box) return;
    var warnBefore = Math.min(120, timeout / 2);
    var lastActivity = Date.now();
    var countdown = box.querySelector("[data-idle-countdown]");
    var stay = box.querySelector("[data-idle-stay]");

    function csrfToken() {
      var match = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
      if (match) return decodeURIComponent(match[1]);
      var headers = body.getAttribute("hx-headers");
      try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
    }

    stay.addEventListener("click", function () {
      fetch(body.getAttribute("data-keepalive-url"), {
        method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken()}
      }).then(function (response) {
        if (response.ok) { lastActivity = Date.now(); box.hidden = true; }
        else { window.location.reload(); }
      });
    });
    // a request the user made (not a background poll) counts as activity on the server too
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var headers = (event.detail.requestConfig || {}).headers || {};
      if (!headers["X-Background-Poll"]) lastActivity = Date.now();
    });
    setInterval(function () {
      var idle = (Date.now() - lastActivity) / 1000;
      var left = timeout - idle;
      if (left <= 0) {
        var login = body.getAttribute("data-login-url");
        window.location.href = login + "?next=" + encodeURIComponent(window.location.pathname);
      } else if (left <= warnBefore) {
        if (box.hidden) { box.hidden = false; stay.focus(); }
        countdown.textContent = duration(left, true);
      }
    }, 1000);
  }

  // the printed batch record shows everything, the decay table included
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.setAttribute("open", ""); });
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) {
      event.target.select();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    idleWarning();
  });
})();
