// "Add a line": clones the empty form of the lines formset and bumps its TOTAL_FORMS.
(function () {
  var button = document.getElementById("add-line");
  var template = document.getElementById("line-template");
  var total = document.getElementById("id_lines-TOTAL_FORMS");
  var lines = document.getElementById("lines");
  if (!button || !template || !total || !lines) return;
  button.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    lines.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var legend = lines.lastElementChild.querySelector("legend");
    if (legend) legend.textContent = legend.textContent + " " + String(index + 1);
    var first = lines.lastElementChild.querySelector("input");
    if (first) first.focus();
  });
})();
