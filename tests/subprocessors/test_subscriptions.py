"""Subscribing, double opt-in, notices on publish, unsubscribing, objections: over HTTP."""

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consent.models import AuditEntry, Role, SiteMembership
from subprocessors.models import (
    NotificationChannel,
    NotificationLog,
    NotificationStatus,
    Objection,
    ObjectionAnswer,
    SubprocessorListVersion,
    Subscriber,
    SubscriberStatus,
)
from subprocessors.notices.tokens import CONFIRM_SALT
from tests.factories import UserFactory
from tests.subprocessors.conftest import HOTJAR, links_in, vendor_make

pytestmark = pytest.mark.django_db


def page(site):
    return reverse("subprocessors:page", args=[site.key])


def subscribe_and_confirm(client, site, email, capture):
    with capture(execute=True):
        response = client.post(page(site), {"email": email})
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    message = mail.outbox[-1]
    assert message.to == [email]
    [confirm] = [link for link in links_in(message.body) if "/confirm/" in link]
    path = confirm.removeprefix("http://127.0.0.1:8000")
    shown = client.get(path)
    assert shown.status_code == 200 and b"Confirm subscription" in shown.content
    assert Subscriber.objects.get(email=email).status == SubscriberStatus.PENDING  # a GET never confirms
    assert client.post(path).status_code == 200
    assert Subscriber.objects.get(email=email).status == SubscriberStatus.CONFIRMED
    return path


def publish_over_admin(client, site, owner, effective_at, capture):
    client.force_login(owner)
    url = reverse("admin:subprocessors_publish")
    preview = client.get(url, {"site": site.pk})
    assert preview.status_code == 200
    with capture(execute=True):
        response = client.post(
            f"{url}?site={site.pk}",
            {
                "site": site.pk,
                "effective_at": effective_at.strftime("%Y-%m-%d %H:%M"),
                "change_note": "Hotjar.",
            },
        )
    client.logout()
    return preview, response


def test_publishing_emails_every_confirmed_subscriber_the_diff_and_the_date(
    client, site, owner, published, django_capture_on_commit_callbacks
):
    subscribe_and_confirm(client, site, "ana@example.org", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(site), {"email": "pending@example.org"})  # never confirms
    mail.outbox = []
    vendor_make(site, HOTJAR)
    effective = (timezone.now() + timedelta(days=31)).replace(second=0, microsecond=0)
    preview, response = publish_over_admin(client, site, owner, effective, django_capture_on_commit_callbacks)
    assert b"Added: <strong>Hotjar</strong>" in preview.content
    assert response.status_code == 302
    version = SubprocessorListVersion.objects.get(site=site, number=2)
    assert version.effective_at == effective

    [message] = mail.outbox
    assert message.to == ["ana@example.org"]
    assert "version 2" in message.subject
    assert f"It takes effect on {effective:%Y-%m-%d %H:%M} UTC." in message.body
    assert "Added: Hotjar." in message.body
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://127.0.0.1:8000/s/shop/subprocessors/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    [log] = NotificationLog.objects.filter(version=version)
    assert (log.channel, log.recipient, log.status) == (NotificationChannel.EMAIL, "ana@example.org", "sent")
    assert len(log.content_sha256) == 64
    entry = AuditEntry.objects.get(action="subprocessor_list.publish", data__number=2)
    assert entry.actor == owner


def test_a_too_early_addition_is_refused_in_the_admin_with_the_date(
    client, site, owner, published, django_capture_on_commit_callbacks
):
    vendor_make(site, HOTJAR)
    effective = timezone.now() + timedelta(days=3)
    _, response = publish_over_admin(client, site, owner, effective, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert b"at the earliest" in response.content
    assert b"adds Hotjar" in response.content
    assert SubprocessorListVersion.objects.filter(site=site).count() == 1


def test_a_viewer_cannot_publish(client, site, published):
    viewer = UserFactory(username="viewer")
    SiteMembership.objects.create(site=site, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    assert client.get(reverse("admin:subprocessors_publish")).status_code == 403


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "x" * 250 + "@example.com", "a@@example.com"])
def test_bad_emails_get_a_clear_error_and_nothing_is_saved(client, site, email):
    response = client.post(page(site), {"email": email})
    assert response.status_code == 400
    assert b"valid email address" in response.content or b"too long" in response.content
    assert b'role="alert"' in response.content
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_subscribing_is_rate_limited_per_address(client, site):
    for number in range(10):
        assert client.post(page(site), {"email": f"p{number}@example.org"}).status_code == 200
    response = client.post(page(site), {"email": "one-more@example.org"})
    assert response.status_code == 429
    assert not Subscriber.objects.filter(email="one-more@example.org").exists()


def test_subscribing_again_does_not_flood_the_mailbox(client, site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(site), {"email": "ana@example.org"})
        client.post(page(site), {"email": "ana@example.org"})
    assert len(mail.outbox) == 1
    assert Subscriber.objects.count() == 1


def test_forged_expired_and_replayed_confirmation_links(client, site, django_capture_on_commit_callbacks):
    path = subscribe_and_confirm(client, site, "ana@example.org", django_capture_on_commit_callbacks)
    again = client.post(path)
    assert again.status_code == 200 and b"already confirmed" in again.content
    assert Subscriber.objects.count() == 1

    forged = path.replace("/confirm/", "/confirm/x")
    response = client.post(forged)
    assert response.status_code == 400 and b"not valid" in response.content
    assert client.get(forged).status_code == 400

    subscriber = Subscriber.objects.get()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.core.signing.time.time", lambda: 0)
        old = signing.TimestampSigner(salt=CONFIRM_SALT).sign(subscriber.key)
    expired = client.post(reverse("subprocessors:confirm", args=[site.key, old]))
    assert expired.status_code == 400 and b"expired" in expired.content

    other_site_token = path.split("/confirm/")[1]
    assert client.post(f"/s/nope/subprocessors/confirm/{other_site_token}").status_code == 404


