"""Who is told about a published list version by email: its confirmed subscribers."""

from django.db.models import QuerySet

from consent.models import Site
from subprocessors.models import (
    Subscriber,
    SubscriberStatus,
)


def subscriber_list_confirmed(*, site: Site) -> QuerySet[Subscriber]:
    return Subscriber.objects.filter(site=site, status=SubscriberStatus.CONFIRMED).order_by("pk")
