// Suggest existing tags as a person types, so "nhs" becomes the existing "NHS".
// Progressive enhancement: without this script the field is a plain comma-separated input.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[data-tag-input]");
  Array.prototype.forEach.call(inputs, function (input) {
    var list = document.createElement("ul");
    list.className = "tag-suggestions";
    list.id = input.id + "_suggestions";
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    input.setAttribute("aria-controls", list.id);
    var timer = null;

    function parts() {
      return input.value.split(",");
    }

    function choose(name) {
      var all = parts();
      all[all.length - 1] = " " + name;
      input.value = all.map(function (p) { return p.trim(); }).filter(Boolean).join(", ") + ", ";
      list.hidden = true;
      status.textContent = name + " added";
      input.focus();
    }

    function show(names) {
      list.innerHTML = "";
      var typed = parts().map(function (p) { return p.trim().toLowerCase(); });
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
      status.textContent = names.length ? names.length + " existing tags suggested" : "";
    }

    input.addEventListener("input", function () {
      var last = parts().pop().trim();
      clearTimeout(timer);
      if (!last) { list.hidden = true; return; }
      timer = setTimeout(function () {
        fetch("/organisations/tags/?q=" + encodeURIComponent(last), {
          headers: { "Accept": "application/json" },
          credentials: "same-origin"
        })
          .then(function (r) { return r.ok ? r.json() : { tags: [] }; })
          .then(function (data) { show(data.tags || []); })
          .catch(function () { list.hidden = true; });
      }, 150);
    });

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      } else if (event.key === "Escape") {
        list.hidden = true;
      }
    });
  });
})();
