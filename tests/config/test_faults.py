"""A fault on a public endpoint is a JSON 500 naming an error id that the log carries too."""

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

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


def test_with_the_database_down_every_api_answers_503_with_retry_after_not_500():
    # A real outage: the database is unreachable (nothing listens on port 1). The public reads,
    # the log's tiles and the management API (its token is looked up in the database) all tell
    # the client to retry, in the JSON error shape.
    script = textwrap.dedent(
        """
        import json

        import django

        django.setup()
        from django.test import Client

        client = Client()
        token = {"HTTP_AUTHORIZATION": "Bearer cst_abcdefgh_" + "A" * 43}
        paths = [
            "/api/public/v1/receipts/AAAAAAAAAAAAAAAAAAAAAA",
            "/api/public/v1/sites/shop/checkpoints",
            "/api/public/v1/sites/shop/policies",
            "/api/public/v1/sites/shop/subprocessors",
            "/log/shop/checkpoint",
        ]
        answers = {path: client.get(path) for path in paths}
        answers["/api/v1/sites"] = client.get("/api/v1/sites", **token)
        answers["/api/v1/sites/shop/cookies"] = client.post(
            "/api/v1/sites/shop/cookies", "{}", content_type="application/json", **token
        )
        print(json.dumps({
            path: [r.status_code, r.get("Retry-After"), r.get("Content-Type"), r.content.decode()]
            for path, r in answers.items()
        }))
        """
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "test-only",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing",
        "REDIS_URL": "",
    }
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(answers) == 7
    for path, (status_code, retry_after, content_type, content) in answers.items():
        assert (status_code, retry_after) == (503, "5"), (path, status_code, content)
        assert content_type.startswith("application/json"), path
        assert json.loads(content)["error"]["code"] == "unavailable", path
        assert "nobody" not in content and "port" not in content, path
