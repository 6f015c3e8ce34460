// Small behaviours the pages share. Loaded as a file: the CSP allows no inline script.
(function () {
  "use strict";

  function showToast(message, level) {
    var area = document.getElementById("toasts");
    if (!area || !message) { return; }
    // One toast per message: the same words already showing are not stacked again.
    var showing = Array.prototype.some.call(area.querySelectorAll(".toast"), function (existing) {
      return existing.textContent === message;
    });
    if (showing) { return; }
    var item = document.createElement("div");
    item.className = "toast" + (level === "error" ? " error" : "");
    item.textContent = message;
    area.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }

  // Server-sent HX-Trigger: {"toast": {"message": ..., "level": ...}}
  document.body.addEventListener("toast", function (event) {
    showToast(event.detail.message, event.detail.level);
  });

  // Error responses are swapped too, so validation fragments (422) render in place.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422 || status === 409 || status === 410) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    } else if (status >= 400 && !event.detail.xhr.getResponseHeader("HX-Trigger")) {
      // (A response with HX-Trigger carries its own toast, e.g. the 503 "busy, try again".)
      showToast("That did not work (" + status + "). Nothing was saved; please try again.", "error");
    }
  });
  document.body.addEventListener("htmx:sendError", function () {
    showToast("The network is unavailable. Nothing was saved; please try again.", "error");
  });

  // Pre-select the browser's IANA timezone in fields marked data-detect-timezone.
  function detectTimezones(root) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    root.querySelectorAll("[data-detect-timezone]").forEach(function (field) {
      if (!field.dataset.userChosen && zone) {
        var option = field.querySelector("option[value='" + zone.replace(/'/g, "") + "']");
        if (option || field.tagName === "INPUT") { field.value = zone; }
      }
    });
  }
  detectTimezones(document);
  document.body.addEventListener("htmx:load", function (event) { detectTimezones(event.detail.elt); });

  // The reject Undo counts down and disappears when its time is up: see access.js.

  // Toasts rendered with the page (flashed messages) fade like the ones htmx triggers.
  document.querySelectorAll("#toasts .toast").forEach(function (item) {
    setTimeout(function () { item.remove(); }, 6000);
  });

  // Copy fields select their whole text on focus.
  document.body.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("copy-field")) { event.target.select(); }
  });
}());
