// Suggest names as a person types into an input with data-suggest-url and a datalist
// (list="…"). Progressive enhancement: without this script the typed name is matched on
// the server, which says so when it matches none or several.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[data-suggest-url][list]");
  Array.prototype.forEach.call(inputs, function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) { return; }
    var key = input.getAttribute("data-suggest-key") || "organisations";
    var timer = null;
    input.addEventListener("input", function () {
      var typed = input.value.trim();
      clearTimeout(timer);
      if (typed.length < 2) { return; }
      timer = setTimeout(function () {
        fetch(input.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(typed), {
          headers: { "Accept": "application/json" },
          credentials: "same-origin"
        })
          .then(function (r) { return r.ok ? r.json() : {}; })
          .then(function (data) {
            list.innerHTML = "";
            (data[key] || []).forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.name;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });
})();
