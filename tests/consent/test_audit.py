"""Every change a person makes in the admin goes through a service and leaves an audit row;
role changes follow the site's rules, and a refusal writes nothing."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from consent.models import AuditEntry, Purpose, Role, Site, SiteMembership, SiteOrigin
from consent.sites.services import purpose_create, site_create, site_settings_update
from consent.tenancy.services import site_member_set, site_membership_role_change
from cookies.banner.services import banner_settings_ensure
from cookies.catalogue.services import cookie_create, cookie_update
from cookies.models import BannerText, Cookie
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga():
    return UserFactory(username="olga")


@pytest.fixture
def dora():
    return UserFactory(username="dora")


@pytest.fixture
def victor():
    return UserFactory(username="victor")


@pytest.fixture
def site(olga, dora, victor):
    site = site_create(name="Olga Shop", origins=["https://olga.example"], owner=olga, by=None)
    site_member_set(site=site, email=dora.email, role=Role.DPO, by=None)
    site_member_set(site=site, email=victor.email, role=Role.VIEWER, by=None)
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    return site


@pytest.fixture
def bob_site():
    bob = UserFactory(username="bob")
    return site_create(name="Bob Secret Bakery", origins=["https://bob.example"], owner=bob, by=None)


def site_post(site: Site) -> dict:
    """The site's change form as the admin renders it, with its origins and members inlines."""
    site.refresh_from_db()
    data = {
        "name": site.name,
        "default_language": site.default_language,
        "languages": site.languages,
        "default_jurisdiction": site.default_jurisdiction,
        "jurisdiction_overrides": json.dumps(site.jurisdiction_overrides),
        "data_residency": site.data_residency,
        "data_residency_note": site.data_residency_note,
        "consent_retention_days": site.consent_retention_days,
        "ip_storage": site.ip_storage,
        "notice_period_days": site.notice_period_days,
    }
    if site.store_user_agent:
        data["store_user_agent"] = "on"
    for prefix, rows, fields in (
        ("origins", site.origins.order_by("pk"), lambda row: {"origin": row.origin}),
        ("memberships", site.memberships.order_by("pk"), lambda row: {"role": row.role}),
    ):
        rows = list(rows)
        data[f"{prefix}-TOTAL_FORMS"] = len(rows)
        data[f"{prefix}-INITIAL_FORMS"] = len(rows)
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
        for index, row in enumerate(rows):
            data[f"{prefix}-{index}-id"] = row.pk
            data[f"{prefix}-{index}-site"] = site.pk
            data.update({f"{prefix}-{index}-{name}": value for name, value in fields(row).items()})
    return data


def row_add(data: dict, prefix: str, **values) -> None:
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data.update({f"{prefix}-{index}-{name}": value for name, value in values.items()})


def row_set(data: dict, prefix: str, pk: int, **values) -> None:
    index = next(key for key, value in data.items() if key.endswith("-id") and value == pk).split("-")[1]
    data.update({f"{prefix}-{index}-{name}": value for name, value in values.items()})


def site_change(client, site: Site, data: dict, follow: bool = True):
    return client.post(reverse("admin:consent_site_change", args=[site.pk]), data, follow=follow)


def membership_of(site: Site, user) -> SiteMembership:
    return SiteMembership.objects.get(site=site, user=user)


