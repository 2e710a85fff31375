"""The cookies app's tables: the catalogue (`catalogue`) and the banner (`banner`)."""

from cookies.models.banner import (
    CONSENT_MODE_TYPES,
    HEX_COLOUR,
    BannerLayout,
    BannerPosition,
    BannerSettings,
    BannerText,
    BannerVersion,
)
from cookies.models.catalogue import COOKIE_NAME_PATTERN, Cookie

__all__ = [
    "HEX_COLOUR",
    "CONSENT_MODE_TYPES",
    "BannerPosition",
    "BannerLayout",
    "BannerSettings",
    "BannerText",
    "BannerVersion",
    "COOKIE_NAME_PATTERN",
    "Cookie",
]
