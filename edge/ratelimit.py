"""Fixed-window rate limits: the one limiter of the consent write path and the public forms.

Every hit is counted in this process first, so a request never waits for a network hop to
be let through. With Redis (the project's cache), the counts are also shared by every
server: a process sends the hits it has gathered to Redis in one round trip at most every
RATE_LIMIT_SYNC_SECONDS and learns the totals back, which its next decisions use.

The trade, on purpose: a flood spread over several processes gets through until their next
sync, at most about (its rate x the sync interval) requests more than the limit, and is
refused after that. In exchange the write path pays one Redis round trip per interval
instead of one per consent (which cost a third of its throughput, bench/consent_write.py
--redis), and a Redis outage degrades to per-process limits instead of failing consents.
Without Redis the limits are per process, like the local-memory cache.
"""

import functools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

if TYPE_CHECKING:
    import redis


logger = logging.getLogger(__name__)


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


@functools.cache
def rate_parse(rate: str) -> tuple[int, int]:
    """ "120/min" -> (120, 60); "5/15min" -> (5, 900)."""
    count, _, period = rate.partition("/")
    period = period.strip().lower()
    unit = period.lstrip("0123456789")
    multiple = int(period[: len(period) - len(unit)] or 1)
    return int(count), multiple * _UNITS[unit.strip()]


@dataclass
class _Bucket:
    """One key's window as this process knows it."""

    ends_at: int  # the window's end (epoch seconds): the bucket is useless after it
    count: int = 0  # hits in the window: the shared total at the last sync plus hits since


@dataclass
class _Counter:
    lock: threading.Lock = field(default_factory=threading.Lock)
    buckets: dict[str, _Bucket] = field(default_factory=dict)
    unsent: dict[str, int] = field(default_factory=dict)  # hits since the last sync, per bucket
    synced_at: float = 0.0  # 0: the first hit syncs at once
    syncing: bool = False
    pruned_at: float = 0.0


_counter = _Counter()


# Expired windows are dropped every few seconds, not per request: a scan of every bucket on
# each hit would cost most when distinct addresses are most numerous.
PRUNE_SECONDS = 5.0


def rate_limits_exceeded(limits: Sequence[tuple[str, str]], *, now: float | None = None) -> int | None:
    """Count one hit against each (key, rate); the longest wait if any is over its limit, else None."""
    now = time.time() if now is None else now
    keys = []  # (bucket name, limit, window end)
    for key, rate in limits:
        limit, window = rate_parse(rate)
        window_start = int(now) - int(now) % window
        keys.append((f"consentry:rl:{key}:{window_start}", limit, window_start + window))
    shared = _shared_cache()
    with _counter.lock:
        for name, _, ends_at in keys:
            bucket = _counter.buckets.get(name)
            if bucket is None:
                bucket = _counter.buckets[name] = _Bucket(ends_at=ends_at)
            bucket.count += 1
            if shared is not None:
                _counter.unsent[name] = _counter.unsent.get(name, 0) + 1
        if now - _counter.pruned_at >= PRUNE_SECONDS:
            _prune(now)
        sync_due = (
            shared is not None
            and not _counter.syncing
            and now - _counter.synced_at >= settings.RATE_LIMIT_SYNC_SECONDS
        )
        if sync_due:
            _counter.syncing = True
            outgoing = {
                name: (hits, _counter.buckets[name].ends_at) for name, hits in _counter.unsent.items()
            }
            _counter.unsent = {}
    if sync_due:
        assert shared is not None
        _sync(shared, outgoing, now)
    with _counter.lock:
        waits = [
            ends_at - int(now)
            for name, limit, ends_at in keys
            if name in _counter.buckets and _counter.buckets[name].count > limit
        ]
    return max(waits) if waits else None


