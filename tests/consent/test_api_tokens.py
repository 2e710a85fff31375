"""API tokens: made in the admin (shown once) or the shell, scoped to one site and a few scopes,
stored hashed, revocable, limited per token; `Authorization: Bearer`, and Basic auth is gone."""

import base64
import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from consent.models import ApiToken, AuditEntry, Role, SiteMembership
from consent.sites.services import site_create
from consent.tokens.services import token_create
from tests.config.test_api_errors import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return site_create(key="shop", name="Shop", origins=["https://shop.example"], by=None)


@pytest.fixture
def other():
    return site_create(key="other", name="Other", origins=["https://other.example"], by=None)


def member(site, role, username):
    user = UserFactory(username=username, is_staff=True)
    SiteMembership.objects.create(site=site, user=user, role=role)
    return user


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def shell_token(site_key, scopes, name="automation"):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "token_create", "--site", site_key, "--scopes", scopes, "--name", name, stdout=out, stderr=err
    )
    return out.getvalue().strip(), err.getvalue()


def test_a_shell_token_reads_its_own_site_only_and_is_stored_hashed(client, shop, other):
    raw, said = shell_token("shop", "read")
    assert re.fullmatch(r"cst_[a-z0-9]{8}_[A-Za-z0-9_-]{43}", raw)
    token = ApiToken.objects.get()
    assert "not shown again" in said and token.visible_prefix in said
    # Only the hash and the prefix are kept: the secret part is nowhere in the row.
    assert raw.split("_")[-1] not in repr(ApiToken.objects.values().get())
    assert token.secret_sha256 != raw and len(token.secret_sha256) == 64

    listed = client.get("/api/v1/sites", **bearer(raw))
    assert listed.status_code == 200
    assert [site["key"] for site in listed.json()["sites"]] == ["shop"]
    detail = client.get("/api/v1/sites/shop", **bearer(raw)).json()
    assert detail["key"] == "shop" and detail["scopes"] == ["read"] and detail["role"] is None
    # Another site is "not found", whether or not it exists.
    assert_error(client.get("/api/v1/sites/other", **bearer(raw)), 404, "not_found")
    assert_error(client.get("/api/v1/sites/nosuchsite", **bearer(raw)), 404, "not_found")
    assert ApiToken.objects.get().last_used_at is not None
    created = AuditEntry.objects.get(action="token.created")
    assert created.site == shop and created.actor is None and created.data["scopes"] == ["read"]