def test_the_audit_trail_shows_a_membership_change_an_origin_added_a_retention_change_and_a_publish(
    client, site, olga, victor
):
    client.force_login(olga)
    data = site_post(site)
    data["consent_retention_days"] = 400
    row_add(data, "origins", site=site.pk, origin="https://Shop.Olga.example")
    row_set(data, "memberships", membership_of(site, victor).pk, role=Role.OWNER)
    response = site_change(client, site, data, follow=False)
    assert response.status_code == 302, response.content.decode()[-3000:]
    settings_row = banner_settings_ensure(site=site)
    response = client.post(
        reverse("admin:cookies_banner_publish", args=[settings_row.pk]), {"change_note": "v1"}
    )
    assert response.status_code == 302

    trail = {entry.action: entry for entry in AuditEntry.objects.filter(site=site, actor=olga)}
    assert set(trail) >= {
        "site.settings_change",
        "site_origin.add",
        "site_membership.role_change",
        "banner_version.publish",
    }
    assert all(entry.actor_ip == "127.0.0.1" for entry in trail.values())
    assert trail["site.settings_change"].data == {"changes": {"consent_retention_days": [1095, 400]}}
    assert trail["site_origin.add"].target == "https://shop.olga.example"
    assert trail["site_membership.role_change"].target == victor.email
    assert trail["site_membership.role_change"].data["changes"] == {"role": ["viewer", "owner"]}
    assert trail["banner_version.publish"].data["number"] == 1
    site.refresh_from_db()
    assert site.consent_retention_days == 400
    assert membership_of(site, victor).role == Role.OWNER

    page = client.get(reverse("admin:consent_auditentry_changelist"), {"site__id__exact": site.pk})
    text = page.content.decode()
    for shown in ("site.settings_change", "consent_retention_days", "1095 → 400", "site_origin.add",
                  "site_membership.role_change", "banner_version.publish", "olga", "127.0.0.1"):  # fmt: skip
        assert shown in text, shown


def test_the_site_page_links_to_its_audit_trail_and_the_trail_is_filterable_by_site_and_action(
    client, site, olga
):
    client.force_login(olga)
    page = client.get(reverse("admin:consent_site_change", args=[site.pk])).content.decode()
    assert f"{reverse('admin:consent_auditentry_changelist')}?site__id__exact={site.pk}" in page
    listing = client.get(reverse("admin:consent_auditentry_changelist"), {"action": "site.create"})
    assert listing.status_code == 200
    shown = listing.context["cl"].result_list
    assert [(entry.site, entry.action) for entry in shown] == [(site, "site.create")]


def test_ip_storage_changed_in_the_admin_is_recorded_before_and_after(client, site, olga):
    client.force_login(olga)
    data = site_post(site)
    data["ip_storage"] = "none"
    del data["store_user_agent"]
    site_change(client, site, data)
    entry = AuditEntry.objects.get(site=site, action="site.settings_change")
    assert entry.data["changes"] == {"ip_storage": ["truncated", "none"], "store_user_agent": [True, False]}


def test_an_owner_cannot_make_themselves_dpo_by_editing_their_own_membership(client, site, olga):
    client.force_login(olga)
    before = AuditEntry.objects.count()
    data = site_post(site)
    data["consent_retention_days"] = 500  # saved in the same request: must be rolled back too
    row_set(data, "memberships", membership_of(site, olga).pk, role=Role.DPO)
    response = site_change(client, site, data)
    assert "Nobody can change their own role" in response.content.decode()
    assert membership_of(site, olga).role == Role.OWNER
    site.refresh_from_db()
    assert site.consent_retention_days == 1095
    assert AuditEntry.objects.count() == before


