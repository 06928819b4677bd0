// The menu button on small screens.
(function () {
  var button = document.querySelector(".menu-toggle");
  if (!button) return;
  button.addEventListener("click", function () {
    var bar = button.closest(".topbar");
    var open = bar.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();

// Text fields with a length limit (data-maxlength, see core.forms.FormRenderer): browsers are
// not asked to cut what is pasted; past the limit the field shows "length / limit" in red, and
// the form refuses it with a message when sent.
(function () {
  function check(field) {
    var limit = parseInt(field.getAttribute("data-maxlength"), 10);
    var over = field.value.length > limit;
    var note = field.nextElementSibling;
    if (!note || !note.classList.contains("length-count")) {
      if (!over) return;
      note = document.createElement("small");
      note.className = "length-count error";
      note.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", note);
    }
    note.hidden = !over;
    note.textContent = field.value.length + " / " + limit;
    field.classList.toggle("too-long", over);
  }
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-maxlength")) check(field);
  });
})();

// List filters on a phone (core/_filters_toggle.html): folded behind the 筛选 button, which
// shows how many filters are set; the button opens and closes them.
(function () {
  var toggles = document.querySelectorAll(".filters-toggle");
  if (!toggles.length) return;
  document.documentElement.classList.add("js-filters");
  toggles.forEach(function (button) {
    var form = button.nextElementSibling;
    if (!form || form.tagName !== "FORM") return;
    button.hidden = false;
    var set = 0;
    form.querySelectorAll("input, select, textarea").forEach(function (field) {
      if (field.type === "hidden" || field.type === "submit" || field.name === "page") return;
      var chosen = field.tagName === "SELECT" ? field.selectedIndex > 0
        : (field.type === "checkbox" || field.type === "radio") ? field.checked : field.value.trim();
      if (chosen) set += 1;
    });
    var count = button.querySelector(".filters-count");
    if (count && set) { count.hidden = false; count.textContent = set; }
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
})();
