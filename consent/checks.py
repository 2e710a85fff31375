"""System checks for configuration mistakes, so `manage.py check --deploy` names them."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.compatibility)
def geo_settings_check(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    path = settings.GEOIP_DATABASE_PATH
    if path and not Path(path).is_file():
        problems.append(
            Error(
                f"GEOIP_DATABASE_PATH points at {path!r}, which is not a readable file.",
                hint="Give the path of a MaxMind GeoIP2/GeoLite2 Country or City .mmdb file, or unset it "
                "to use the embedded country database.",
                id="consentry.E001",
            )
        )
    if settings.GEO_TRUSTED_PROXY_COUNT < 0:
        problems.append(
            Error(
                "GEO_TRUSTED_PROXY_COUNT cannot be negative.",
                hint="Set it to the number of proxies (load balancers, CDNs) in front of the app, or 0.",
                id="consentry.E002",
            )
        )
    for name in ("GEO_COUNTRY_HEADER", "GEO_REGION_HEADER"):
        value = getattr(settings, name)
        if value and (value.upper().startswith("HTTP_") or "_" in value):
            problems.append(
                Error(
                    f"{name}={value!r} looks like a WSGI variable name, not an HTTP header name.",
                    hint="Use the header as the edge sends it, e.g. CF-IPCountry.",
                    id="consentry.E003",
                )
            )
    return problems


@register(Tags.security, deploy=True)
def production_settings_check(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    if not settings.ALLOWED_HOSTS:
        problems.append(
            Error(
                "ALLOWED_HOSTS is empty, so every request would be refused.",
                hint="Set ALLOWED_HOSTS to the host names the platform is served on, comma separated.",
                id="consentry.E010",
            )
        )
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        problems.append(
            Warning(
                "The database is SQLite: fine for one machine, but several app servers cannot share it.",
                hint="Set DATABASE_URL=postgres://... to scale past one machine.",
                id="consentry.W011",
            )
        )
    if not settings.REDIS_URL:
        problems.append(
            Warning(
                "No REDIS_URL: caches and rate limits are per process, so limits multiply with workers.",
                hint="Set REDIS_URL=redis://host:6379/0 in production.",
                id="consentry.W012",
            )
        )
    if (
        not settings.DEBUG
        and settings.GEO_COUNTRY_HEADER
        and not settings.GEO_COUNTRY_HEADER_EXPLICIT
        and settings.GEO_TRUSTED_PROXY_COUNT == 0
    ):
        problems.append(
            Error(
                f"The {settings.GEO_COUNTRY_HEADER} header would decide a visitor's jurisdiction, but it was "
                "not configured: GEO_COUNTRY_HEADER is not set and no trusted proxy is, so anyone could "
                "choose their own law by sending it. It is ignored until you decide.",
                hint="Behind a proxy or edge that sets it, set GEO_TRUSTED_PROXY_COUNT (e.g. 1 behind the "
                "nginx of deploy/) or GEO_COUNTRY_HEADER=CF-IPCountry explicitly; to rely on GeoIP alone, "
                "set GEO_COUNTRY_HEADER= (empty).",
                id="consentry.E013",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def ledger_key_check(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    from consent.ledger.crypto import public_key_from_base64, signing_key_from_seed

    if not settings.LEDGER_SIGNING_KEY:
        if settings.DEBUG or settings.TESTING:
            return []
        return [
            Error(
                "LEDGER_SIGNING_KEY is not set, so ledger checkpoints cannot be signed.",
                hint="Generate one with: python -c 'import base64,secrets;"
                "print(base64.b64encode(secrets.token_bytes(32)).decode())' and keep it secret and stable.",
                id="consentry.E020",
            )
        ]
    try:
        signing_key_from_seed(settings.LEDGER_SIGNING_KEY)
    except ImproperlyConfigured as error:
        return [Error(str(error), id="consentry.E021")]
    problems: list[Error | Warning] = []
    for text in settings.LEDGER_RETIRED_PUBLIC_KEYS:
        try:
            public_key_from_base64(text)
        except ImproperlyConfigured as error:
            problems.append(
                Error(
                    f"LEDGER_RETIRED_PUBLIC_KEYS: {error}",
                    hint="List the retired keys' public keys, as GET .../checkpoints showed them.",
                    id="consentry.E022",
                )
            )
    return problems


@register(Tags.security)
def ledger_witness_keys_check(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    from consent.ledger.witnesses import witness_keys_problems

    return [
        Error(
            f"LEDGER_WITNESS_KEYS: {problem}",
            hint="List each witness's verifier key as it printed it (consentry-witness --generate-key).",
            id="consentry.E024",
        )
        for problem in witness_keys_problems()
    ]


@register(Tags.database)
def database_roles_check(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Warning]:
    """PostgreSQL: the application should not connect as the role that owns the ledger's tables."""
    from django.db import DatabaseError, connections

    from consent.dbroles import ledger_owner

    if not databases or "default" not in databases:
        return []
    connection = connections["default"]
    try:
        roles = ledger_owner(connection)
    except DatabaseError:
        return []  # no database to look at yet: other checks and commands say so
    if roles is None or roles[0] != roles[1]:
        return []
    owner = settings.DATABASE_OWNER.get("USER") if settings.DATABASE_OWNER else None
    if owner and owner != settings.DATABASE_APP_USER and connection.settings_dict.get("USER") == owner:
        return []  # `migrate`, which connects as the owner on purpose
    return [
        Warning(
            f"The application connects to PostgreSQL as {roles[0]}, the owner of the ledger's tables: it "
            "could alter, disable or drop their triggers, so the ledger is append-only only by convention.",
            hint="Give the tables to an owner role and connect the application with a role of its own: "
            "DATABASE_OWNER_URL for the owner, DATABASE_URL for the application, then "
            "`manage.py consent_db_roles --admin-url ...` (README: What each database guarantees).",
            id="consentry.W030",
        )
    ]


@register(Tags.compatibility)
def ledger_merge_delay_check(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """Every receipt's promise states the merge delay: it must be a whole number of seconds, at least 0."""
    delay = settings.LEDGER_MERGE_DELAY_SECONDS
    if isinstance(delay, int) and 0 <= delay < 10**9:
        return []
    return [
        Error(
            f"LEDGER_MERGE_DELAY_SECONDS is {delay!r}: give whole seconds, at least 0 (default 300).",
            id="consentry.E023",
        )
    ]
