// The entry sheet of an original record: as values are typed the form is POSTed (debounced) to
// its data-preview URL, which answers the results evaluated by the server without saving
// anything (records/_live.html); the results, the decision and the problems beside the cells
// are swapped in. The readings table itself is swapped only when the cells changed (a
// parameter gave other points or repeats), so that what is being typed keeps its focus. The
// server decides everything: this script only sends the form and swaps the fragments.
(function () {
  var form = document.querySelector("form[data-entry]");
  if (!form) return;
  var url = form.getAttribute("data-preview");
  var timer = null;
  var sequence = 0;

  function marks(box) {
    form.querySelectorAll("[data-problem-for]").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    box.querySelectorAll("#entry-marks [data-cell]").forEach(function (span) {
      var cell = span.getAttribute("data-cell");
      form.querySelectorAll("[data-problem-for]").forEach(function (el) {
        if (el.getAttribute("data-problem-for") === cell) {
          el.textContent = (el.textContent ? el.textContent + " " : "") + span.textContent;
        }
      });
      var input = form.elements.namedItem(cell);
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    });
  }

  function swap(html) {
    var box = document.createElement("div");
    box.innerHTML = html;
    ["entry-results", "entry-decision"].forEach(function (id) {
      var fresh = box.querySelector("#" + id);
      var old = document.getElementById(id);
      if (fresh && old) old.replaceWith(fresh);
    });
    var readings = box.querySelector("#entry-readings");
    var current = document.getElementById("entry-readings");
    if (readings && current && readings.getAttribute("data-signature") !== current.getAttribute("data-signature")) {
      current.replaceWith(readings);
    }
    marks(document);
    form.setAttribute("data-preview-state", "ok");
  }

  function preview() {
    var mine = ++sequence;
    form.setAttribute("data-preview-state", "busy");
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { if (mine === sequence) swap(html); })
      .catch(function () { if (mine === sequence) form.setAttribute("data-preview-state", "lost"); });
  }

  function later(event) {
    var target = event.target;
    if (!target || !target.name || target.name === "reason" || target.name === "csrfmiddlewaretoken") return;
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
