"""Who is told about a published list version: confirmed subscribers and active webhook endpoints."""

from django.db.models import QuerySet

from consent.models import Site
from subprocessors.models import (
    Subscriber,
    SubscriberStatus,
    WebhookEndpoint,
)


def subscriber_list_confirmed(*, site: Site) -> QuerySet[Subscriber]:
    return Subscriber.objects.filter(site=site, status=SubscriberStatus.CONFIRMED).order_by("pk")


def webhook_endpoint_list_active(*, site: Site) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(site=site, is_active=True).order_by("pk")
