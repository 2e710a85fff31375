"""The OpenAPI contract's glue: the plain-Django hot paths put into the schema, and the schema view.

drf-spectacular only sees DRF views. The consent POST and the banner config are plain Django
views for speed, so each has a schema-only DRF view beside it (`consent/ledger/openapi.py`,
`cookies/banner/openapi.py`); `plain_view_endpoints` (a preprocessing hook) adds those under the
paths the real views are routed at, found in the URLconf, so the contract follows `urls.py`.
"""

from collections.abc import Callable, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import EndpointEnumerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

from consent.ledger.api import consent_create
from consent.ledger.openapi import ConsentCreateSchema, LogCheckpointSchema, LogTileSchema
from consent.ledger.tile_views import log_checkpoint, log_tile
from cookies.banner.api import banner_config_view
from cookies.banner.openapi import BannerConfigSchema


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The management API's tokens are HTTP bearer tokens in the contract."""

    target_class = "consent.tokens.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A site's API token (`cst_…`): made in the admin or by `manage.py token_create`.",
        }


# The real view -> (the method it is documented for, the schema-only view that describes it).
PLAIN_VIEWS: dict[Callable[..., Any], tuple[str, type]] = {
    consent_create: ("POST", ConsentCreateSchema),
    banner_config_view: ("GET", BannerConfigSchema),
    log_checkpoint: ("GET", LogCheckpointSchema),
    log_tile: ("GET", LogTileSchema),
}

Endpoint = tuple[str, str, str, Callable[..., Any]]


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Callable[..., Any]]]:
    for pattern in patterns:
        path_regex = prefix + str(pattern.pattern)
        if isinstance(pattern, URLPattern):
            yield path_regex, pattern.callback
        elif isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, path_regex)


def plain_view_endpoints(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    """drf-spectacular preprocessing hook: the documented plain views, at their routed paths."""
    enumerator = EndpointEnumerator()
    added = []
    for path_regex, callback in _routes(get_resolver().url_patterns):
        if callback in PLAIN_VIEWS:
            method, schema_view = PLAIN_VIEWS[callback]
            added.append(
                (enumerator.get_path_from_regex(path_regex), path_regex, method, schema_view.as_view())
            )
    missing = len(PLAIN_VIEWS) - len(added)
    assert missing == 0, f"{missing} plain view(s) of the contract are not routed"
    return [*endpoints, *added]


class _QueryFormatNegotiation(DefaultContentNegotiation):
    """`?format=json|yaml` picks the renderer (DRF's URL_FORMAT_OVERRIDE is off: `format` is ours)."""

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> Any:
        return super().select_renderer(
            request, renderers, format_suffix or request.query_params.get("format")
        )


class SchemaView(SpectacularAPIView):
    """The contract: YAML by default, `?format=json` (or Accept: application/json) for JSON."""

    content_negotiation_class = _QueryFormatNegotiation


def path_parameter_examples(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every `site_key` path parameter described once, with the demo site as its example (the
    fuzzer's examples phase and Swagger UI's "Try it out" start from a site that exists)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") == "site_key":
                    parameter.setdefault("description", "The site's key, as in its `<script>` tag.")
                    parameter.setdefault("example", "demo")
    return result


def webhooks_extension(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The webhooks (SPECTACULAR_SETTINGS["WEBHOOKS"]) under `x-webhooks`: `webhooks` is OpenAPI
    3.1's, and this contract is 3.0 (Redoc and others read the extension the same way)."""
    if "webhooks" in result and result.get("openapi", "").startswith("3.0"):
        result["x-webhooks"] = result.pop("webhooks")
    return result
