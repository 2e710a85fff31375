"""What kinds of published editions a consent record can pin, and how to look them up.

`policies` is the consent app's own. Apps above it (the banner's versions, the
sub-processor lists) register their kind in their AppConfig.ready(), so the ledger can
validate and pin their editions without importing them (see docs/architecture.md, "The arrows").
"""

from collections.abc import Callable, Mapping

from consent.models import Site

# A resolver gives the site's published editions of one kind: number -> content SHA-256.
PinResolver = Callable[[Site], Mapping[int, str]]


_REGISTRY: dict[str, PinResolver] = {}


def pin_kind_register(kind: str, resolver: PinResolver) -> None:
    if kind == "policies":
        raise ValueError("'policies' is the consent app's own kind.")
    _REGISTRY[kind] = resolver


def pin_kinds() -> Mapping[str, PinResolver]:
    return dict(_REGISTRY)
