/* The preview page: forget any earlier choice, load the real banner, apply live theme changes. */
(function () {
  "use strict";
  var me = document.currentScript;
  document.cookie = "consentry=; path=/; max-age=0";
  try { localStorage.removeItem("consentry:pending"); } catch (e) { /* storage blocked: nothing kept there */ }
  window.ConsentryConfig = {site: me.dataset.site, config: me.dataset.config, css: me.dataset.css};
  var script = document.createElement("script");
  script.src = me.dataset.js;
  document.head.appendChild(script);
  window.addEventListener("message", function (event) {
    if (event.origin !== location.origin || !event.data || !event.data.consentryPreview) return;
    var root = document.querySelector(".consentry");
    if (!root) return;
    Object.keys(event.data.consentryPreview).forEach(function (name) {
      root.style.setProperty(name, event.data.consentryPreview[name]);
    });
  });
})();
