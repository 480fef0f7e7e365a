// The lead's place form on the staffing page: typing in "Tìm theo tên" narrows the list of
// people (accents ignored: "duc" finds "Đức"), and the people already on the chosen day's
// chosen shift are greyed out and marked. The server renders every name and every place
// (data-places: "day/shift" pairs); without this script the form works as it is.
(function () {
  "use strict";
  var form = document.getElementById("roster-form");
  if (!form) return;
  var find = document.getElementById("roster-find");
  var person = document.getElementById("roster-person");
  var day = document.getElementById("roster-day");
  var shift = document.getElementById("roster-shift_id");
  var placedMark = " ✓";

  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  function update() {
    var wanted = plain(find.value.trim());
    var here = day.value + "/" + shift.value;
    Array.prototype.forEach.call(person.options, function (option) {
      var names = plain(option.getAttribute("data-name") || "");
      option.hidden = wanted !== "" && names.indexOf(wanted) === -1;
      var placed = (" " + (option.getAttribute("data-places") || "")).indexOf(" " + here + " ") !== -1;
      option.disabled = placed;
      var text = option.textContent.replace(/ ✓$/, "");
      option.textContent = placed ? text + placedMark : text;
      if (placed && option.selected) option.selected = false;
    });
  }

  find.addEventListener("input", update);
  day.addEventListener("change", update);
  shift.addEventListener("change", update);
  update();
}());
