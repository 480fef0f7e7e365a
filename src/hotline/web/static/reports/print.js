// The report's print button (the CSP allows no inline handler); the A4 layout is CSS.
(function () {
  "use strict";
  var button = document.getElementById("print-report");
  if (button) button.addEventListener("click", function () { window.print(); });
})();
