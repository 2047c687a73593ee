/* Thermal-receipt printouts (/antrean/tiket/…): the print button, optional auto-print (?cetak=1), and a paper
   length that fits the receipt. Dash loads this file on every page too; without a receipt it does nothing. */
(function () {
  "use strict";

  var MM_PER_PX = 25.4 / 96;
  var FEED_MM = 6; // paper after the last line, so the cutter does not cut through it

  // CSS cannot say "80 mm wide, as long as the content": measure the receipt and name that page size.
  function fitPaper(receipt) {
    var length = Math.ceil(receipt.getBoundingClientRect().height * MM_PER_PX) + FEED_MM;
    var style = document.getElementById("ticket-paper-size");
    if (!style) {
      style = document.createElement("style");
      style.id = "ticket-paper-size";
      document.head.appendChild(style);
    }
    style.textContent = "@page " + receipt.getAttribute("data-page") + " { size: " +
      receipt.getAttribute("data-width-mm") + "mm " + length + "mm; margin: 0; }";
  }

  function init() {
    var receipt = document.querySelector(".pantau-ticket[data-page]");
    if (!receipt) { return; }
    fitPaper(receipt);
    window.addEventListener("beforeprint", function () { fitPaper(receipt); });
    document.querySelectorAll("[data-ticket-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    if (document.body.hasAttribute("data-autoprint")) {
      window.setTimeout(function () { window.print(); }, 300);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
