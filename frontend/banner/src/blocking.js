/**
 * Blocking until consent: gated scripts, iframes and images, and the first-party cookies of
 * denied purposes. `cookiesToDelete` and `cookieDomains` are pure; the rest works on the page.
 *
 * Gated markup (the site's own):
 *   <script type="text/plain" data-consent="analytics" data-src="https://..."></script>
 *   <script type="text/plain" data-consent="analytics">inline code</script>
 *   <iframe data-consent="marketing" data-src="https://..."></iframe>
 *   <img data-consent="marketing" data-src="https://...">
 * `data-consent` lists purpose keys; every one must be granted.
 */

const GATED = 'script[type="text/plain"][data-consent],iframe[data-consent][data-src],img[data-consent][data-src]';
// A released script keeps its element, retyped so that no later scan releases it twice.
const RELEASED_TYPE = 'text/x-consentry-done';

const cookieNamesOf = (config, test) => config.purposes.filter(test).flatMap(purpose => purpose.cookies.map(cookie => cookie.name));
// The banner's own cookie and the locked purposes' cookies are never deleted, whatever else lists them.
const protectedCookies = config => cookieNamesOf(config, purpose => purpose.locked).concat(config.cookie.name);
// A catalogue name ending in `*` is a prefix (`_ga_*`).
const matchesAny = (name, patterns) => patterns.some(pattern => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern));

/** The catalogue's cookie names (and `prefix*` patterns) of the denied purposes, less the protected ones. */
export const cookieMatchers = (config, denied) =>
  cookieNamesOf(config, purpose => !purpose.locked && denied.includes(purpose.key)).filter(name => !protectedCookies(config).includes(name));

/** Which of the page's cookie `names` belong to a denied purpose and go. */
export const cookiesToDelete = (config, denied, names) =>
  names.filter(name => name && matchesAny(name, cookieMatchers(config, denied)) && !matchesAny(name, protectedCookies(config)));

/**
 * The `domain` attributes a cookie may have been set with from `hostname`: none (host-only),
 * then the host and every parent domain down to two labels (`a.shop.example`, `shop.example`).
 * Deleting needs the same domain the tag used, which the page cannot read.
 */
export function cookieDomains(hostname) {
  const domains = [''];
  for (const labels = hostname.split('.'); labels.length > 1; labels.shift()) domains.push(';domain=' + labels.join('.'));
  return domains;
}

/** Expire every one of `names` on this page, under each domain it may have been set for. */
export function deleteCookies(names) {
  const domains = cookieDomains(location.hostname);
  for (const name of names) {
    for (const domain of domains) document.cookie = name + '=;max-age=0;path=/' + domain;
  }
}

/** The names of the cookies the page can see. */
export const pageCookieNames = () => document.cookie.split(';').map(cookie => cookie.split('=')[0].trim());

const purposesOf = element => element.getAttribute('data-consent').split(/\s+/).filter(Boolean);

/**
 * The page's gated elements. `scan(granted)` releases whatever is now allowed and hides what
 * is not: scripts run once (a script cannot be un-run: `ranPurposes` tells the caller which
 * purposes' scripts ran, so a withdrawal can reload the page); iframes and images get their
 * `data-src`; a blocked iframe is unloaded, hidden and replaced by `makePlaceholder(iframe, purposes)`.
 * Inline gated scripts need a host CSP that allows inline scripts; `data-src` ones do not.
 */
export function createBlocker(makePlaceholder) {
  const ranPurposes = new Set();
  const placeholders = new WeakMap();

  function releaseScript(element, purposes) {
    const src = element.getAttribute('data-src');
    // An inline script's text is complete only once the parser has passed its end.
    if (!src && document.readyState === 'loading') return;
    const script = document.createElement('script');
    for (const attribute of Array.from(element.attributes)) {
      if (attribute.name !== 'type' && attribute.name !== 'data-src') script.setAttribute(attribute.name, attribute.value);
    }
    if (src) {
      script.src = src;
      script.async = element.hasAttribute('async');
    } else {
      script.text = element.text;
    }
    element.type = RELEASED_TYPE;
    purposes.forEach(purpose => ranPurposes.add(purpose));
    element.after(script);
  }

  function release(element) {
    const src = element.getAttribute('data-src');
    if (placeholders.has(element)) placeholders.get(element).remove();
    placeholders.delete(element);
    if (element.getAttribute('src') !== src) element.src = src;
    element.style.removeProperty('display');
  }

  function block(element, purposes) {
    if (element.hasAttribute('src')) element.src = 'about:blank';
    element.style.setProperty('display', 'none', 'important');
    const placeholder = makePlaceholder(element, purposes);
    element.before(placeholder);
    placeholders.set(element, placeholder);
  }

  function scan(granted) {
    document.querySelectorAll(GATED).forEach(element => {
      const purposes = purposesOf(element);
      const allowed = purposes.every(purpose => granted.includes(purpose));
      if (element.tagName === 'SCRIPT') {
        if (allowed) releaseScript(element, purposes);
      } else if (allowed) {
        release(element);
      } else if (element.tagName === 'IFRAME' && !placeholders.has(element)) {
        block(element, purposes);
      }
    });
  }

  return { scan, ranPurposes };
}
