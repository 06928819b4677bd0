// Polls a fragment marked data-poll (e.g. a running audit verification, the environment's room
// cards) and swaps it in place until it no longer asks to be polled; data-poll-every sets the
// interval in milliseconds (default 1000). A fragment with an id and data-poll-stamp (the server
// time it was made) writes that time into the elements marked data-poll-stamp-for="<its id>"
// (a page header's "last refreshed").
(function () {
  function stamp(el) {
    var at = el.getAttribute("data-poll-stamp");
    if (!at || !el.id) return;
    document.querySelectorAll('[data-poll-stamp-for="' + el.id + '"]').forEach(function (target) {
      target.textContent = at;
      var iso = el.getAttribute("data-poll-stamp-datetime");
      if (iso) target.setAttribute("datetime", iso);
    });
  }
  function poll(el) {
    var url = el.getAttribute("data-poll");
    if (!url) return;
    var every = parseInt(el.getAttribute("data-poll-every"), 10) || 1000;
    setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var box = document.createElement("div");
          box.innerHTML = html.trim();
          var fresh = box.firstElementChild;
          el.replaceWith(fresh);
          stamp(fresh);
          poll(fresh);
        })
        .catch(function () { poll(el); });
    }, every);
  }
  document.querySelectorAll("[data-poll]").forEach(poll);
})();
