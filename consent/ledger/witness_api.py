"""Witnesses hand in their cosignatures here (C2SP tlog-cosignature/v1 signature lines)."""

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.ledger.witnesses import cosignature_add
from consent.sites.selectors import site_get_by_key
from edge.api import PublicApiView
from edge.client import client_ip


class CosignatureCreateApi(PublicApiView):
    """Store a witness's cosignature of one checkpoint: valid only from a key in
    LEDGER_WITNESS_KEYS over that checkpoint's note; it is then served with the note."""

    class InputSerializer(serializers.Serializer):
        cosignature = serializers.CharField(
            max_length=500,
            help_text="The witness's signature line: '— <name> <base64(key hash || time || signature)>'.",
        )

    class OutputSerializer(serializers.Serializer):
        tree_size = serializers.IntegerField()
        witness = serializers.CharField()
        witnessed_at = serializers.DateTimeField()
        created = serializers.BooleanField(help_text="False: this witness had cosigned it already.")

        class Meta:
            ref_name = "CosignatureCreated"

    @extend_schema(
        operation_id="cosignature_create",
        tags=["ledger"],
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer},
    )
    def post(self, request: Request, site_key: str, tree_size: int) -> Response:
        site = site_get_by_key(key=site_key)
        if site is None:
            raise Http404
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            cosignature, created = cosignature_add(
                site=site,
                tree_size=tree_size,
                signature_line=data.validated_data["cosignature"],
                by=None,
                ip=client_ip(request),
            )
        except ValidationError as error:
            if error.code == "not_found":
                raise Http404(error.message) from error
            raise serializers.ValidationError({"cosignature": error.messages}) from error
        response = Response(
            {
                "tree_size": tree_size,
                "witness": cosignature.witness_name,
                "witnessed_at": cosignature.witnessed_at.isoformat(),
                "created": created,
            },
            status=201 if created else 200,
        )
        response["Cache-Control"] = "no-store"
        return response
