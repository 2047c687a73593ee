/* Pantau: the labels Dash 4 gives its date pickers' own buttons ("Previous month", "Next month", "Close calendar",
   "Clear date"), in English with no way to set them, in the page's language: a screen reader reads them. The words
   come from the catalogue through the shell's hidden #shell-date-picker-words. React sets a label again only when
   its own value changes, so a button keeps the word it is given; buttons that appear (a calendar opened, a date
   set) are relabelled as they do: the observer's callback only looks for labels still in English. */
(function () {
  "use strict";
  var BUTTONS = [  // [the button's class, Dash's label, the word's data attribute]
    ["dash-datepicker-month-nav", "Previous month", "previousMonth"],
    ["dash-datepicker-month-nav", "Next month", "nextMonth"],
    ["dash-datepicker-close-button", "Close calendar", "closeCalendar"],
    ["dash-datepicker-clear", "Clear date", "clear"],
    ["dash-datepicker-clear", "Clear Dates", "clear"]
  ];
  var WORD_OF = {};
  BUTTONS.forEach(function (b) { WORD_OF[b[1]] = b[2]; });
  var ENGLISH = BUTTONS.map(function (b) { return "." + b[0] + '[aria-label="' + b[1] + '"]'; }).join(",");

  function relabel() {
    var words = document.getElementById("shell-date-picker-words");
    if (!words) { return; }
    document.querySelectorAll(ENGLISH).forEach(function (button) {
      var word = words.dataset[WORD_OF[button.getAttribute("aria-label")]];
      if (word) { button.setAttribute("aria-label", word); }
    });
  }
  new MutationObserver(relabel).observe(document.documentElement, {childList: true, subtree: true});
})();
