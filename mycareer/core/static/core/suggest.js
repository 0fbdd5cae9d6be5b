// Suggestions as a person types, from an address that answers JSON ({"<key>": [...]}),
// where items are names or {"name": ...}. Two kinds of field use it. In a field of
// several values an item may also say what to write ("value": "Acme Ltd (no. 42)" for a
// name several organisations share) and how to tell it apart ("about": its web address).
//
// One value, with a datalist: an input with data-suggest-url and list="…".
// Progressive enhancement: without this script the typed name is matched on the server,
// which says so when it matches none or several.
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
              // What the field reads back: the numbered name of one of several namesakes.
              option.value = typeof item === "string" ? item : (item.value || item.name);
              if (item.about) { option.label = item.about; }
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });
})();

// Several values in one field, without a datalist: a list of buttons under the field.
// Tags ("nhs" becomes the existing "NHS") and the organisations taking part in an event
// ("northbridge" offers "Northbridge Engineering Ltd"). Without this script the field is
// plain text, and the server matches what was typed ("Did you mean …" when nothing does).
//
//   <input data-suggest-url="/organisations/tags/" data-suggest-key="tags">
//       several values separated by commas; the last one is completed. A value that
//       holds a comma is in double quotes, as the server reads and writes it
//       (organisations.forms split_tags and join_tags): "Engineering, Civil", Placements
//   <textarea data-suggest-url="/organisations/suggest/" data-suggest-key="organisations"
//             data-suggest-lines>
//       one value per line; the line with the cursor is completed
(function () {
  "use strict";

  // The values of a comma-separated field, each with where it starts (just after its
  // comma), read as the server's split_tags reads them (Python's csv, spaces after a
  // comma skipped): a value that starts with a double quote runs to the closing quote,
  // commas and all, and "" inside it is one ". A quote still open is the value being
  // typed. Spaces inside a value are collapsed; empty values are kept here (their
  // place matters) and left out by values().
  function parts(text) {
    var found = [];
    var i = 0;
    for (;;) {
      var start = i;
      var value = "";
      while (/\s/.test(text.charAt(i))) { i++; }
      if (text.charAt(i) === '"') {
        for (i++; i < text.length; i++) {
          if (text.charAt(i) !== '"') { value += text.charAt(i); }
          else if (text.charAt(i + 1) === '"') { value += '"'; i++; }
          else { i++; break; }
        }
      }
      for (; i < text.length && text.charAt(i) !== ","; i++) { value += text.charAt(i); }
      found.push({ start: start, value: value.split(/\s+/).filter(Boolean).join(" ") });
      if (i >= text.length) { return found; }
      i++; // the comma
    }
  }

  function values(text) {
    return parts(text).map(function (p) { return p.value; }).filter(Boolean);
  }

  // As the server's join_tags writes them, so that split_tags reads each back whole.
  function joined(names) {
    return names.map(function (name) {
      return /[,"]/.test(name) ? '"' + name.replace(/"/g, '""') + '"' : name;
    }).join(", ");
  }

  var fields = document.querySelectorAll("[data-suggest-url]:not([list])");
  Array.prototype.forEach.call(fields, function (field) {
    var url = field.getAttribute("data-suggest-url");
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
        end = end === -1 ? value.length : end;
        return { start: start, end: end, typed: value.slice(start, end).trim() };
      }
      var last = parts(value).pop();
      return { start: last.start, end: value.length, typed: last.value };
    }

    function chosen() {
      var names = lines ? field.value.split(/\r?\n/) : values(field.value);
      return names.map(function (p) { return p.trim().toLowerCase(); });
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
        field.value = joined(values(before).concat([name])) + ", ";
        caret = field.value.length;
      }
      hide();
      status.textContent = name + " added";
      field.focus();
      field.setSelectionRange(caret, caret);
    }

    function show(items) {
      list.innerHTML = "";
      var typed = chosen();
      items = items.map(function (item) {
        if (typeof item === "string") { return { value: item }; }
        return { value: item.value || item.name, about: item.about };
      }).filter(function (item) { return typed.indexOf(item.value.toLowerCase()) === -1; });
      items.forEach(function (suggestion) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = suggestion.value;
        if (suggestion.about) { button.textContent += " — " + suggestion.about; }
        button.addEventListener("click", function () { choose(suggestion.value); });
        item.appendChild(button);
        list.appendChild(item);
      });
      list.hidden = items.length === 0;
      status.textContent = items.length === 1 ? "1 suggestion: press the down arrow to choose it"
        : items.length ? items.length + " suggestions: press the down arrow to choose one" : "";
    }

    field.addEventListener("input", function () {
      range = current();
      var typed = range.typed;
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
