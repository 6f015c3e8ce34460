// Keyboard focus, screen-reader announcements and the Undo countdown after htmx swaps.
// Loaded as a file: the CSP allows no inline script.
(function () {
  "use strict";

  // --- The polite live region (#announcer in base.html) --------------------------------------
  var pending = null;
  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region || !message) { return; }
    // Emptied first, then filled a moment later, so the same words twice are read twice.
    region.textContent = "";
    clearTimeout(pending);
    pending = setTimeout(function () { region.textContent = message; }, 100);
  }
  window.portalAnnounce = announce;

  function within(root, selector) {
    var found = [];
    if (root.matches && root.matches(selector)) { found.push(root); }
    if (root.querySelectorAll) { found = found.concat(Array.prototype.slice.call(root.querySelectorAll(selector))); }
    return found;
  }

  // --- Focus after a swap -----------------------------------------------------------------------
  // In order: the first invalid field of a refused form, a form-wide error, then the control the
  // server named in data-focus (Undo after a reject, the new row after "Add another time").
  function focusAfterSwap(root) {
    var target = within(root, "[aria-invalid='true']")[0] || within(root, ".alert-error[tabindex='-1']")[0];
    var marker = within(root, "[data-focus]")[0];
    if (!target && marker) { target = document.getElementById(marker.dataset.focus); }
    if (marker) { marker.removeAttribute("data-focus"); }
    if (target && document.body.contains(target)) { target.focus(); }
  }

  function announceAfterSwap(root) {
    within(root, "[data-announce]").forEach(function (element) {
      announce(element.dataset.announce);
      element.removeAttribute("data-announce");
    });
    within(root, "[data-announce-on-swap]").forEach(function (element) { announce(element.textContent.trim()); });
  }

  document.body.addEventListener("htmx:afterSettle", function (event) {
    var root = event.target;
    if (!root || !root.nodeType) { return; }
    focusAfterSwap(root);
    announceAfterSwap(root);
  });

  // --- Undo countdown ---------------------------------------------------------------------------
  // Counted from when the block arrived, with the seconds the server had left: the browser's and
  // the server's clocks need not agree. The server refuses a late Undo anyway.
  function countdown(form) {
    if (form.dataset.counting) { return; }
    form.dataset.counting = "1";
    var total = parseInt(form.dataset.secondsLeft, 10) || 0;
    var began = Date.now();
    var label = form.querySelector("[data-countdown]");
    function tick() {
      var left = total - Math.floor((Date.now() - began) / 1000);
      if (left <= 0) {
        var decision = form.closest(".decision");
        var hadFocus = form.contains(document.activeElement);
        form.remove();
        if (hadFocus && decision) {
          var next = decision.querySelector("select, textarea, .status");
          if (next) { next.focus(); }
        }
        return;
      }
      if (label) { label.textContent = left + (left === 1 ? " second" : " seconds") + " left to undo"; }
      setTimeout(tick, 1000 - ((Date.now() - began) % 1000));
    }
    tick();
  }
  function startCountdowns(root) { within(root, "[data-seconds-left]").forEach(countdown); }
  startCountdowns(document);
  document.body.addEventListener("htmx:load", function (event) { startCountdowns(event.detail.elt); });
}());
