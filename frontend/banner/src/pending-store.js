/**
 * The decision posted but not yet acknowledged by the server, kept for retries across page
 * loads in `localStorage`: a cookie would travel on every request to the site's server (and
 * browsers drop cookies past 4 KB). Where storage is unavailable or throws (blocked storage,
 * sandboxed frames, a full quota), the body lives in memory for the page's life.
 */

/**
 * @param {string} key  the storage key (the consent cookie's name + `:pending`)
 * @param {() => Storage} getStorage  `() => window.localStorage`; its getter itself may throw
 * @returns {{get(): object|null, set(body: object): void, clear(body: object): void}}
 */
export function createPendingStore(key, getStorage) {
  let storage = null;
  try {
    storage = getStorage();
  } catch {
    storage = null;
  }
  const read = () => {
    try {
      const value = storage && storage.getItem(key);
      return value ? JSON.parse(value) : null;
    } catch {
      return null;
    }
  };
  const write = value => {
    try {
      if (!storage) return;
      if (value) storage.setItem(key, JSON.stringify(value));
      else storage.removeItem(key);
    } catch {
      // Storage refused: the in-memory copy still retries on this page.
    }
  };
  let current = read();
  if (current && (typeof current !== 'object' || typeof current.idempotency_key !== 'string')) current = null;
  return {
    /** The pending body, the same object until it is replaced or cleared. */
    get: () => current,
    set(body) {
      current = body;
      write(body);
    },
    /** Forget `body`, and the stored copy only if it is still `body` (another tab may have stored a newer one). */
    clear(body) {
      if (current === body) current = null;
      const stored = read();
      if (!stored || stored.idempotency_key === body.idempotency_key) write(null);
    },
  };
}

/**
 * The ledger's signed inclusion promise of the visitor's last receipt, kept beside the pending
 * body: the visitor's own evidence that the record existed (the server cannot vouch for a row
 * someone deleted). One promise per site, replaced by the next receipt's.
 */
export function keepPromise(key, getStorage, receipt, note) {
  try {
    getStorage().setItem(key, JSON.stringify({ r: receipt, n: note }));
  } catch {
    // No storage: the receipt link goes without its promise.
  }
}

/** The kept promise's note if it is the promise of `receipt`, else null. */
export function keptPromise(key, getStorage, receipt) {
  try {
    const kept = JSON.parse(getStorage().getItem(key));
    return kept && receipt && kept.r === receipt && typeof kept.n === 'string' ? kept.n : null;
  } catch {
    return null;
  }
}
