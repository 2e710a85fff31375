import pytest
from django.conf import settings
from django.core.cache import cache

# PostgreSQL with two roles (DATABASE_OWNER_URL set, as in CI): the test database is created
# and migrated by the owner, as `migrate` is in production, and the suite then runs as the
# application's role (DATABASE_URL). The few steps only an owner may take (lifting the
# triggers for a transactional test's flush, a tamper test's attack) switch to the owner.
_LOGINS: dict[str, dict[str, str]] = {}


def db_roles_configured() -> bool:
    return bool(settings.DATABASE_OWNER) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def db_login(*, owner: bool) -> None:
    """Reconnect the default connection as the owner or as the application's role."""
    from django.db import connections

    if not (_LOGINS or db_roles_configured()):
        return
    connection = connections["default"]
    if not _LOGINS:  # as the settings say at the start, whatever a test changes later
        app, owner_login = connection.settings_dict, settings.DATABASE_OWNER
        _LOGINS["app"] = {"USER": app["USER"], "PASSWORD": app["PASSWORD"]}
        _LOGINS["owner"] = {"USER": owner_login["USER"], "PASSWORD": owner_login.get("PASSWORD", "")}
    connection.close()
    connection.settings_dict.update(_LOGINS["owner" if owner else "app"])


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    db_login(owner=True)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    db_login(owner=False)
    yield
    db_login(owner=True)  # the owner drops the test database


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues(django_db_blocker):
    # The .mo files are built, not committed (README, "Translations"): `make test` builds them;
    # a bare pytest run builds the ones missing or older than their .po here.
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command
    from django.utils import translation

    for po in Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            call_command("compilemessages", locale=[po.parent.parent.name], verbosity=0)
    translation.trans_real._translations = {}  # forget catalogues loaded before the build


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate limits and cached configs must not leak from one test into the next.
    from edge.ratelimit import rate_limits_reset

    cache.clear()
    rate_limits_reset()
    yield
    cache.clear()
    rate_limits_reset()


@pytest.fixture(autouse=True)
def _fresh_site_snapshots():
    # The write path caches sites per process for a few seconds; tests change them at once.
    from consent.sites.selectors import site_snapshot_forget

    site_snapshot_forget()
    yield
    site_snapshot_forget()


@pytest.fixture
def ledger_transactional_db(request, django_db_blocker, transactional_db):
    """A test database with real commits, for tests that need several connections at once.

    Its flush afterwards deletes every row, which the append-only triggers refuse (as they
    should): they are lifted for the flush here, and put back once it is done (below). On
    PostgreSQL with two roles the owner does both: the application's role may do neither.
    """
    yield
    from django.db import connection

    from consent.immutability import immutable_models, triggers_remove

    db_login(owner=True)
    for model in immutable_models():
        triggers_remove(connection, model._meta.db_table)
    request.node.append_only_triggers_lifted = django_db_blocker


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    # After every fixture's teardown, pytest-django's flush included. After the last test the
    # session's teardown has already dropped the test database: nothing to restore then.
    yield
    blocker = getattr(item, "append_only_triggers_lifted", None)
    if blocker is not None and nextitem is not None:
        from consent.immutability import triggers_ensure_all
        from consent.ledger.partitions import partitions_ensure

        with blocker.unblock():
            triggers_ensure_all()
            partitions_ensure()  # a test may have dropped a month
        db_login(owner=False)


@pytest.fixture
def ledger_owner_connection(ledger_transactional_db):
    """A connection as the role that owns the ledger's tables (a DBA, or an attacker holding its
    password), for tests that change what the application's role cannot. Data must be committed,
    hence the transactional database; without two roles it is the default connection."""
    from django.db import connections

    from consent.dbroles import database_connection

    if not db_roles_configured():
        yield connections["default"]
        return
    db_login(owner=False)  # (fills _LOGINS)
    owner = database_connection(
        {**_LOGINS["owner"], "NAME": connections["default"].settings_dict["NAME"]}, alias="owner"
    )
    yield owner
    owner.close()
