"""The management API's objections to new sub-processors (GDPR Art. 28(2)): read them a page at a
time (scope `read`) and answer one (scope `write`) through the service the admin's Answer uses,
which records the answer and emails it to the subscriber who objected."""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import Site, TokenScope
from consent.tokens.management import IDEMPOTENCY_KEY, PAGE_PARAMETERS, ManagementApiView, page_serializer
from subprocessors.models import Objection, ObjectionAnswer
from subprocessors.objections.services import objection_answer


def _person(user: AbstractUser) -> str:
    return user.email or user.get_username()


class ObjectionAnswerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    answered_by = serializers.SerializerMethodField(help_text="The email (or user name) of who answered.")
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ObjectionAnswer"

    def get_answered_by(self, answer: ObjectionAnswer) -> str:
        return _person(answer.answered_by)


class ObjectionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(
        source="version.number", help_text="The list version that adds the vendor."
    )
    vendor_key = serializers.CharField()
    vendor_name = serializers.CharField()
    email = serializers.EmailField(help_text="The subscriber's address when they objected.")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    answers = ObjectionAnswerOutputSerializer(many=True, help_text="Oldest first.")

    class Meta:
        ref_name = "Objection"


def _objections(site: Site) -> QuerySet[Objection]:
    return (
        Objection.objects.filter(site=site).select_related("version").prefetch_related("answers__answered_by")
    )


class _ObjectionApi(ManagementApiView):
    def _objection(self, request: Request, site_key: str, objection_id: int, scope: str) -> Objection:
        site = self.site_for(request, site_key, scope)
        return get_object_or_404(_objections(site), pk=objection_id)


class ObjectionListApi(ManagementApiView):
    """The objections to the site's new sub-processors, oldest first, a page at a time."""

    @extend_schema(
        operation_id="objection_list",
        tags=["management"],
        parameters=PAGE_PARAMETERS,
        responses=page_serializer("ObjectionPage", ObjectionOutputSerializer()),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)

        def serialize(rows: Sequence[Any]) -> Any:
            return ObjectionOutputSerializer(rows, many=True).data

        return self.cursor_page(request, _objections(site), serialize)


class ObjectionDetailApi(_ObjectionApi):
    """One objection as received, with its answers (ETag)."""

    @extend_schema(operation_id="objection", tags=["management"], responses=ObjectionOutputSerializer)
    def get(self, request: Request, site_key: str, objection_id: int) -> Response:
        objection = self._objection(request, site_key, objection_id, TokenScope.READ)
        return self.with_etag(ObjectionOutputSerializer(objection).data)


class ObjectionAnswerApi(_ObjectionApi):
    """Answer an objection: the answer is recorded (append-only) and emailed to the subscriber."""

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(allow_blank=True, help_text="Emailed to the subscriber as written.")

        class Meta:
            ref_name = "ObjectionAnswerCreate"

    @extend_schema(
        operation_id="objection_answer",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: ObjectionAnswerOutputSerializer},
    )
    def post(self, request: Request, site_key: str, objection_id: int) -> Response:
        objection = self._objection(request, site_key, objection_id, TokenScope.WRITE)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        who = self.service_kwargs(request)
        if who["by"] is None:
            # An answer names the person who gave it; a shell token has none behind it.
            raise PermissionDenied(
                _(
                    "An answer to an objection names the person who gave it: answer with a token "
                    "that an owner or a DPO made in the admin."
                )
            )

        def answer() -> Response:
            created = objection_answer(objection=objection, text=given.validated_data["text"], **who)
            return Response(ObjectionAnswerOutputSerializer(created).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, objection.site, answer)
