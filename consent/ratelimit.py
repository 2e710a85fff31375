"""Fixed-window rate limits in the cache (shared across servers when the cache is Redis)."""

import time

from django.core.cache import cache

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


def rate_parse(rate: str) -> tuple[int, int]:
    """ "120/min" -> (120, 60)."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit.strip().lower()]


def rate_limit_exceeded(key: str, rate: str) -> int | None:
    """Count one hit against `key`; return seconds until the window resets if over the limit, else None."""
    limit, window = rate_parse(rate)
    now = int(time.time())
    window_start = now - now % window
    bucket = f"consentry:rl:{key}:{window_start}"
    # incr() first: one cache operation per hit once the window's counter exists; add() opens
    # a window atomically, and a lost race between two openers falls back to incr().
    try:
        count = cache.incr(bucket)
    except ValueError:
        if cache.add(bucket, 1, timeout=window + 1):
            count = 1
        else:
            count = cache.incr(bucket)
    if count > limit:
        return window_start + window - now
    return None
