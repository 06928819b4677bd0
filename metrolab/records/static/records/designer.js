// The record template designer (records/templates/designer.html): as the JSON definition, a
// sample value or the sample context changes, the form is posted (debounced) to
// `?part=preview`, and the fragments the server answers (#definition-errors, #preview) are
// swapped in place. The server renders everything and decides everything: this script only
// posts, swaps and keeps what the person is typing (values typed meanwhile, the focus and the
// caret). Line numbers beside the JSON. No inline script, no library (CSP: script-src 'self').
(function () {
  var form = document.querySelector("form[data-designer]");
  if (!form) return;
  var url = form.getAttribute("data-preview-url");
  var state = form.querySelector("[data-designer-state]");
  var timer = null;
  var sent = 0;
  var shown = 0;

  function numbers() {
    var area = form.querySelector("textarea[name=definition]");
    var gutter = form.querySelector(".gutter");
    if (!area || !gutter) return;
    var lines = area.value.split("\n").length;
    var text = "";
    for (var i = 1; i <= lines; i += 1) text += i + "\n";
    if (gutter.textContent !== text) gutter.textContent = text;
    gutter.scrollTop = area.scrollTop;
  }

  function swap(html) {
    var box = document.createElement("div");
    box.innerHTML = html.trim();
    var active = document.activeElement;
    var focusName = active && active.name && form.contains(active) ? active.name : null;
    var caret = null;
    try { caret = focusName ? [active.selectionStart, active.selectionEnd] : null; } catch (e) { caret = null; }
    box.querySelectorAll("[id]").forEach(function (fresh) {
      var old = document.getElementById(fresh.id);
      if (!old) return;
      // What was typed while the request ran wins over what the server echoes back.
      old.querySelectorAll("input[name], select[name]").forEach(function (field) {
        var twin = fresh.querySelector('[name="' + CSS.escape(field.name) + '"]');
        if (twin && twin.value !== field.value) twin.value = field.value;
      });
      old.replaceWith(fresh);
    });
    if (focusName) {
      var again = form.querySelector('[name="' + CSS.escape(focusName) + '"]');
      if (again && again !== document.activeElement) {
        again.focus();
        if (caret && again.setSelectionRange && again.type === "text") {
          try { again.setSelectionRange(caret[0], caret[1]); } catch (e) { /* not a text field */ }
        }
      }
    }
  }

  function refresh() {
    sent += 1;
    var mine = sent;
    form.setAttribute("data-preview-state", "loading");
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (mine < shown) return;
        shown = mine;
        swap(html);
        form.setAttribute("data-preview-state", mine === sent ? "ok" : "loading");
        if (state) state.textContent = "";
      })
      .catch(function () {
        form.setAttribute("data-preview-state", "lost");
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 350);
  }

  form.addEventListener("input", function (event) {
    if (event.target.name === "definition") numbers();
    if (event.target.name === "note") return;
    later();
  });
  form.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT") later();
  });
  var area = form.querySelector("textarea[name=definition]");
  if (area) area.addEventListener("scroll", numbers);
  numbers();
})();
