// Polls a fragment marked data-poll (e.g. a running audit verification) and swaps it in place
// until it no longer asks to be polled.
(function () {
  function poll(el) {
    var url = el.getAttribute("data-poll");
    if (!url) return;
    setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var box = document.createElement("div");
          box.innerHTML = html.trim();
          var fresh = box.firstElementChild;
          el.replaceWith(fresh);
          poll(fresh);
        })
        .catch(function () { poll(el); });
    }, 1000);
  }
  document.querySelectorAll("[data-poll]").forEach(poll);
})();
