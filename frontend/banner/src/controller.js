/**
 * The banner on a page: the decision in memory, what an answer does (cookie, ledger, Consent
 * Mode, blocking), which layer shows, and the `window.Consentry` API. The pure rules live in
 * state.js, signals.js, consent-mode.js and api.js; the DOM trees in views.js.
 */

import { createSender, postBody } from './api.js';
import { cookiesToDelete, createBlocker, deleteCookies, pageCookieNames } from './blocking.js';
import { consentModeUpdate } from './consent-mode.js';
import { createPendingStore, keepPromise, keptPromise } from './pending-store.js';
import { readSignals } from './signals.js';
import {
  decodeState, encodeState, initialGrants, lockedPurposeKeys, needsAsking, needsNotice, nextState, purposeKeys, saveAction,
} from './state.js';
import { bannerRoot, embedPlaceholder, firstLayer, preferencesDialog, reopenButton } from './views.js';

const DAY_S = 86400;

function readCookie(name) {
  const prefix = name + '=';
  const found = document.cookie.split('; ').find(cookie => cookie.startsWith(prefix));
  return found ? found.slice(prefix.length) : null;
}

/**
 * One banner. `init(config)` runs it on the page once the config has arrived; `api` is what
 * becomes `window.Consentry`; `enqueue` takes the callbacks a page queued before the script
 * loaded (`window.Consentry = [fn, ...]`).
 * @param {{reload?: () => void, storage?: () => Storage}} [options]  seams for tests
 */
