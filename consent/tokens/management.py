"""The base of every management-API view (`/api/v1/`): who acts, on which site, under which
scope, and the HTTP rules every resource follows the same way.

- **Site and scope:** `self.site_for(request, key, scope)` (consent.tokens.access): another
  site is a 404 whatever the token, a missing scope a 403 `scope_missing`.
- **Audit:** a change made through a token writes, whichever service makes it, the token's
  prefix in its audit row (`data.token`), and the actor is the token's creator.
- **ETag / If-Match:** a resource's GET carries an `ETag` (a hash of its representation); an
  update (PATCH, PUT, DELETE) must send `If-Match` with it: missing is a 428
  `precondition_required`, stale a 412 `precondition_failed` (someone changed it since), so two
  editors cannot overwrite each other.
- **Idempotency-Key** on POSTs: a retry with the same key and the same request gets the first
  answer again (`Idempotent-Replayed: true`) and writes nothing; the same key with another
  request is a 422 `idempotency_key_reused` (consent.tokens.idempotency).
- **Lists:** `cursor_page` pages by id with an opaque `cursor`, `limit` (1 to 200), and
  `since`/`until` on the rows' time.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.audit.services import audit_context
from consent.models import Site
from consent.tokens.access import api_actor, api_site, request_token
from consent.tokens.idempotency import IdempotencyReused, idempotent_response_find, idempotent_response_keep
from edge.client import client_ip


class PreconditionRequired(APIException):
    status_code = 428
    default_code = "precondition_required"
    default_detail = gettext_lazy(
        "Send If-Match with the ETag of the resource you read, so no one else's change is overwritten."
    )


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = gettext_lazy(
        "The resource changed since you read it: read it again and re-apply your change."
    )


class IdempotencyKeyInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_use"
    default_detail = gettext_lazy("A request with this Idempotency-Key is being answered; retry in a moment.")


class _KeyRace(Exception):
    """Another request with the same key kept its answer first (raised to roll this one back)."""


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = gettext_lazy(
        "This Idempotency-Key was used for another request; use a new key for a new request."
    )


def representation_etag(data: Any) -> str:
    """A strong ETag of a JSON representation: equal representations, equal tags."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the resource as you read it (GET): the change applies only if it is unchanged.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Up to 200 printable characters, new for each new request: a retry with the same key "
    "and request gets the first answer again and writes nothing.",
)
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="`next_cursor` of the page before."),
    OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 200 (default 50)."),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="Only rows made at or after this time."),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="Only rows made before this time."),
]


