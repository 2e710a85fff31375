'use strict';
// The banner's pure logic: node --test tests/js/
const test = require('node:test');
const assert = require('node:assert/strict');
const core = require('../../static/cookies/banner.js');

const DAY = 864e5;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function config(code = 'EU', overrides = {}) {
  const rules = {
    EU: { model: 'opt_in', gpc: 'none', gpc_status: false, reask_consent_days: 365, reask_refusal_days: 365, cookie_days: 395 },
    'EU-FR': { model: 'opt_in', gpc: 'none', gpc_status: false, reask_consent_days: 183, reask_refusal_days: 183, cookie_days: 395 },
    'US-CA': { model: 'opt_out', gpc: 'opt_out_sale_share', gpc_status: true, reask_consent_days: null, reask_refusal_days: 365, cookie_days: 395 },
  };
  return {
    v: 1, site: 'demo', endpoint: 'https://consent.example/api/public/v1/sites/demo', lang: 'en', dir: 'ltr',
    jurisdiction: { code, reject_first_layer: true, ...rules[code] },
    gpc_header: false, epoch: null,
    versions: { banner: 3, policies: { 'privacy-policy': 2 }, subprocessors: 2 },
    purposes: [
      { key: 'necessary', name: 'Necessary', locked: true, sale: false, vendors: [],
        cookies: [{ name: 'consentry', provider: '', days: 395 }, { name: 'csrftoken', provider: '', days: 365 }] },
      { key: 'analytics', name: 'Analytics', locked: false, sale: false, vendors: ['Google'],
        cookies: [{ name: '_ga', provider: 'Google', days: 395 }, { name: '_ga_*', provider: 'Google', days: 395 }] },
      { key: 'marketing', name: 'Marketing', locked: false, sale: true, vendors: ['Meta'],
        cookies: [{ name: '_fbp', provider: 'Meta', days: 90 }, { name: 'csrftoken', provider: 'Meta', days: null }] },
    ],
    consent_mode: { analytics_storage: ['analytics'], ad_storage: ['marketing'], ad_user_data: ['marketing'],
      ad_personalization: ['marketing'], functionality_storage: ['preferences'] },
    cookie: { name: 'consentry', days: 395 },
    ...overrides,
  };
}

function decided(c, granted, action, at = NOW) {
  return core.nextState(null, c, granted, action, at, false);
}