def test_one_click_unsubscribe_works_without_csrf_and_replays_are_harmless(
    client, site, owner, published, django_capture_on_commit_callbacks
):
    subscribe_and_confirm(client, site, "ana@example.org", django_capture_on_commit_callbacks)
    vendor_make(site, HOTJAR)
    publish_over_admin(
        client, site, owner, timezone.now() + timedelta(days=31), django_capture_on_commit_callbacks
    )
    link = mail.outbox[-1].extra_headers["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:8000")
    strict = Client(enforce_csrf_checks=True)
    shown = strict.get(link)
    assert shown.status_code == 200 and b"Unsubscribe" in shown.content
    assert Subscriber.objects.get().status == SubscriberStatus.CONFIRMED
    response = strict.post(
        link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED
    assert b"already unsubscribed" in strict.post(link).content
    assert strict.post(link[:-4] + "abc/").status_code == 400


def test_objections_are_recorded_once_before_the_addition_takes_effect_and_answered(
    client, site, owner, published, django_capture_on_commit_callbacks
):
    subscribe_and_confirm(client, site, "ana@example.org", django_capture_on_commit_callbacks)
    vendor_make(site, HOTJAR)
    publish_over_admin(
        client, site, owner, timezone.now() + timedelta(days=31), django_capture_on_commit_callbacks
    )
    [link] = [link for link in links_in(mail.outbox[-1].body) if "/object/" in link]
    path = link.removeprefix("http://127.0.0.1:8000")

    form = client.get(path)
    assert form.status_code == 200 and b"Object to Hotjar" in form.content
    empty = client.post(path, {"reason": "  "})
    assert empty.status_code == 400 and b"Tell us why" in empty.content
    assert not Objection.objects.exists()

    recorded = client.post(path, {"reason": "Session replays are too intrusive."})
    assert recorded.status_code == 201
    objection = Objection.objects.get()
    assert (objection.vendor_key, objection.email, objection.version.number) == (
        "hotjar",
        "ana@example.org",
        2,
    )
    assert objection.reason == "Session replays are too intrusive."

    replay = client.post(path, {"reason": "Again."})
    assert replay.status_code == 409 and b"already recorded" in replay.content
    assert Objection.objects.count() == 1

    assert client.post(path[:-4] + "AAAA/", {"reason": "x"}).status_code == 400

    client.force_login(owner)
    listing = client.get(reverse("admin:subprocessors_objection_changelist"))
    assert b"ana@example.org" in listing.content
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        answered = client.post(
            reverse("admin:subprocessors_objection_answer", args=[objection.pk]),
            {"text": "We will not use replays."},
        )
    assert answered.status_code == 302
    answer = ObjectionAnswer.objects.get()
    assert (answer.objection, answer.answered_by, answer.text) == (
        objection,
        owner,
        "We will not use replays.",
    )
    [message] = mail.outbox
    assert message.to == ["ana@example.org"] and "We will not use replays." in message.body
    detail = client.get(reverse("admin:subprocessors_objection_change", args=[objection.pk]))
    assert b"We will not use replays." in detail.content


def test_objecting_after_the_addition_took_effect_is_refused(
    client, site, owner, published, django_capture_on_commit_callbacks
):
    subscribe_and_confirm(client, site, "ana@example.org", django_capture_on_commit_callbacks)
    vendor_make(site, HOTJAR)
    publish_over_admin(
        client, site, owner, timezone.now() + timedelta(days=31), django_capture_on_commit_callbacks
    )
    [link] = [link for link in links_in(mail.outbox[-1].body) if "/object/" in link]
    path = link.removeprefix("http://127.0.0.1:8000")
    later = timezone.now() + timedelta(days=32)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: later)
        closed = client.post(path, {"reason": "Too late?"})
        assert client.get(path).status_code == 410
    assert closed.status_code == 410 and b"objections to this addition closed" in closed.content
    assert not Objection.objects.exists()


def test_notification_logs_are_read_only_for_the_dpo(
    client, site, owner, published, django_capture_on_commit_callbacks
):
    subscribe_and_confirm(client, site, "ana@example.org", django_capture_on_commit_callbacks)
    vendor_make(site, HOTJAR)
    publish_over_admin(
        client, site, owner, timezone.now() + timedelta(days=31), django_capture_on_commit_callbacks
    )
    client.force_login(owner)
    log = NotificationLog.objects.get()
    assert log.status == NotificationStatus.SENT
    listing = client.get(reverse("admin:subprocessors_notificationlog_changelist"))
    assert b"ana@example.org" in listing.content
    change = client.post(
        reverse("admin:subprocessors_notificationlog_change", args=[log.pk]), {"status": "failed"}
    )
    assert change.status_code == 403
    assert (
        client.post(reverse("admin:subprocessors_notificationlog_delete", args=[log.pk])).status_code == 403
    )


def test_people_who_subscribe_after_a_publication_get_no_old_notice(site, published):
    Subscriber.objects.create(
        site=site, email="late@example.org", status=SubscriberStatus.CONFIRMED, confirmed_at=timezone.now()
    )
    from subprocessors.notices.services import subprocessor_version_notify

    subprocessor_version_notify(version=published)
    assert mail.outbox == []
    assert not NotificationLog.objects.exists()