def page_serializer(name: str, item: serializers.Serializer) -> serializers.Serializer:
    """The schema of a page of `item`s (for extend_schema)."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "results": type(item)(many=True),
            "next_cursor": serializers.CharField(
                allow_null=True, help_text="Give it as `cursor` for the next page; null on the last."
            ),
        },
    )()


class ManagementApiView(APIView):
    """Subclass for every `/api/v1/` view; see the module's docstring for the rules it applies."""

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        # The audit context is left in a `finally`: a fault DRF re-raises (a 500) skips
        # finalize_response, and a context left set would name this token in the audit rows of
        # the next request the same thread serves.
        with ExitStack() as self._audit_stack:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions
        token = request_token(request)
        if token is not None:
            self._audit_stack.enter_context(audit_context(token=token.visible_prefix))

    # --- who and where ---------------------------------------------------------------------
    def site_for(self, request: Request, site_key: str, scope: str) -> Site:
        return api_site(request, site_key=site_key, scope=scope)

    def actor(self, request: Request) -> AbstractUser | None:
        return api_actor(request)[0]

    def service_kwargs(self, request: Request) -> dict[str, Any]:
        """`by` and `ip` for a service call, as the admin passes them."""
        return {"by": self.actor(request), "ip": client_ip(request) or None}

    # --- ETag / If-Match -------------------------------------------------------------------
    def with_etag(self, data: Any, status_code: int = 200) -> Response:
        response = Response(data, status=status_code)
        response["ETag"] = representation_etag(data)
        return response

    def precondition_check(self, request: Request, current: Any) -> None:
        """Refuse an update unless If-Match names the current representation."""
        sent = request.headers.get("If-Match", "").strip()
        if not sent:
            raise PreconditionRequired()
        tags = {tag.strip().removeprefix("W/") for tag in sent.split(",")}
        if "*" not in tags and representation_etag(current) not in tags:
            raise PreconditionFailed()

    # --- Idempotency-Key -------------------------------------------------------------------
    def idempotent(self, request: Request, site: Site, run: Callable[[], Response]) -> Response:
        """Run a POST once per Idempotency-Key (no key: just run it), in one transaction."""
        key = request.headers.get("Idempotency-Key")
        if key is None:
            with transaction.atomic():
                return run()
        if not 1 <= len(key) <= 200 or not key.isprintable():
            raise ValidationError({"Idempotency-Key": [_("Give 1 to 200 printable characters.")]})
        token = request_token(request)
        caller = token.visible_prefix if token is not None else f"user:{request.user.pk}"
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.path.encode(), request.body])
        ).hexdigest()
        try:
            earlier = idempotent_response_find(site=site, caller=caller, key=key, request_sha256=fingerprint)
        except IdempotencyReused as reused:
            raise IdempotencyKeyReused() from reused
        if earlier is not None:
            response = Response(earlier.body, status=earlier.status)
            response["Idempotent-Replayed"] = "true"
            if earlier.etag:
                response["ETag"] = earlier.etag
            return response
        try:
            with transaction.atomic():
                response = run()
                if 200 <= response.status_code < 300:
                    try:
                        idempotent_response_keep(
                            site=site,
                            caller=caller,
                            key=key,
                            request_sha256=fingerprint,
                            status=response.status_code,
                            body=response.data,
                            etag=response.get("ETag", ""),
                        )
                    except IntegrityError as race:
                        raise _KeyRace from race
        except _KeyRace as race:
            raise IdempotencyKeyInUse() from race
        return response

    # --- lists -----------------------------------------------------------------------------
    def cursor_page(
        self,
        request: Request,
        queryset: QuerySet[Any],
        serialize: Callable[[Sequence[Model]], Any],
        *,
        time_field: str = "created_at",
    ) -> Response:
        params = request.query_params
        errors: dict[str, list[str]] = {}
        limit = 50
        if "limit" in params:
            try:
                limit = int(params["limit"])
            except ValueError:
                limit = 0
            if not 1 <= limit <= 200:
                errors["limit"] = [_("Give a number from 1 to 200.")]
        after = 0
        if params.get("cursor"):
            after = _cursor_read(params["cursor"])
            if after is None:
                errors["cursor"] = [_("This cursor is not one this API gave.")]
        bounds: dict[str, datetime] = {}
        for name, lookup in (("since", "gte"), ("until", "lt")):
            if params.get(name):
                moment = _time_read(params[name])
                if moment is None:
                    errors[name] = [_("Give an ISO 8601 time with its offset, e.g. 2026-01-31T00:00:00Z.")]
                else:
                    bounds[f"{time_field}__{lookup}"] = moment
        if errors:
            raise ValidationError(errors)
        rows = list(queryset.filter(pk__gt=after or 0, **bounds).order_by("pk")[: limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        return Response(
            {"results": serialize(rows), "next_cursor": _cursor_make(rows[-1].pk) if more and rows else None}
        )


def fields_refusal(data: Any, allowed: set[str]) -> None:
    """Refuse a body that is not a JSON object, or names a field this operation does not set
    (a typo must not pass as "nothing to change")."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in unknown})


def _time_read(text: str) -> datetime | None:
    """An aware ISO 8601 time as UTC, or None: no offset, an offset no place has (over 14 hours;
    PostgreSQL refuses them), or a time that leaves the calendar once in UTC."""
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None or abs(moment.utcoffset()) > timedelta(hours=14):
        return None
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _cursor_make(pk: int) -> str:
    return base64.urlsafe_b64encode(f"after:{pk}".encode()).decode().rstrip("=")


def _cursor_read(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _sep, number = text.partition(":")
    return int(number) if kind == "after" and number.isdigit() and len(number) < 19 else None
