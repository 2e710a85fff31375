// Shared by the banner's Node tests: a banner config as the server builds it, and a DOM (jsdom).
import { JSDOM } from 'jsdom';

export const DAY = 864e5;
export const NOW = Date.parse('2026-06-01T00:00:00Z');

const RULES = {
  EU: { model: 'opt_in', gpc: 'none', gpc_status: false, reask_consent_days: 365, reask_refusal_days: 365, cookie_days: 395 },
  'EU-FR': { model: 'opt_in', gpc: 'none', gpc_status: false, reask_consent_days: 183, reask_refusal_days: 183, cookie_days: 395 },
  'US-CA': { model: 'opt_out', gpc: 'opt_out_sale_share', gpc_status: true, reask_consent_days: null, reask_refusal_days: 365, cookie_days: 395 },
};

const TEXTS = {
  title: 'We use cookies', body: 'Choose.', withdraw_note: 'Change your mind any time.', accept_all: 'Accept all',
  reject_all: 'Reject all', preferences: 'Preferences', preferences_title: 'Privacy preferences', preferences_body: 'Per purpose.',
  save: 'Save choices', close: 'Close', always_on: 'Always on', vendors: 'Vendors', cookies: 'Cookies', provider: 'Provider',
  first_party: 'this site', duration: 'Duration', session: 'session', days_one: '{n} day', days_other: '{n} days',
  opt_out_title: 'Your privacy choices', opt_out_body: 'We may sell or share.', do_not_sell: 'Do Not Sell or Share', ok: 'OK',
  sale_label: 'Sale or sharing', gpc_honored: 'Your Global Privacy Control signal is honoured.', reopen: 'Privacy choices',
  placeholder: 'This content needs your consent to: {purpose}', allow_and_load: 'Allow and load', receipt: 'Receipt of your choice',
  requests: 'Your privacy rights: make a request',
  privacy_policy: 'Privacy policy',
};

/** A banner config for jurisdiction `code`, as /config answers it. */
export function config(code = 'EU', overrides = {}) {
  return {
    v: 1, site: 'demo', endpoint: 'https://consent.example/api/public/v1/sites/demo', lang: 'en', dir: 'ltr',
    jurisdiction: { code, reject_first_layer: true, ...RULES[code] },
    gpc_header: false, epoch: null,
    versions: { banner: 3, policies: { 'privacy-policy': 2 }, subprocessors: 2 },
    purposes: [
      { key: 'necessary', name: 'Necessary', description: 'The site needs these.', locked: true, sale: false, vendors: [],
        cookies: [{ name: 'consentry', provider: '', days: 395 }, { name: 'csrftoken', provider: '', days: 365 }] },
      { key: 'analytics', name: 'Analytics', description: 'Counts visits.', locked: false, sale: false, vendors: ['Google'],
        cookies: [{ name: '_ga', provider: 'Google', days: 395 }, { name: '_ga_*', provider: 'Google', days: 395 }] },
      { key: 'marketing', name: 'Marketing', description: 'Ads.', locked: false, sale: true, vendors: ['Meta'],
        cookies: [{ name: '_fbp', provider: 'Meta', days: 90 }, { name: 'csrftoken', provider: 'Meta', days: null }] },
    ],
    consent_mode: { analytics_storage: ['analytics'], ad_storage: ['marketing'], ad_user_data: ['marketing'],
      ad_personalization: ['marketing'], functionality_storage: ['preferences'] },
    cookie: { name: 'consentry', days: 395 },
    links: { privacy_policy: 'https://shop.example/privacy' },
    texts: TEXTS,
    theme: { layout: 'bar', position: 'bottom', colors: { accent: '#0b57d0' }, radius: 8 },
    ...overrides,
  };
}

const GLOBALS = ['window', 'document', 'navigator', 'location', 'CustomEvent', 'MutationObserver', 'Node', 'HTMLElement', 'KeyboardEvent'];

/**
 * A page in jsdom at https://shop.example/, its window's globals installed on Node's global
 * object for the banner's modules (which use `document`, `location`... as a browser script does).
 * `dispose()` puts Node's own globals back.
 */
export function installDom(html = '<!doctype html><html lang="en"><head></head><body></body></html>', url = 'https://shop.example/page?q=1') {
  const dom = new JSDOM(html, { url, pretendToBeVisual: true });
  const saved = GLOBALS.map(name => [name, Object.getOwnPropertyDescriptor(globalThis, name)]);
  for (const name of GLOBALS) {
    Object.defineProperty(globalThis, name, { value: name === 'window' ? dom.window : dom.window[name], configurable: true, writable: true });
  }
  return {
    dom,
    window: dom.window,
    document: dom.window.document,
    dispose() {
      for (const [name, descriptor] of saved) {
        if (descriptor) Object.defineProperty(globalThis, name, descriptor);
        else delete globalThis[name];
      }
      // No window.close(): it empties the document, and the banner's MutationObserver would then
      // run after Node's globals are back.
    },
  };
}
