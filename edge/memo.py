"""A small per-process cache with a size bound and a time to live (standard library only).

The public paths keep a few things in process memory (the site snapshot, the banner config,
unknown site keys): a dictionary lookup is the cheapest answer there is, and it needs no
network, so it keeps working when Redis is down. What a plain dict lacks is a bound: keys come
from the URL, so a flood of random ones would grow it without end. `BoundedTTLCache` holds at
most `maxsize` entries (the least recently used goes first) for at most `ttl` seconds each.

Why not Django's local-memory cache: it pickles every value on each get and set, which costs
more than building a small snapshot again; why not cachetools: an OrderedDict does the same in
forty lines, and one less dependency on the hottest path.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class BoundedTTLCache(Generic[K, V]):
    """At most `maxsize` entries, each forgotten `ttl` seconds after it was stored; thread-safe."""

    def __init__(self, *, maxsize: int, ttl: float) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.ttl = ttl
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, default: object = None, *, now: float | None = None) -> V | object:
        """The value stored under `key` if it is younger than `ttl`, else `default`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return default
            if now - entry[0] >= self.ttl:
                del self._data[key]
                return default
            self._data.move_to_end(key)
            return entry[1]

    def set(self, key: K, value: V, *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._data[key] = (now, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING  # type: ignore[arg-type]
