// The whole banner on a page in jsdom (fetch stubbed): what an answer leaves in the cookie and
// in localStorage, and how an unacknowledged consent POST is retried. node --test tests/js/
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { createConsentry } from '../../frontend/banner/src/controller.js';
import { config, installDom, NOW } from './fixtures.js';

const PENDING_KEY = 'consentry:pending';
// Lets the stubbed fetch answer and the banner's promise chains run (a few turns of the loop).
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve));
}

let pages = [];
let timers;
// Mocked timers: a retry scheduled by one test never fires in another (they are dropped at its end).
beforeEach(t => {
  timers = t.mock.timers;
  timers.enable({ apis: ['setTimeout'] });
});
afterEach(async () => {
  await settle();
  pages.forEach(page => page.dispose());
  pages = [];
  delete globalThis.fetch;
});

/** A page with the banner's globals; `cookies` and `storage` carry over from an earlier page (a reload). */
function openPage({ cookies = [], storage } = {}) {
  const page = installDom();
  pages.push(page);
  for (const cookie of cookies) page.document.cookie = cookie;
  if (storage) for (const [key, value] of Object.entries(storage)) page.window.localStorage.setItem(key, value);
  page.window.dataLayer = [];
  return page;
}

/** Stubs fetch: each consent POST gets the next of `statuses` (then 201); returns the calls made. */
function stubFetch(statuses = []) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    calls.push({ url, key: init.headers['Idempotency-Key'], body, credentials: init.credentials, keepalive: init.keepalive });
    const status = statuses.length ? statuses.shift() : 201;
    const receipt = 'RCPT-' + calls.length;
    const answer = status === 201 ? { receipt_id: receipt, promise: { note: 'promise of ' + receipt + ' \u2014\n' } } : { error: { code: 'unavailable' } };
    return new Response(JSON.stringify(answer), { status, headers: { 'Content-Type': 'application/json' } });
  };
  return calls;
}


function storedCookie(page, name = 'consentry') {
  const found = page.document.cookie.split('; ').find(cookie => cookie.startsWith(name + '='));
  return found ? found.slice(name.length + 1) : null;
}
const decodeCookie = value => JSON.parse(Buffer.from(value, 'base64url').toString());
const click = (page, action) => page.document.querySelector(`[data-consentry-action=${action}]`).click();

function start(page, options = {}) {
  const banner = createConsentry({ reload: () => page.reloads.push(1), ...options });
  page.reloads = [];
  page.events = [];
  for (const name of ['ready', 'change', 'saved', 'error', 'shown']) {
    page.document.addEventListener('consentry:' + name, event => page.events.push([name, event.detail]));
  }
  banner.init(config());
  return banner;
}

test('an answer keeps only the decision in the cookie and the POST body in localStorage until acknowledged', async () => {
  const page = openPage();
  const calls = stubFetch([503]);
  start(page);
  assert.equal(page.document.querySelector('.consentry').getAttribute('data-consentry-layer'), 'first');

  click(page, 'accept_all');

  const cookie = storedCookie(page);
  assert.ok(cookie.length < 400, `the cookie is ${cookie.length} characters`);
  const stored = decodeCookie(cookie);
  assert.equal(stored.p, undefined);
  assert.deepEqual([stored.a, stored.g, stored.r], ['accept_all', ['necessary', 'analytics', 'marketing'], null]);
  assert.ok(!cookie.includes('page_url') && !JSON.stringify(stored).includes('idempotency_key'));
  const pending = JSON.parse(page.window.localStorage.getItem(PENDING_KEY));
  assert.deepEqual([pending.action, pending.visitor_id, pending.page_url], ['accept_all', stored.id, 'https://shop.example/page']);
  assert.equal(calls.length, 1);
  assert.deepEqual([calls[0].url, calls[0].key, calls[0].credentials, calls[0].keepalive],
    ['https://consent.example/api/public/v1/sites/demo/consents', pending.idempotency_key, 'omit', true]);
  assert.deepEqual(page.window.dataLayer.at(-1)[1], 'update');

  await settle();
  assert.ok(page.events.some(([name]) => name === 'error'), 'the 503 is reported');
  assert.ok(page.window.localStorage.getItem(PENDING_KEY), 'a failed POST stays pending');
  assert.equal(decodeCookie(storedCookie(page)).r, null);
});

