"""Data-subject requests: for now the clocks that say when each answer is due (clocks.py) and the
working-day calendars they count on (calendars/)."""
