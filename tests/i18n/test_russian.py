"""A Russian DPO's back office and a Russian reader's public pages and emails: no English word of ours.

"Of ours": a message id of our catalogues (those Django translates itself are Django's). Each
page is rendered in Russian through the real stack (the admin's language cookie, `?lang=ru`
on the public pages, the language chosen at subscription for emails), its visible text is
collected, and no English message id of ours may appear in it.
"""

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from consent.catalogues import message_keys
from consent.ledger.services import consent_record_create
from consent.ledger.validation import consent_input_parse
from consent.models import AdminPreference, AuditEntry, Checkpoint, Role, SiteMembership
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.rules.geo import ResolutionMethod, jurisdiction_resolve
from consent.sites.selectors import site_snapshot
from consent.sites.services import site_create, site_origin_add
from subprocessors.lists.services import subprocessor_list_publish, vendor_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Message ids that read the same in Russian (names, formats) are not evidence of English.
SAME_IN_RUSSIAN = {"CSV", "JSON Lines"}


class VisibleText(HTMLParser):
    """The text a reader sees: text nodes outside script/style, and button and option labels."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def english_phrases() -> list[str]:
    """The literal fragments of our message ids (placeholders cut out), each one we check for."""
    russian = message_keys("ru")
    phrases = set()
    for key, message in message_keys("en").items():
        msgids = message.id if isinstance(message.id, tuple) else (message.id,)
        if key[1] in SAME_IN_RUSSIAN or key[0] == "banner":
            continue  # the banner's own words are checked in tests/cookies/test_banner_messages.py
        translated = russian[key].string
        for msgid in msgids:
            for fragment in re.split(r"%\([a-z_]+\)[sd]|\{[a-z_]*\}|<[^>]+>", msgid):
                fragment = fragment.strip(" .,:;()→—-")
                if fragment and fragment not in (
                    translated if isinstance(translated, str) else " ".join(translated)
                ):
                    phrases.add(fragment)
    return sorted(phrases, key=len, reverse=True)


def english_in(text: str) -> list[str]:
    found = []
    for phrase in english_phrases():
        if " " in phrase or len(phrase) >= 4:
            if re.search(rf"(?<![\w/-]){re.escape(phrase)}(?![\w/-])", text, re.IGNORECASE):
                found.append(phrase)
    return found


@pytest.fixture
def dpo():
    return UserFactory(username="dpo", is_superuser=False)


@pytest.fixture
def site(dpo):
    site = site_create(
        name="Магазин", key="shop", languages=["ru", "kk", "en"], default_language="ru", by=None
    )
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    return site


@pytest.fixture
def document(site, dpo):
    now = timezone.now()
    document = policy_document_create(site=site, kind="privacy_policy", by=None)
    for language, title, body in [
        ("ru", "Политика конфиденциальности", "Мы обрабатываем мало данных."),
        ("kk", "Құпиялылық саясаты", "Біз аз деректерді өңдейміз."),
        ("en", "Privacy", "Little."),
    ]:
        policy_text_set(document=document, language=language, title=title, body=body, by=None)
    policy_version_publish(
        document=document,
        effective_at=now - timedelta(days=1),
        by=dpo,
        now=now - timedelta(days=1),
        summary="Первая редакция",
    )
    return document


@pytest.fixture
def russian_client(client, dpo):
    client.force_login(dpo)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client


@pytest.fixture
def vendors(site, dpo):
    vendor_create(
        site=site,
        key="yandex",
        name="Яндекс Метрика",
        legal_entity="ООО «ЯНДЕКС»",
        address="Москва, ул. Льва Толстого, 16",
        contact="https://yandex.ru/legal/confidential/",
        purpose="Веб-аналитика.",
        locations=["FI"],
        category="analytics",
        by=None,
    )
    past = timezone.now() - timedelta(days=10)
    return subprocessor_list_publish(
        site=site, effective_at=past, change_note="Первая.", by=dpo, ip=None, now=past
    )


def record_in(site, language: str):
    """A decision taken in `language`, as the consent API writes it, then sealed into the log."""
    snapshot = site_snapshot(key=site.key)
    data = consent_input_parse(
        {
            "visitor_id": "visitor-000000000001",
            "action": "custom",
            "granted": [],
            "denied": [],
            "language": language,
            "ui_layer": "second_layer",
        },
        snapshot,
        gpc_header=True,
        idempotency_header=None,
    )
    record = consent_record_create(
        snapshot=snapshot,
        data=data,
        resolution=jurisdiction_resolve(
            request=RequestFactory().post("/", HTTP_CF_IPCOUNTRY="RU"), default_code="RU"
        ),
        ip="",
        user_agent="",
    )
    call_command("consent_seal", stdout=StringIO())
    return record


def assert_russian(response) -> str:
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    assert re.search(r"[а-яА-Я]", text)
    found = english_in(text)
    assert found == [], (found, text)
    return text


def test_the_admin_index_is_in_russian(russian_client, site):
    text = assert_russian(russian_client.get(reverse("admin:index")))
    assert "Управление согласиями" in text
    assert "Сайты" in text


def test_a_site_change_form_is_in_russian(russian_client, site):
    text = assert_russian(russian_client.get(reverse("admin:consent_site_change", args=[site.pk])))
    assert "Языки" in text


def test_the_policy_publish_page_is_in_russian(russian_client, document):
    url = reverse("admin:consent_policydocument_publish", args=[document.pk])
    text = assert_russian(russian_client.get(url))
    assert "Просмотр и публикация" in text


def test_the_policy_page_is_in_russian(client, document, site):
    response = client.get(f"/s/{site.key}/policies/{document.slug}/?lang=ru")
    text = assert_russian(response)
    assert response["Content-Language"] == "ru"
    assert "Действует с" in text


def test_the_subprocessor_page_is_in_russian_and_kazakh(client, site, vendors):
    page = reverse("subprocessors:page", args=[site.key])
    text = assert_russian(client.get(page, {"lang": "ru"}))
    assert "Обработчики персональных данных" in text
    kazakh = client.get(page, HTTP_ACCEPT_LANGUAGE="kk")
    assert kazakh["Content-Language"] == "kk"
    assert "қосалқы өңдеушілері" in kazakh.content.decode()
    assert 'lang="kk"' in kazakh.content.decode()


def test_the_subscription_email_is_in_the_language_of_the_page(
    client, site, vendors, django_capture_on_commit_callbacks
):
    page = reverse("subprocessors:page", args=[site.key])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{page}?lang=ru", {"email": "dpo@example.ru"})
    assert_russian(response)
    [message] = mail.outbox
    assert "Подтвердите подписку" in message.subject
    assert english_in(message.subject + "\n" + message.body) == []
    with translation.override("en"):  # what the reader picked, not what the server runs in
        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"{page}?lang=kk", {"email": "oqyrman@example.kz"})
    [kazakh] = mail.outbox
    assert "жазылуыңызды растаңыз" in kazakh.subject


def test_an_api_error_message_follows_the_language_and_the_code_stays_english(client):
    response = client.get("/api/public/v1/sites/nope/config", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["message"] == "Сайта с таким ключом нет."


def test_the_receipt_page_is_in_russian(client, site):
    record = record_in(site, "en")
    response = client.get(reverse("receipt-page", args=[record.receipt_id]), {"lang": "ru"})
    text = assert_russian(response)
    assert response["Content-Language"] == "ru"
    assert "Подтверждение согласия" in text and "Свой выбор" in text and "журнале согласий" in text
    strings = re.search(
        r'id="receipt-strings" type="application/json">(.*?)</script>', response.content.decode()
    )
    messages = " ".join(json.loads(strings[1]).values())  # the in-browser checks' words
    assert english_in(re.sub(r"\{\w+\}", "", messages)) == []


def test_the_receipt_page_follows_the_record_in_kazakh(client, site):
    record = record_in(site, "kk")
    response = client.get(reverse("receipt-page", args=[record.receipt_id]), HTTP_ACCEPT_LANGUAGE="ru")
    html = response.content.decode()
    assert response.status_code == 200 and '<html lang="kk" dir="ltr"' in html
    assert "Келісім түбіртегі" in html and "Жеке таңдау" in html
    assert english_in(visible_text(html)) == []


def test_a_consent_record_change_page_is_in_russian(russian_client, site):
    record = record_in(site, "ru")
    text = assert_russian(russian_client.get(reverse("admin:consent_consentrecord_change", args=[record.pk])))
    assert "Запись о согласии" in text or "запись о согласии" in text
    assert "Хеш листа" in text or "хеш листа" in text
    with translation.override("ru"):  # how the location was resolved: by its label, not its code
        assert str(ResolutionMethod(record.resolved_by).label) in text
    checkpoint = Checkpoint.objects.get(site=site)
    text = assert_russian(
        russian_client.get(reverse("admin:consent_checkpoint_change", args=[checkpoint.pk]))
    )
    assert "Контрольная точка" in text or "контрольная точка" in text
    assert "Сопутствующие подписи" in text  # the witnesses' inline, empty here
    for changelist in ("admin:consent_consentrecord_changelist", "admin:consent_checkpoint_changelist"):
        assert_russian(russian_client.get(reverse(changelist)))


def test_the_admin_language_follows_the_user_to_another_browser(dpo, site):
    first = Client()
    first.force_login(dpo)
    switched = first.post(reverse("set_language"), {"language": "ru", "next": reverse("admin:index")})
    assert switched.status_code == 302
    assert AdminPreference.objects.get(user=dpo).language == "ru"
    entry = AuditEntry.objects.get(action="user.admin_language_set")
    assert entry.actor == dpo and entry.data == {"language": [None, "ru"]}

    # Another browser: no language cookie, an English Accept-Language, a real login.
    second = Client(HTTP_ACCEPT_LANGUAGE="en")
    login = second.post(
        reverse("admin:login"),
        {"username": "dpo", "password": "correct horse battery staple", "next": reverse("admin:index")},
    )
    assert login.status_code == 302
    assert login.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"  # its login page, next time
    text = assert_russian(second.get(reverse("admin:index")))
    assert "Управление согласиями" in text

    # Choosing the same language again is no change: no second audit row.
    first.post(reverse("set_language"), {"language": "ru", "next": reverse("admin:index")})
    assert AuditEntry.objects.filter(action="user.admin_language_set").count() == 1


def test_the_consent_api_answers_in_the_request_language(client, site):
    site_origin_add(site=site, origin="https://shop.example.ru", by=None)
    response = client.post(
        f"/api/public/v1/sites/{site.key}/consents",
        {"visitor_id": "short", "action": "maybe", "language": "fr", "granted": ["nope"]},
        content_type="application/json",
        HTTP_ORIGIN="https://shop.example.ru",
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"  # codes stay English
    assert error["message"] == "Согласие некорректно; см. поля. Ничего не записано."
    assert set(error["fields"]) >= {"visitor_id", "action", "language", "ui_layer", "granted"}
    messages = [message for field in error["fields"].values() for message in field]
    assert english_in(" ".join(messages)) == [], messages
    assert "Неизвестные цели: nope." in messages
