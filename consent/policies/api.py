"""Public JSON twins of the policy pages: documents, versions and diffs."""

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import PolicyDocument, PolicyVersion
from consent.policies.selectors import (
    policy_document_get,
    policy_document_list,
    policy_timeline,
    policy_version_diff,
    policy_version_get,
)
from consent.sites.selectors import site_get_by_key
from edge.api import PublicApiView
from edge.http import cache_public, etag_for, not_modified_or_none


class PolicyVersionSummaryOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    effective_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    is_material = serializers.BooleanField()
    change_kinds = serializers.ListField(child=serializers.CharField())
    affected_purposes = serializers.ListField(child=serializers.CharField())
    summary = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())


class PolicyVersionFullOutputSerializer(PolicyVersionSummaryOutputSerializer):
    prevailing_language = serializers.CharField()
    texts = serializers.DictField(
        child=serializers.DictField(), help_text="Language -> its title, Markdown source and rendered HTML."
    )


class PolicyDocumentSummaryOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    kind = serializers.CharField()
    jurisdictions = serializers.ListField(child=serializers.CharField())
    prevailing_language = serializers.CharField()


class PolicyDocumentListItemOutputSerializer(PolicyDocumentSummaryOutputSerializer):
    in_force = PolicyVersionSummaryOutputSerializer(allow_null=True)
    upcoming = PolicyVersionSummaryOutputSerializer(many=True)


class PolicyDocumentListOutputSerializer(serializers.Serializer):
    site = serializers.CharField()
    documents = PolicyDocumentListItemOutputSerializer(many=True)


class PolicyDocumentOutputSerializer(PolicyDocumentSummaryOutputSerializer):
    in_force = PolicyVersionFullOutputSerializer(allow_null=True)
    upcoming = PolicyVersionSummaryOutputSerializer(many=True)
    history = PolicyVersionSummaryOutputSerializer(many=True)


class PolicyVersionOutputSerializer(PolicyDocumentSummaryOutputSerializer, PolicyVersionFullOutputSerializer):
    pass


class PolicyWordChangeOutputSerializer(serializers.Serializer):
    op = serializers.CharField()
    text = serializers.CharField()


class PolicyDiffBlockOutputSerializer(serializers.Serializer):
    op = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()
    words = PolicyWordChangeOutputSerializer(many=True)


class PolicyLanguageDiffOutputSerializer(serializers.Serializer):
    language = serializers.CharField()
    old_title = serializers.CharField()
    new_title = serializers.CharField()
    blocks = PolicyDiffBlockOutputSerializer(many=True)


class PolicyDiffOutputSerializer(PolicyDocumentSummaryOutputSerializer):
    languages = PolicyLanguageDiffOutputSerializer(many=True)

    def get_fields(self) -> dict[str, Any]:
        # `from` is a Python keyword: the field names are set here.
        fields = super().get_fields()
        fields["from"] = PolicyVersionSummaryOutputSerializer()
        fields["to"] = PolicyVersionSummaryOutputSerializer()
        return fields


def _version_summary(version: PolicyVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "published_at": version.published_at,
        "effective_at": version.effective_at,
        "content_sha256": version.content_sha256,
        "is_material": version.is_material,
        "change_kinds": version.change_kinds,
        "affected_purposes": version.affected_purposes,
        "summary": version.change_note,
        "languages": version.languages,
    }


def _version_full(version: PolicyVersion) -> dict[str, Any]:
    return {
        **_version_summary(version),
        "prevailing_language": version.prevailing_language,
        "texts": version.texts,
    }


def _document_summary(document: PolicyDocument) -> dict[str, Any]:
    return {
        "slug": document.slug,
        "kind": document.kind,
        "jurisdictions": document.jurisdictions,
        "prevailing_language": document.prevailing_language,
    }


def _public_document(site_key: str, slug: str) -> PolicyDocument:
    site = site_get_by_key(key=site_key)
    document = policy_document_get(site=site, slug=slug) if site else None
    if document is None:
        raise Http404
    return document


