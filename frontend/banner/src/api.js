/**
 * Recording a decision in the ledger: the POST body (pure), and the sender that posts it with
 * an Idempotency-Key and retries until the server has it. The decision applies on the page at
 * once; the ledger write may fail (a database outage, a flaky network), so the body waits in
 * the pending store until the server acknowledges it, across reloads.
 */

import { effectiveGrants, purposeKeys, randomId } from './state.js';

const MAX_URL = 2048;
const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 300000;

/**
 * The body of `POST {endpoint}/consents` for a decision just made. The page URL loses its
 * query and fragment (they may carry personal data); the idempotency key makes a retry of
 * the same answer one ledger row.
 */
export function postBody(config, decision, action, uiLayer, env) {
  const granted = effectiveGrants(config, decision.granted);
  const denied = purposeKeys(config, purpose => !granted.includes(purpose.key));
  return {
    visitor_id: decision.visitorId,
    action: action === 'accept_all' && denied.length ? 'custom' : action,
    granted,
    denied,
    versions: config.versions,
    language: config.lang,
    ui_layer: uiLayer,
    gpc: Boolean(env.gpc),
    dnt: Boolean(env.dnt),
    page_url: env.url.split(/[?#]/)[0].slice(0, MAX_URL),
    idempotency_key: randomId(),
  };
}

/** Exponential backoff from 2 s, capped at five minutes. */
export const retryDelay = attempt => Math.min(FIRST_RETRY_MS * 2 ** attempt, MAX_RETRY_MS);

/**
 * Posts pending bodies. One retry chain at a time: a newer body replaces the older (its
 * decision superseded the older one's, which the ledger then never needs).
 * @param {object} options
 * @param {string} options.endpoint  the site's public API base (`.../api/public/v1/sites/KEY`)
 * @param {{get(): object|null, clear(body: object): void}} options.pending  the pending store
 * @param {(receipt: string|undefined, body: object, promise?: object) => void} options.onSettled  the server has it (or refused it
 *   for good); `promise` is the ledger's signed inclusion promise of the receipt
 * @param {(name: string, detail: object) => void} options.emit  `saved` and `error` events
 */
export function createSender({ endpoint, pending, onSettled, emit }) {
  let retryTimer;
  let warned = false;

  function settle(body, receipt, promise) {
    if (pending.get() !== body) return; // a newer decision took its place
    pending.clear(body);
    onSettled(receipt, body, promise);
  }

  function send(body, attempt = 0) {
    clearTimeout(retryTimer);
    return fetch(endpoint + '/consents', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': body.idempotency_key },
      body: JSON.stringify(body),
      credentials: 'omit',
      // The POST survives the reload a withdrawal makes.
      keepalive: true,
    }).then(response => {
      if (response.status === 429 || response.status >= 500) throw Error('consent POST ' + response.status);
      // 409: a retry of a choice already recorded (its answer was lost, e.g. to a reload).
      if (response.status === 201 || response.status === 409) {
        return response.json().then(
          answer => {
            settle(body, answer.receipt_id, answer.promise);
            if (answer.receipt_id) emit('saved', { receipt: answer.receipt_id });
          },
          () => settle(body),
        );
      }
      // Any other refusal is final: retrying the same body cannot succeed.
      settle(body);
      if (!warned) {
        warned = true;
        console.warn('Consentry: consent refused with', response.status);
      }
    }).catch(error => {
      emit('error', { error: String(error) });
      if (pending.get() === body) retryTimer = setTimeout(send, retryDelay(attempt), body, attempt + 1);
    });
  }

  return { send };
}
