import pytest
from django.core.cache import cache


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
    should): they are lifted for the flush here, and put back once it is done (below).
    """
    yield
    from django.db import connection

    from consent.immutability import immutable_models, triggers_remove

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

        with blocker.unblock():
            triggers_ensure_all()
