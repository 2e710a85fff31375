/**
 * The visitor's decision: what is granted, when it was decided, whether it must be asked
 * again, and how it is kept in the first-party cookie. Pure: no DOM, no clock of its own.
 *
 * In memory a decision has descriptive names; in the cookie it keeps the compact keys of
 * format 1 (`v`, `id`, `at`, `a`, `g`, `d`, `vs`, `j`, `gpc`, `n`, `r`), which visitors
 * already hold and which keep the cookie small: it travels on every request to the site.
 */

const DAY_MS = 864e5;
const COOKIE_FORMAT = 1;
const VISITOR_ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * @typedef {object} Decision
 * @property {string} visitorId  random, made in the browser; the ledger's visitor id
 * @property {number} decidedAt  ms since the epoch of the last answer (re-ask clocks run from it)
 * @property {string|null} action  the last answer (`accept_all`, `custom`, ...), null before one
 * @property {string[]} granted  purpose keys, in the config's order
 * @property {string[]} denied
 * @property {object} versions  the banner, policy and sub-processor versions it answered
 * @property {string} jurisdiction  the rule set's code it was made under (`EU`, `US-CA`, ...)
 * @property {boolean} gpc  a Global Privacy Control signal was applied to it
 * @property {boolean} noticeSeen  an opt-out jurisdiction's notice was shown and dismissed
 * @property {string|null} receipt  the ledger's receipt id once the server acknowledged it
 */

/** The keys of the purposes `test` accepts (all of them without one), in the config's order. */
export const purposeKeys = (config, test) => config.purposes.filter(purpose => !test || test(purpose)).map(purpose => purpose.key);

export const lockedPurposeKeys = config => purposeKeys(config, purpose => purpose.locked);

export const base64url = binary => btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** 18 random bytes, base64url: visitor ids and idempotency keys (the server wants 16-64 of [A-Za-z0-9_-]). */
export const randomId = () => base64url(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(18))));

/**
 * What a set of wished-for grants really grants: locked purposes always, and no sale/share
 * purpose while a sale opt-out (GPC where it has legal effect) is in force.
 */
export const effectiveGrants = (config, wished, saleDenied) =>
  purposeKeys(config, purpose => purpose.locked || (wished.includes(purpose.key) && !(saleDenied && purpose.sale)));

/** Whether an opt-in banner must ask (again): no answer, another jurisdiction, a new epoch or purpose, or the re-ask interval passed. */
export function needsAsking(decision, config, now) {
  const rules = config.jurisdiction;
  const optional = purposeKeys(config, purpose => !purpose.locked);
  if (rules.model === 'opt_out') return false;
  if (!decision || !decision.action || decision.jurisdiction !== rules.code) return true;
  // A material policy change or a new vendor moves the epoch: older answers no longer hold.
  if (config.epoch && decision.decidedAt < Date.parse(config.epoch)) return true;
  if (optional.some(key => !decision.granted.includes(key) && !decision.denied.includes(key))) return true;
  // A consent and a refusal may have different lifetimes (the CNIL's six months, for instance).
  const days = optional.some(key => decision.granted.includes(key)) ? rules.reask_consent_days : rules.reask_refusal_days;
  return days != null && now - decision.decidedAt > days * DAY_MS;
}

/** Whether an opt-out jurisdiction's notice is still to be shown (once per jurisdiction). */
export const needsNotice = (decision, config) =>
  config.jurisdiction.model === 'opt_out' && !(decision && decision.noticeSeen && decision.jurisdiction === config.jurisdiction.code);

/**
 * The grants in force on page load. Opt-out: everything the visitor has not denied. Opt-in:
 * the decision made under this jurisdiction, else nothing optional. Where GPC has legal
 * effect it beats a stored sale grant (CA-2).
 */
export function initialGrants(config, decision, gpcOn) {
  const rules = config.jurisdiction;
  let wished = [];
  if (rules.model === 'opt_out') wished = purposeKeys(config, purpose => !(decision && decision.denied.includes(purpose.key)));
  else if (decision && decision.action && decision.jurisdiction === rules.code) wished = decision.granted;
  return effectiveGrants(config, wished, gpcOn && rules.gpc !== 'none');
}

/**
 * The decision after an answer. `action` null is no answer (a dismissed notice): the earlier
 * answer, its clock and its receipt stay. A GPC record under opt-in is no answer to the
 * banner either: the decision and its clock stay, only the sale grants go.
 */
export function nextState(decision, config, wished, action, now, gpcApplied) {
  const rules = config.jurisdiction;
  const granted = effectiveGrants(config, wished, gpcApplied);
  const denied = purposeKeys(config, purpose => !granted.includes(purpose.key));
  const sameJurisdiction = Boolean(decision && decision.jurisdiction === rules.code);
  const keep = !action || (action === 'gpc_opt_out' && rules.model !== 'opt_out');
  const earlierAction = (sameJurisdiction && decision.action) || null;
  return {
    visitorId: decision ? decision.visitorId : randomId(),
    decidedAt: keep && earlierAction ? decision.decidedAt : now,
    // "Accept all" that could not grant everything (GPC) is recorded as what it was: custom.
    action: keep ? earlierAction : action === 'accept_all' && denied.length ? 'custom' : action,
    granted,
    denied,
    versions: config.versions,
    jurisdiction: rules.code,
    gpc: Boolean(gpcApplied),
    noticeSeen: action === 'gpc_opt_out' ? Boolean(sameJurisdiction && decision.noticeSeen) : true,
    receipt: (keep && decision && decision.receipt) || null,
  };
}

/**
 * What saving the preferences records: under opt-out, saving with every sale/share purpose
 * off is the "Do not sell or share" opt-out the law names; anything else is a custom choice.
 */
export function saveAction(config, chosen) {
  const sale = purposeKeys(config, purpose => purpose.sale);
  const optOut = config.jurisdiction.model === 'opt_out';
  return optOut && sale.length && !sale.some(key => chosen.includes(key)) ? 'do_not_sell_opt_out' : 'custom';
}

/** The cookie value of a decision: compact JSON (format 1), base64url. */
export function encodeState(decision) {
  return base64url(JSON.stringify({
    v: COOKIE_FORMAT,
    id: decision.visitorId,
    at: decision.decidedAt,
    a: decision.action,
    g: decision.granted,
    d: decision.denied,
    vs: decision.versions,
    j: decision.jurisdiction,
    gpc: decision.gpc,
    n: decision.noticeSeen ? 1 : 0,
    r: decision.receipt,
  }));
}

/**
 * A cookie value back to a decision, or `{decision: null}` for anything malformed. Cookies
 * written before version 2 of the banner also carried the unacknowledged POST body (`p`):
 * it is returned as `legacyPending`, for the caller to move to storage.
 * @returns {{decision: Decision|null, legacyPending: object|null}}
 */
export function decodeState(value) {
  let stored;
  try {
    stored = JSON.parse(atob(value.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    stored = null;
  }
  const valid = stored && stored.v === COOKIE_FORMAT && VISITOR_ID.test(stored.id) && stored.at > 0 &&
    Array.isArray(stored.g) && Array.isArray(stored.d);
  if (!valid) return { decision: null, legacyPending: null };
  return {
    decision: {
      visitorId: stored.id,
      decidedAt: stored.at,
      action: stored.a || null,
      granted: stored.g,
      denied: stored.d,
      versions: stored.vs,
      jurisdiction: stored.j,
      gpc: Boolean(stored.gpc),
      noticeSeen: Boolean(stored.n),
      receipt: stored.r || null,
    },
    legacyPending: stored.p && typeof stored.p === 'object' ? stored.p : null,
  };
}
