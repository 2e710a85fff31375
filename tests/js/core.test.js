// The banner's pure logic (frontend/banner/src), no DOM: node --test tests/js/
import assert from 'node:assert/strict';
import test from 'node:test';

import { postBody, retryDelay } from '../../frontend/banner/src/api.js';
import { cookieDomains, cookieMatchers, cookiesToDelete } from '../../frontend/banner/src/blocking.js';
import { consentModeValues } from '../../frontend/banner/src/consent-mode.js';
import { readSignals } from '../../frontend/banner/src/signals.js';
import {
  decodeState, encodeState, initialGrants, needsAsking, needsNotice, nextState, randomId, saveAction,
} from '../../frontend/banner/src/state.js';
import { cookieDuration, placeholderText } from '../../frontend/banner/src/strings.js';
import { config, DAY, NOW } from './fixtures.js';

const b64 = value => Buffer.from(JSON.stringify(value)).toString('base64url');

function decided(c, granted, action, at = NOW) {
  return nextState(null, c, granted, action, at, false);
}

test('a decision survives encoding to a cookie value and back', () => {
  const s = { ...decided(config(), ['analytics'], 'custom'), receipt: 'rcpt-1' };
  const value = encodeState(s);
  assert.match(value, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeState(value), { decision: s, legacyPending: null });
});

test('the cookie keeps the compact format 1 and carries no pending POST body', () => {
  const s = decided(config(), ['analytics'], 'custom');
  const stored = JSON.parse(Buffer.from(encodeState(s), 'base64url').toString());
  assert.deepEqual(Object.keys(stored).sort(), ['a', 'at', 'd', 'g', 'gpc', 'id', 'j', 'n', 'r', 'v', 'vs']);
  assert.deepEqual([stored.v, stored.id, stored.at, stored.a, stored.g, stored.j, stored.n], [1, s.visitorId, NOW, 'custom', ['necessary', 'analytics'], 'EU', 1]);
  assert.ok(encodeState(s).length < 400, `cookie value is ${encodeState(s).length} characters`);
});

test('a cookie from the earlier banner decodes, its pending body handed over for storage', () => {
  const body = { visitor_id: 'v'.repeat(24), idempotency_key: 'k'.repeat(24), page_url: 'https://shop.example/' + 'x'.repeat(2000) };
  const old = { v: 1, id: 'v'.repeat(24), at: NOW, a: 'accept_all', g: ['necessary', 'analytics'], d: [], vs: { banner: 3 }, j: 'EU', gpc: false, n: 1, p: body, r: null };
  const { decision, legacyPending } = decodeState(b64(old));
  assert.deepEqual(decision, {
    visitorId: old.id, decidedAt: NOW, action: 'accept_all', granted: old.g, denied: [], versions: { banner: 3 },
    jurisdiction: 'EU', gpc: false, noticeSeen: true, receipt: null,
  });
  assert.deepEqual(legacyPending, body);
  // Written before any answer (a dismissed notice): no action, no receipt, no `n` yet.
  const bare = decodeState(b64({ v: 1, id: 'v'.repeat(24), at: NOW, g: [], d: [] })).decision;
  assert.deepEqual([bare.action, bare.receipt, bare.noticeSeen, bare.gpc], [null, null, false, false]);
});

test('garbage cookie values decode to no decision', () => {
  for (const bad of ['', 'x', '%%%', '!!!!', b64({ v: 2, id: 'a'.repeat(22), at: 1, g: [], d: [] }),
    b64({ v: 1, id: 'short', at: 1, g: [], d: [] }), b64({ v: 1, id: 'a'.repeat(22), at: 1, g: 'x', d: [] }),
    b64({ v: 1, id: 'a'.repeat(22), at: 0, g: [], d: [] }), b64(null), b64([1, 2]), Buffer.from('{"v":1').toString('base64')]) {
    assert.deepEqual(decodeState(bad), { decision: null, legacyPending: null }, bad);
  }
});

