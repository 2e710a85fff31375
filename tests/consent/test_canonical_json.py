"""Canonical JSON is RFC 8785 (JCS) for the values our hashes cover: checked against the RFC's vectors."""

import json

from consent.editions import canonical_json


def test_members_are_sorted_by_utf16_code_units_as_rfc_8785_section_3_2_3_shows():
    # RFC 8785 3.2.3's sorting example: the emoji (U+1F600, UTF-16 D83D DE00) sorts before
    # U+FB33, although its code point is larger.
    value = json.loads(
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",'
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",'
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}'
    )
    names = list(json.loads(canonical_json(value)))
    assert names == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_strings_are_escaped_as_rfc_8785_section_3_2_2_2_shows():
    # RFC 8785 3.2.2.2's example string: "€$\u000f\nA'B\"\\\\\"/" becomes this.
    value = {"string": '\u20ac$\u000f\nA\'B"\\\\"/'}
    assert canonical_json(value) == '{"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'.encode()
    assert canonical_json("\b\t\n\f\r\u001f\u007f\u2028") == b'"\\b\\t\\n\\f\\r\\u001f\x7f\xe2\x80\xa8"'


def test_literals_integers_and_nesting_are_written_as_rfc_8785_writes_them():
    # RFC 8785 3.2.2's example, without its floats (our hashed data carries none).
    value = {"literals": [None, True, False], "numbers": [333333333, 4, 0, -1], "string": "x"}
    assert (
        canonical_json(value) == b'{"literals":[null,true,false],"numbers":[333333333,4,0,-1],"string":"x"}'
    )
    nested = {"b": {"z": 1, "a": [{"y": "\u00e9", "x": None}]}, "a": -9007199254740991}
    assert canonical_json(nested) == '{"a":-9007199254740991,"b":{"a":[{"x":null,"y":"é"}],"z":1}}'.encode()


def test_a_ledger_leaf_is_the_same_bytes_either_way_of_sorting():
    leaf = {"v": 1, "page": "https://shop.example/caf\u00e9", "granted": ["analytics"], "versions": {"b": 1}}
    assert (
        canonical_json(leaf)
        == json.dumps(leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
