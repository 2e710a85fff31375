{% comment %}
The one tag a site pastes: /c/SITE_KEY.js (cookies/banner/views.py, loader). Each {{ value }} arrives
JSON-encoded and marked safe by the view: a string is a quoted JS literal with <, >, & and the
line separators escaped, so no site key or host can end a string, a comment or a <script>.
Anything else would be HTML-escaped by the template engine and fail loudly. Comments in
{% templatetag openbrace %}# #{% templatetag closebrace %} and comment blocks are not sent.
{% endcomment %}/* Consentry loader */
(function (w, d) {
  w.dataLayer = w.dataLayer || [];
  function gtag() { w.dataLayer.push(arguments); }
  if (!w.gtag) w.gtag = gtag;
  {# Google Consent Mode v2 defaults, before any tag: everything denied until the banner's update. #}
  gtag("consent", "default", {ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied",
    analytics_storage: "denied", functionality_storage: "denied", personalization_storage: "denied",
    security_storage: "granted", wait_for_update: 500});
  {# Opt-out regions start granted, but a Global Privacy Control signal is an opt-out of sale/sharing there: never grant ads first. #}
  if (!navigator.globalPrivacyControl) gtag("consent", "default", {ad_storage: "granted",
    ad_user_data: "granted", ad_personalization: "granted", analytics_storage: "granted",
    functionality_storage: "granted", personalization_storage: "granted", security_storage: "granted",
    region: {{ opt_out_regions }}});
  w.ConsentryConfig = {site: {{ site_key }}, config: {{ config_url }}, css: {{ css_url }}};
  var s = d.createElement("script");
  s.src = {{ js_url }};
  s.async = true;
  (d.head || d.documentElement).appendChild(s);
})(window, document);