def test_an_owner_cannot_make_themselves_dpo_by_adding_a_second_membership_for_themselves(client, site, olga):
    client.force_login(olga)
    before = AuditEntry.objects.count()
    data = site_post(site)
    row_add(data, "memberships", site=site.pk, email=olga.email.upper(), role=Role.DPO)
    response = site_change(client, site, data)
    assert "only one role on a site" in response.content.decode()
    # The same request without the owner's existing row reaches the service, which refuses it.
    data = site_post(site)
    data.update({"memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0})
    row_add(data, "memberships", site=site.pk, email=olga.email, role=Role.DPO)
    response = site_change(client, site, data)
    assert "Nobody can change their own role" in response.content.decode()
    assert list(site.memberships.filter(user=olga).values_list("role", flat=True)) == [Role.OWNER]
    assert AuditEntry.objects.count() == before
    with pytest.raises(PermissionDenied):
        site_member_set(site=site, email=olga.email, role=Role.DPO, by=olga)


def test_an_owner_cannot_grant_dpo_to_someone_else_nor_take_it_away(client, site, olga, dora, victor):
    client.force_login(olga)
    before = AuditEntry.objects.count()
    data = site_post(site)
    row_set(data, "memberships", membership_of(site, victor).pk, role=Role.DPO)
    response = site_change(client, site, data)
    assert (
        "Only a DPO of this site or a superuser can grant or remove the DPO role" in response.content.decode()
    )
    data = site_post(site)
    row_add(data, "memberships", site=site.pk, email="newcomer@example.com", role=Role.DPO)
    site_change(client, site, data)
    data = site_post(site)
    row_set(data, "memberships", membership_of(site, dora).pk, DELETE="on")
    site_change(client, site, data)
    assert membership_of(site, victor).role == Role.VIEWER
    assert membership_of(site, dora).role == Role.DPO
    assert not SiteMembership.objects.filter(site=site, user__email="newcomer@example.com").exists()
    assert AuditEntry.objects.count() == before


def test_an_owner_manages_members_other_than_dpos(client, site, olga, victor):
    client.force_login(olga)
    data = site_post(site)
    row_add(data, "memberships", site=site.pk, email="vera@example.com", role=Role.VIEWER)
    row_set(data, "memberships", membership_of(site, victor).pk, DELETE="on")
    response = site_change(client, site, data, follow=False)
    assert response.status_code == 302
    assert not SiteMembership.objects.filter(site=site, user=victor).exists()
    actions = dict(AuditEntry.objects.filter(site=site, actor=olga).values_list("action", "target"))
    assert actions == {"site_membership.add": "vera@example.com", "site_membership.remove": victor.email}


def test_a_dpo_can_grant_the_dpo_role_but_not_change_the_sites_settings(client, site, dora, victor):
    client.force_login(dora)
    data = site_post(site)
    data["consent_retention_days"] = 400  # read-only for a DPO: ignored
    row_set(data, "memberships", membership_of(site, victor).pk, role=Role.DPO)
    response = site_change(client, site, data, follow=False)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert membership_of(site, victor).role == Role.DPO
    site.refresh_from_db()
    assert site.consent_retention_days == 1095
    entry = AuditEntry.objects.get(site=site, action="site_membership.role_change")
    assert (entry.actor, entry.actor_ip, entry.data["changes"]) == (
        dora,
        "127.0.0.1",
        {"role": ["viewer", "dpo"]},
    )
    with pytest.raises(PermissionDenied):
        site_settings_update(site=site, consent_retention_days=400, by=dora)


def test_a_dpo_cannot_change_their_own_role_either(client, site, dora):
    client.force_login(dora)
    data = site_post(site)
    row_set(data, "memberships", membership_of(site, dora).pk, role=Role.OWNER)
    response = site_change(client, site, data)
    assert "Nobody can change their own role" in response.content.decode()
    assert membership_of(site, dora).role == Role.DPO


def test_a_superuser_can_grant_the_dpo_role(admin_client, admin_user, site, victor):
    data = site_post(site)
    row_set(data, "memberships", membership_of(site, victor).pk, role=Role.DPO)
    response = site_change(admin_client, site, data, follow=False)
    assert response.status_code == 302
    assert membership_of(site, victor).role == Role.DPO
    assert AuditEntry.objects.get(site=site, action="site_membership.role_change").actor == admin_user


def test_a_viewer_cannot_change_anything(client, site, victor, olga):
    client.force_login(victor)
    before = AuditEntry.objects.count()
    data = site_post(site)
    data["consent_retention_days"] = 400
    row_set(data, "memberships", membership_of(site, olga).pk, role=Role.VIEWER)
    row_add(data, "origins", site=site.pk, origin="https://evil.example")
    site_change(client, site, data)
    purpose = Purpose.objects.get(site=site, key="analytics")
    client.post(reverse("admin:consent_purpose_change", args=[purpose.pk]), {"position": 1})
    client.post(reverse("admin:consent_purpose_delete", args=[purpose.pk]), {"post": "yes"})
    site.refresh_from_db()
    assert site.consent_retention_days == 1095
    assert membership_of(site, olga).role == Role.OWNER
    assert not SiteOrigin.objects.filter(origin="https://evil.example").exists()
    assert Purpose.objects.get(pk=purpose.pk).position == 100
    assert AuditEntry.objects.count() == before
    with pytest.raises(PermissionDenied):
        site_membership_role_change(membership=membership_of(site, olga), role=Role.VIEWER, by=victor)


def test_another_tenants_site_is_untouchable(client, site, bob_site, olga):
    client.force_login(olga)
    before = AuditEntry.objects.count()
    data = site_post(bob_site)
    data["consent_retention_days"] = 400
    row_add(data, "origins", site=bob_site.pk, origin="https://olga.example")
    response = site_change(client, bob_site, data, follow=False)
    assert response.status_code in (302, 403)
    bob_site.refresh_from_db()
    assert bob_site.consent_retention_days == 1095
    assert list(bob_site.origins.values_list("origin", flat=True)) == ["https://bob.example"]
    assert AuditEntry.objects.count() == before
    with pytest.raises(PermissionDenied):
        site_settings_update(site=bob_site, consent_retention_days=400, by=olga)
    with pytest.raises(PermissionDenied):
        site_member_set(site=bob_site, email="friend@example.com", role=Role.OWNER, by=olga)
    trail = client.get(reverse("admin:consent_auditentry_changelist")).content.decode()
    assert "Bob Secret Bakery" not in trail
    bob_entry = AuditEntry.objects.filter(site=bob_site).first()
    page = client.get(reverse("admin:consent_auditentry_change", args=[bob_entry.pk]), follow=True)
    assert "Bob Secret Bakery" not in page.content.decode()


def test_purpose_edits_in_the_admin_are_recorded_with_before_and_after(client, site, olga):
    client.force_login(olga)
    purpose = Purpose.objects.get(site=site, key="analytics")
    translation = purpose.translations.get()
    response = client.post(
        reverse("admin:consent_purpose_change", args=[purpose.pk]),
        {
            "is_sale_or_share": "on",
            "position": 7,
            "translations-TOTAL_FORMS": 2,
            "translations-INITIAL_FORMS": 1,
            "translations-0-id": translation.pk,
            "translations-0-purpose": purpose.pk,
            "translations-0-language": "en",
            "translations-0-name": "Audience measurement",
            "translations-0-description": translation.description,
            "translations-1-purpose": purpose.pk,
            "translations-1-language": "ru",
            "translations-1-name": "Аналитика",
            "translations-1-description": "Считает посещения.",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    entries = {entry.action: entry for entry in AuditEntry.objects.filter(site=site, actor=olga)}
    assert entries["purpose.change"].data["changes"] == {
        "is_sale_or_share": [False, True],
        "position": [100, 7],
    }
    assert entries["purpose_translation.change"].data["changes"] == {
        "name": ["Analytics", "Audience measurement"]
    }
    assert entries["purpose_translation.add"].target == "purpose analytics [ru]"


def test_a_site_created_in_the_admin_records_its_creation_owner_and_origins(client, site, olga):
    client.force_login(olga)
    response = client.post(
        reverse("admin:consent_site_add"),
        {
            "name": "Olga Blog", "key": "olga-blog", "default_language": "en", "languages": ["en"],
            "default_jurisdiction": "EU", "jurisdiction_overrides": "{}", "data_residency": "any",
            "data_residency_note": "", "consent_retention_days": 730, "ip_storage": "none",
            "notice_period_days": 30,
            "origins-TOTAL_FORMS": 1, "origins-INITIAL_FORMS": 0, "origins-0-origin": "https://blog.olga.example",
            "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0,
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[-3000:]
    new = Site.objects.get(key="olga-blog")
    actions = list(AuditEntry.objects.filter(site=new).order_by("pk").values_list("action", "actor"))
    assert actions == [
        ("site.create", olga.pk),
        ("site_membership.add", olga.pk),
        ("site_origin.add", olga.pk),
    ]
    created = AuditEntry.objects.get(site=new, action="site.create")
    assert created.data["consent_retention_days"] == 730
    assert created.data["ip_storage"] == "none"


def test_banner_texts_and_cookies_edited_in_the_admin_are_recorded_and_a_viewer_is_refused(
    client, site, olga, victor
):
    client.force_login(olga)
    add = client.post(
        reverse("admin:cookies_bannertext_add"),
        {"site": site.pk, "language": "en", "title": "Cookies", "body": "We ask first."},
    )
    assert add.status_code == 302, add.content.decode()[-3000:]
    text = BannerText.objects.get(site=site, language="en")
    client.post(
        reverse("admin:cookies_bannertext_change", args=[text.pk]),
        {"language": "en", "title": "Your choice", "body": "We ask first."},
    )
    purpose = Purpose.objects.get(site=site, key="analytics")
    cookie = cookie_create(site=site, purpose=purpose, name="_ga", description="Counts visits.", by=None)
    english = cookie.translations.get()
    changed = client.post(
        reverse("admin:cookies_cookie_change", args=[cookie.pk]),
        {
            "purpose": purpose.pk,
            "name": "_ga",
            "domain": "",
            "duration_days": 400,
            # The descriptions per language, inline: one changed, one added.
            "translations-TOTAL_FORMS": 2,
            "translations-INITIAL_FORMS": 1,
            "translations-0-id": english.pk,
            "translations-0-cookie": cookie.pk,
            "translations-0-language": "en",
            "translations-0-description": "Counts visits to the shop.",
            "translations-1-cookie": cookie.pk,
            "translations-1-language": "ru",
            "translations-1-description": "Считает посещения магазина.",
        },
    )
    assert changed.status_code == 302, changed.content.decode()[-3000:]
    entries = {entry.action: entry for entry in AuditEntry.objects.filter(site=site, actor=olga)}
    assert entries["banner_text.add"].data == {"language": "en", "title": "Cookies", "body": "We ask first."}
    assert entries["banner_text.change"].data["changes"] == {"title": ["Cookies", "Your choice"]}
    assert entries["cookie.change"].data["changes"] == {"duration_days": [None, 400]}
    assert entries["cookie_translation.change"].data["changes"] == {
        "description": ["Counts visits.", "Counts visits to the shop."]
    }
    assert entries["cookie_translation.add"].data == {
        "language": "ru",
        "description": "Считает посещения магазина.",
    }

    client.force_login(victor)
    before = AuditEntry.objects.count()
    client.post(reverse("admin:cookies_cookie_delete", args=[cookie.pk]), {"post": "yes"})
    assert Cookie.objects.filter(pk=cookie.pk).exists()
    with pytest.raises(PermissionDenied):
        cookie_update(cookie=cookie, duration_days=1, by=victor)
    assert AuditEntry.objects.count() == before


def test_a_bulk_delete_that_includes_a_refused_row_deletes_nothing(client, site, olga):
    client.force_login(olga)
    necessary = Purpose.objects.get(site=site, key="necessary")
    analytics = Purpose.objects.get(site=site, key="analytics")
    before = AuditEntry.objects.count()
    response = client.post(
        reverse("admin:consent_purpose_changelist"),
        {"action": "delete_selected", "_selected_action": [analytics.pk, necessary.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 403  # Django's own per-row permission check answers first
    assert Purpose.objects.filter(pk__in=[analytics.pk, necessary.pk]).count() == 2
    assert AuditEntry.objects.count() == before