export function createConsentry(options = {}) {
  const reload = options.reload || (() => location.reload());
  const storage = options.storage || (() => window.localStorage);

  let config, texts, rules, signals;
  let decision = null;
  let granted = [];
  let root, reopen, panel, panelKind, modal, returnFocusTo;
  let pending, sender;
  let ready = false;
  const listeners = {};
  const queue = [];

  const blocker = createBlocker((iframe, purposes) =>
    embedPlaceholder(config, purposes, () => decide(granted.concat(purposes), 'custom', 'first_layer')));

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent('consentry:' + name, { detail }));
    (listeners[name] || []).forEach(callback => callback(detail));
  }

  // The decision lives on the site's own domain, for at most the jurisdiction's cookie lifetime.
  function saveDecision() {
    const days = config.cookie.days && Math.min(config.cookie.days, rules.cookie_days);
    document.cookie = config.cookie.name + '=' + encodeState(decision) + ';path=/;SameSite=Lax' +
      (days ? ';max-age=' + days * DAY_S : '') + (location.protocol === 'https:' ? ';Secure' : '');
  }

  // The server has the body: keep its receipt with the decision it records (if the cookie
  // was lost meanwhile, the ledger still got the older answer; no receipt to attach).
  function onSettled(receipt, body, promise) {
    if (!decision || decision.visitorId !== body.visitor_id) return;
    decision.receipt = receipt || decision.receipt;
    if (receipt && promise && promise.note) keepPromise(config.cookie.name + ':promise', storage, receipt, promise.note);
    saveDecision();
  }

  const context = () => {
    const receipt = decision && decision.receipt;
    return {
      config, texts, gpcHonored: signals.gpcApplies && rules.gpc_status, receipt,
      promise: keptPromise(config.cookie.name + ':promise', storage, receipt),
      // Only a visitor with a decision has records in the ledger under their id.
      visitorId: (decision && decision.receipt && decision.visitorId) || null,
    };
  };

  const scan = () => blocker.scan(granted);

  function applyGrants(before, toGoogle) {
    if (toGoogle) consentModeUpdate(config, granted);
    if (before.some(key => !granted.includes(key))) deleteCookies(cookiesToDelete(config, decision.denied, pageCookieNames()));
    scan();
  }

  function decide(wished, action, uiLayer) {
    const before = granted;
    decision = nextState(decision, config, wished, action, Date.now(), signals.gpcApplies);
    granted = decision.granted;
    const body = postBody(config, decision, action, uiLayer, { gpc: signals.gpc, dnt: signals.dnt, url: location.href });
    pending.set(body);
    saveDecision();
    sender.send(body);
    applyGrants(before, true);
    if (action !== 'gpc_opt_out') close();
    emit('change', getConsent());
    // Scripts cannot be un-run: reload once when a purpose whose scripts ran is denied (the keepalive POST survives it).
    if (Array.from(blocker.ranPurposes).some(key => !granted.includes(key))) reload();
  }

  // A visitor who had granted something withdraws; one who had not rejects.
  const rejectAll = uiLayer =>
    decide([], decision && decision.action && granted.length > lockedPurposeKeys(config).length ? 'withdraw' : 'reject_all', uiLayer);
  const acceptAll = uiLayer => decide(purposeKeys(config), 'accept_all', uiLayer);

  function showLayer(name) {
    root.setAttribute('data-consentry-layer', name);
    reopen.hidden = name !== 'closed' || !decision;
    if (name !== 'closed') emit('shown', { layer: name });
  }

  function close() {
    if (panel) panel.remove();
    if (modal) modal.remove();
    panel = modal = null;
    showLayer('closed');
  }

  function showFirst() {
    close();
    panelKind = rules.model === 'opt_out' ? 'notice' : 'first';
    panel = firstLayer(context(), {
      acceptAll: () => acceptAll('first_layer'),
      rejectAll: () => rejectAll('first_layer'),
      preferences: () => showPreferences(),
      doNotSell: () => decide(purposeKeys(config, purpose => !purpose.sale), 'do_not_sell_opt_out', 'opt_out_link'),
      // Dismissing the notice is no answer: it is only not shown again.
      dismiss: () => {
        decision = nextState(decision, config, granted, null, Date.now(), signals.gpcApplies);
        saveDecision();
        close();
      },
    });
    root.append(panel);
    showLayer(panelKind);
    // Never pull focus out of a form the visitor is filling in.
    const active = document.activeElement;
    if (!(active && active.closest && active.closest('form'))) panel.focus();
  }

  function showPreferences(uiLayer = 'second_layer') {
    if (modal) return;
    returnFocusTo = document.activeElement;
    const view = preferencesDialog(context(), granted, {
      save: chosen => decide(chosen, saveAction(config, chosen), uiLayer),
      acceptAll: () => acceptAll(uiLayer),
      rejectAll: () => rejectAll(uiLayer),
      close: closePreferences,
    });
    modal = view.modal;
    root.append(modal);
    showLayer('preferences');
    view.dialog.focus();
  }

  function closePreferences() {
    modal.remove();
    modal = null;
    showLayer(panel ? panelKind : 'closed');
    if (returnFocusTo && returnFocusTo.isConnected) returnFocusTo.focus();
  }

  /**
   * The choice in force, or null while an opt-in visitor has not answered (and before the
   * config has loaded).
   * @returns {{granted: string[], denied: string[], action: string|null, at: number|null,
   *   receipt: string|null, jurisdiction: string}|null}
   */
  function getConsent() {
    if (!config || (rules.model !== 'opt_out' && !(decision && decision.action))) return null;
    return {
      granted: granted.slice(),
      denied: purposeKeys(config, purpose => !granted.includes(purpose.key)),
      action: decision ? decision.action : null,
      at: decision && decision.decidedAt,
      receipt: (decision && decision.receipt) || null,
      jurisdiction: rules.code,
    };
  }

  function init(bannerConfig) {
    config = bannerConfig;
    texts = config.texts;
    rules = config.jurisdiction;
    const stored = decodeState(readCookie(config.cookie.name) || '');
    decision = stored.decision;
    pending = createPendingStore(config.cookie.name + ':pending', storage);
    sender = createSender({ endpoint: config.endpoint, pending, onSettled, emit });
    if (stored.legacyPending) {
      // Cookies from before version 2 carried the unacknowledged POST: it moves to storage.
      pending.set(stored.legacyPending);
      saveDecision();
    }
    signals = readSignals(navigator, config);
    const ask = needsAsking(decision, config, Date.now());
    granted = initialGrants(config, ask ? null : decision, signals.gpc);

    root = bannerRoot(config);
    reopen = reopenButton(texts, () => showPreferences());
    root.append(reopen);
    document.body.append(root);

    new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
    document.addEventListener('DOMContentLoaded', scan);
    // Any element of the site's with data-consentry-open ("Privacy choices") opens the preferences.
    document.addEventListener('click', event => {
      if (event.target.closest && event.target.closest('[data-consentry-open]')) {
        event.preventDefault();
        showPreferences();
      }
    });

    if (pending.get()) sender.send(pending.get());
    // GPC is applied once per jurisdiction without asking; the record says a signal did it.
    if (signals.gpcApplies && !(decision && decision.gpc && decision.jurisdiction === rules.code)) decide(granted, 'gpc_opt_out', 'signal');
    else applyGrants([], Boolean(decision && decision.action && !ask) || rules.model === 'opt_out');
    if (ask || needsNotice(decision, config)) showFirst();
    else close();
    ready = true;
    emit('ready', getConsent());
    queue.splice(0).forEach(callback => callback(api));
  }

  /**
   * `window.Consentry`: the banner's API for a site's own scripts. Every method but `on` and
   * `push` needs the config: call them from `push` or a `ready` listener.
   */
  const api = {
    /** Show the first layer (or the opt-out notice) again. */
    show: () => showFirst(),
    /** Open the preferences dialog; the answer is recorded with `ui_layer: "api"`. */
    showPreferences: () => showPreferences('api'),
    getConsent,
    /** Grant every purpose (GPC still denies sale/share where it has effect). */
    acceptAll: () => acceptAll('api'),
    /** Deny every optional purpose (recorded as a withdrawal after an earlier grant). */
    rejectAll: () => rejectAll('api'),
    withdraw: () => rejectAll('api'),
    /**
     * Listen to `ready`, `shown`, `change`, `saved` or `error` (the `consentry:` prefix is
     * optional; the same events fire on `document` as `consentry:NAME`). A `ready` listener
     * added after the banner is ready is called at once.
     * @param {string} name
     * @param {(detail: any) => void} callback
     */
    on(name, callback) {
      name = name.replace('consentry:', '');
      (listeners[name] = listeners[name] || []).push(callback);
      if (name === 'ready' && ready) callback(getConsent());
    },
    /** Run `callback(Consentry)` once the banner is ready (at once if it is). */
    push: callback => (ready ? callback(api) : queue.push(callback)),
  };

  return { api, init, emit, enqueue: callbacks => queue.push(...callbacks) };
}