def rate_limits_reached(limits: Sequence[tuple[str, str]], *, now: float | None = None) -> int | None:
    """Without counting a hit: the longest wait if any (key, rate) has already used its limit, else None.

    For limits on failures (logins): check before the costly work, count only what failed.
    Reads this process's view of the counts (shared totals as of the last sync), no round trip.
    """
    now = time.time() if now is None else now
    waits = []
    with _counter.lock:
        for key, rate in limits:
            limit, window = rate_parse(rate)
            window_start = int(now) - int(now) % window
            bucket = _counter.buckets.get(f"consentry:rl:{key}:{window_start}")
            if bucket is not None and bucket.count >= limit:
                waits.append(window_start + window - int(now))
    return max(waits) if waits else None


def rate_limits_reset() -> None:
    """Forget every count kept in this process (tests start each case afresh)."""
    with _counter.lock:
        _counter.buckets.clear()
        _counter.unsent.clear()
        _counter.synced_at = _counter.pruned_at = 0.0
        _counter.syncing = False


def _prune(now: float) -> None:
    """Drop the windows that have ended (the lock is held)."""
    for name in [name for name, bucket in _counter.buckets.items() if bucket.ends_at <= now]:
        del _counter.buckets[name]
        _counter.unsent.pop(name, None)
    _counter.pruned_at = now


def _sync(cache: RedisCache, outgoing: dict[str, tuple[int, int]], now: float) -> None:
    """Add this process's unsent hits to the shared counters and take back their totals."""
    names = list(outgoing)
    try:
        totals = _send(cache, outgoing, now) if outgoing else []
    except Exception:  # noqa: BLE001 - any Redis failure: keep counting here, retry next interval
        logger.warning("rate limits: Redis did not answer; counting per process until it does", exc_info=True)
        with _counter.lock:
            for name, (hits, _) in outgoing.items():
                if name in _counter.buckets:  # still a live window: send it next time
                    _counter.unsent[name] = _counter.unsent.get(name, 0) + hits
            _counter.synced_at, _counter.syncing = now, False
        return
    with _counter.lock:
        for name, total in zip(names, totals, strict=True):
            bucket = _counter.buckets.get(name)
            if bucket is not None:
                # Hits that arrived while the sync was out are unsent again, and count here too.
                bucket.count = total + _counter.unsent.get(name, 0)
        _counter.synced_at, _counter.syncing = now, False


def _send(cache: RedisCache, outgoing: dict[str, tuple[int, int]], now: float) -> list[int]:
    """The shared totals of `outgoing` (bucket -> hits, window end), in its order."""
    # The keys carry the cache's prefix, so every server of this deployment shares them.
    keys = [cache.make_and_validate_key(name) for name in outgoing]
    args = []
    for hits, ends_at in outgoing.values():
        args += [hits, max(1, ends_at - int(now) + 1)]
    counts = _redis_counter(settings.CACHES["default"]["LOCATION"])(keys=keys, args=args)
    return [int(count) for count in counts]


def _shared_cache() -> RedisCache | None:
    cache = caches["default"]  # the backend itself: django.core.cache.cache is only a proxy to it
    return cache if isinstance(cache, RedisCache) else None


# One command for every counter a sync carries: INCRBY adds the hits, and a counter that
# this call created gets its window's expiry. Atomic in Redis; sent as EVALSHA.
_COUNT_SCRIPT = """
local totals = {}
for i, key in ipairs(KEYS) do
    local hits = tonumber(ARGV[2 * i - 1])
    totals[i] = redis.call('INCRBY', key, hits)
    if totals[i] == hits then
        redis.call('EXPIRE', key, ARGV[2 * i])
    end
end
return totals
"""


@functools.cache
def _redis_counter(url: str) -> "redis.commands.core.Script":
    """The counting script on a client kept for the process, for the Redis the cache uses.

    Django's RedisCache builds a new client object for every operation, which costs more CPU
    than the round trip itself; redis-py clients are thread-safe and pool their connections,
    so one per process is enough. Short timeouts: a sync must never hold a consent long.
    """
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).register_script(
        _COUNT_SCRIPT
    )
