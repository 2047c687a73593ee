/* Pantau: the calendars of Dash's date pickers speak the page's language (<html lang>), not the browser's.
   Dash 4's pickers take a date-fns locale from window.dateFns.locale, the one matching navigator.languages first,
   else the first listed: so only the page language's locale stays listed (none for English, date-fns's own).
   The locales themselves are vendored (assets/vendor/date-fns) and load before this file. */
(function () {
  "use strict";
  var lang = document.documentElement.lang;
  var all = (window.dateFns && window.dateFns.locale) || {};
  var only = {};
  if (all[lang]) {
    only[lang] = all[lang];
  }
  window.dateFns = Object.assign({}, window.dateFns, {locale: only});
})();
