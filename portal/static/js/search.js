// The search page: keep typed values in the markup htmx saves for the back button, so a restored
// page shows the query and ticked filters that produced its results. Loaded as a file (CSP).
(function () {
  "use strict";
  // Bookmarkable URLs carry only what was chosen: empty fields and the default sort are left out.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var form = document.getElementById("search-form");
    var data = event.detail.formData;
    if (!form || !data || event.detail.verb !== "get" || !form.contains(event.detail.elt)) { return; }
    var unwanted = [];
    data.forEach(function (value, key) {
      if (value === "" || (key === "sort" && value === "relevance")) { unwanted.push(key); }
    });
    unwanted.forEach(function (key) { data.delete(key); });
  });

  document.body.addEventListener("htmx:beforeHistorySave", function () {
    var form = document.getElementById("search-form");
    if (!form) { return; }
    form.querySelectorAll("input").forEach(function (input) {
      if (input.type === "checkbox") {
        if (input.checked) { input.setAttribute("checked", ""); } else { input.removeAttribute("checked"); }
      } else if (input.type !== "file") {
        input.setAttribute("value", input.value);
      }
    });
    form.querySelectorAll("option").forEach(function (option) {
      if (option.selected) { option.setAttribute("selected", ""); } else { option.removeAttribute("selected"); }
    });
  });

  // The snapshot htmx restores was taken after the user changed a control, so set every control
  // from the restored URL: the query string is the source of truth for what the results show.
  function syncFormFromUrl() {
    var form = document.getElementById("search-form");
    if (!form) { return; }
    var params = new URLSearchParams(window.location.search);
    form.querySelectorAll("input, select").forEach(function (control) {
      var values = params.getAll(control.name);
      if (control.type === "checkbox") {
        control.checked = values.indexOf(control.value) !== -1;
      } else if (control.tagName === "SELECT") {
        Array.prototype.forEach.call(control.options, function (option) {
          option.selected = values.indexOf(option.value) !== -1 || (!values.length && option.index === 0 && !control.multiple);
        });
      } else if (control.type !== "hidden" && control.type !== "file") {
        control.value = values.length ? values[0] : "";
      }
    });
  }
  document.body.addEventListener("htmx:historyRestore", syncFormFromUrl);
})();
