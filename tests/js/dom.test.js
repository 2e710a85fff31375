// The banner's DOM code in jsdom: building nodes, the layers, the preferences dialog's keyboard
// handling, and releasing gated scripts and embeds. node --test tests/js/
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { createBlocker } from '../../frontend/banner/src/blocking.js';
import { el } from '../../frontend/banner/src/dom.js';
import { firstLayer, preferencesDialog } from '../../frontend/banner/src/views.js';
import { config, installDom } from './fixtures.js';

let page;
beforeEach(() => {
  page = installDom();
});
afterEach(() => page.dispose());

const noop = () => {};
const handlers = { acceptAll: noop, rejectAll: noop, preferences: noop, doNotSell: noop, dismiss: noop, save: noop, close: noop };
const context = (c = config(), extra = {}) => ({ config: c, texts: c.texts, gpcHonored: false, receipt: null, ...extra });
const actions = root => Array.from(root.querySelectorAll('[data-consentry-action]'), b => b.getAttribute('data-consentry-action'));
const press = (target, key, shiftKey = false) => {
  const event = new page.window.KeyboardEvent('keydown', { key, shiftKey, bubbles: true, cancelable: true });
  target.dispatchEvent(event);
  return event;
};

test('text from data is only ever text: markup in it builds no element', () => {
  const hostile = '<img src=x onerror="window.pwned=1"><b>bold</b>';
  const node = el('p', { text: hostile, title: hostile, hidden: false, 'aria-label': null });
  assert.equal(node.textContent, hostile);
  assert.equal(node.children.length, 0);
  assert.equal(node.getAttribute('title'), hostile);
  assert.equal(node.hasAttribute('hidden'), false);
  assert.equal(node.hasAttribute('aria-label'), false);

  const c = config();
  c.texts = { ...c.texts, title: hostile, accept_all: hostile };
  c.purposes[1].name = hostile;
  c.purposes[1].cookies[0].description = hostile;
  const panel = firstLayer(context(c), handlers);
  const dialog = preferencesDialog(context(c), ['necessary'], handlers).modal;
  for (const root of [panel, dialog]) {
    assert.equal(root.querySelector('img, b'), null);
    assert.ok(root.textContent.includes(hostile));
  }
});

test('the EU first layer offers accept, reject and preferences as equal buttons, with the policy links', () => {
  const calls = [];
  const panel = firstLayer(context(), { ...handlers, acceptAll: () => calls.push('accept'), rejectAll: () => calls.push('reject') });
  assert.equal(panel.getAttribute('role'), 'dialog');
  assert.equal(panel.querySelector('#consentry-title').textContent, 'We use cookies');
  assert.deepEqual(actions(panel), ['accept_all', 'reject_all', 'preferences']);
  assert.deepEqual(new Set(Array.from(panel.querySelectorAll('button'), b => b.className)), new Set(['cs-btn']));
  assert.equal(panel.querySelector('a').href, 'https://shop.example/privacy');
  assert.equal(panel.querySelector('a').rel, 'noopener');
  panel.querySelector('[data-consentry-action=reject_all]').click();
  panel.querySelector('[data-consentry-action=accept_all]').click();
  assert.deepEqual(calls, ['reject', 'accept']);
  assert.equal(panel.querySelector('[data-consentry-gpc]'), null);
});

test('the Californian notice offers "Do not sell" and shows an honoured GPC signal', () => {
  const panel = firstLayer(context(config('US-CA'), { gpcHonored: true }), handlers);
  assert.deepEqual(actions(panel), ['do_not_sell', 'ok']);
  assert.equal(panel.querySelector('#consentry-title').textContent, 'Your privacy choices');
  assert.equal(panel.querySelector('[data-consentry-gpc="honored"]').textContent, 'Your Global Privacy Control signal is honoured.');
});