def test_a_missing_scope_is_a_403_naming_it(client, shop, records_none=None):
    raw, _ = shell_token("shop", "read")
    error = assert_error(
        client.get("/api/v1/sites/shop/consents/export?from=2026-01-01&to=2026-01-02", **bearer(raw)),
        403,
        "scope_missing",
    )
    assert "export" in error["message"]
    exporting, _ = shell_token("shop", "export", name="exports")
    answer = client.get(
        "/api/v1/sites/shop/consents/export?from=2026-01-01&to=2026-01-02", **bearer(exporting)
    )
    assert answer.status_code == 200
    b"".join(answer.streaming_content)
    audit = AuditEntry.objects.get(action="consent.export")
    assert audit.data["token"] == ApiToken.objects.get(name="exports").visible_prefix
    # A token without `read` lists no site.
    assert client.get("/api/v1/sites", **bearer(exporting)).json() == {"sites": []}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer cst_aaaaaaaa_" + "A" * 43,
        "Bearer not-a-token",
        "Bearer one two",
        "Basic " + base64.b64encode(b"admin:a-long-password-1").decode(),
    ],
)
def test_no_token_a_wrong_one_or_basic_auth_is_a_401_with_a_bearer_challenge(client, shop, header):
    UserFactory(username="admin", is_superuser=True, is_staff=True)  # Basic auth would have let it in
    response = client.get("/api/v1/sites", **({"HTTP_AUTHORIZATION": header} if header else {}))
    assert_error(response, 401, response.json()["error"]["code"])
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_and_expired_tokens_are_401(client, shop):
    owner = member(shop, Role.OWNER, "olga")
    token, raw = token_create(site=shop, name="ci", scopes=["read"], by=owner)
    assert client.get("/api/v1/sites/shop", **bearer(raw)).status_code == 200
    client.force_login(owner)
    changelist = "/admin/consent/apitoken/"
    response = client.post(changelist, {"action": "revoke_selected", "_selected_action": [token.pk]})
    assert response.status_code == 302
    client.logout()
    assert_error(client.get("/api/v1/sites/shop", **bearer(raw)), 401, "authentication_failed")
    revoked = AuditEntry.objects.get(action="token.revoked")
    assert revoked.actor == owner and revoked.data["token"] == token.visible_prefix

    soon, raw_soon = token_create(
        site=shop, name="short", scopes=["read"], by=owner, expires_at=timezone.now() + timedelta(hours=1)
    )
    assert client.get("/api/v1/sites/shop", **bearer(raw_soon)).status_code == 200
    ApiToken.objects.filter(pk=soon.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(client.get("/api/v1/sites/shop", **bearer(raw_soon)), 401, "authentication_failed")


def test_a_token_dies_with_its_creators_role(client, shop):
    owner = member(shop, Role.OWNER, "olga")
    _, raw = token_create(site=shop, name="ci", scopes=["read", "export"], by=owner)
    assert client.get("/api/v1/sites/shop", **bearer(raw)).status_code == 200
    SiteMembership.objects.filter(user=owner).update(role=Role.VIEWER)  # `export` is now wider than the role
    assert client.get("/api/v1/sites/shop", **bearer(raw)).status_code == 401
    SiteMembership.objects.filter(user=owner).delete()
    _, viewer_token = token_create(site=shop, name="ro", scopes=["read"], by=None)
    assert client.get("/api/v1/sites/shop", **bearer(viewer_token)).status_code == 200


def test_scopes_are_no_wider_than_the_role_and_viewers_make_none(shop):
    from django.core.exceptions import PermissionDenied, ValidationError

    viewer = member(shop, Role.VIEWER, "vera")
    with pytest.raises(PermissionDenied):
        token_create(site=shop, name="x", scopes=["read"], by=viewer)
    owner = member(shop, Role.OWNER, "olga")
    with pytest.raises(ValidationError) as refused:
        token_create(site=shop, name="x", scopes=["read", "sudo"], by=owner)
    assert "sudo" in str(refused.value)
    with pytest.raises(ValidationError):
        token_create(site=shop, name=" ", scopes=[], by=owner)
    with pytest.raises(ValidationError):
        token_create(site=shop, name="x", scopes=["read"], by=owner, expires_at=timezone.now())
    assert not ApiToken.objects.exists() and not AuditEntry.objects.filter(action="token.created").exists()


def test_the_admin_shows_a_new_token_once_and_never_again(client, shop, other):
    dpo = member(shop, Role.DPO, "dora")
    client.force_login(dpo)
    form = client.get("/admin/consent/apitoken/add/")
    assert form.status_code == 200
    # The site drop-down offers only the user's own sites.
    assert "Other" not in form.content.decode()
    made = client.post(
        "/admin/consent/apitoken/add/",
        {"site": shop.pk, "name": "sign-up backend", "scopes": ["consents:write", "read"], "expires_at": ""},
    )
    assert made.status_code == 200, made.content[:500]
    assert "no-store" in made["Cache-Control"]
    raw = re.search(r'value="(cst_[^"]+)"', made.content.decode())[1]
    token = ApiToken.objects.get()
    assert token.created_by == dpo and token.scopes == ["consents:write", "read"]
    page = client.get(f"/admin/consent/apitoken/{token.pk}/change/").content.decode()
    assert token.visible_prefix in page and raw not in page
    assert raw not in client.get("/admin/consent/apitoken/").content.decode()
    client.logout()
    assert client.get("/api/v1/sites/shop", **bearer(raw)).json()["role"] == Role.DPO
    # Another site's token cannot be made by a member of this one.
    client.force_login(dpo)
    refused = client.post(
        "/admin/consent/apitoken/add/", {"site": other.pk, "name": "x", "scopes": ["read"], "expires_at": ""}
    )
    assert refused.status_code == 200 and ApiToken.objects.count() == 1


def test_a_viewer_sees_tokens_but_cannot_make_or_revoke_them(client, shop):
    viewer = member(shop, Role.VIEWER, "vera")
    token, raw = token_create(site=shop, name="ci", scopes=["read"], by=None)
    client.force_login(viewer)
    assert client.get("/admin/consent/apitoken/").status_code == 200
    assert client.get("/admin/consent/apitoken/add/").status_code == 403
    client.post("/admin/consent/apitoken/", {"action": "revoke_selected", "_selected_action": [token.pk]})
    assert ApiToken.objects.get().revoked_at is None


@override_settings(API_TOKEN_RATE="3/min")
def test_each_token_has_its_own_rate_limit(client, shop):
    first, _ = shell_token("shop", "read", name="one")
    second, _ = shell_token("shop", "read", name="two")
    for _ in range(3):
        assert client.get("/api/v1/sites", **bearer(first)).status_code == 200
    refused = client.get("/api/v1/sites", **bearer(first))
    assert_error(refused, 429, "throttled")
    assert int(refused["Retry-After"]) > 0
    assert client.get("/api/v1/sites", **bearer(second)).status_code == 200


def test_token_create_refuses_an_unknown_site_or_scope(shop):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        shell_token("nosuchsite", "read")
    with pytest.raises(CommandError, match="Unknown scopes"):
        shell_token("shop", "read,everything")
    assert not ApiToken.objects.exists()


def test_token_create_for_a_member_acts_as_them(client, shop):
    dpo = member(shop, Role.DPO, "dora")
    dpo.email = "dora@shop.example"
    dpo.save()
    out, err = io.StringIO(), io.StringIO()
    arguments = ["--site", "shop", "--scopes", "read,publish", "--name", "ci", "--user", "DORA@shop.example"]
    call_command("token_create", *arguments, stdout=out, stderr=err)
    assert ApiToken.objects.get().created_by == dpo
    assert client.get("/api/v1/sites/shop", **bearer(out.getvalue().strip())).json()["role"] == Role.DPO
    viewer = member(shop, Role.VIEWER, "vera")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="owners and DPOs"):
        call_command(
            "token_create", "--site", "shop", "--scopes", "read", "--name", "x", "--user", viewer.username
        )
    with pytest.raises(CommandError, match="No user"):
        call_command("token_create", "--site", "shop", "--scopes", "read", "--name", "x", "--user", "nobody")
    assert ApiToken.objects.count() == 1
