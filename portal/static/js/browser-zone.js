// A client contact whose timezone nobody has chosen yet: the zone this browser reports travels with
// their first action, as a hidden field of every form and a parameter of every htmx request. The
// portal keeps it only while no zone is chosen (see portal/blueprints/client/visits.py).
(function () {
  "use strict";
  if (!document.body || !document.body.dataset.browserZone) { return; }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { return; }
  if (!zone) { return; }

  function addHiddenFields(root) {
    root.querySelectorAll("form").forEach(function (form) {
      if ((form.getAttribute("method") || "get").toLowerCase() !== "post") { return; }
      if (form.querySelector("input[name='browser_timezone']")) { return; }
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "browser_timezone";
      input.value = zone;
      form.appendChild(input);
    });
  }
  addHiddenFields(document);
  document.body.addEventListener("htmx:load", function (event) { addHiddenFields(event.detail.elt); });
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") { event.detail.parameters.browser_timezone = zone; }
  });
}());
