/* Checks the signed inclusion promise the visitor's browser kept, given in the address's
   fragment (#promise=<base64url of the note>), which never reaches the server:
   1. the note is a C2SP signed note whose Ed25519 signature holds under one of the site's log
      keys (from the public checkpoints endpoint), checked here with Web Crypto;
   2. the ledger answers what became of it (POST /api/public/v1/promises/check): included,
      pending, overdue, altered, purged, or removed. A valid promise of a record the ledger no
      longer has is evidence of removal, and the page says so. */
(function () {
  'use strict';
  var box = document.getElementById('receipt-promise');
  var match = /^#promise=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  if (!box || !match || !window.crypto || !window.crypto.subtle || !window.TextEncoder) return;
  var list = box.querySelector('.checks');
  var encoder = new TextEncoder();
  var strings = JSON.parse(document.getElementById('receipt-strings').textContent);
  function say(key, values) {
    return strings[key].replace(/\{(\w+)\}/g, function (all, name) { return String(values[name]); });
  }
  function bytesOf(binary) {
    return Uint8Array.from(binary, function (c) { return c.charCodeAt(0); });
  }
  function equal(a, b) {
    return a.length === b.length && a.every(function (byte, i) { return byte === b[i]; });
  }
  function item(kind, text, state) {
    var entry = document.createElement('li');
    entry.className = kind;
    if (state) entry.dataset.state = state;
    entry.textContent = text;
    list.appendChild(entry);
  }

  // The note's text, and its signature lines as {name, hash (4 bytes), signature (64 bytes)}.
  function split(note) {
    var at = note.lastIndexOf('\n\n');
    if (at < 0 || note.slice(-1) !== '\n') throw new Error(say('error_note', {}));
    var signatures = note.slice(at + 2, -1).split('\n').map(function (line) {
      var parts = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
      if (!parts) throw new Error(say('error_note', {}));
      var raw = bytesOf(atob(parts[2]));
      return { name: parts[1], hash: raw.slice(0, 4), signature: raw.slice(4) };
    });
    return { text: note.slice(0, at + 1), signatures: signatures };
  }

  // True if a signature by the log's name verifies under one of the site's keys (C2SP key hash:
  // the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key)).
  async function signedByLog(parsed, origin, publicKeys) {
    for (var k = 0; k < publicKeys.length; k++) {
      var raw = bytesOf(atob(publicKeys[k]));
      var hash = new Uint8Array(await crypto.subtle.digest('SHA-256',
        new Uint8Array([].concat(Array.from(encoder.encode(origin + '\n')), [1], Array.from(raw))))).slice(0, 4);
      var key = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
      for (var s = 0; s < parsed.signatures.length; s++) {
        var line = parsed.signatures[s];
        if (line.name === origin && equal(line.hash, hash) &&
            await crypto.subtle.verify({ name: 'Ed25519' }, key, line.signature, encoder.encode(parsed.text))) {
          return publicKeys[k];
        }
      }
    }
    return null;
  }

  async function check() {
    var note = new TextDecoder().decode(bytesOf(atob(match[1].replace(/-/g, '+').replace(/_/g, '/'))));
    var parsed = split(note);
    var lines = parsed.text.split('\n');
    if (lines[0] !== 'consentry/promise/v1' || lines.length !== 7) throw new Error(say('error_note', {}));
    var origin = lines[1];
    var siteKey = origin.slice(origin.lastIndexOf('/') + 1);
    var keysUrl = box.dataset.checkUrl.replace(/promises\/check$/, 'sites/' + encodeURIComponent(siteKey) + '/checkpoints?limit=1');
    var keys = await fetch(keysUrl, { cache: 'no-store' }).then(function (response) {
      if (!response.ok) throw new Error(say('error_status', { status: response.status }));
      return response.json();
    });
    var signer = await signedByLog(parsed, origin, keys.keys.map(function (key) { return key.public_key; }));
    item(signer ? 'passed' : 'failed', signer ? say('promise_signed', { key: signer }) : say('promise_unsigned', {}));
    if (box.dataset.receipt) item(lines[2] === box.dataset.receipt ? 'passed' : 'failed', say('promise_receipt', { receipt: lines[2] }));
    if (!signer) return;
    // The API's error messages in the page's language (?lang=), not the browser's.
    var response = await fetch(box.dataset.checkUrl + '?lang=' + encodeURIComponent(box.dataset.lang || 'en'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ note: note }),
      cache: 'no-store',
    });
    var answer = await response.json();
    if (!response.ok) throw new Error((answer.error && answer.error.message) || String(response.status));
    item('summary', say('promise_' + answer.state, {
      time: answer.promised_at, due: answer.due_at, index: answer.leaf_index,
      size: answer.checkpoint ? answer.checkpoint.tree_size : '', receipt: answer.receipt_id,
      delay: answer.merge_delay_seconds,
    }), answer.state);
  }

  box.hidden = false;
  check().catch(function (error) {
    item('summary', say('promise_error', {}) + ' ' + error.message, 'error');
  });
})();
