import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from consent.models import Purpose, Site

pytestmark = pytest.mark.django_db


def test_demo_data_is_created_once_and_serves_the_demo_page(client, tmp_path):
    password_file = tmp_path / "password"
    call_command("consent_demo", admin_password_file=str(password_file), stdout=open("/dev/null", "w"))
    call_command("consent_demo", admin_password_file=str(password_file), stdout=open("/dev/null", "w"))
    site = Site.objects.get(key="demo")
    assert site.enabled_languages == ["en", "ru"]
    purposes = Purpose.objects.filter(site=site).order_by("position")
    assert [purpose.key for purpose in purposes] == ["necessary", "preferences", "analytics", "marketing"]
    for purpose in purposes:
        assert sorted(purpose.translations.values_list("language", flat=True)) == ["en", "ru"]
    assert Purpose.objects.get(site=site, key="marketing").is_sale_or_share
    assert site.origins.count() == 2

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password(password_file.read_text().strip())
    assert client.login(username="admin", password=password_file.read_text().strip())
    assert client.get("/admin/").status_code == 200

    page = client.get("/demo/")
    assert page.status_code == 200
    assert b"Analytics" in page.content


def test_demo_documents_have_a_history_and_an_upcoming_material_version(client, tmp_path):
    password_file = tmp_path / "password"
    for _ in range(2):
        call_command("consent_demo", admin_password_file=str(password_file), stdout=open("/dev/null", "w"))
    from consent.models import PolicyVersion

    privacy = PolicyVersion.objects.filter(document__site__key="demo", document__slug="privacy-policy")
    assert privacy.count() == 3
    body = client.get("/api/public/v1/sites/demo/policies/privacy-policy").json()
    assert body["prevailing_language"] == "ru"
    assert body["in_force"]["number"] == 2
    assert [(v["number"], v["is_material"]) for v in body["upcoming"]] == [(3, True)]
    kinds = {d["kind"] for d in client.get("/api/public/v1/sites/demo/policies").json()["documents"]}
    assert kinds == {"privacy_policy", "cookie_policy", "california_notice", "pd_consent"}
    page = client.get("/s/demo/policies/privacy-policy/").content.decode()
    assert "Русский" in page  # the prevailing-language statement names Russian
    assert client.get("/s/demo/policies/pd-consent/").status_code == 200
    assert client.login(username="dpo@demo.example", password=password_file.read_text().strip())
