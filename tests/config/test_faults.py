"""A fault on a public endpoint is a JSON 500 naming an error id that the log carries too."""

import logging

import pytest

from consent.ledger import read_api

pytestmark = pytest.mark.django_db


def broken(**kwargs):
    raise RuntimeError("the database said something we never show")


def test_a_fault_on_the_public_api_is_a_json_500_with_an_error_id_in_the_log(client, monkeypatch, caplog):
    monkeypatch.setattr(read_api, "receipt_get", broken)
    with caplog.at_level(logging.ERROR, logger="edge.middleware"):
        response = client.get("/api/public/v1/receipts/AAAAAAAAAAAAAAAAAAAAAA")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    error_id = response["X-Error-Id"]
    body = response.json()["error"]
    assert body["code"] == "server_error" and error_id in body["message"]
    assert "never show" not in response.content.decode()
    logged = [record for record in caplog.records if error_id in record.getMessage()]
    assert logged and logged[0].exc_info is not None


def test_a_fault_on_a_page_is_left_to_django_s_own_500_handling(client, monkeypatch):
    from consent.policies import views as policy_views

    monkeypatch.setattr(policy_views, "site_get_by_key", broken)
    with pytest.raises(RuntimeError):  # the test client re-raises what Django's 500 handler got
        client.get("/s/demo/policies/")
