/**
 * The banner's layers as DOM trees: the first layer (or the opt-out notice), the preferences
 * dialog, the reopen button and the placeholder of a blocked embed. They only build: what a
 * button does is the caller's (`handlers`), and no view reads or writes the decision.
 */

import { applyTheme, button, el, svg, trapFocus } from './dom.js';
import { base64url } from './state.js';
import { cookieDuration, placeholderText } from './strings.js';

/**
 * What every view needs to know.
 * @typedef {object} ViewContext
 * @property {object} config  the banner config
 * @property {object} texts  `config.texts`
 * @property {boolean} gpcHonored  a GPC signal has effect here and the jurisdiction shows it
 * @property {string|null} receipt  the ledger receipt id of the visitor's last choice
 * @property {string|null} promise  the ledger's signed inclusion promise of that receipt, if kept
 * @property {string|null} visitorId  the ledger's id for this browser, once it has a recorded choice
 */

const links = ({ config, texts }) => {
  const configured = config.links || {};
  return el('p', { class: 'cs-links' }, Object.keys(configured).filter(name => configured[name])
    .map(name => el('a', { href: configured[name], target: '_blank', rel: 'noopener', text: texts[name] })));
};

// The visitor's own proof of their last choice: the public receipt page on the Consentry host,
// with the signed promise in the fragment (never sent to the server) for the page to check.
const receiptLink = ({ config, texts, receipt, promise }) => receipt && config.endpoint && el('p', { class: 'cs-links' }, [
  el('a', {
    href: config.endpoint.replace(/\/api\/.*/, '/r/') + receipt + '/' +
      (promise ? '#promise=' + base64url(String.fromCharCode(...new TextEncoder().encode(promise))) : ''),
    target: '_blank',
    rel: 'noopener',
    'data-consentry-receipt': '',
    text: texts.receipt,
  }),
]);

// Where the visitor exercises their rights (access, deletion, opt-out...): the site's request
// form on the Consentry host, in the banner's language. The visitor id rides in the fragment
// (never sent in the URL to any server, never in a log): the form posts it, so that the request
// covers this browser's consent history, which only this browser can name.
const requestsLink = ({ config, texts, visitorId }) => config.requests_url && el('p', { class: 'cs-links' }, [
  el('a', {
    href: config.requests_url + (visitorId ? '#visitor=' + encodeURIComponent(visitorId) : ''),
    target: '_blank',
    rel: 'noopener',
    'data-consentry-requests': '',
    text: texts.requests,
  }),
]);

const gpcNote = ({ texts, gpcHonored }) => gpcHonored && el('p', { class: 'cs-gpc', 'data-consentry-gpc': 'honored', text: texts.gpc_honored });

/**
 * The first layer: opt-in's three equal choices, or opt-out's notice with "Do not sell".
 * No close button: ignoring the banner is no consent.
 * @param {ViewContext} context
 * @param {{acceptAll, rejectAll, preferences, doNotSell, dismiss}} handlers
 */
export function firstLayer(context, handlers) {
  const { config, texts } = context;
  const notice = config.jurisdiction.model === 'opt_out';
  return el('div', { class: 'cs-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'consentry-title', tabindex: '-1' }, [
    el('h2', { id: 'consentry-title', text: notice ? texts.opt_out_title : texts.title }),
    el('p', { text: notice ? texts.opt_out_body : texts.body }),
    gpcNote(context),
    links(context),
    !notice && el('p', { text: texts.withdraw_note }),
    el('div', { class: 'cs-btns' }, notice ? [
      button('do_not_sell', texts.do_not_sell, handlers.doNotSell),
      button('ok', texts.ok, handlers.dismiss),
    ] : [
      button('accept_all', texts.accept_all, handlers.acceptAll),
      button('reject_all', texts.reject_all, handlers.rejectAll),
      button('preferences', texts.preferences, handlers.preferences),
    ]),
  ]);
}

function cookieList({ config, texts }, cookies) {
  return el('details', {}, [
    el('summary', { text: texts.cookies + ' (' + cookies.length + ')' }),
    // A description the site has not written in the banner's language comes in another, and says which.
    el('ul', {}, cookies.map(cookie => el('li', {}, [
      [
        cookie.name,
        texts.provider + ': ' + (cookie.provider || texts.first_party),
        texts.duration + ': ' + cookieDuration(texts, config.lang, cookie.days),
      ].join(' · '),
      cookie.description && ' · ',
      cookie.description && el('span', { lang: cookie.lang, text: cookie.description }),
    ]))),
  ]);
}

