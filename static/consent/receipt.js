/* Checks a consent receipt's proof in the reader's own browser, with nothing but Web Crypto:
   1. the record hashes to its leaf (RFC 6962: SHA-256 of 0x00 and the canonical JSON);
   2. the inclusion proof leads from that leaf to the checkpoint's root (RFC 9162, 2.1.3.2);
   3. the checkpoint, a C2SP signed note, names that size and root, and carries a signature
      line by the log's key (key name = the note's origin, key hash = the first 4 bytes of
      SHA-256(name, "\n", 0x01, public key)) whose Ed25519 signature over the note's text holds.
      Checkpoints made before the C2SP format carry a bare signature over their text instead.
   The proof comes from the public receipt endpoint; the page's own words are not trusted. */
(function () {
  'use strict';
  var box = document.getElementById('receipt-check');
  if (!box || !window.crypto || !window.crypto.subtle || !window.TextEncoder) return;
  box.hidden = false;
  var button = box.querySelector('button');
  var list = box.querySelector('.checks');
  var canonicalBox = document.querySelector('pre.canonical');
  var encoder = new TextEncoder();
  // The page's language, from a JSON block (data, never run): {name} placeholders filled here.
  var strings = JSON.parse(document.getElementById('receipt-strings').textContent);
  function say(key, values) {
    return strings[key].replace(/\{(\w+)\}/g, function (all, name) { return String(values[name]); });
  }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
  }
  function unhex(text) {
    var bytes = new Uint8Array(text.length / 2);
    for (var i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.substr(i * 2, 2), 16);
    return bytes;
  }
  function unbase64(text) {
    return Uint8Array.from(atob(text), function (c) { return c.charCodeAt(0); });
  }
  function base64(bytes) {
    return btoa(String.fromCharCode.apply(null, bytes));
  }
  function concat(parts) {
    var length = parts.reduce(function (n, part) { return n + part.length; }, 0);
    var all = new Uint8Array(length);
    var at = 0;
    parts.forEach(function (part) { all.set(part, at); at += part.length; });
    return all;
  }
  function sha256(parts) {
    return crypto.subtle.digest('SHA-256', concat(parts)).then(function (digest) { return new Uint8Array(digest); });
  }
  // The ledger's canonical form, RFC 8785 (JCS) for data without fractions: members sorted by
  // UTF-16 code units (what Array.prototype.sort does), strings as JSON.stringify writes them.
  function canonical(value) {
    if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
    if (value !== null && typeof value === 'object') {
      return '{' + Object.keys(value).sort().map(function (key) {
        return JSON.stringify(key) + ':' + canonical(value[key]);
      }).join(',') + '}';
    }
    return JSON.stringify(value);
  }
  var LEAF = new Uint8Array([0]);
  var NODE = new Uint8Array([1]);

  // RFC 9162, 2.1.3.2: the root an inclusion proof leads to, or null if it cannot be one.
  // Division, not bit shifts: indexes may pass 2^31.
  async function inclusionRoot(leaf, index, size, proof) {
    if (index >= size) return null;
    var fn = index;
    var sn = size - 1;
    var r = leaf;
    for (var i = 0; i < proof.length; i++) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256([NODE, proof[i], r]);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await sha256([NODE, r, proof[i]]);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  function report(passed, text) {
    var item = document.createElement('li');
    item.className = passed ? 'passed' : 'failed';
    item.textContent = text;
    list.appendChild(item);
    return passed;
  }
  function conclude(text, verdict) {
    var item = document.createElement('li');
    item.className = 'summary';
    item.dataset.verdict = verdict;
    item.textContent = text;
    list.appendChild(item);
  }

  async function check() {
    list.textContent = '';
    var response = await fetch(box.dataset.proofUrl, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!response.ok) throw new Error(say('error_status', { status: response.status }));
    var receipt = await response.json();
    var text = canonical(receipt.record);
    if (canonicalBox) { canonicalBox.textContent = text; canonicalBox.hidden = false; }
    var leaf = await sha256([LEAF, encoder.encode(text)]);
    var leafHex = hex(leaf);
    var ok = report(leafHex === receipt.leaf_sha256, leafHex === receipt.leaf_sha256
      ? say('step_leaf', { leaf: leafHex.slice(0, 16) })
      : say('step_leaf_bad', { leaf: leafHex.slice(0, 16), given: receipt.leaf_sha256.slice(0, 16) }));
    ok = report(receipt.record.receipt === receipt.receipt_id, say('step_receipt', {})) && ok;
    var checkpoint = receipt.checkpoint;
    if (!checkpoint) {
      conclude(say(ok ? 'verdict_pending' : 'verdict_mismatch', {}), ok ? 'pending' : 'failed');
      return;
    }
    var root = await inclusionRoot(leaf, receipt.leaf_index, checkpoint.tree_size,
      receipt.inclusion_proof.map(unhex));
    ok = report(root !== null && hex(root) === checkpoint.root_hash, say('step_inclusion', {
      size: checkpoint.tree_size, entry: receipt.leaf_index + 1, steps: receipt.inclusion_proof.length,
    })) && ok;
    // A C2SP note: the text ends at the first blank line; signature lines follow it.
    var c2sp = checkpoint.format === 'c2sp';
    var split = c2sp ? checkpoint.note.indexOf('\n\n') : -1;
    var text = c2sp ? checkpoint.note.slice(0, split + 1) : checkpoint.note;
    var lines = text.split('\n');
    ok = report(lines[1] === String(checkpoint.tree_size) && lines[2] === base64(unhex(checkpoint.root_hash)),
      say('step_note', {})) && ok;
    var keyBytes = unbase64(receipt.public_key || '');
    var keyId = hex(await sha256([keyBytes])).slice(0, 16);
    var signature = unbase64(checkpoint.signature);
    var signed = !c2sp || split > 0;
    if (c2sp && signed) {
      // The log's line: its name is the origin, its key hash names this key; the rest is the signature.
      var keyHash = (await sha256([encoder.encode(lines[0] + '\n'), new Uint8Array([1]), keyBytes])).slice(0, 4);
      var prefix = '\u2014 ' + lines[0] + ' ';
      var line = checkpoint.note.slice(split + 2).split('\n').filter(function (candidate) {
        if (candidate.indexOf(prefix) !== 0) return false;
        var raw = unbase64(candidate.slice(prefix.length));
        return raw.length === 68 && hex(raw.slice(0, 4)) === hex(keyHash);
      })[0];
      signed = line !== undefined;
      if (signed) signature = unbase64(line.slice(prefix.length)).slice(4);
    }
    try {
      var key = await crypto.subtle.importKey('raw', keyBytes, { name: 'Ed25519' }, false, ['verify']);
      signed = signed && await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, encoder.encode(text));
    } catch (error) {
      signed = false;
    }
    ok = report(signed && keyId === checkpoint.key_id,
      say('step_signature', { key: keyId, public: receipt.public_key })) && ok;
    conclude(say(ok ? 'verdict_verified' : 'verdict_failed', {}), ok ? 'verified' : 'failed');
  }

  button.addEventListener('click', function () {
    button.disabled = true;
    check().catch(function (error) {
      conclude(say('verdict_error', {}) + ' ' + error.message, 'error');
    }).then(function () { button.disabled = false; });
  });
})();
