// Suggest existing names as a person types: tags ("nhs" becomes the existing "NHS") and the
// organisations taking part in an event ("northbridge" offers "Northbridge Engineering Ltd").
// Progressive enhancement: without this script the field is plain text, and the server
// matches what was typed (saying "Did you mean …" when it matches nothing).
//
//   <input data-suggest="/organisations/tags/" data-suggest-key="tags">
//       several values separated by commas; the last one is completed
//   <textarea data-suggest="/organisations/suggest/" data-suggest-key="organisations"
//             data-suggest-lines>
//       one value per line; the line with the cursor is completed
(function () {
  "use strict";
  var fields = document.querySelectorAll("[data-suggest]");
  Array.prototype.forEach.call(fields, function (field) {
    var url = field.getAttribute("data-suggest");
    var key = field.getAttribute("data-suggest-key") || "suggestions";
    var lines = field.hasAttribute("data-suggest-lines");
    var list = document.createElement("ul");
    list.className = "suggestions";
    list.id = field.id + "_suggestions";
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    field.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    field.setAttribute("aria-controls", list.id);
    var timer = null;
    var range = null; // the part being completed: {start, end} in the value

    function current() {
      var value = field.value;
      if (lines) {
        var caret = field.selectionStart === null ? value.length : field.selectionStart;
        var start = value.lastIndexOf("\n", caret - 1) + 1;
        var end = value.indexOf("\n", caret);
        return { start: start, end: end === -1 ? value.length : end };
      }
      return { start: value.lastIndexOf(",") + 1, end: value.length };
    }

    function chosen() {
      return field.value.split(lines ? /\r?\n/ : ",").map(function (p) {
        return p.trim().toLowerCase();
      });
    }

    function hide() {
      list.hidden = true;
    }

    function choose(name) {
      var value = field.value;
      var before = value.slice(0, range.start);
      var after = value.slice(range.end);
      var caret;
      if (lines) {
        var insert = name + (after.charAt(0) === "\n" ? "" : "\n");
        field.value = before + insert + after;
        caret = before.length + insert.length;
      } else {
        var parts = before.split(",").concat([name]);
        field.value = parts.map(function (p) { return p.trim(); }).filter(Boolean).join(", ") + ", ";
        caret = field.value.length;
      }
      hide();
      status.textContent = name + " added";
      field.focus();
      field.setSelectionRange(caret, caret);
    }

    function show(names) {
      list.innerHTML = "";
      var typed = chosen();
      names = names.filter(function (n) { return typed.indexOf(n.toLowerCase()) === -1; });
      names.forEach(function (name) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = name;
        button.addEventListener("click", function () { choose(name); });
        item.appendChild(button);
        list.appendChild(item);
      });
      list.hidden = names.length === 0;
      status.textContent = names.length === 1 ? "1 suggestion: press the down arrow to choose it"
        : names.length ? names.length + " suggestions: press the down arrow to choose one" : "";
    }

    field.addEventListener("input", function () {
      range = current();
      var typed = field.value.slice(range.start, range.end).trim();
      clearTimeout(timer);
      if (!typed) { hide(); return; }
      timer = setTimeout(function () {
        fetch(url + "?q=" + encodeURIComponent(typed), {
          headers: { "Accept": "application/json" },
          credentials: "same-origin"
        })
          .then(function (r) { return r.ok ? r.json() : {}; })
          .then(function (data) { show(data[key] || []); })
          .catch(hide);
      }, 150);
    });

    field.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      } else if (event.key === "Escape") {
        hide();
      }
    });

    list.addEventListener("keydown", function (event) {
      var item = event.target.closest("li");
      if (!item) { return; }
      var next = null;
      if (event.key === "ArrowDown") { next = item.nextElementSibling; }
      if (event.key === "ArrowUp") { next = item.previousElementSibling; }
      if (event.key === "Escape") { event.preventDefault(); hide(); field.focus(); return; }
      if (next) { event.preventDefault(); next.querySelector("button").focus(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); field.focus(); }
    });
  });
})();