test('a state survives encoding to a cookie value and back', () => {
  const s = decided(config(), ['analytics'], 'custom');
  s.p = { visitor_id: s.id, page_url: 'https://shop.example/a' };
  const value = core.encode(s);
  assert.match(value, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(core.decode(value), s);
});

test('garbage cookie values decode to null', () => {
  for (const bad of ['', 'x', '%%%', '!!!!', core.encode({ v: 2, id: 'a'.repeat(22), at: 1, g: [], d: [] }),
    core.encode({ v: 1, id: 'short', at: 1, g: [], d: [] }), core.encode({ v: 1, id: 'a'.repeat(22), at: 1, g: 'x', d: [] }),
    core.encode(null), core.encode([1, 2]), Buffer.from('{"v":1').toString('base64')]) {
    assert.equal(core.decode(bad), null, bad);
  }
});

test('visitor ids and idempotency keys match the server patterns and differ', () => {
  const ids = new Set();
  for (let i = 0; i < 200; i++) {
    const id = core.id();
    assert.match(id, /^[A-Za-z0-9_-]{22,64}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 200);
  const body = core.postBody(config(), decided(config(), [], 'reject_all'), 'reject_all', 'first_layer', { url: 'https://shop.example/' });
  assert.match(body.visitor_id, /^[A-Za-z0-9_-]{16,64}$/);
  assert.match(body.idempotency_key, /^[A-Za-z0-9_-]{8,64}$/);
});

test('the banner asks when there is no state', () => {
  assert.equal(core.needsAsking(null, config(), NOW), true);
});

test('an EU consent is asked again after 365 days, not before', () => {
  const s = decided(config(), ['analytics'], 'custom', NOW - 366 * DAY);
  assert.equal(core.needsAsking(s, config(), NOW), true);
  assert.equal(core.needsAsking({ ...s, at: NOW - 364 * DAY }, config(), NOW), false);
});

test('a French choice is asked again after 183 days', () => {
  const c = config('EU-FR');
  assert.equal(core.needsAsking(decided(c, ['analytics'], 'custom', NOW - 184 * DAY), c, NOW), true);
  assert.equal(core.needsAsking(decided(c, ['analytics'], 'custom', NOW - 182 * DAY), c, NOW), false);
});

test('a refusal follows the refusal interval, a consent the consent interval', () => {
  const c = config('EU');
  c.jurisdiction.reask_refusal_days = 30;
  assert.equal(core.needsAsking(decided(c, [], 'reject_all', NOW - 31 * DAY), c, NOW), true);
  assert.equal(core.needsAsking(decided(c, ['analytics'], 'custom', NOW - 31 * DAY), c, NOW), false);
  c.jurisdiction.reask_refusal_days = null;
  assert.equal(core.needsAsking(decided(c, [], 'reject_all', NOW - 3000 * DAY), c, NOW), false);
});

test('a new purpose makes the banner ask again', () => {
  const s = decided(config(), ['analytics'], 'custom');
  const c = config();
  c.purposes.push({ key: 'preferences', name: 'Preferences', locked: false, sale: false, vendors: [], cookies: [] });
  assert.equal(core.needsAsking(s, config(), NOW), false);
  assert.equal(core.needsAsking(s, c, NOW), true);
});

test('a decision older than the epoch is asked again', () => {
  const s = decided(config(), ['analytics'], 'custom', NOW - DAY);
  assert.equal(core.needsAsking(s, config('EU', { epoch: new Date(NOW - 2 * DAY).toISOString() }), NOW), false);
  assert.equal(core.needsAsking(s, config('EU', { epoch: new Date(NOW - DAY / 2).toISOString() }), NOW), true);
});

test('a change of jurisdiction makes the banner ask again', () => {
  const s = decided(config('EU'), ['analytics'], 'custom');
  assert.equal(core.needsAsking(s, config('EU-FR'), NOW), true);
});

test('an opt-out jurisdiction never asks; it shows its notice once', () => {
  const c = config('US-CA');
  assert.equal(core.needsAsking(null, c, NOW), false);
  assert.equal(core.needsNotice(null, c), true);
  const seen = core.nextState(null, c, core.initialGrants(c, null, false), null, NOW, false);
  assert.equal(seen.a, null);
  assert.equal(core.needsNotice(seen, c), false);
  assert.equal(core.needsNotice(seen, config('US-CA', { jurisdiction: { ...c.jurisdiction, code: 'US' } })), true);
  assert.equal(core.needsNotice(null, config('EU')), false);
});

test('opt-in grants only the locked purpose until a decision, then the decision', () => {
  const c = config();
  assert.deepEqual(core.initialGrants(c, null, false), ['necessary']);
  assert.deepEqual(core.initialGrants(c, decided(c, ['analytics'], 'custom'), false), ['necessary', 'analytics']);
});

test('opt-out grants everything by default and GPC denies the sale purposes', () => {
  const c = config('US-CA');
  assert.deepEqual(core.initialGrants(c, null, false), ['necessary', 'analytics', 'marketing']);
  assert.deepEqual(core.initialGrants(c, null, true), ['necessary', 'analytics']);
});

test('GPC beats a stored grant of a sale purpose in California, and its absence never upgrades', () => {
  const c = config('US-CA');
  const granted = decided(c, ['analytics', 'marketing'], 'accept_all');
  assert.deepEqual(core.initialGrants(c, granted, true), ['necessary', 'analytics']);
  const optedOut = core.nextState(granted, c, core.initialGrants(c, granted, true), 'gpc_opt_out', NOW, true);
  assert.deepEqual(optedOut.d, ['marketing']);
  assert.equal(optedOut.a, 'gpc_opt_out');
  assert.equal(optedOut.gpc, true);
  assert.deepEqual(core.initialGrants(c, optedOut, false), ['necessary', 'analytics']);
});

test('GPC has no effect in the EU: a stored grant stays', () => {
  const c = config('EU');
  const s = decided(c, ['analytics', 'marketing'], 'accept_all');
  assert.deepEqual(core.initialGrants(c, s, true), ['necessary', 'analytics', 'marketing']);
});

test('with GPC applied, accept all cannot grant a sale purpose and is recorded as custom', () => {
  const c = config('US-CA');
  const s = core.nextState(null, c, ['analytics', 'marketing'], 'accept_all', NOW, true);
  assert.deepEqual(s.g, ['necessary', 'analytics']);
  assert.equal(s.a, 'custom');
  assert.equal(core.postBody(c, s, 'accept_all', 'second_layer', { url: 'https://x.example/' }).action, 'custom');
});

test('a GPC record under opt-in keeps the earlier decision and its clock', () => {
  const c = config('EU');
  c.jurisdiction.gpc = 'opt_out_sale_share';
  const s = decided(c, ['analytics', 'marketing'], 'accept_all', NOW - 10 * DAY);
  const next = core.nextState(s, c, ['analytics', 'marketing'], 'gpc_opt_out', NOW, true);
  assert.equal(next.a, 'accept_all');
  assert.equal(next.at, s.at);
  assert.deepEqual(next.g, ['necessary', 'analytics']);
  assert.equal(next.id, s.id);
});

test('Consent Mode values map purposes and always carry the v2 keys', () => {
  const c = config();
  assert.deepEqual(core.consentModeValues(c, ['necessary', 'analytics']), {
    security_storage: 'granted', ad_storage: 'denied', analytics_storage: 'granted', ad_user_data: 'denied',
    ad_personalization: 'denied', functionality_storage: 'denied',
  });
  const bare = core.consentModeValues({ ...c, consent_mode: {} }, ['necessary', 'analytics', 'marketing']);
  assert.deepEqual(bare, { security_storage: 'granted', ad_storage: 'denied', analytics_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' });
});

test('cookie matchers list the denied purposes and never a necessary cookie', () => {
  const c = config();
  assert.deepEqual(core.cookieMatchers(c, ['analytics', 'marketing']), ['_ga', '_ga_*', '_fbp']);
  assert.deepEqual(core.cookieMatchers(c, ['necessary']), []);
  assert.deepEqual(core.doomed(c, ['analytics'], ['_ga', '_ga_ABC', '_gid', 'consentry', 'csrftoken', '']), ['_ga', '_ga_ABC']);
  c.purposes[1].cookies.push({ name: 'cons*', provider: 'X', days: 1 });
  assert.deepEqual(core.doomed(c, ['analytics'], ['consentry', 'consent_x']), ['consent_x']);
});

test('the ledger body lists every purpose with the action and layer', () => {
  const c = config();
  const s = decided(c, ['analytics'], 'custom');
  const body = core.postBody(c, s, 'custom', 'second_layer', { gpc: true, dnt: true, url: 'https://shop.example/cart?email=a@b.c#top' });
  assert.deepEqual(body.granted, ['necessary', 'analytics']);
  assert.deepEqual(body.denied, ['marketing']);
  assert.deepEqual([...body.granted, ...body.denied].sort(), c.purposes.map(p => p.key).sort());
  assert.equal(body.action, 'custom');
  assert.equal(body.ui_layer, 'second_layer');
  assert.equal(body.visitor_id, s.id);
  assert.deepEqual(body.versions, c.versions);
  assert.equal(body.language, 'en');
  assert.equal(body.gpc, true);
  assert.equal(body.dnt, true);
  assert.equal(body.page_url, 'https://shop.example/cart');
  const rejected = core.postBody(c, decided(c, [], 'reject_all'), 'reject_all', 'first_layer', { url: 'https://shop.example/' });
  assert.deepEqual(rejected.granted, ['necessary']);
  assert.deepEqual(rejected.denied, ['analytics', 'marketing']);
  assert.equal(rejected.gpc, false);
  assert.notEqual(rejected.idempotency_key, body.idempotency_key);
  const dns = core.postBody(config('US-CA'), decided(config('US-CA'), ['analytics'], 'do_not_sell_opt_out'), 'do_not_sell_opt_out', 'opt_out_link', { url: 'https://shop.example/' });
  assert.deepEqual([dns.action, dns.ui_layer, dns.denied], ['do_not_sell_opt_out', 'opt_out_link', ['marketing']]);
});

test('a new decision starts a new pending post and forgets the old receipt; a dismissed notice keeps them', () => {
  const c = config('US-CA');
  const s = { ...decided(c, ['analytics'], 'custom'), p: { idempotency_key: 'abcdefgh' }, r: 'rcpt' };
  const next = core.nextState(s, c, [], 'reject_all', NOW + 1, false);
  assert.deepEqual([next.p, next.r, next.id], [null, null, s.id]);
  const seen = core.nextState(s, c, s.g, null, NOW + 1, false);
  assert.deepEqual([seen.p, seen.r, seen.a, seen.at], [s.p, 'rcpt', 'custom', s.at]);
});

test('retry delays grow and are capped at five minutes', () => {
  const delays = [0, 1, 2, 3, 10, 50].map(core.retryDelay);
  assert.deepEqual(delays.slice(0, 4), [2000, 4000, 8000, 16000]);
  assert.equal(delays[4], 300000);
  assert.equal(delays[5], 300000);
});

test('cookie durations use the plural form of the language', () => {
  const t = { session: 'session', days_one: '{n} day', days_few: '{n} дня', days_many: '{n} дней', days_other: '{n} days' };
  assert.equal(core.duration(t, 'en', null), 'session');
  assert.equal(core.duration(t, 'en', 1), '1 day');
  assert.equal(core.duration(t, 'en', 395), '395 days');
  assert.equal(core.duration(t, 'ru', 3), '3 дня');
  assert.equal(core.duration(t, 'ru', 395), '395 дней');
});
