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
        else { finished(); }
      })
      .catch(function () {});
  }
  // Finished (or cancelled elsewhere): the page's status, failures and actions are out of
  // date, but reloading it would move keyboard and screen-reader users back to the top.
  // The status area says so, with a link to the page as it is now (without a filter of
  // the list, which may name an outcome nobody has any more).
  function finished() {
    var status = section.querySelector('[role="status"]');
    if (!status) { return; }
    var link = document.createElement("a");
    link.href = window.location.pathname;
    link.textContent = "Sending has finished: show the final figures";
    status.textContent = "";
    status.appendChild(link);
  }
  setTimeout(update, 2000);
})();
