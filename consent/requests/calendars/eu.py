"""Working days for EU law's time limits: Regulation (EEC, Euratom) No 1182/71 (OJ L 124, 8.6.1971,
p. 1). Art. 2(2): working days are all days other than public holidays, Sundays and Saturdays.
Art. 2(1): public holidays are those of the Member State where the action is to be taken, here the
controller's (the site's) country of establishment. Art. 3(4): a period that would end on a
Saturday, a Sunday or a public holiday ends on the next working day.

The holidays are the `holidays` package's national public holidays of that country. A country with
regional holidays (DE, ES, AT, ...) takes a subdivision too; without one only the national days
count, so a date is never later than the regional calendar would give.
"""

from datetime import date

from django.utils.translation import gettext, gettext_lazy

from consent.requests.calendars import WorkingCalendar, weekend_reason
from consent.requests.calendars._holidays import country_supported, holiday_name

REGULATION_1182_71 = "Regulation 1182/71 Art. 3(4)"


class EstablishmentCalendar(WorkingCalendar):
    """Saturdays, Sundays and the public holidays of `country` are not working days (Art. 2)."""

    source = REGULATION_1182_71

    def __init__(self, *, country: str | None, subdivision: str | None = None) -> None:
        self.country = (country or "").strip().upper() or None
        self.subdivision = (subdivision or "").strip().upper() or None
        if self.country and not country_supported(self.country):
            # A site setting to fix, not a reason to count without the holidays.
            raise ValueError(f"No public-holiday calendar for the establishment country {self.country!r}")
        self.name = (
            gettext_lazy("working days of the establishment country")
            if self.country
            else gettext_lazy("working days (no establishment country set: weekends only)")
        )

    def non_working_reason(self, day: date) -> str | None:
        weekend = weekend_reason(day)
        if weekend:
            return weekend
        if self.country:
            name = holiday_name(country=self.country, subdivision=self.subdivision, day=day)
            if name:
                return gettext("a public holiday: %(name)s") % {"name": name}
        return None
