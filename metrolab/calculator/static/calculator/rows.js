// "Add an input": clones the empty row of the formset and bumps its TOTAL_FORMS.
(function () {
  var button = document.getElementById("add-input");
  var template = document.getElementById("input-row-template");
  var total = document.getElementById("id_inputs-TOTAL_FORMS");
  var body = document.querySelector("#input-rows tbody");
  if (!button || !template || !total || !body) return;
  button.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var first = body.lastElementChild.querySelector("input");
    if (first) first.focus();
  });
})();
