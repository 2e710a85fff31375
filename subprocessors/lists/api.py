"""Public JSON for sub-processor lists: in force + upcoming, all versions, one version.

Read-only, no credentials, cacheable: any origin may read it (`*`, from the CORS middleware: edge/cors.py).
"""

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import Site
from consent.sites.selectors import site_get_by_key
from edge.api import PublicApiView
from edge.http import cache_public, not_modified_or_none
from subprocessors.lists.http import LIST_MAX_AGE, list_etag
from subprocessors.lists.selectors import (
    ListDiff,
    subprocessor_history,
    subprocessor_list_diff,
    subprocessor_list_in_force,
    subprocessor_list_upcoming,
    subprocessor_version_diff,
    subprocessor_version_get,
)
from subprocessors.models import SubprocessorListVersion


def _site(site_key: str) -> Site:
    site = site_get_by_key(key=site_key)
    if site is None:
        raise Http404
    return site


class VersionOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    effective_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    change_note = serializers.CharField()


class EntryOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    legal_entity = serializers.CharField()
    address = serializers.CharField()
    contact = serializers.CharField()
    website = serializers.CharField(allow_blank=True)
    privacy_policy_url = serializers.CharField(allow_blank=True)
    dpa_url = serializers.CharField(allow_blank=True)
    purpose = serializers.CharField(help_text="In the site's default language (`language`).")
    language = serializers.CharField(
        required=False,
        help_text="The language of `purpose`; absent in lists published before per-language texts.",
    )
    texts = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField()),
        required=False,
        help_text='The purpose per language: {"ru": {"purpose": "..."}}; absent in lists published before.',
    )
    data_categories = serializers.ListField(child=serializers.CharField())
    locations = serializers.ListField(child=serializers.CharField())
    transfer_mechanisms = serializers.ListField(child=serializers.CharField())
    transfer_assessment_ref = serializers.CharField(allow_blank=True)
    dpf_checked_on = serializers.CharField(allow_null=True)
    ru_cross_border_notified_on = serializers.CharField(allow_null=True)
    category = serializers.CharField()


class FieldChangeOutputSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField()
    new = serializers.JSONField()


class EntryChangeOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    fields = FieldChangeOutputSerializer(many=True)


class ListDiffOutputSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.DictField(), help_text="Entries, as in `entries`.")
    removed = serializers.ListField(child=serializers.DictField(), help_text="Entries, as in `entries`.")
    changed = EntryChangeOutputSerializer(many=True)
    summary = serializers.CharField()


class VersionWithEntriesOutputSerializer(VersionOutputSerializer):
    entries = EntryOutputSerializer(many=True)
    diff = ListDiffOutputSerializer(required=False)


class SubprocessorListOutputSerializer(serializers.Serializer):
    site = serializers.CharField()
    notice_period_days = serializers.IntegerField()
    in_force = VersionWithEntriesOutputSerializer(allow_null=True)
    upcoming = VersionWithEntriesOutputSerializer(
        many=True, help_text="Each with its diff from the one before."
    )


class VersionHistoryItemOutputSerializer(VersionOutputSerializer):
    diff = ListDiffOutputSerializer()
    is_in_force = serializers.BooleanField()
    is_upcoming = serializers.BooleanField()


class SubprocessorVersionListOutputSerializer(serializers.Serializer):
    site = serializers.CharField()
    versions = VersionHistoryItemOutputSerializer(many=True, help_text="Newest first.")


class SubprocessorVersionDetailOutputSerializer(VersionWithEntriesOutputSerializer):
    site = serializers.CharField()


def _version(
    version: SubprocessorListVersion, *, diff: ListDiff | None = None, entries: bool = True
) -> dict[str, Any]:
    data = dict(VersionOutputSerializer(version).data)
    if entries:
        data["entries"] = EntryOutputSerializer(version.entries, many=True).data
    if diff is not None:
        data["diff"] = diff.as_dict()
    return data


class _CachedListApi(PublicApiView):
    variant = ""

    def respond(self, request: Request, site: Site, build: Any) -> Response:
        etag = list_etag(site=site, variant=self.variant)
        cached = not_modified_or_none(request._request, etag, max_age=LIST_MAX_AGE)
        if cached is not None:
            return cached  # type: ignore[return-value]
        return cache_public(Response(build()), etag=etag, max_age=LIST_MAX_AGE)  # type: ignore[return-value]


class SubprocessorListApi(_CachedListApi):
    """The list in force now and the published versions still to take effect, with their diffs."""

    variant = "api-list"

    @extend_schema(
        operation_id="subprocessor_list", tags=["subprocessors"], responses=SubprocessorListOutputSerializer
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = _site(site_key)

        def build() -> dict[str, Any]:
            now = timezone.now()
            in_force = subprocessor_list_in_force(site=site, at=now)
            upcoming = []
            previous = in_force.entries if in_force else []
            for version in subprocessor_list_upcoming(site=site, at=now):
                diff = subprocessor_list_diff(old_entries=previous, new_entries=version.entries)
                upcoming.append(_version(version, diff=diff))
                previous = version.entries
            return {
                "site": site.key,
                "notice_period_days": site.notice_period_days,
                "in_force": _version(in_force) if in_force else None,
                "upcoming": upcoming,
            }

        return self.respond(request, site, build)


class SubprocessorVersionListApi(_CachedListApi):
    """Every published version, newest first, with what it changed (entries in the detail)."""

    variant = "api-versions"

    @extend_schema(
        operation_id="subprocessor_version_list",
        tags=["subprocessors"],
        responses=SubprocessorVersionListOutputSerializer,
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = _site(site_key)

        def build() -> dict[str, Any]:
            now = timezone.now()
            versions = []
            for version, diff in subprocessor_history(site=site):
                data = _version(version, diff=diff, entries=False)
                data["is_in_force"] = False
                data["is_upcoming"] = version.effective_at > now
                versions.append(data)
            in_force = next((v for v in versions if not v["is_upcoming"]), None)
            if in_force is not None:
                in_force["is_in_force"] = True
            return {"site": site.key, "versions": versions}

        return self.respond(request, site, build)


class SubprocessorVersionDetailApi(_CachedListApi):
    """One version with its entries and its diff against the version before it."""

    @extend_schema(
        operation_id="subprocessor_version",
        tags=["subprocessors"],
        responses=SubprocessorVersionDetailOutputSerializer,
    )
    def get(self, request: Request, site_key: str, number: int) -> Response:
        site = _site(site_key)
        version = subprocessor_version_get(site=site, number=number)
        if version is None:
            raise Http404
        self.variant = f"api-version-{number}"
        return self.respond(
            request,
            site,
            lambda: {"site": site.key, **_version(version, diff=subprocessor_version_diff(version=version))},
        )
