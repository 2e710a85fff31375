"""Working-day calendars: which days a legal time limit counts, and why a day is not counted.

One module per source: eu.py (Saturdays, Sundays and the public holidays of the site's establishment
country, for Regulation 1182/71), ru.py (the Russian production calendar), us_ca.py (California's
business days). A calendar is pure: no database, no settings, no clock.
"""

from datetime import date

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy


class WorkingCalendar:
    """Every day is a working day: the calendar of periods counted in calendar days that no rule
    moves off a weekend or a holiday. Subclasses say which days are not working days and why."""

    #: What the calendar is, for a person: "the Russian production calendar".
    name: str | Promise = gettext_lazy("calendar days")
    #: The law that defines the calendar's working days (a citation, not translated).
    source: str = ""

    def non_working_reason(self, day: date) -> str | None:
        """Why `day` is not a working day ("a Sunday", "a public holiday: Easter Monday"), in the
        active language; None when it is one."""
        return None

    def is_working_day(self, day: date) -> bool:
        return self.non_working_reason(day) is None

    def is_weekend_workday(self, day: date) -> bool:
        """Whether `day` is a Saturday or Sunday that a decree made a working day."""
        return False

    def covers(self, year: int) -> bool:
        """Whether the calendar's data for `year` is official and complete; when it is not, a date
        counted on it may still move (a decree not yet published)."""
        return True


def weekend_reason(day: date) -> str | None:
    """ "a Saturday" or "a Sunday" for those days, else None."""
    if day.weekday() == 5:
        return gettext("a Saturday")
    if day.weekday() == 6:
        return gettext("a Sunday")
    return None