test('the preferences dialog has a switch per purpose, necessary locked on, and saves what was switched', () => {
  const saved = [];
  const { modal, dialog } = preferencesDialog(context(), ['necessary'], { ...handlers, save: chosen => saved.push(chosen) });
  assert.equal(dialog.getAttribute('aria-modal'), 'true');
  const toggles = Object.fromEntries(Array.from(modal.querySelectorAll('[role=switch]'), s => [s.getAttribute('data-consentry-purpose'), s]));
  assert.deepEqual(Object.keys(toggles), ['necessary', 'analytics', 'marketing']);
  assert.equal(toggles.necessary.disabled, true);
  assert.equal(toggles.necessary.getAttribute('aria-checked'), 'true');
  assert.equal(toggles.analytics.getAttribute('aria-checked'), 'false');
  assert.equal(toggles.analytics.getAttribute('aria-labelledby'), 'consentry-p-analytics');
  toggles.analytics.click();
  assert.equal(toggles.analytics.getAttribute('aria-checked'), 'true');
  toggles.marketing.click();
  toggles.marketing.click();
  modal.querySelector('[data-consentry-action=save]').click();
  assert.deepEqual(saved, [['necessary', 'analytics']]);
  // Cookies with their provider and duration, in the language's plural.
  assert.match(modal.textContent, /_ga · Provider: Google · Duration: 395 days/);
  assert.match(modal.textContent, /consentry · Provider: this site · Duration: 395 days/);
  assert.match(modal.textContent, /csrftoken · Provider: Meta · Duration: session/);
});

test('a site text in another language than the banner\'s carries that language, the others none', () => {
  const c = config();
  c.purposes[1] = { ...c.purposes[1], lang: 'en' };
  c.purposes[1].cookies = [{ ...c.purposes[1].cookies[0], description: 'Visit counter.', lang: 'en' }];
  const { modal } = preferencesDialog(context(c), ['necessary'], handlers);
  const section = modal.querySelector('[data-consentry-purpose=analytics]').closest('.cs-purpose');
  assert.equal(section.querySelector('h3').getAttribute('lang'), 'en');
  assert.equal(section.querySelector('.cs-row + p').getAttribute('lang'), 'en');
  const description = Array.from(section.querySelectorAll('li span')).find(span => span.textContent === 'Visit counter.');
  assert.equal(description.getAttribute('lang'), 'en');
  const other = modal.querySelector('[data-consentry-purpose=marketing]').closest('.cs-purpose');
  assert.equal(other.querySelector('[lang]'), null);
});

test('with GPC honoured the sale purpose cannot be switched on; under opt-out it is named as a sale', () => {
  const { modal } = preferencesDialog(context(config('US-CA'), { gpcHonored: true }), ['necessary', 'analytics'], handlers);
  const marketing = modal.querySelector('[data-consentry-purpose=marketing]');
  assert.equal(marketing.disabled, true);
  assert.equal(modal.querySelector('#consentry-p-marketing').textContent, 'Sale or sharing');
});

test('the preferences dialog links the receipt of the last choice on the Consentry host', () => {
  const { modal } = preferencesDialog(context(config(), { receipt: 'RCPT123' }), ['necessary'], handlers);
  assert.equal(modal.querySelector('[data-consentry-receipt]').href, 'https://consent.example/r/RCPT123/');
});

test('the preferences dialog links the site\'s request form when the config names it, and only then', () => {
  const url = 'https://consent.example/s/shop/requests/?lang=en';
  const { modal } = preferencesDialog(context(config('EU', { requests_url: url })), ['necessary'], handlers);
  const link = modal.querySelector('[data-consentry-requests]');
  assert.equal(link.href, url);
  assert.equal(link.textContent, 'Your privacy rights: make a request');
  assert.equal(preferencesDialog(context(), ['necessary'], handlers).modal.querySelector('[data-consentry-requests]'), null);
});

test('a visitor with a recorded choice hands the request form their id in the fragment only', () => {
  const url = 'https://consent.example/s/shop/requests/?lang=en';
  const visitorId = 'AbCdEfGhIjKlMnOpQrStUvWx';
  const { modal } = preferencesDialog(context(config('EU', { requests_url: url }), { visitorId }), ['necessary'], handlers);
  const link = new URL(modal.querySelector('[data-consentry-requests]').href);
  assert.equal(link.hash, '#visitor=' + visitorId);
  assert.equal(link.search, '?lang=en');
});

