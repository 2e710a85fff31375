"""What our own log lines must not carry: the account ids of the management API's subject paths.

`/api/v1/sites/<key>/subjects/<subject>/...` names a site's account in the path; Django logs the
path of every 4xx and 5xx (django.request) and the development server every request
(django.server). This filter, on the one console handler (settings.LOGGING), replaces the
subject with "…" in every message before it is written. gunicorn's access log goes through the
same function (config/gunicorn.py), and the reference nginx logs no subject path at all.
"""

import logging
import re

# A subject path runs from "/subjects/" to the end of the path as a log line holds it: before
# " HTTP/" (a request line), a quote, or the end of the line. An account id may hold '/', spaces
# (decoded paths) or a resource's name, so nothing of it is kept; only the route's own ending is
# put back, where the path ends with one.
_SUBJECT_PATH = re.compile(r"/subjects/(?P<rest>.*?)(?=\sHTTP/|[\"']|$)", re.MULTILINE)
_ROUTE_ENDING = re.compile(r"/(consents|link|links/[^/]+)$")


def _subject_path_redacted(match: re.Match[str]) -> str:
    path = match["rest"].split("?", 1)[0]
    ending = _ROUTE_ENDING.search(path)
    if ending is None:
        return "/subjects/…"
    return "/subjects/…/links/…" if ending[1].startswith("links/") else f"/subjects/…/{ending[1]}"


def subject_paths_redact(text: str) -> str:
    if "/subjects/" not in text:
        return text
    return _SUBJECT_PATH.sub(_subject_path_redacted, text)


class SubjectPathFilter(logging.Filter):
    """Rewrites a record's message without the subject of a subject path (never drops the record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = subject_paths_redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
