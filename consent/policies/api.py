"""Policies over HTTP, in two parts kept apart:

- **Public** (`/api/public/v1/`, no authentication): JSON twins of the policy pages, i.e.
  documents, versions and diffs (`PublicApiView` classes, `policy_*` operations, tag `policies`).
- **Management** (`/api/v1/`, a token or a session; `ManagementApiView` classes named
  `Management...`, tag `management`): documents, their working copies' texts per language,
  publishing a version (scope `publish`, a DPO behind the token) and reads of the version in
  force and the history, through the same services and selectors as the admin.
"""

from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import DocumentKind, PolicyDocument, PolicyText, PolicyVersion, TokenScope
from consent.policies.selectors import (
    policy_document_get,
    policy_document_list,
    policy_text_get,
    policy_texts,
    policy_timeline,
    policy_version_diff,
    policy_version_get,
    policy_version_in_force,
    policy_versions,
)
from consent.policies.services import (
    POLICY_DOCUMENT_FIELDS,
    policy_document_create,
    policy_document_update,
    policy_required_languages,
    policy_text_delete,
    policy_text_set,
    policy_version_publish,
)
from consent.sites.selectors import site_get_by_key
from consent.tokens.management import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    PAGE_PARAMETERS,
    ManagementApiView,
    fields_refusal,
    page_serializer,
)
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


# === The management API (`/api/v1/`): documents, working copies, publishing ===================


class ManagementPolicyDocumentOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ManagementPolicyDocument"

    slug = serializers.CharField()
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    jurisdictions = serializers.ListField(child=serializers.CharField())
    prevailing_language = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    required_languages = serializers.ListField(
        child=serializers.CharField(),
        help_text="Every language a published version needs: the prevailing one, `languages` and "
        "what the jurisdictions require.",
    )
    created_at = serializers.DateTimeField()


class ManagementPolicyTextOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ManagementPolicyText"

    language = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField(help_text="Markdown.")
    updated_at = serializers.DateTimeField()


class ManagementPolicyVersionOutputSerializer(PolicyVersionFullOutputSerializer):
    class Meta:
        ref_name = "ManagementPolicyVersion"

    document = serializers.CharField(help_text="The document's slug.")


def _management_document_data(document: PolicyDocument) -> dict[str, Any]:
    return dict(
        ManagementPolicyDocumentOutputSerializer(
            {
                "slug": document.slug,
                "kind": document.kind,
                "jurisdictions": document.jurisdictions,
                "prevailing_language": document.prevailing_language,
                "languages": document.languages,
                "required_languages": policy_required_languages(document=document),
                "created_at": document.created_at,
            }
        ).data
    )


def _management_text_data(text: PolicyText) -> dict[str, Any]:
    return dict(ManagementPolicyTextOutputSerializer(text).data)


def _management_version_data(version: PolicyVersion) -> dict[str, Any]:
    return dict(
        ManagementPolicyVersionOutputSerializer(
            {"document": version.document.slug, **_version_full(version)}
        ).data
    )


IF_MATCH_WHEN_EXISTS = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of the text as you read it (GET), when there is one: required to replace "
    "it; a language without a text yet needs none.",
)


class ManagementPolicyApiView(ManagementApiView):
    """Finds a site's document by slug: another site's, or none, is a 404."""

    def document_for(self, request: Request, site_key: str, slug: str, scope: str) -> PolicyDocument:
        site = self.site_for(request, site_key, scope)
        document = policy_document_get(site=site, slug=slug)
        if document is None:
            raise Http404
        return document