test('Tab and Shift+Tab stay inside the preferences dialog; Escape closes it', () => {
  let closed = 0;
  const { modal, dialog } = preferencesDialog(context(), ['necessary'], { ...handlers, close: () => closed++ });
  page.document.body.append(modal);
  const focusable = Array.from(dialog.querySelectorAll('a[href],button:not([disabled]),summary'));
  assert.ok(focusable.length > 3);
  const first = focusable[0];
  const last = focusable[focusable.length - 1];

  dialog.focus();
  assert.equal(press(dialog, 'Tab', true).defaultPrevented, true, 'Shift+Tab from the dialog itself wraps');
  assert.equal(page.document.activeElement, last);
  assert.equal(press(last, 'Tab').defaultPrevented, true);
  assert.equal(page.document.activeElement, first);
  assert.equal(press(first, 'Tab', true).defaultPrevented, true);
  assert.equal(page.document.activeElement, last);
  focusable[1].focus();
  assert.equal(press(focusable[1], 'Tab').defaultPrevented, false, 'inside the dialog, Tab moves as usual');

  press(first, 'Escape');
  assert.equal(closed, 1);
});

test('gated scripts run once when all their purposes are granted, copying their attributes', () => {
  page.document.body.innerHTML = [ // the test page's own markup, not the banner's
    '<script type="text/plain" data-consent="analytics" data-src="https://tags.example/a.js" async id="a"></script>',
    '<script type="text/plain" data-consent="analytics marketing" data-src="https://tags.example/b.js" id="b"></script>',
    '<script type="text/plain" data-consent="analytics" id="inline">window.inlineRan = true;</script>',
  ].join('');
  const blocker = createBlocker(() => el('div'));
  blocker.scan(['necessary']);
  assert.equal(page.document.querySelectorAll('script:not([type])').length, 0);

  blocker.scan(['necessary', 'analytics']);
  const released = Array.from(page.document.querySelectorAll('script:not([type])'));
  assert.deepEqual(released.map(s => s.src || s.text), ['https://tags.example/a.js', 'window.inlineRan = true;']);
  assert.equal(released[0].async, true);
  assert.equal(released[0].getAttribute('data-consent'), 'analytics');
  assert.equal(page.document.getElementById('a').type, 'text/x-consentry-done');
  assert.equal(page.document.getElementById('b').type, 'text/plain');
  assert.deepEqual([...blocker.ranPurposes], ['analytics']);

  blocker.scan(['necessary', 'analytics']);
  assert.equal(page.document.querySelectorAll('script:not([type])').length, 2, 'no script runs twice');
});

test('a blocked iframe is hidden behind a placeholder until granted; images wait for their data-src', () => {
  page.document.body.innerHTML = '<iframe id="video" data-consent="marketing" data-src="https://video.example/embed"></iframe>' +
    '<img id="pixel" data-consent="marketing" data-src="https://ads.example/p.gif">';
  const video = page.document.getElementById('video');
  const pixel = page.document.getElementById('pixel');
  const made = [];
  const blocker = createBlocker((element, purposes) => {
    made.push(purposes);
    return el('div', { class: 'consentry cs-ph', text: 'placeholder' });
  });

  blocker.scan(['necessary']);
  blocker.scan(['necessary']);
  assert.deepEqual(made, [['marketing']], 'one placeholder per iframe');
  assert.equal(video.previousElementSibling.className, 'consentry cs-ph');
  assert.equal(video.style.getPropertyValue('display'), 'none');
  assert.equal(video.getAttribute('src'), null);
  assert.equal(pixel.getAttribute('src'), null);

  blocker.scan(['necessary', 'marketing']);
  assert.equal(page.document.querySelector('.cs-ph'), null);
  assert.equal(video.getAttribute('src'), 'https://video.example/embed');
  assert.equal(video.style.getPropertyValue('display'), '');
  assert.equal(pixel.getAttribute('src'), 'https://ads.example/p.gif');
});
