"""Minimal rows for tests; real states are built through services."""

import factory
from django.contrib.auth import get_user_model

from consent.models import Purpose, PurposeTranslation, Role, Site, SiteMembership, SiteOrigin


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct horse battery staple")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Site {n}")
    default_language = "en"
    languages = factory.LazyFunction(lambda: ["en"])
    default_jurisdiction = "EU"


class SiteOriginFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SiteOrigin

    site = factory.SubFactory(SiteFactory)
    origin = factory.Sequence(lambda n: f"https://shop{n}.example.com")


class SiteMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SiteMembership

    site = factory.SubFactory(SiteFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class PurposeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purpose

    site = factory.SubFactory(SiteFactory)
    key = factory.Sequence(lambda n: f"purpose_{n}")


class PurposeTranslationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurposeTranslation

    purpose = factory.SubFactory(PurposeFactory)
    language = "en"
    name = factory.Sequence(lambda n: f"Purpose {n}")
    description = "What this purpose is for."
