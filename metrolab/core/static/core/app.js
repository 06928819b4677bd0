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
