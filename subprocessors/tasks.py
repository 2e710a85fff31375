"""Background tasks (Django Tasks API): notices by email (webhooks: consent.tasks).

Tasks take row ids (JSON-serialisable) and re-read the rows, so a queued task always works
on the committed state. With the database backend `manage.py db_worker` runs them; the
tests use the immediate backend, which runs them inline.
"""

import logging

from django_tasks import task

from consent.jobs import job_register
from subprocessors.models import SubprocessorListVersion, Subscriber, SubscriberStatus
from subprocessors.notices.services import (
    confirmation_email_send,
    notification_email_send,
    subprocessor_version_notify,
)

logger = logging.getLogger(__name__)


@job_register("subprocessors.version_notify")
@task()
def subprocessor_version_notify_task(version_id: int) -> None:
    version = SubprocessorListVersion.objects.select_related("site").get(pk=version_id)
    subprocessor_version_notify(version=version)


@job_register("subprocessors.notification_email_send")
@task()
def email_notification_send_task(version_id: int, subscriber_id: int) -> None:
    version = SubprocessorListVersion.objects.select_related("site").get(pk=version_id)
    subscriber = Subscriber.objects.select_related("site").filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status != SubscriberStatus.CONFIRMED:
        return  # unsubscribed (or erased) between publishing and sending
    notification_email_send(version=version, subscriber=subscriber)


@job_register("subprocessors.confirmation_email_send")
@task()
def confirmation_email_send_task(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.select_related("site").filter(pk=subscriber_id).first()
    if subscriber is not None and subscriber.status == SubscriberStatus.PENDING:
        confirmation_email_send(subscriber=subscriber)
