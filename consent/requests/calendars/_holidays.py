"""The one door to the `holidays` package: a year's official holidays of a country, names in the
active language where the package has it."""

from datetime import date
from functools import lru_cache

import holidays
from django.utils import translation


def holiday_name(*, country: str, subdivision: str | None, day: date) -> str | None:
    """The name of the public holiday on `day` in `country` (and `subdivision`), or None."""
    names = _year(country, subdivision, _language(country), day.year).get_list(day)
    return "; ".join(names) or None


def country_supported(country: str) -> bool:
    """Whether the package has public holidays for `country` (ISO 3166-1 alpha-2)."""
    return country in _supported_countries()


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def weekend_workdays(*, country: str, year: int) -> frozenset[date]:
    """The Saturdays and Sundays that a decree of `country` made working days in `year`."""
    return frozenset(_year(country, None, _language(country), year).weekend_workdays)


def _language(country: str) -> str | None:
    return _language_for(country, (translation.get_language() or "en").replace("-", "_"))


@lru_cache(maxsize=256)
def _language_for(country: str, active: str) -> str | None:
    supported = holidays.country_holidays(country, years=()).supported_languages
    for candidate in (active, active.split("_")[0], "en_US"):
        if candidate in supported:
            return candidate
    return None


# Why one object per year, built complete and never expanded: the package fills years in on demand,
# which mutates a shared object; a frozen year per key is safe to share between threads.
@lru_cache(maxsize=256)
def _year(country: str, subdivision: str | None, language: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=year, expand=False, language=language)
