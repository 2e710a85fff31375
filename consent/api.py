"""JSON endpoints: the public jurisdiction rules and the management API for sites."""

from datetime import date
from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from consent.geo import jurisdiction_resolve
from consent.http import cache_public, cors_allow_site_origin, etag_for, not_modified_or_none
from consent.jurisdictions import RULES_VERSION, rules_table_as_dict, ruleset_as_dict, ruleset_for_location
from consent.models import PolicyDocument, PolicyVersion, Site
from consent.selectors import (
    policy_document_get,
    policy_document_list,
    policy_timeline,
    policy_version_diff,
    policy_version_get,
    purpose_list,
    site_get_by_key,
    site_list_for_user,
    site_role_for_user,
)


class PublicRateThrottle(SimpleRateThrottle):
    """Per client address, at settings.PUBLIC_API_RATE (read per request, so it can change live)."""

    scope = "public"

    def get_rate(self) -> str:
        return settings.PUBLIC_API_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicApiView(APIView):
    """No session, no CSRF, no authentication: anyone may call, within a per-IP rate limit."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]


class JurisdictionTableApi(PublicApiView):
    """The whole rules table, so anyone can see which rules a banner applies and why."""

    def get(self, request: Request) -> Response:
        response = Response(rules_table_as_dict())
        response["Cache-Control"] = "public, max-age=3600"
        response["Access-Control-Allow-Origin"] = "*"
        return response


class JurisdictionLookupApi(PublicApiView):
    """Which rule set applies to a place on a date (e.g. ?country=US&region=CO&on=2024-06-30)."""

    class InputSerializer(serializers.Serializer):
        country = serializers.RegexField(
            r"^[A-Za-z]{2}$", error_messages={"invalid": "Give an ISO 3166-1 alpha-2 code."}
        )
        region = serializers.RegexField(
            r"^([A-Za-z]{2}-)?[A-Za-z0-9]{1,3}$",
            required=False,
            allow_blank=True,
            default="",
            error_messages={"invalid": "Give an ISO 3166-2 subdivision code such as CA or US-CA."},
        )
        on = serializers.DateField(required=False, allow_null=True, default=None)

    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ruleset = ruleset_for_location(
            country=data["country"], region=data["region"], on=data["on"] or date.today()
        )
        response = Response(
            {
                "country": data["country"].upper(),
                "region": data["region"].upper().split("-")[-1],
                "jurisdiction": ruleset.code,
                "rules": ruleset_as_dict(ruleset),
            }
        )
        response["Access-Control-Allow-Origin"] = "*"
        return response


class SiteJurisdictionApi(PublicApiView):
    """The rules that apply to this visitor on this site, and how they were found."""

    def get(self, request: Request, site_key: str) -> Response:
        site = site_get_by_key(key=site_key)
        if site is None:
            raise Http404
        resolution = jurisdiction_resolve(
            request=request,
            default_code=site.default_jurisdiction,
            overrides=site.jurisdiction_overrides,
        )
        response = Response(
            {
                "site": site.key,
                "jurisdiction": resolution.ruleset.code,
                "rules_version": RULES_VERSION,
                "country": resolution.country,
                "region": resolution.region,
                "resolved_by": resolution.method,
                "rules": ruleset_as_dict(resolution.ruleset),
            }
        )
        response["Cache-Control"] = "private, no-store"
        return cors_allow_site_origin(request=request, response=response, site=site)


class SiteOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    default_language = serializers.CharField()
    languages = serializers.ListField(source="enabled_languages", child=serializers.CharField())
    default_jurisdiction = serializers.CharField()
    jurisdiction_overrides = serializers.DictField()
    data_residency = serializers.CharField()
    origins = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_origins(self, site: Site) -> list[str]:
        return [origin.origin for origin in site.origins.all()]


class SiteListApi(APIView):
    """The sites the authenticated user is a member of."""

    def get(self, request: Request) -> Response:
        sites = site_list_for_user(user=request.user).prefetch_related("origins")
        return Response({"sites": SiteOutputSerializer(sites, many=True).data})


class SiteDetailApi(APIView):
    """One site with the caller's role and its purposes; 404 for sites the caller is not a member of."""

    class PurposeOutputSerializer(serializers.Serializer):
        key = serializers.CharField()
        is_necessary = serializers.BooleanField()
        is_sale_or_share = serializers.BooleanField()
        position = serializers.IntegerField()
        texts = serializers.SerializerMethodField()

        def get_texts(self, purpose: Any) -> dict[str, dict[str, str]]:
            return {
                text.language: {"name": text.name, "description": text.description}
                for text in purpose.translations.all()
            }

    def get(self, request: Request, site_key: str) -> Response:
        # Looked up among the caller's sites only: another tenant's site is "not found",
        # not "forbidden", so its existence does not leak either.
        site = site_list_for_user(user=request.user).prefetch_related("origins").filter(key=site_key).first()
        if site is None:
            raise Http404
        data = dict(SiteOutputSerializer(site).data)
        data["role"] = (
            "superuser" if request.user.is_superuser else site_role_for_user(site=site, user=request.user)
        )
        data["purposes"] = self.PurposeOutputSerializer(purpose_list(site=site), many=True).data
        return Response(data)


# --- Policy documents (public JSON twins of the policy pages) -----------------------------


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
    response = Response(data)
    response["Access-Control-Allow-Origin"] = "*"
    return cache_public(response, etag=etag, max_age=max_age)  # type: ignore[return-value]


class PolicyDocumentListApi(PublicApiView):
    """A site's documents with the version in force and any upcoming one."""

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
