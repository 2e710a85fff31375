"""Security headers: a Content-Security-Policy on every HTML page (none on JSON or the loader), the
frame rule in step with X-Frame-Options, and the other headers kept."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.partition(" ")[2] for part in header.split("; ")}


def test_every_html_page_has_a_policy_without_unsafe_inline(client):
    for url in ("/", "/admin/login/", "/r/"):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response)
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'"  # no nonce asked for: no inline script anywhere
        assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
        assert policy["frame-ancestors"] == "'none'"
        assert "unsafe" not in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_json_endpoints_and_the_loader_carry_no_policy(client):
    assert "Content-Security-Policy" not in client.get("/healthz")
    assert "Content-Security-Policy" not in client.get("/api/public/v1/jurisdictions")
    assert "Content-Security-Policy" not in client.get("/c/nosuchsite.js")


def test_a_page_framed_by_its_own_origin_says_so_in_both_headers(client):
    response = client.get("/demo/embed/")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    policy = directives(response)
    assert policy["frame-ancestors"] == "'self'"
    # Its one inline style is allowed by this response's nonce, and only by it.
    nonce = policy["style-src"].split("'nonce-")[1].rstrip("'")
    assert f"<style nonce='{nonce}'>" in response.content.decode()
    assert client.get("/demo/embed/")["Content-Security-Policy"] != response["Content-Security-Policy"]


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_SSL_REDIRECT=False)
def test_hsts_is_kept_beside_the_policy(client):
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Content-Security-Policy" in response