class ManagementPolicyDocumentListApi(ManagementPolicyApiView):
    """A site's policy documents; POST creates one (owners and DPOs, as in the admin)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ManagementPolicyDocumentCreate"

        kind = serializers.ChoiceField(choices=DocumentKind.choices)
        slug = serializers.CharField(
            max_length=63, required=False, help_text="Default: the kind with '-' for '_'."
        )
        jurisdictions = serializers.ListField(
            child=serializers.CharField(), required=False, help_text="Empty: every jurisdiction."
        )
        prevailing_language = serializers.CharField(
            max_length=8,
            required=False,
            help_text="Default: Russian for Russia and 152-FZ consents, else the site's default language.",
        )
        languages = serializers.ListField(
            child=serializers.CharField(), required=False, help_text="Default: the site's languages."
        )

    @extend_schema(
        operation_id="management_policy_list",
        tags=["management"],
        responses=inline_serializer(
            "ManagementPolicyDocumentList", {"documents": ManagementPolicyDocumentOutputSerializer(many=True)}
        ),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        return Response(
            {"documents": [_management_document_data(doc) for doc in policy_document_list(site=site)]}
        )

    @extend_schema(
        operation_id="management_policy_create",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: ManagementPolicyDocumentOutputSerializer},
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data

        def create() -> Response:
            document = policy_document_create(site=site, **data, **self.service_kwargs(request))
            return self.with_etag(_management_document_data(document), status.HTTP_201_CREATED)

        return self.idempotent(request, site, create)


class ManagementPolicyDocumentDetailApi(ManagementPolicyApiView):
    """One document: GET (ETag); PATCH its jurisdictions and languages with If-Match."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ManagementPolicyDocumentUpdate"

        jurisdictions = serializers.ListField(child=serializers.CharField(), required=False)
        prevailing_language = serializers.CharField(max_length=8, required=False)
        languages = serializers.ListField(child=serializers.CharField(), required=False)

    @extend_schema(
        operation_id="management_policy",
        tags=["management"],
        responses=ManagementPolicyDocumentOutputSerializer,
    )
    def get(self, request: Request, site_key: str, slug: str) -> Response:
        document = self.document_for(request, site_key, slug, TokenScope.READ)
        return self.with_etag(_management_document_data(document))

    @extend_schema(
        operation_id="management_policy_update",
        tags=["management"],
        parameters=[IF_MATCH],
        request=InputSerializer,
        responses=ManagementPolicyDocumentOutputSerializer,
    )
    def patch(self, request: Request, site_key: str, slug: str) -> Response:
        document = self.document_for(request, site_key, slug, TokenScope.WRITE)
        self.precondition_check(request, _management_document_data(document))
        fields_refusal(request.data, set(POLICY_DOCUMENT_FIELDS))
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with transaction.atomic():
            document = policy_document_update(
                document=document, **given.validated_data, **self.service_kwargs(request)
            )
        return self.with_etag(_management_document_data(document))


class ManagementPolicyTextListApi(ManagementPolicyApiView):
    """The working copy of a document: its text in every language drafted so far."""

    @extend_schema(
        operation_id="management_policy_text_list",
        tags=["management"],
        responses=inline_serializer(
            "ManagementPolicyTextList", {"texts": ManagementPolicyTextOutputSerializer(many=True)}
        ),
    )
    def get(self, request: Request, site_key: str, slug: str) -> Response:
        document = self.document_for(request, site_key, slug, TokenScope.READ)
        return Response({"texts": [_management_text_data(text) for text in policy_texts(document=document)]})