test('visitor ids and idempotency keys match the server patterns and differ', () => {
  const ids = new Set();
  for (let i = 0; i < 200; i++) {
    const id = randomId();
    assert.match(id, /^[A-Za-z0-9_-]{22,64}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 200);
  const body = postBody(config(), decided(config(), [], 'reject_all'), 'reject_all', 'first_layer', { url: 'https://shop.example/' });
  assert.match(body.visitor_id, /^[A-Za-z0-9_-]{16,64}$/);
  assert.match(body.idempotency_key, /^[A-Za-z0-9_-]{8,64}$/);
});

test('the banner asks when there is no decision', () => {
  assert.equal(needsAsking(null, config(), NOW), true);
});

test('an EU consent is asked again after 365 days, not before', () => {
  const s = decided(config(), ['analytics'], 'custom', NOW - 366 * DAY);
  assert.equal(needsAsking(s, config(), NOW), true);
  assert.equal(needsAsking({ ...s, decidedAt: NOW - 364 * DAY }, config(), NOW), false);
});

test('a French choice is asked again after 183 days', () => {
  const c = config('EU-FR');
  assert.equal(needsAsking(decided(c, ['analytics'], 'custom', NOW - 184 * DAY), c, NOW), true);
  assert.equal(needsAsking(decided(c, ['analytics'], 'custom', NOW - 182 * DAY), c, NOW), false);
});

test('a refusal follows the refusal interval, a consent the consent interval', () => {
  const c = config('EU');
  c.jurisdiction.reask_refusal_days = 30;
  assert.equal(needsAsking(decided(c, [], 'reject_all', NOW - 31 * DAY), c, NOW), true);
  assert.equal(needsAsking(decided(c, ['analytics'], 'custom', NOW - 31 * DAY), c, NOW), false);
  c.jurisdiction.reask_refusal_days = null;
  assert.equal(needsAsking(decided(c, [], 'reject_all', NOW - 3000 * DAY), c, NOW), false);
});

test('a new purpose makes the banner ask again', () => {
  const s = decided(config(), ['analytics'], 'custom');
  const c = config();
  c.purposes.push({ key: 'preferences', name: 'Preferences', locked: false, sale: false, vendors: [], cookies: [] });
  assert.equal(needsAsking(s, config(), NOW), false);
  assert.equal(needsAsking(s, c, NOW), true);
});

test('a decision older than the epoch is asked again', () => {
  const s = decided(config(), ['analytics'], 'custom', NOW - DAY);
  assert.equal(needsAsking(s, config('EU', { epoch: new Date(NOW - 2 * DAY).toISOString() }), NOW), false);
  assert.equal(needsAsking(s, config('EU', { epoch: new Date(NOW - DAY / 2).toISOString() }), NOW), true);
});

test('a change of jurisdiction makes the banner ask again', () => {
  const s = decided(config('EU'), ['analytics'], 'custom');
  assert.equal(needsAsking(s, config('EU-FR'), NOW), true);
});

test('an opt-out jurisdiction never asks; it shows its notice once', () => {
  const c = config('US-CA');
  assert.equal(needsAsking(null, c, NOW), false);
  assert.equal(needsNotice(null, c), true);
  const seen = nextState(null, c, initialGrants(c, null, false), null, NOW, false);
  assert.equal(seen.action, null);
  assert.equal(needsNotice(seen, c), false);
  assert.equal(needsNotice(seen, config('US-CA', { jurisdiction: { ...c.jurisdiction, code: 'US' } })), true);
  assert.equal(needsNotice(null, config('EU')), false);
});

test('opt-in grants only the locked purpose until a decision, then the decision', () => {
  const c = config();
  assert.deepEqual(initialGrants(c, null, false), ['necessary']);
  assert.deepEqual(initialGrants(c, decided(c, ['analytics'], 'custom'), false), ['necessary', 'analytics']);
});

test('opt-out grants everything by default and GPC denies the sale purposes', () => {
  const c = config('US-CA');
  assert.deepEqual(initialGrants(c, null, false), ['necessary', 'analytics', 'marketing']);
  assert.deepEqual(initialGrants(c, null, true), ['necessary', 'analytics']);
});

test('GPC beats a stored grant of a sale purpose in California, and its absence never upgrades', () => {
  const c = config('US-CA');
  const granted = decided(c, ['analytics', 'marketing'], 'accept_all');
  assert.deepEqual(initialGrants(c, granted, true), ['necessary', 'analytics']);
  const optedOut = nextState(granted, c, initialGrants(c, granted, true), 'gpc_opt_out', NOW, true);
  assert.deepEqual(optedOut.denied, ['marketing']);
  assert.equal(optedOut.action, 'gpc_opt_out');
  assert.equal(optedOut.gpc, true);
  assert.deepEqual(initialGrants(c, optedOut, false), ['necessary', 'analytics']);
});

test('GPC has no effect in the EU: a stored grant stays', () => {
  const c = config('EU');
  const s = decided(c, ['analytics', 'marketing'], 'accept_all');
  assert.deepEqual(initialGrants(c, s, true), ['necessary', 'analytics', 'marketing']);
});

test('GPC is read from the page or the header and applies only where the law gives it effect', () => {
  assert.deepEqual(readSignals({ globalPrivacyControl: true, doNotTrack: '1' }, config('US-CA')), { gpc: true, gpcApplies: true, dnt: true });
  assert.deepEqual(readSignals({}, config('US-CA', { gpc_header: true })), { gpc: true, gpcApplies: true, dnt: false });
  assert.deepEqual(readSignals({ globalPrivacyControl: true }, config('EU')), { gpc: true, gpcApplies: false, dnt: false });
  assert.deepEqual(readSignals({ globalPrivacyControl: 'yes', doNotTrack: '0' }, config('US-CA')), { gpc: false, gpcApplies: false, dnt: false });
});

test('with GPC applied, accept all cannot grant a sale purpose and is recorded as custom', () => {
  const c = config('US-CA');
  const s = nextState(null, c, ['analytics', 'marketing'], 'accept_all', NOW, true);
  assert.deepEqual(s.granted, ['necessary', 'analytics']);
  assert.equal(s.action, 'custom');
  assert.equal(postBody(c, s, 'accept_all', 'second_layer', { url: 'https://x.example/' }).action, 'custom');
});

test('a GPC record under opt-in keeps the earlier decision and its clock', () => {
  const c = config('EU');
  c.jurisdiction.gpc = 'opt_out_sale_share';
  const s = decided(c, ['analytics', 'marketing'], 'accept_all', NOW - 10 * DAY);
  const next = nextState(s, c, ['analytics', 'marketing'], 'gpc_opt_out', NOW, true);
  assert.equal(next.action, 'accept_all');
  assert.equal(next.decidedAt, s.decidedAt);
  assert.deepEqual(next.granted, ['necessary', 'analytics']);
  assert.equal(next.visitorId, s.visitorId);
});

test('saving the preferences with every sale purpose off is a do-not-sell opt-out, only under opt-out', () => {
  assert.equal(saveAction(config('US-CA'), ['necessary', 'analytics']), 'do_not_sell_opt_out');
  assert.equal(saveAction(config('US-CA'), ['necessary', 'marketing']), 'custom');
  assert.equal(saveAction(config('EU'), ['necessary']), 'custom');
  const noSale = config('US-CA');
  noSale.purposes = noSale.purposes.filter(purpose => !purpose.sale);
  assert.equal(saveAction(noSale, ['necessary']), 'custom');
});

test('Consent Mode values map purposes and always carry the v2 keys', () => {
  const c = config();
  assert.deepEqual(consentModeValues(c, ['necessary', 'analytics']), {
    security_storage: 'granted', ad_storage: 'denied', analytics_storage: 'granted', ad_user_data: 'denied',
    ad_personalization: 'denied', functionality_storage: 'denied',
  });
  const bare = consentModeValues({ ...c, consent_mode: {} }, ['necessary', 'analytics', 'marketing']);
  assert.deepEqual(bare, { security_storage: 'granted', ad_storage: 'denied', analytics_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' });
});

test('cookie matchers list the denied purposes and never a necessary cookie', () => {
  const c = config();
  assert.deepEqual(cookieMatchers(c, ['analytics', 'marketing']), ['_ga', '_ga_*', '_fbp']);
  assert.deepEqual(cookieMatchers(c, ['necessary']), []);
  assert.deepEqual(cookiesToDelete(c, ['analytics'], ['_ga', '_ga_ABC', '_gid', 'consentry', 'csrftoken', '']), ['_ga', '_ga_ABC']);
  c.purposes[1].cookies.push({ name: 'cons*', provider: 'X', days: 1 });
  assert.deepEqual(cookiesToDelete(c, ['analytics'], ['consentry', 'consent_x']), ['consent_x']);
});

test('a cookie is deleted host-only and on every parent domain it may have been set for', () => {
  assert.deepEqual(cookieDomains('www.shop.example'), ['', ';domain=www.shop.example', ';domain=shop.example']);
  assert.deepEqual(cookieDomains('localhost'), ['']);
});

test('the ledger body lists every purpose with the action and layer', () => {
  const c = config();
  const s = decided(c, ['analytics'], 'custom');
  const body = postBody(c, s, 'custom', 'second_layer', { gpc: true, dnt: true, url: 'https://shop.example/cart?email=a@b.c#top' });
  assert.deepEqual(body.granted, ['necessary', 'analytics']);
  assert.deepEqual(body.denied, ['marketing']);
  assert.deepEqual([...body.granted, ...body.denied].sort(), c.purposes.map(p => p.key).sort());
  assert.equal(body.action, 'custom');
  assert.equal(body.ui_layer, 'second_layer');
  assert.equal(body.visitor_id, s.visitorId);
  assert.deepEqual(body.versions, c.versions);
  assert.equal(body.language, 'en');
  assert.equal(body.gpc, true);
  assert.equal(body.dnt, true);
  assert.equal(body.page_url, 'https://shop.example/cart');
  const rejected = postBody(c, decided(c, [], 'reject_all'), 'reject_all', 'first_layer', { url: 'https://shop.example/' });
  assert.deepEqual(rejected.granted, ['necessary']);
  assert.deepEqual(rejected.denied, ['analytics', 'marketing']);
  assert.equal(rejected.gpc, false);
  assert.notEqual(rejected.idempotency_key, body.idempotency_key);
  const dns = postBody(config('US-CA'), decided(config('US-CA'), ['analytics'], 'do_not_sell_opt_out'), 'do_not_sell_opt_out', 'opt_out_link', { url: 'https://shop.example/' });
  assert.deepEqual([dns.action, dns.ui_layer, dns.denied], ['do_not_sell_opt_out', 'opt_out_link', ['marketing']]);
  const long = postBody(c, s, 'custom', 'api', { url: 'https://shop.example/' + 'a'.repeat(3000) });
  assert.equal(long.page_url.length, 2048);
});

test('a new decision forgets the old receipt; a dismissed notice keeps the answer, its clock and receipt', () => {
  const c = config('US-CA');
  const s = { ...decided(c, ['analytics'], 'custom'), receipt: 'rcpt' };
  const next = nextState(s, c, [], 'reject_all', NOW + 1, false);
  assert.deepEqual([next.receipt, next.visitorId, next.decidedAt], [null, s.visitorId, NOW + 1]);
  const seen = nextState(s, c, s.granted, null, NOW + 1, false);
  assert.deepEqual([seen.receipt, seen.action, seen.decidedAt, seen.noticeSeen], ['rcpt', 'custom', s.decidedAt, true]);
});

test('retry delays grow and are capped at five minutes', () => {
  const delays = [0, 1, 2, 3, 10, 50].map(retryDelay);
  assert.deepEqual(delays.slice(0, 4), [2000, 4000, 8000, 16000]);
  assert.equal(delays[4], 300000);
  assert.equal(delays[5], 300000);
});

test('cookie durations use the plural form of the language', () => {
  const t = { session: 'session', days_one: '{n} day', days_few: '{n} дня', days_many: '{n} дней', days_other: '{n} days' };
  assert.equal(cookieDuration(t, 'en', null), 'session');
  assert.equal(cookieDuration(t, 'en', 1), '1 day');
  assert.equal(cookieDuration(t, 'en', 395), '395 days');
  assert.equal(cookieDuration(t, 'ru', 3), '3 дня');
  assert.equal(cookieDuration(t, 'ru', 395), '395 дней');
});

test('a blocked embed names the purposes it waits for', () => {
  const c = config();
  assert.equal(placeholderText(c.texts, c, ['marketing', 'analytics']), 'This content needs your consent to: Analytics, Marketing');
});
