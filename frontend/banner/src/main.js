/**
 * Consentry banner, the entry of the built `static/cookies/banner.js` (`npm run build`).
 * The loader (`/c/SITE_KEY.js`) has set the Consent Mode defaults and `window.ConsentryConfig`
 * (`{site, config, css}`) before this script runs.
 */

import { createConsentry } from './controller.js';
import { el } from './dom.js';

function loadStylesheet(href) {
  return new Promise(done => {
    if (!href) return done();
    const link = el('link', { rel: 'stylesheet', href });
    // Show the banner either way: unstyled beats absent (and an error must not block it).
    link.onload = link.onerror = done;
    document.head.append(link);
  });
}

function start() {
  const loaderConfig = window.ConsentryConfig;
  const early = window.Consentry;
  const html = document.documentElement;
  // No loader, or a banner already running (the tag pasted twice): nothing to do.
  if (!loaderConfig || (early && early.getConsent)) return;
  const banner = createConsentry();
  // A page may queue callbacks before the script loads: window.Consentry = [fn, ...].
  if (Array.isArray(early)) banner.enqueue(early);
  window.Consentry = banner.api;
  window.dataLayer = window.dataLayer || [];
  const lang = html.getAttribute('data-consentry-lang') || (html.lang || navigator.language || '').split('-')[0];
  const url = loaderConfig.config + (loaderConfig.config.includes('?') ? '&' : '?') + 'lang=' + encodeURIComponent(lang);
  const config = fetch(url, { credentials: 'omit' }).then(response => {
    if (!response.ok) throw Error('config ' + response.status);
    return response.json();
  });
  Promise.all([config, loadStylesheet(loaderConfig.css)]).then(([bannerConfig]) => {
    if (document.body) banner.init(bannerConfig);
    else document.addEventListener('DOMContentLoaded', () => banner.init(bannerConfig));
  }).catch(error => banner.emit('error', { error: String(error) }));
}

start();
