// The banner's "make a request" link carries the visitor's ledger id in the fragment
// (#visitor=...), which no server or log sees. Put it in the form, so the request covers this
// browser's consent history; then drop it from the address bar.
(function () {
  'use strict';
  var match = /(?:^#|&)visitor=([A-Za-z0-9_-]{16,64})(?:&|$)/.exec(window.location.hash);
  var field = document.getElementById('visitor_id');
  if (!match || !field) return;
  field.value = match[1];
  var note = document.getElementById('visitor-note');
  if (note) note.hidden = false;
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
}());
