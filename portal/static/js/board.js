// The shortlist board: the bulk bar says how many cards are ticked, so a recruiter far down a long
// board knows what "Share selected" will act on. The board re-renders after each action with
// nothing ticked, and the count follows. Loaded as a file (CSP).
(function () {
  "use strict";
  function updateCount() {
    var count = document.getElementById("bulk-count");
    if (!count) { return; }
    var ticked = document.querySelectorAll('input[form="board-bulk"][name="application_ids"]:checked').length;
    count.textContent = ticked === 1 ? "1 selected" : ticked + " selected";
  }
  document.body.addEventListener("change", function (event) {
    if (event.target.getAttribute && event.target.getAttribute("form") === "board-bulk") { updateCount(); }
  });
  document.body.addEventListener("htmx:afterSettle", updateCount);
  updateCount();
}());
