"""The public list over HTTP: HTML, JSON, Atom, caching, unknown sites."""

from datetime import timedelta

import feedparser
import pytest
from django.urls import reverse
from django.utils import timezone

from subprocessors.lists.services import subprocessor_list_publish
from tests.subprocessors.conftest import HOTJAR, vendor_make

pytestmark = pytest.mark.django_db


def page(site):
    return reverse("subprocessors:page", args=[site.key])


def test_the_page_shows_the_list_in_force_the_upcoming_addition_and_the_history(client, site, upcoming):
    response = client.get(page(site))
    assert response.status_code == 200
    html = response.content.decode()
    in_force, _, rest = html.partition("Get notified")
    assert "Upcoming changes" in in_force
    assert f'takes effect on <time datetime="{upcoming.effective_at:%Y-%m-%d}' in in_force
    assert "Added: <strong>Hotjar</strong>" in in_force
    assert "version 1, since" in in_force
    assert "Google Ireland Limited" in in_force and "YANDEX LLC" in in_force
    assert 'id="vendor-hotjar"' not in html  # not in force yet
    assert 'id="v2"' in rest and 'id="v1"' in rest
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["ETag"]
    assert b'name="viewport"' in response.content


def test_a_repeat_request_with_the_etag_gets_304_and_a_new_version_changes_it(client, site, published, owner):
    first = client.get(page(site))
    etag = first["ETag"]
    again = client.get(page(site), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""
    vendor_make(site, HOTJAR)
    subprocessor_list_publish(
        site=site, effective_at=timezone.now() + timedelta(days=31), change_note="", by=owner, ip=None
    )
    assert client.get(page(site), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_json_shows_in_force_and_upcoming_with_the_diff(client, site, published, upcoming):
    response = client.get(
        reverse("subprocessors:api-list", args=[site.key]), HTTP_ORIGIN="https://any.example"
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    data = response.json()
    assert data["in_force"]["number"] == 1
    assert [entry["key"] for entry in data["in_force"]["entries"]] == ["google", "yandex"]
    [coming] = data["upcoming"]
    assert coming["number"] == 2
    assert coming["effective_at"].startswith(f"{upcoming.effective_at:%Y-%m-%d}")
    assert [entry["key"] for entry in coming["diff"]["added"]] == ["hotjar"]
    etag = response["ETag"]
    cached = client.get(reverse("subprocessors:api-list", args=[site.key]), HTTP_IF_NONE_MATCH=etag)
    assert cached.status_code == 304


def test_the_versions_json_lists_history_and_one_version_with_entries(client, site, published, upcoming):
    data = client.get(reverse("subprocessors:api-versions", args=[site.key])).json()
    assert [(v["number"], v["is_in_force"], v["is_upcoming"]) for v in data["versions"]] == [
        (2, False, True),
        (1, True, False),
    ]
    assert data["versions"][0]["diff"]["summary"] == "Added: Hotjar."
    detail = client.get(reverse("subprocessors:api-version", args=[site.key, 2])).json()
    assert detail["number"] == 2
    assert detail["content_sha256"] == upcoming.content_sha256
    assert [entry["key"] for entry in detail["entries"]] == ["google", "hotjar", "yandex"]


def test_unknown_sites_and_versions_are_404_in_the_right_shape(client, site, published):
    for url in [
        "/api/public/v1/sites/nope/subprocessors",
        "/api/public/v1/sites/nope/subprocessors/versions",
        f"/api/public/v1/sites/{site.key}/subprocessors/versions/9",
        f"/api/public/v1/sites/{site.key}/subprocessors/versions/abc",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    html = client.get("/s/nope/subprocessors/")
    assert html.status_code == 404
    assert b"There is no site with this key." in html.content
    assert client.get("/s/nope/subprocessors/feed.atom").status_code == 404


def test_the_atom_feed_is_valid_atom_with_one_entry_per_version(client, site, published, upcoming):
    response = client.get(reverse("subprocessors:feed", args=[site.key]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id == f"tag:consentry,2026:subprocessors:{site.key}"
    assert [entry.id for entry in feed.entries] == [
        f"tag:consentry,2026:subprocessors:{site.key}:v2",
        f"tag:consentry,2026:subprocessors:{site.key}:v1",
    ]
    newest = feed.entries[0]
    assert "Added: Hotjar." in newest.summary
    assert f"Takes effect on {upcoming.effective_at:%Y-%m-%d}" in newest.summary
    assert newest.published_parsed[:3] == upcoming.published_at.timetuple()[:3]
    assert client.get(response.wsgi_request.path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_an_empty_list_still_renders(client, site):
    assert b"No list is in force yet." in client.get(page(site)).content
    assert client.get(reverse("subprocessors:api-list", args=[site.key])).json()["in_force"] is None
    assert feedparser.parse(client.get(reverse("subprocessors:feed", args=[site.key])).content).bozo == 0
