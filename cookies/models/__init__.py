"""The cookies app's tables: the catalogue (`catalogue`) and the banner (`banner`)."""

from cookies.models.banner import (
    CONSENT_MODE_TYPES,
    DEFAULT_CONSENT_MODE,
    HEX_COLOUR,
    BannerLayout,
    BannerPosition,
    BannerSettings,
    BannerText,
    BannerVersion,
    consent_mode_guess,
)
from cookies.models.catalogue import COOKIE_NAME_PATTERN, Cookie, CookieTranslation

__all__ = [
    "HEX_COLOUR",
    "CONSENT_MODE_TYPES",
    "DEFAULT_CONSENT_MODE",
    "consent_mode_guess",
    "BannerPosition",
    "BannerLayout",
    "BannerSettings",
    "BannerText",
    "BannerVersion",
    "COOKIE_NAME_PATTERN",
    "Cookie",
    "CookieTranslation",
]
