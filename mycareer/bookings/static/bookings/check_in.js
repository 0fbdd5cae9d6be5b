// Keeps the check-in page's figures current while several people check in at once.
// Without JavaScript the figures are those of the last page load.
(function () {
  "use strict";
  var box = document.getElementById("live-counts");
  if (!box || !box.dataset.countsUrl || !window.fetch) {
    return;
  }
  var EVERY_MS = 10000;

  function show(counts) {
    Object.keys(counts).forEach(function (name) {
      var cell = box.querySelector('[data-count="' + name + '"]');
      if (!cell) {
        return;
      }
      var value = counts[name];
      var text = value === null ? "No limit" : String(value);
      if (cell.textContent !== text) {
        cell.textContent = text;
      }
    });
  }

  function poll() {
    if (document.hidden) {
      return;
    }
    fetch(box.dataset.countsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (counts) {
        if (counts) {
          show(counts);
        }
      })
      .catch(function () {
        // A dropped connection at the door is normal; the next poll tries again.
      });
  }

  window.setInterval(poll, EVERY_MS);
  document.addEventListener("visibilitychange", poll);
})();