test('after a failed POST the next page load resends the stored body with the same key, and keeps its receipt', async () => {
  const first = openPage();
  stubFetch([503]);
  start(first);
  click(first, 'reject_all');
  await settle();
  const pending = first.window.localStorage.getItem(PENDING_KEY);
  const cookie = 'consentry=' + storedCookie(first);
  assert.ok(pending);

  const second = openPage({ cookies: [cookie], storage: { [PENDING_KEY]: pending } });
  const calls = stubFetch();
  start(second);
  assert.equal(second.document.querySelector('.consentry').getAttribute('data-consentry-layer'), 'closed');
  assert.equal(calls.length, 1, 'resent on load, without a click');
  assert.deepEqual(calls[0].body, JSON.parse(pending));
  assert.equal(calls[0].key, JSON.parse(pending).idempotency_key);
  await settle();
  assert.equal(second.window.localStorage.getItem(PENDING_KEY), null);
  assert.equal(decodeCookie(storedCookie(second)).r, 'RCPT-1');
  assert.deepEqual(second.events.find(([name]) => name === 'saved'), ['saved', { receipt: 'RCPT-1' }]);
  assert.equal(second.window.Consentry, undefined, 'createConsentry installs no global: main.js does');
});

test('the banner retries by itself after a backoff, with the same idempotency key', async () => {
  const page = openPage();
  const calls = stubFetch([503, 500]);
  start(page);
  click(page, 'accept_all');
  await settle();
  timers.tick(1999);
  await settle();
  assert.equal(calls.length, 1, 'not before two seconds');
  timers.tick(1);
  await settle();
  assert.equal(calls.length, 2);
  timers.tick(4000);
  await settle();
  assert.equal(calls.length, 3);
  assert.equal(new Set(calls.map(call => call.key)).size, 1);
  assert.equal(page.window.localStorage.getItem(PENDING_KEY), null);
  assert.equal(decodeCookie(storedCookie(page)).r, 'RCPT-3');
});

test('a cookie from the earlier banner has its pending body moved to storage and sent', async () => {
  const body = {
    visitor_id: 'v'.repeat(24), action: 'accept_all', granted: ['necessary', 'analytics', 'marketing'], denied: [],
    versions: config().versions, language: 'en', ui_layer: 'first_layer', gpc: false, dnt: false,
    page_url: 'https://shop.example/' + 'long/'.repeat(500), idempotency_key: 'k'.repeat(24),
  };
  const old = {
    v: 1, id: body.visitor_id, at: NOW, a: 'accept_all', g: body.granted, d: [], vs: config().versions,
    j: 'EU', gpc: false, n: 1, p: body, r: null,
  };
  const value = Buffer.from(JSON.stringify(old)).toString('base64url');
  assert.ok(value.length > 3000, 'an old cookie with a long page path');
  const page = openPage({ cookies: ['consentry=' + value] });
  const calls = stubFetch([503]);
  start(page);

  const rewritten = decodeCookie(storedCookie(page));
  assert.equal(rewritten.p, undefined);
  assert.deepEqual([rewritten.id, rewritten.at, rewritten.a, rewritten.g], [old.id, old.at, old.a, old.g]);
  assert.ok(storedCookie(page).length < 400);
  assert.deepEqual(JSON.parse(page.window.localStorage.getItem(PENDING_KEY)), body);
  assert.deepEqual(calls.map(call => call.key), [body.idempotency_key]);
  assert.equal(page.document.querySelector('.consentry').getAttribute('data-consentry-layer'), 'closed');
  await settle();
  assert.ok(page.window.localStorage.getItem(PENDING_KEY), 'still pending after the failure');
});

test('without usable localStorage the pending body lives in memory and is still retried', async () => {
  const page = openPage();
  const calls = stubFetch([503]);
  start(page, { storage: () => { throw new page.window.DOMException('blocked', 'SecurityError'); } });
  click(page, 'accept_all');
  assert.ok(!decodeCookie(storedCookie(page)).p);
  await settle();
  timers.tick(2000);
  await settle();
  assert.equal(calls.length, 2);
  assert.equal(calls[0].key, calls[1].key);
  assert.equal(decodeCookie(storedCookie(page)).r, 'RCPT-2');
});

