"""What our own log lines must not carry: the account ids of the management API's subject paths.

`/api/v1/sites/<key>/subjects/<subject>/...` names a site's account in the path; Django logs the
path of every 4xx and 5xx (django.request) and the development server every request
(django.server). This filter, on the one console handler (settings.LOGGING), replaces the
subject with "…" in every message before it is written. A proxy's access log in front of us is
the deployment's to configure (deploy/nginx: see README).
"""

import logging
import re

# The subject runs from "/subjects/" to the first resource name after it (an id may hold '/');
# a path that names none loses everything after "/subjects/" up to the next space or quote.
_NAMED = re.compile(r"/subjects/.+?/(consents|link|links/)")
_ANY = re.compile(r"/subjects/(?!…/)[^\s\"']+")


def subject_paths_redact(text: str) -> str:
    if "/subjects/" not in text:
        return text
    return _ANY.sub("/subjects/…", _NAMED.sub(r"/subjects/…/\1", text))


class SubjectPathFilter(logging.Filter):
    """Rewrites a record's message without the subject of a subject path (never drops the record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = subject_paths_redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
