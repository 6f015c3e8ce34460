// The candidate's scheduling page: show the times in the browser's zone. On a first visit (no
// zone chosen in the URL) the page reloads itself with the detected zone. Another zone is one
// choice and "Show times" away (no submit on change: arrowing through the list must not reload).
(function () {
  "use strict";
  var select = document.querySelector("select[data-schedule-zone]");
  if (!select) { return; }
  var form = select.form;
  if (select.dataset.detectZone) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var option = zone && select.querySelector("option[value='" + zone.replace(/'/g, "") + "']");
    if (option && select.value !== zone) {
      select.value = zone;
      form.submit();
    }
  }
}());