test('a storage that refuses writes (a full quota) falls back to memory too', async () => {
  const page = openPage();
  stubFetch([503]);
  const refusing = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); }, removeItem: () => {} };
  const banner = start(page, { storage: () => refusing });
  click(page, 'accept_all');
  await settle();
  assert.equal(banner.api.getConsent().action, 'accept_all');
  assert.ok(page.events.some(([name]) => name === 'error'));
});

test('a 4xx refusal is final: nothing stays pending, the console says why once', async t => {
  const page = openPage();
  const warn = t.mock.method(console, 'warn', () => {});
  stubFetch([400]);
  start(page);
  click(page, 'accept_all');
  await settle();
  assert.equal(page.window.localStorage.getItem(PENDING_KEY), null);
  assert.equal(warn.mock.callCount(), 1);
});

test('withdrawing a purpose whose script ran reloads the page; the API reports the choice', async () => {
  const page = openPage();
  page.document.body.insertAdjacentHTML('afterbegin', '<script type="text/plain" data-consent="analytics" data-src="https://tags.example/a.js"></script>');
  stubFetch();
  const banner = start(page);
  banner.api.acceptAll();
  assert.equal(page.document.querySelectorAll('script[src="https://tags.example/a.js"]').length, 1);
  assert.deepEqual(page.reloads, []);
  await settle();
  banner.api.withdraw();
  assert.deepEqual(page.reloads, [1]);
  const consent = banner.api.getConsent();
  assert.deepEqual([consent.action, consent.granted, consent.jurisdiction], ['withdraw', ['necessary'], 'EU']);
  assert.deepEqual(page.events.filter(([name]) => name === 'change').map(([, detail]) => detail.action), ['accept_all', 'withdraw']);
});

test('the preferences dialog returns focus to its opener and the reopen button shows once decided', async () => {
  const page = openPage();
  stubFetch();
  start(page);
  const opener = page.document.querySelector('[data-consentry-action=preferences]');
  opener.focus();
  opener.click();
  const root = page.document.querySelector('.consentry');
  assert.equal(root.getAttribute('data-consentry-layer'), 'preferences');
  assert.equal(page.document.activeElement.getAttribute('role'), 'dialog');
  page.document.querySelector('[data-consentry-action=close]').click();
  assert.equal(root.getAttribute('data-consentry-layer'), 'first');
  assert.equal(page.document.activeElement, opener);
  assert.equal(page.document.querySelector('[data-consentry-action=reopen]').hidden, true);
  click(page, 'reject_all');
  assert.equal(root.getAttribute('data-consentry-layer'), 'closed');
  assert.equal(page.document.querySelector('[data-consentry-action=reopen]').hidden, false);
  await settle();
});

test('the receipt link carries the kept promise of that receipt in its fragment, never a stale one', async () => {
  const page = openPage();
  stubFetch();
  start(page);
  click(page, 'reject_all');
  await settle();
  assert.deepEqual(JSON.parse(page.window.localStorage.getItem('consentry:promise')), { r: 'RCPT-1', n: 'promise of RCPT-1 \u2014\n' });
  page.document.querySelector('[data-consentry-action=reopen]').click();
  const href = page.document.querySelector('[data-consentry-receipt]').getAttribute('href');
  const [path, fragment] = href.split('#promise=');
  assert.ok(path.endsWith('/r/RCPT-1/'), href);
  assert.equal(Buffer.from(fragment, 'base64url').toString(), 'promise of RCPT-1 \u2014\n');

  // A promise kept for another receipt (a newer choice whose answer never came) is not linked.
  page.window.localStorage.setItem('consentry:promise', JSON.stringify({ r: 'RCPT-9', n: 'other' }));
  page.document.querySelector('[data-consentry-action=close]')?.click();
  page.document.querySelector('[data-consentry-action=reopen]').click();
  assert.ok(!page.document.querySelector('[data-consentry-receipt]').getAttribute('href').includes('#'));
});
