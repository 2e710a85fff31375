"""What an attacker sends to the public endpoints: every answer a 4xx JSON error, nothing written.

The cases the fuzzer (fuzz/run.py) and hand testing found, kept as parametrised HTTP tests so they
stay fixed on SQLite and PostgreSQL alike.
"""

import json

import pytest

from consent.models import ConsentRecord
from tests.consent.test_ledger import ORIGIN, body, post, site  # noqa: F401 (site is a fixture)

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        pytest.param(DEEP, 400, id="1000 nested brackets"),
        pytest.param(
            '{"versions": ' + "{" * 1000 + "}" * 1000 + "}", 400, id="1000 nested objects in a field"
        ),
        pytest.param(
            json.dumps(body(versions={"policies": {"a": {"b": {"c": {"d": {"e": 1}}}}}})), 400, id="deep"
        ),
        pytest.param(json.dumps(body(action=["x"])), 400, id="action a list"),
        pytest.param(json.dumps(body(action={})), 400, id="action an object"),
        pytest.param(json.dumps(body(action=["accept_all"], denied=[])), 400, id="action a list, no denials"),
        pytest.param(json.dumps(body(ui_layer=["banner"])), 400, id="layer a list"),
        pytest.param(json.dumps(body(language={"en": 1})), 400, id="language an object"),
        pytest.param(json.dumps(body(granted={"analytics": True})), 400, id="granted an object"),
        pytest.param(json.dumps(body(granted="analytics")), 400, id="granted a string"),
        pytest.param(json.dumps(body(denied=[1, 2])), 400, id="denied numbers"),
        pytest.param(json.dumps(body(versions=[1])), 400, id="versions a list"),
        pytest.param(json.dumps(body(versions={"policies": ["privacy-policy"]})), 400, id="policies a list"),
        pytest.param(
            json.dumps(body(versions={"policies": {"privacy-policy": "1"}})), 400, id="number a string"
        ),
        pytest.param(json.dumps(body(gpc="true")), 400, id="gpc a string"),
        pytest.param(json.dumps(body(visitor_id=12345678901234567)), 400, id="visitor id a number"),
        pytest.param(json.dumps(body(idempotency_key=12345678)), 400, id="idempotency key a number"),
        pytest.param(json.dumps(body(idempotency_key=[])), 400, id="idempotency key an empty list"),
        pytest.param(json.dumps(body(page_url=f"{ORIGIN}/a\x00b")), 400, id="NUL in page_url"),
        pytest.param(json.dumps(body(page_url=f"{ORIGIN}/\ud800")), 400, id="lone surrogate in page_url"),
        pytest.param(json.dumps({**body(), "x\x00": 1}), 400, id="NUL in a key"),
        pytest.param(json.dumps(body(page_url="https://[::1")), 400, id="unclosed IPv6 bracket in page_url"),
        pytest.param(json.dumps(body(page_url=f"{ORIGIN}/" + "a" * 9000)), 413, id="huge body"),
        pytest.param('{"gpc": ' + "9" * 5000 + "}", 400, id="a 5000-digit number"),
        pytest.param(b"\xff\xfe{}", 400, id="not UTF-8"),
        pytest.param("null", 400, id="null"),
        pytest.param('"a string"', 400, id="a string"),
        pytest.param("NaN", 400, id="NaN"),
        pytest.param(" ", 400, id="only whitespace"),
    ],
)
def test_hostile_consent_bodies_are_a_4xx_json_error_and_write_nothing(client, site, payload, status):  # noqa: F811
    response = post(client, payload)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize("declared", ["abc", "-1", "1e9", " "])
def test_a_malformed_content_length_is_not_a_server_error(client, site, declared):  # noqa: F811
    response = post(client, json.dumps(body()), HTTP_CONTENT_LENGTH=declared)
    assert response.status_code < 500, response.content


def test_the_nul_and_deep_checks_leave_a_valid_consent_alone(client, site):  # noqa: F811
    assert post(client, body()).status_code == 201


@pytest.mark.parametrize("query", ["", "?before=1", "?limit=1&before=1"])
def test_an_empty_checkpoints_page_is_an_empty_list(client, site, query):  # noqa: F811
    response = client.get(f"/api/public/v1/sites/shop/checkpoints{query}")
    assert response.status_code == 200, response.content
    assert response.json()["checkpoints"] == []


def test_an_unclosed_ipv6_bracket_in_page_url_is_named_as_the_page_url_not_as_bad_json(client, site):  # noqa: F811
    response = post(client, json.dumps(body(page_url="https://[::1")))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"page_url": ["Give an absolute http(s) URL."]}
