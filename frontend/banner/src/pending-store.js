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