/**
 * The preferences dialog (modal, focus trapped, Escape closes): one switch per purpose, the
 * locked ones disabled, and the sale purposes too while GPC is honoured.
 * @param {ViewContext} context
 * @param {string[]} granted  the switches that start on
 * @param {{save(chosen: string[]), acceptAll, rejectAll, close}} handlers
 * @returns {{modal: HTMLElement, dialog: HTMLElement}}  the backdrop to insert, the dialog to focus
 */
export function preferencesDialog(context, granted, handlers) {
  const { config, texts, gpcHonored } = context;
  const chosen = new Set(granted);
  const optOut = config.jurisdiction.model === 'opt_out';
  const purposes = config.purposes.map(purpose => {
    const titleId = 'consentry-p-' + purpose.key;
    const toggle = el('button', {
      type: 'button',
      role: 'switch',
      class: 'cs-sw',
      'aria-checked': String(chosen.has(purpose.key)),
      'aria-labelledby': titleId,
      'data-consentry-purpose': purpose.key,
      disabled: purpose.locked || (gpcHonored && purpose.sale),
      on: () => {
        if (!chosen.delete(purpose.key)) chosen.add(purpose.key);
        toggle.setAttribute('aria-checked', chosen.has(purpose.key));
      },
    });
    return el('section', { class: 'cs-purpose' }, [
      el('div', { class: 'cs-row' }, [
        optOut && purpose.sale
          ? el('h3', { id: titleId, text: texts.sale_label })
          : el('h3', { id: titleId, lang: purpose.lang, text: purpose.name }),
        purpose.locked && el('span', { text: texts.always_on }),
        toggle,
      ]),
      el('p', { lang: purpose.lang, text: purpose.description }),
      purpose.vendors.length && el('p', { text: texts.vendors + ': ' + purpose.vendors.join(', ') }),
      purpose.cookies.length && cookieList(context, purpose.cookies),
    ]);
  });
  const dialog = el('div', { class: 'cs-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'consentry-ptitle', tabindex: '-1' }, [
    el('div', { class: 'cs-head' }, [
      el('h2', { id: 'consentry-ptitle', text: texts.preferences_title }),
      button('close', '×', handlers.close, 'cs-x', texts.close),
    ]),
    el('p', { text: texts.preferences_body }),
    gpcNote(context),
    links(context),
    receiptLink(context),
    requestsLink(context),
    ...purposes,
    el('div', { class: 'cs-btns' }, [
      button('save', texts.save, () => handlers.save(Array.from(chosen))),
      button('accept_all', texts.accept_all, handlers.acceptAll),
      button('reject_all', texts.reject_all, handlers.rejectAll),
    ]),
  ]);
  const modal = el('div', { class: 'cs-modal' }, [dialog]);
  trapFocus(modal, dialog, handlers.close);
  return { modal, dialog };
}

/** The banner's root: layout and position classes, direction and language, the site's theme. */
export function bannerRoot(config) {
  const theme = config.theme || {};
  const root = el('div', { class: 'consentry cs-' + (theme.layout || 'bar') + ' cs-' + (theme.position || 'bottom'), dir: config.dir, lang: config.lang });
  applyTheme(root, theme);
  return root;
}

/** The small floating button that reopens the preferences (a cookie icon). */
export const reopenButton = (texts, onClick) => {
  const reopen = button('reopen', '', onClick, 'cs-reopen', texts.reopen);
  reopen.append(svg('svg', { viewBox: '0 0 24 24', width: 24, height: 24, 'aria-hidden': 'true' }, [
    svg('path', { fill: 'currentColor', d: 'M12 2a10 10 0 1 0 10 10 4 4 0 0 1-5-5 4 4 0 0 1-5-5' }),
  ]));
  return reopen;
};

/** What stands in for a blocked embed: why it is blocked, and a button to allow its purposes. */
export function embedPlaceholder(config, purposes, onAllow) {
  const texts = config.texts;
  const placeholder = el('div', { class: 'consentry cs-ph' }, [
    el('p', { text: placeholderText(texts, config, purposes) }),
    button('allow', texts.allow_and_load, onAllow),
  ]);
  applyTheme(placeholder, config.theme);
  return placeholder;
}