def _cached_json(request: Request, data: Any, etag: str, max_age: int = 300) -> Response:
    if cached := not_modified_or_none(request._request, etag):
        return cached  # type: ignore[return-value]
    return cache_public(Response(data), etag=etag, max_age=max_age)  # type: ignore[return-value]


class PolicyDocumentListApi(PublicApiView):
    """A site's documents with the version in force and any upcoming one."""

    @extend_schema(
        operation_id="policy_list", tags=["policies"], responses=PolicyDocumentListOutputSerializer
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = site_get_by_key(key=site_key)
        if site is None:
            raise Http404
        now = timezone.now()
        timelines = [
            policy_timeline(document=document, at=now) for document in policy_document_list(site=site)
        ]
        data = {
            "site": site.key,
            "documents": [
                {
                    **_document_summary(timeline.document),
                    "in_force": _version_summary(timeline.in_force) if timeline.in_force else None,
                    "upcoming": [_version_summary(version) for version in timeline.upcoming],
                }
                for timeline in timelines
            ],
        }
        etag = etag_for(
            "api-docs",
            site.key,
            *[(t.document.slug, [v.number for v in t.history]) for t in timelines],
            *[t.in_force and t.in_force.number for t in timelines],
        )
        return _cached_json(request, data, etag)


class PolicyDocumentApi(PublicApiView):
    """One document: the version in force in full, upcoming versions and the history."""

    @extend_schema(operation_id="policy_detail", tags=["policies"], responses=PolicyDocumentOutputSerializer)
    def get(self, request: Request, site_key: str, slug: str) -> Response:
        document = _public_document(site_key, slug)
        timeline = policy_timeline(document=document, at=timezone.now())
        data = {
            **_document_summary(document),
            "in_force": _version_full(timeline.in_force) if timeline.in_force else None,
            "upcoming": [_version_summary(version) for version in timeline.upcoming],
            "history": [_version_summary(version) for version in timeline.history],
        }
        etag = etag_for(
            "api-doc",
            document.pk,
            timeline.in_force and timeline.in_force.number,
            *[v.number for v in timeline.history],
        )
        return _cached_json(request, data, etag)


class PolicyVersionApi(PublicApiView):
    """One edition in full: every language, Markdown source and rendered HTML."""

    @extend_schema(operation_id="policy_version", tags=["policies"], responses=PolicyVersionOutputSerializer)
    def get(self, request: Request, site_key: str, slug: str, number: int) -> Response:
        document = _public_document(site_key, slug)
        version = policy_version_get(document=document, number=number)
        if version is None:
            raise Http404
        return _cached_json(
            request,
            {**_document_summary(document), **_version_full(version)},
            etag_for("api-version", version.content_sha256),
            max_age=86400,
        )


class PolicyDiffApi(PublicApiView):
    """The changes from edition a to edition b, per language, as line blocks with word changes."""

    @extend_schema(operation_id="policy_diff", tags=["policies"], responses=PolicyDiffOutputSerializer)
    def get(self, request: Request, site_key: str, slug: str, a: int, b: int) -> Response:
        document = _public_document(site_key, slug)
        old, new = (
            policy_version_get(document=document, number=a),
            policy_version_get(document=document, number=b),
        )
        if old is None or new is None:
            raise Http404
        data = {
            **_document_summary(document),
            "from": _version_summary(old),
            "to": _version_summary(new),
            "languages": [
                {
                    "language": diff.language,
                    "old_title": diff.old_title,
                    "new_title": diff.new_title,
                    "blocks": [
                        {
                            "op": block.op,
                            "old": block.old,
                            "new": block.new,
                            "words": [{"op": word.op, "text": word.text} for word in block.words],
                        }
                        for block in diff.blocks
                    ],
                }
                for diff in policy_version_diff(old=old, new=new)
            ],
        }
        return _cached_json(
            request, data, etag_for("api-diff", old.content_sha256, new.content_sha256), max_age=86400
        )
