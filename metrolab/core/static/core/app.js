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
