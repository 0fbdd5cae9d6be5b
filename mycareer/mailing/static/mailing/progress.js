// Refresh a sending campaign's progress without reloading the page.
(function () {
  "use strict";
  var section = document.getElementById("progress");
  if (!section) { return; }
  var url = section.getAttribute("data-progress-url");
  var bar = section.querySelector("progress");
  function update() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        ["sent", "left", "failed", "stopped"].forEach(function (name) {
          var el = section.querySelector('[data-field="' + name + '"]');
          if (el) { el.textContent = data[name]; }
        });
        if (bar) { bar.value = data.percent; bar.textContent = data.percent + "%"; }
        if (data.status === "queued" || data.status === "sending") { setTimeout(update, 2000); }
        // Finished (or cancelled elsewhere): the page again, so its status, the failures
        // and the actions are the campaign's now, not "Queued" beside "0 left".
        else { window.location.reload(); }
      })
      .catch(function () {});
  }
  setTimeout(update, 2000);
})();
