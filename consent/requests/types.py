"""Which request types each jurisdiction's law gives a data subject (checked at filing).

Keyed by rules-table code (consent/rules/jurisdictions.py). Sources in docs/legal-requirements.md:
GDPR Arts. 7(3), 15-21 (EU); CCPA §1798.100-.135 as amended by the CPRA (US-CA); the US state laws'
common core of access, correction, deletion, portability and opt-out (US, US-UOOM); 152-FZ Arts. 14,
20 and 21 (RU: information, clarification, blocking, destruction, withdrawal); Law 94-V Art. 24 (KZ).
DEFAULT, where no law is known, offers the GDPR's list: the widest, so nobody is turned away.
"""

from collections.abc import Mapping
from types import MappingProxyType

from consent.models import RequestType

_GDPR = (
    RequestType.ACCESS,
    RequestType.PORTABILITY,
    RequestType.DELETION,
    RequestType.CORRECTION,
    RequestType.RESTRICTION,
    RequestType.OBJECTION,
    RequestType.WITHDRAW_CONSENT,
)

_US_STATES = (
    RequestType.ACCESS,
    RequestType.PORTABILITY,
    RequestType.DELETION,
    RequestType.CORRECTION,
    RequestType.OPT_OUT_SALE_SHARE,
    RequestType.WITHDRAW_CONSENT,
)

REQUEST_TYPES: Mapping[str, tuple[RequestType, ...]] = MappingProxyType(
    {
        "EU": _GDPR,
        "EU-FR": _GDPR,
        "US-CA": (*_US_STATES, RequestType.LIMIT_SENSITIVE),
        "US-UOOM": _US_STATES,
        "US": _US_STATES,
        "RU": (
            RequestType.ACCESS,
            RequestType.CLARIFICATION,
            RequestType.BLOCKING,
            RequestType.DESTRUCTION,
            RequestType.WITHDRAW_CONSENT,
            RequestType.OBJECTION,
        ),
        "KZ": (
            RequestType.ACCESS,
            RequestType.CORRECTION,
            RequestType.DELETION,
            RequestType.WITHDRAW_CONSENT,
        ),
        "DEFAULT": _GDPR,
    }
)

# Types whose answer is due within the rules' `opt_out_deadline` (CA: 15 business days, CA-6),
# where the row has one, instead of `request_deadline`.
OPT_OUT_TYPES = frozenset({RequestType.OPT_OUT_SALE_SHARE, RequestType.LIMIT_SENSITIVE})

# Types whose answer is due within the rules' `withdrawal_deadline` (RU 30 days, 152-FZ Art. 21(5)).
WITHDRAWAL_TYPES = frozenset({RequestType.WITHDRAW_CONSENT})


def request_types_for(code: str) -> tuple[RequestType, ...]:
    """The types a requester under the ruleset `code` may file (DEFAULT's for an unknown code)."""
    return REQUEST_TYPES.get(code, REQUEST_TYPES["DEFAULT"])
