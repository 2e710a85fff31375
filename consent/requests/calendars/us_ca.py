"""California business days, for the CCPA regulations' "10 business days" (11 CCR §7021(a), CA-10)
and "15 business days" (§7026(f), §7027(g), CA-6, CA-8).

The regulations do not define a business day (11 CCR §7001 has no such definition), and the CCPA
is part of the Civil Code, whose own definitions then apply: Civ. Code §9, "All other days than
those mentioned in Section 7 are business days for all purposes"; §7, holidays "are every Sunday
and such other days as are specified or provided for as holidays in the Government Code". So a
business day is every day except Sundays and the state holidays of Gov. Code §6700(a), with the
observed days of §6701. Read literally that makes Saturday a business day; the common reading
(Monday to Friday) gives dates up to two days later. We count the literal reading because it is
never later: a request answered on time under it is on time under both (open question in
docs/legal-requirements.md §10). Federal holidays that are not California's (none today) do not
count; California's that are not federal (Lincoln Day, Cesar Chavez Day, Admission Day, ...) do.

Gov. Code §6700(a) as amended through 2024 [S]: January 1; Dr. Martin Luther King, Jr. Day (third
Monday in January); Lunar New Year; Lincoln Day (February 12); the third Monday in February; Cesar
Chavez Day (March 31); Genocide Remembrance Day (April 24); the last Monday in May; Juneteenth
(June 19); July 4; the first Monday in September; Admission Day (September 9); Native American Day
(fourth Friday in September); Columbus Day (second Monday in October); Veterans Day (November 11);
December 25; Good Friday from noon to 3 p.m. (part of a day: still a business day); every day the
President or the Governor appoints as a holiday, which every year includes Thanksgiving Day (fourth
Thursday in November); other one-off proclamations cannot be known in advance and are not here.
"""

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

from django.utils.translation import gettext, gettext_lazy

from consent.requests.calendars import WorkingCalendar, weekend_reason

# "The date corresponding with the second new moon following the winter solstice" (§6700(a)(4)):
# astronomical, so a table, the same dates as the Chinese calendar's New Year.
LUNAR_NEW_YEAR = {
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}

# The fixed-date holidays whose Sunday moves to the Monday after (Gov. Code §6701).
_OBSERVED_ON_MONDAY = {(1, 1), (2, 12), (3, 31), (7, 4), (9, 9), (11, 11), (12, 25)}

# Civ. Code §9 read literally (see the module's docstring). False gives the Monday-to-Friday reading,
# whose dates are up to two days later: a choice for counsel, made here in one place.
SATURDAY_IS_BUSINESS_DAY = True


class CaliforniaBusinessDays(WorkingCalendar):
    """Business days under Cal. Civ. Code §§7, 9: every day but Sundays and state holidays."""

    name = gettext_lazy("California business days")
    source = "Cal. Civ. Code §§7, 9; Gov. Code §§6700, 6701"

    def non_working_reason(self, day: date) -> str | None:
        if day.weekday() == 6 or (day.weekday() == 5 and not SATURDAY_IS_BUSINESS_DAY):
            return weekend_reason(day)
        name = california_holidays(day.year).get(day)
        if name:
            return gettext("a public holiday: %(name)s") % {"name": name}
        return None

    def covers(self, year: int) -> bool:
        return year in LUNAR_NEW_YEAR


@lru_cache(maxsize=64)
def california_holidays(year: int) -> Mapping[date, str]:
    """The state holidays of Gov. Code §6700(a) in `year` with the observed days of §6701, by date
    (names in English: they are the statute's)."""
    fixed = {
        (1, 1): "New Year's Day",
        (2, 12): "Lincoln Day",
        (3, 31): "Cesar Chavez Day",
        (4, 24): "Genocide Remembrance Day",
        (6, 19): "Juneteenth",
        (7, 4): "Independence Day",
        (9, 9): "Admission Day",
        (11, 11): "Veterans Day",
        (12, 25): "Christmas Day",
    }
    days = {date(year, month, day): name for (month, day), name in fixed.items()}
    days[_nth_weekday(year, 1, 0, 3)] = "Dr. Martin Luther King, Jr. Day"
    days[_nth_weekday(year, 2, 0, 3)] = "Washington's Birthday (third Monday in February)"
    days[_last_weekday(year, 5, 0)] = "Memorial Day (last Monday in May)"
    days[_nth_weekday(year, 9, 0, 1)] = "Labor Day (first Monday in September)"
    days[_nth_weekday(year, 9, 4, 4)] = "Native American Day"
    days[_nth_weekday(year, 10, 0, 2)] = "Columbus Day"
    days[_nth_weekday(year, 11, 3, 4)] = "Thanksgiving Day"
    if year in LUNAR_NEW_YEAR:
        days[LUNAR_NEW_YEAR[year]] = "Lunar New Year"
    for (month, day), name in fixed.items():
        holiday = date(year, month, day)
        if (month, day) in _OBSERVED_ON_MONDAY and holiday.weekday() == 6:
            days.setdefault(holiday + timedelta(days=1), f"{name} (observed)")
    veterans_day = date(year, 11, 11)
    if veterans_day.weekday() == 5:
        days.setdefault(veterans_day - timedelta(days=1), "Veterans Day (observed)")
    return MappingProxyType(days)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)
