/* Banner admin: copy the install tag, and drive the live preview. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy-target]");
    if (copy) {
      var text = document.getElementById(copy.dataset.copyTarget).textContent;
      navigator.clipboard.writeText(text).then(function () { copy.textContent = "Copied"; });
    }
    var lang = event.target.closest("[data-preview-lang], [data-preview-jurisdiction]");
    if (lang) {
      event.preventDefault();
      var frame = document.getElementById("consentry-preview");
      var url = new URL(frame.src, location.href);
      if (lang.dataset.previewLang) url.searchParams.set("lang", lang.dataset.previewLang);
      if (lang.dataset.previewJurisdiction) url.searchParams.set("jurisdiction", lang.dataset.previewJurisdiction);
      frame.src = url.toString();
    }
  });
  var fields = {
    id_color_background: "--consentry-bg",
    id_color_text: "--consentry-text",
    id_color_accent: "--consentry-accent",
    id_color_accent_text: "--consentry-accent-text",
    id_radius: "--consentry-radius"
  };
  function send() {
    var frame = document.getElementById("consentry-preview");
    if (!frame) return;
    var values = {};
    Object.keys(fields).forEach(function (id) {
      var input = document.getElementById(id);
      if (input) values[fields[id]] = id === "id_radius" ? input.value + "px" : input.value;
    });
    frame.contentWindow.postMessage({consentryPreview: values}, location.origin);
  }
  Object.keys(fields).forEach(function (id) {
    var input = document.getElementById(id);
    if (input) input.addEventListener("input", send);
  });
})();
