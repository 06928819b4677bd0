// Scan page: where the browser offers Web NFC (Chrome on Android), read an NFC tag's serial
// number into the code field and open the item. Desk scanners type into the field themselves.
(function () {
  "use strict";
  var box = document.querySelector("[data-nfc]");
  if (!box || !("NDEFReader" in window)) return;
  var form = box.closest("form");
  var input = form.querySelector("input[name=code]");
  var status = form.querySelector("[data-nfc-status]");
  box.hidden = false;
  box.querySelector("[data-nfc-start]").addEventListener("click", function () {
    var reader = new window.NDEFReader();
    reader.scan().then(function () {
      status.textContent = "NFC…";
      reader.addEventListener("reading", function (event) {
        input.value = event.serialNumber || "";
        if (input.value) form.submit();
      }, { once: true });
    }).catch(function (error) {
      status.textContent = String(error);
    });
  });
})();