class ManagementPolicyTextDetailApi(ManagementPolicyApiView):
    """The working copy in one language: GET (ETag); PUT writes it (If-Match when it exists);
    DELETE drops it (If-Match). Published versions are untouched."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ManagementPolicyTextPut"

        title = serializers.CharField(max_length=200)
        body = serializers.CharField(trim_whitespace=False, help_text="Markdown, kept as sent.")

    def _text(self, document: PolicyDocument, language: str) -> PolicyText | None:
        return policy_text_get(document=document, language=language)

    @extend_schema(
        operation_id="management_policy_text",
        tags=["management"],
        responses=ManagementPolicyTextOutputSerializer,
    )
    def get(self, request: Request, site_key: str, slug: str, language: str) -> Response:
        text = self._text(self.document_for(request, site_key, slug, TokenScope.READ), language)
        if text is None:
            raise Http404
        return self.with_etag(_management_text_data(text))

    @extend_schema(
        operation_id="management_policy_text_put",
        tags=["management"],
        parameters=[IF_MATCH_WHEN_EXISTS],
        request=InputSerializer,
        responses={200: ManagementPolicyTextOutputSerializer, 201: ManagementPolicyTextOutputSerializer},
        description="Writes the text in this language: a new language is a 201 and needs no If-Match; "
        "replacing an existing text needs If-Match with its ETag.",
    )
    def put(self, request: Request, site_key: str, slug: str, language: str) -> Response:
        document = self.document_for(request, site_key, slug, TokenScope.WRITE)
        existing = self._text(document, language)
        if existing is not None:
            self.precondition_check(request, _management_text_data(existing))
        fields_refusal(request.data, {"title", "body"})
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with transaction.atomic():
            text = policy_text_set(
                document=document, language=language, **given.validated_data, **self.service_kwargs(request)
            )
        return self.with_etag(
            _management_text_data(text), status.HTTP_200_OK if existing else status.HTTP_201_CREATED
        )

    @extend_schema(
        operation_id="management_policy_text_delete",
        tags=["management"],
        parameters=[IF_MATCH],
        responses={204: None},
    )
    def delete(self, request: Request, site_key: str, slug: str, language: str) -> Response:
        text = self._text(self.document_for(request, site_key, slug, TokenScope.WRITE), language)
        if text is None:
            raise Http404
        self.precondition_check(request, _management_text_data(text))
        with transaction.atomic():
            policy_text_delete(text=text, **self.service_kwargs(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ManagementPolicyVersionListApi(ManagementPolicyApiView):
    """The history of a document's versions (cursor page, oldest first); POST publishes the
    working copy as the next version (scope `publish`; the site's DPO behind the token)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ManagementPolicyVersionPublish"

        effective_at = serializers.DateTimeField(
            help_text="When it takes effect; a material change needs the site's notice period."
        )
        summary = serializers.CharField(help_text="Shown in the public history.")
        is_material = serializers.BooleanField(
            default=False,
            help_text="Visitors are asked again once it takes effect; a change kind that needs fresh "
            "consent under the document's jurisdictions makes it material anyway.",
        )
        change_kinds = serializers.ListField(
            child=serializers.CharField(), default=list, help_text="Values of ChangeKind, e.g. `new_purpose`."
        )
        affected_purposes = serializers.ListField(
            child=serializers.CharField(), default=list, help_text="Purpose keys; empty: every purpose."
        )

    @extend_schema(
        operation_id="management_policy_version_list",
        tags=["management"],
        parameters=PAGE_PARAMETERS,
        responses=page_serializer("ManagementPolicyVersionPage", PolicyVersionSummaryOutputSerializer()),
    )
    def get(self, request: Request, site_key: str, slug: str) -> Response:
        document = self.document_for(request, site_key, slug, TokenScope.READ)
        return self.cursor_page(
            request,
            policy_versions(document=document),
            lambda rows: [_version_summary(version) for version in rows],
            time_field="published_at",
        )

    @extend_schema(
        operation_id="management_policy_publish",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: ManagementPolicyVersionOutputSerializer},
    )
    def post(self, request: Request, site_key: str, slug: str) -> Response:
        document = self.document_for(request, site_key, slug, TokenScope.PUBLISH)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data

        def publish() -> Response:
            version = policy_version_publish(document=document, **data, **self.service_kwargs(request))
            return self.with_etag(_management_version_data(version), status.HTTP_201_CREATED)

        return self.idempotent(request, document.site, publish)


class ManagementPolicyVersionInForceApi(ManagementPolicyApiView):
    """The version in force now, in full; 404 while none has taken effect."""

    @extend_schema(
        operation_id="management_policy_version_in_force",
        tags=["management"],
        responses=ManagementPolicyVersionOutputSerializer,
    )
    def get(self, request: Request, site_key: str, slug: str) -> Response:
        document = self.document_for(request, site_key, slug, TokenScope.READ)
        version = policy_version_in_force(document=document, at=timezone.now())
        if version is None:
            raise Http404
        return self.with_etag(_management_version_data(version))


class ManagementPolicyVersionDetailApi(ManagementPolicyApiView):
    """One published version in full (versions never change)."""

    @extend_schema(
        operation_id="management_policy_version",
        tags=["management"],
        responses=ManagementPolicyVersionOutputSerializer,
    )
    def get(self, request: Request, site_key: str, slug: str, number: int) -> Response:
        document = self.document_for(request, site_key, slug, TokenScope.READ)
        version = policy_version_get(document=document, number=number)
        if version is None:
            raise Http404
        return self.with_etag(_management_version_data(version))
