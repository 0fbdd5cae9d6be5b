// On the event form: the waiting-list choices only matter when places are limited, so they
// are hidden while "Number of places" is empty (no limit). Without this script they show,
// under a legend that says when they apply.
(function () {
  "use strict";
  var capacity = document.querySelector("[data-places-capacity]");
  var group = document.querySelector("[data-when-limited]");
  if (!capacity || !group) { return; }
  function update() {
    group.hidden = capacity.value.trim() === "" && !group.querySelector(".errorlist");
  }
  capacity.addEventListener("input", update);
  update();
})();
