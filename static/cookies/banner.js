/* Consentry banner. `core` is pure (tested in Node); the DOM part never parses HTML, for strict CSPs. */
(function () {
  'use strict';
  const keysOf = (c, test) => c.purposes.filter(p => !test || test(p)).map(p => p.key);
  const cookieNames = (c, test) => [].concat(...c.purposes.filter(test).map(p => p.cookies.map(k => k.name)));
  const lockedCookies = c => cookieNames(c, p => p.locked).concat(c.cookie.name);

  const b64url = bin => btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

  const core = {
    id: () => b64url(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(18)))),

    encode: s => b64url(JSON.stringify(s)),

    decode(value) {
      try {
        const s = JSON.parse(atob(value.replace(/-/g, '+').replace(/_/g, '/')));
        return s.v === 1 && /^[A-Za-z0-9_-]{16,64}$/.test(s.id) && s.at > 0 && Array.isArray(s.g) && Array.isArray(s.d) ? s : null;
      } catch (e) {
        return null;
      }
    },

    normalise: (c, granted, noSale) => keysOf(c, p => p.locked || (granted.includes(p.key) && !(noSale && p.sale))),

    needsAsking(s, c, now) {
      const j = c.jurisdiction, optional = keysOf(c, p => !p.locked);
      if (j.model === 'opt_out') return false;
      if (!s || !s.a || s.j !== j.code || (c.epoch && s.at < Date.parse(c.epoch))) return true;
      if (optional.some(k => !s.g.includes(k) && !s.d.includes(k))) return true;
      const days = optional.some(k => s.g.includes(k)) ? j.reask_consent_days : j.reask_refusal_days;
      return days != null && now - s.at > days * 864e5;
    },

    needsNotice: (s, c) => c.jurisdiction.model === 'opt_out' && !(s && s.n && s.j === c.jurisdiction.code),

    // Where GPC has legal effect it beats a stored sale grant (CA-2).
    initialGrants(c, s, gpcOn) {
      const j = c.jurisdiction;
      const g = j.model === 'opt_out' ? keysOf(c, p => !(s && s.d.includes(p.key))) : s && s.a && s.j === j.code ? s.g : [];
      return core.normalise(c, g, gpcOn && j.gpc !== 'none');
    },

    // A GPC record under opt_in is no answer to the banner: the decision and its clock stay.
    nextState(s, c, granted, action, now, gpcApplied) {
      const j = c.jurisdiction, g = core.normalise(c, granted, gpcApplied), d = keysOf(c, p => !g.includes(p.key));
      const same = s && s.j === j.code, keep = !action || (action === 'gpc_opt_out' && j.model !== 'opt_out');
      return {
        v: 1, id: s ? s.id : core.id(), at: keep && same && s.a ? s.at : now,
        a: keep ? (same && s.a) || null : action === 'accept_all' && d.length ? 'custom' : action,
        g, d, vs: c.versions, j: j.code, gpc: !!gpcApplied,
        n: action === 'gpc_opt_out' ? +!!(same && s.n) : 1, p: keep && s ? s.p : null, r: keep && s ? s.r : null,
      };
    },

    consentModeValues(c, granted) {
      const map = c.consent_mode || {}, out = { security_storage: 'granted' };
      ['ad_storage', 'analytics_storage', 'ad_user_data', 'ad_personalization'].concat(Object.keys(map))
        .forEach(k => { out[k] = (map[k] || []).some(p => granted.includes(p)) ? 'granted' : 'denied'; });
      return out;
    },

    cookieMatchers: (c, denied) => cookieNames(c, p => !p.locked && denied.includes(p.key)).filter(n => !lockedCookies(c).includes(n)),

    doomed(c, denied, names) {
      const hit = (n, list) => list.some(m => (m.endsWith('*') ? n.startsWith(m.slice(0, -1)) : n === m));
      return names.filter(n => n && hit(n, core.cookieMatchers(c, denied)) && !hit(n, lockedCookies(c)));
    },

    postBody(c, s, action, layer, env) {
      const g = core.normalise(c, s.g), denied = keysOf(c, p => !g.includes(p.key));
      return {
        visitor_id: s.id, action: action === 'accept_all' && denied.length ? 'custom' : action, granted: g, denied, versions: c.versions,
        language: c.lang, ui_layer: layer, gpc: !!env.gpc, dnt: !!env.dnt,
        page_url: env.url.split(/[?#]/)[0].slice(0, 2048), idempotency_key: core.id(),
      };
    },

    retryDelay: attempt => Math.min(2000 * 2 ** attempt, 300000),

    duration: (t, lang, days) => (days == null ? t.session
      : (t['days_' + new Intl.PluralRules(lang).select(days)] || t.days_other).replace('{n}', days)),
  };

  let C, T, J, S, G = [], gpcOn, gpcFx, root, panel, panelKind, modal, back, reopen, ready, timer, warned;
  const listeners = {}, queue = [], ran = new Set(), placeholders = new WeakMap();
  const GATED = 'script[type="text/plain"][data-consent],iframe[data-consent][data-src],img[data-consent][data-src]';

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent('consentry:' + name, { detail }));
    (listeners[name] || []).forEach(cb => cb(detail));
  }

  function h(tag, attrs, kids = [], ns) {
    const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    Object.entries(attrs).forEach(([k, v]) => {
      if (k === 'text') el.textContent = v;
      else if (k === 'on') el.addEventListener('click', v);
      else if (v != null && v !== false) el.setAttribute(k, v);
    });
    kids.forEach(x => x && el.append(x));
    return el;
  }

  const btn = (action, text, on, cls, label) => h('button', { type: 'button', class: cls || 'cs-btn', 'data-consentry-action': action, 'aria-label': label, text, on });
  const purposesOf = el => el.getAttribute('data-consent').split(/\s+/).filter(Boolean);

  // Push `arguments` as the loader's gtag does: Google's tags expect it.
  function gtag() {
    window.dataLayer.push(arguments);
  }

  function theme(el) {
    const t = C.theme || {}, c = t.colors || {};
    Object.entries({ bg: c.background, text: c.text, accent: c.accent, 'accent-text': c.accent_text, radius: t.radius != null && t.radius + 'px' })
      .forEach(([k, v]) => v && el.style.setProperty('--consentry-' + k, v));
  }

  function write() {
    const days = C.cookie.days && Math.min(C.cookie.days, J.cookie_days);
    document.cookie = C.cookie.name + '=' + core.encode(S) + ';path=/;SameSite=Lax' +
      (days ? ';max-age=' + days * 86400 : '') + (location.protocol === 'https:' ? ';Secure' : '');
  }

  function send(body, attempt = 0) {
    clearTimeout(timer);
    const settle = receipt => {
      if (S.p !== body) return;
      S.p = null;
      S.r = receipt || S.r;
      write();
    };
    return fetch(C.endpoint + '/consents', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': body.idempotency_key },
      body: JSON.stringify(body), credentials: 'omit', keepalive: true,
    }).then(r => {
      if (r.status === 429 || r.status >= 500) throw Error('consent POST ' + r.status);
      // 409: a retry of a choice already recorded (its answer was lost, e.g. to a reload).
      if (r.status === 201 || r.status === 409) {
        return r.json().then(j => { settle(j.receipt_id); if (j.receipt_id) emit('saved', { receipt: j.receipt_id }); }, () => settle());
      }
      settle();
      if (r.status !== 409 && !warned) warned = console.warn('Consentry: consent refused with', r.status) || 1;
    }).catch(e => {
      emit('error', { error: String(e) });
      if (S.p === body) timer = setTimeout(send, core.retryDelay(attempt), body, attempt + 1);
    });
  }

  // Inline gated scripts need a host CSP that allows inline scripts; data-src ones do not.
  function scan() {
    document.querySelectorAll(GATED).forEach(el => {
      const keys = purposesOf(el), ok = keys.every(k => G.includes(k)), src = el.getAttribute('data-src');
      if (el.tagName === 'SCRIPT') {
        if (!ok || (!src && document.readyState === 'loading')) return;
        const s = document.createElement('script');
        Array.from(el.attributes).forEach(a => a.name === 'type' || a.name === 'data-src' || s.setAttribute(a.name, a.value));
        if (src) {
          s.src = src;
          s.async = el.hasAttribute('async');
        } else s.text = el.text;
        el.type = 'text/x-consentry-done';
        keys.forEach(k => ran.add(k));
        el.after(s);
      } else if (ok) {
        if (placeholders.has(el)) placeholders.get(el).remove();
        placeholders.delete(el);
        if (el.getAttribute('src') !== src) el.src = src;
        el.style.removeProperty('display');
      } else if (el.tagName === 'IFRAME' && !placeholders.has(el)) {
        if (el.hasAttribute('src')) el.src = 'about:blank';
        el.style.setProperty('display', 'none', 'important');
        const ph = h('div', { class: 'consentry cs-ph' }, [
          h('p', { text: T.placeholder.replace('{purpose}', C.purposes.filter(p => keys.includes(p.key)).map(p => p.name).join(', ')) }),
          btn('allow', T.allow_and_load, () => decide(G.concat(keys), 'custom', 'first_layer')),
        ]);
        theme(ph);
        el.before(ph);
        placeholders.set(el, ph);
      }
    });
  }

  function purge() {
    const domains = [''], parts = location.hostname.split('.');
    for (; parts.length > 1; parts.shift()) domains.push(';domain=' + parts.join('.'));
    core.doomed(C, S.d, document.cookie.split(';').map(c => c.split('=')[0].trim()))
      .forEach(n => domains.forEach(d => { document.cookie = n + '=;max-age=0;path=/' + d; }));
  }

  function apply(before, toGoogle) {
    if (toGoogle) gtag('consent', 'update', core.consentModeValues(C, G));
    if (before.some(k => !G.includes(k))) purge();
    scan();
  }

  function decide(granted, action, layer) {
    const before = G;
    S = core.nextState(S, C, granted, action, Date.now(), gpcFx);
    G = S.g;
    S.p = core.postBody(C, S, action, layer, { gpc: gpcOn, dnt: navigator.doNotTrack === '1', url: location.href });
    write();
    send(S.p);
    apply(before, true);
    if (action !== 'gpc_opt_out') close();
    emit('change', getConsent());
    // Scripts cannot be un-run: reload once when a purpose whose scripts ran is denied (the keepalive POST survives it).
    if (Array.from(ran).some(k => !G.includes(k))) location.reload();
  }

  const rejectAll = layer => decide([], S && S.a && G.length > keysOf(C, p => p.locked).length ? 'withdraw' : 'reject_all', layer);

  function layer(name) {
    root.setAttribute('data-consentry-layer', name);
    reopen.hidden = name !== 'closed' || !S;
    if (name !== 'closed') emit('shown', { layer: name });
  }

  function close() {
    if (panel) panel.remove();
    if (modal) modal.remove();
    panel = modal = null;
    layer('closed');
  }

  const links = () => h('p', { class: 'cs-links' }, Object.keys(C.links || {}).filter(k => C.links[k])
    .map(k => h('a', { href: C.links[k], target: '_blank', rel: 'noopener', text: T[k] })));
  // The visitor's own proof of their last choice: the public receipt page on the Consentry host.
  const receipt = () => S && S.r && C.endpoint && h('p', { class: 'cs-links' }, [h('a', {
    href: C.endpoint.replace(/\/api\/.*/, '/r/') + S.r + '/', target: '_blank', rel: 'noopener', 'data-consentry-receipt': '', text: T.receipt })]);
  const gpcNote = () => gpcFx && J.gpc_status && h('p', { class: 'cs-gpc', 'data-consentry-gpc': 'honored', text: T.gpc_honored });

  // No close button: ignoring the banner is no consent.
  function showFirst() {
    close();
    const notice = J.model === 'opt_out';
    panelKind = notice ? 'notice' : 'first';
    panel = h('div', { class: 'cs-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'consentry-title', tabindex: '-1' }, [
      h('h2', { id: 'consentry-title', text: notice ? T.opt_out_title : T.title }),
      h('p', { text: notice ? T.opt_out_body : T.body }),
      gpcNote(),
      links(),
      !notice && h('p', { text: T.withdraw_note }),
      h('div', { class: 'cs-btns' }, notice ? [
        btn('do_not_sell', T.do_not_sell, () => decide(keysOf(C, p => !p.sale), 'do_not_sell_opt_out', 'opt_out_link')),
        btn('ok', T.ok, () => { S = core.nextState(S, C, G, null, Date.now(), gpcFx); write(); close(); }),
      ] : [
        btn('accept_all', T.accept_all, () => decide(keysOf(C), 'accept_all', 'first_layer')),
        btn('reject_all', T.reject_all, () => rejectAll('first_layer')),
        btn('preferences', T.preferences, () => showPreferences()),
      ]),
    ]);
    root.append(panel);
    layer(panelKind);
    const active = document.activeElement;
    if (!(active && active.closest && active.closest('form'))) panel.focus();
  }

  function showPreferences(uiLayer = 'second_layer') {
    if (modal) return;
    back = document.activeElement;
    const chosen = new Set(G), sale = keysOf(C, p => p.sale), optOut = J.model === 'opt_out';
    const items = C.purposes.map(p => {
      const id = 'consentry-p-' + p.key;
      const sw = h('button', {
        type: 'button', role: 'switch', class: 'cs-sw', 'aria-checked': String(chosen.has(p.key)), 'aria-labelledby': id,
        'data-consentry-purpose': p.key, disabled: p.locked || (gpcFx && p.sale),
        on: () => {
          if (!chosen.delete(p.key)) chosen.add(p.key);
          sw.setAttribute('aria-checked', chosen.has(p.key));
        },
      });
      return h('section', { class: 'cs-purpose' }, [
        h('div', { class: 'cs-row' }, [
          h('h3', { id, text: optOut && p.sale ? T.sale_label : p.name }),
          p.locked && h('span', { text: T.always_on }),
          sw,
        ]),
        h('p', { text: p.description }),
        p.vendors.length && h('p', { text: T.vendors + ': ' + p.vendors.join(', ') }),
        p.cookies.length && h('details', {}, [
          h('summary', { text: T.cookies + ' (' + p.cookies.length + ')' }),
          h('ul', {}, p.cookies.map(k => h('li', { text: [k.name, T.provider + ': ' + (k.provider || T.first_party),
            T.duration + ': ' + core.duration(T, C.lang, k.days), k.description].filter(Boolean).join(' · ') }))),
        ]),
      ]);
    });
    const dialog = h('div', { class: 'cs-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'consentry-ptitle', tabindex: '-1' }, [
      h('div', { class: 'cs-head' }, [h('h2', { id: 'consentry-ptitle', text: T.preferences_title }), btn('close', '×', closePreferences, 'cs-x', T.close)]),
      h('p', { text: T.preferences_body }),
      gpcNote(),
      links(),
      receipt(),
    ].concat(items, h('div', { class: 'cs-btns' }, [
      btn('save', T.save, () => decide(Array.from(chosen),
        optOut && sale.length && !sale.some(k => chosen.has(k)) ? 'do_not_sell_opt_out' : 'custom', uiLayer)),
      btn('accept_all', T.accept_all, () => decide(keysOf(C), 'accept_all', uiLayer)),
      btn('reject_all', T.reject_all, () => rejectAll(uiLayer)),
    ])));
    modal = h('div', { class: 'cs-modal' }, [dialog]);
    modal.addEventListener('keydown', e => {
      if (e.key === 'Escape') closePreferences();
      if (e.key !== 'Tab') return;
      const f = dialog.querySelectorAll('a[href],button:not([disabled]),summary'), first = f[0], last = f[f.length - 1];
      const at = document.activeElement;
      if (e.shiftKey ? at === first || at === dialog : at === last) {
        e.preventDefault();
        (e.shiftKey ? last : first).focus();
      }
    });
    root.append(modal);
    layer('preferences');
    dialog.focus();
  }

  function closePreferences() {
    modal.remove();
    modal = null;
    layer(panel ? panelKind : 'closed');
    if (back && back.isConnected) back.focus();
  }

  function getConsent() {
    if (!C || (J.model !== 'opt_out' && !(S && S.a))) return null;
    return {
      granted: G.slice(), denied: keysOf(C, p => !G.includes(p.key)), action: S ? S.a : null,
      at: S && S.at, receipt: (S && S.r) || null, jurisdiction: J.code,
    };
  }

  function init(config) {
    C = config;
    T = C.texts;
    J = C.jurisdiction;
    const m = document.cookie.match('(?:^|; )' + C.cookie.name + '=([^;]*)');
    S = m && core.decode(m[1]);
    gpcOn = navigator.globalPrivacyControl === true || !!C.gpc_header;
    gpcFx = gpcOn && J.gpc !== 'none';
    const ask = core.needsAsking(S, C, Date.now()), t = C.theme || {};
    G = core.initialGrants(C, ask ? null : S, gpcOn);

    root = h('div', { class: 'consentry cs-' + (t.layout || 'bar') + ' cs-' + (t.position || 'bottom'), dir: C.dir, lang: C.lang });
    theme(root);
    reopen = btn('reopen', '', () => showPreferences(), 'cs-reopen', T.reopen);
    const svg = 'http://www.w3.org/2000/svg';
    reopen.append(h('svg', { viewBox: '0 0 24 24', width: 24, height: 24, 'aria-hidden': 'true' },
      [h('path', { fill: 'currentColor', d: 'M12 2a10 10 0 1 0 10 10 4 4 0 0 1-5-5 4 4 0 0 1-5-5' }, [], svg)], svg));
    root.append(reopen);
    document.body.append(root);

    new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
    document.addEventListener('DOMContentLoaded', scan);
    document.addEventListener('click', e => {
      if (e.target.closest && e.target.closest('[data-consentry-open]')) {
        e.preventDefault();
        showPreferences();
      }
    });

    if (S && S.p) send(S.p);
    if (gpcFx && !(S && S.gpc && S.j === J.code)) decide(G, 'gpc_opt_out', 'signal');
    else apply([], (S && S.a && !ask) || J.model === 'opt_out');
    if (ask || core.needsNotice(S, C)) showFirst();
    else close();
    ready = true;
    emit('ready', getConsent());
    queue.splice(0).forEach(fn => fn(api));
  }

  const api = {
    show: () => showFirst(),
    showPreferences: () => showPreferences('api'),
    getConsent,
    acceptAll: () => decide(keysOf(C), 'accept_all', 'api'),
    rejectAll: () => rejectAll('api'),
    withdraw: () => rejectAll('api'),
    on(name, cb) {
      name = name.replace('consentry:', '');
      (listeners[name] = listeners[name] || []).push(cb);
      if (name === 'ready' && ready) cb(getConsent());
    },
    push: fn => (ready ? fn(api) : queue.push(fn)),
  };

  function start() {
    const cfg = window.ConsentryConfig, early = window.Consentry, de = document.documentElement;
    if (!cfg || (early && early.getConsent)) return;
    if (Array.isArray(early)) queue.push(...early);
    window.Consentry = api;
    window.dataLayer = window.dataLayer || [];
    const lang = de.getAttribute('data-consentry-lang') || (de.lang || navigator.language || '').split('-')[0];
    const url = cfg.config + (cfg.config.includes('?') ? '&' : '?') + 'lang=' + encodeURIComponent(lang);
    const css = new Promise(done => {
      if (!cfg.css) return done();
      const link = h('link', { rel: 'stylesheet', href: cfg.css });
      link.onload = link.onerror = done;
      document.head.append(link);
    });
    Promise.all([fetch(url, { credentials: 'omit' }).then(r => {
      if (!r.ok) throw Error('config ' + r.status);
      return r.json();
    }), css]).then(([config]) => {
      if (document.body) init(config);
      else document.addEventListener('DOMContentLoaded', () => init(config));
    }).catch(e => emit('error', { error: String(e) }));
  }

  if (typeof module === 'object' && module.exports) module.exports = core;
  else start();
})();
