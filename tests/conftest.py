import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate limits and cached configs must not leak from one test into the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_site_snapshots():
    # The write path caches sites per process for a few seconds; tests change them at once.
    from consent.selectors import site_snapshot_forget

    site_snapshot_forget()
    yield
    site_snapshot_forget()
