// Folded sections (<details data-keep-open id=...>) stay as the person left them when htmx
// re-renders the form around them ("Update the preview", a refusal shown in place): the server
// renders each fold's default, and the ones opened or closed by hand are put back. Loaded as a
// file (CSP).
(function () {
  "use strict";
  var chosen = {};
  document.body.addEventListener("toggle", function (event) {
    var fold = event.target;
    if (fold.tagName === "DETAILS" && fold.id && fold.hasAttribute("data-keep-open")) {
      chosen[fold.id] = fold.open;
    }
  }, true);
  document.body.addEventListener("htmx:afterSwap", function () {
    Object.keys(chosen).forEach(function (id) {
      var fold = document.getElementById(id);
      // A fold the server opened because it holds an error stays open whatever was chosen.
      if (fold && !(fold.open && fold.querySelector(".field-error, .has-error"))) { fold.open = chosen[id]; }
    });
  });
}());
