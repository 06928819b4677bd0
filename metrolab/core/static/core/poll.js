// Polls a fragment marked data-poll (e.g. a running audit verification, the environment's room
// cards, a room dashboard's live part and trend plots) and swaps it in place until it no longer
// asks to be polled; data-poll-every sets the interval in milliseconds (default 1000). The
// server renders the fragment complete: this script only fetches and swaps, it decides nothing.
// - A fragment with an id and data-poll-stamp (the server time it was made) writes that time
//   into the elements marked data-poll-stamp-for="<its id>" (a page header's "last refreshed").
// - data-poll-state on the fragment says whether the last refresh came through ("ok") or not
//   ("lost": the last good fragment stays, the page's CSS says so, and it is retried); a request
//   answering in neither twice the interval nor 4 s counts as lost. An element marked
//   data-poll-announce-for="<its id>" (a role=status region) gets the text of its data-ok /
//   data-lost attribute when the state changes, for screen readers.
// - While someone works in the fragment (focus in a field, an open <details>: an alarm's
//   acknowledgement being written) it is not swapped, so nothing typed is lost.
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
  function state(el, value) {
    var before = el.getAttribute("data-poll-state");
    el.setAttribute("data-poll-state", value);
    if (!el.id || before === value) return;
    document.querySelectorAll('[data-poll-announce-for="' + el.id + '"]').forEach(function (target) {
      target.textContent = target.getAttribute("data-" + value) || "";
    });
  }
  function busy(el) {
    var active = document.activeElement;
    var typing = active && el.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
    return typing || el.querySelector("details[open]") !== null;
  }
  function poll(el) {
    var url = el.getAttribute("data-poll");
    if (!url) return;
    var every = parseInt(el.getAttribute("data-poll-every"), 10) || 1000;
    setTimeout(function () {
      var controller = window.AbortController ? new AbortController() : null;
      var timer = controller && setTimeout(function () { controller.abort(); }, Math.max(2 * every, 4000));
      fetch(url, {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
        signal: controller ? controller.signal : undefined,
      })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          clearTimeout(timer);
          if (busy(el)) {
            state(el, "ok");
            poll(el);
            return;
          }
          var box = document.createElement("div");
          box.innerHTML = html.trim();
          var fresh = box.firstElementChild;
          var previous = el.getAttribute("data-poll-state");
          if (previous) fresh.setAttribute("data-poll-state", previous);
          el.replaceWith(fresh);
          state(fresh, "ok");
          stamp(fresh);
          poll(fresh);
        })
        .catch(function () {
          clearTimeout(timer);
          state(el, "lost");
          poll(el);
        });
    }, every);
  }
  document.querySelectorAll("[data-poll]").forEach(poll);
})();
