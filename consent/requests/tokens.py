"""The signed links a requester is emailed: verify the address, and read the request's status.

Each purpose has its own salt, so a token made for one is never good for the other. A token carries
the request's public id only; the database decides what it still does (a verified request is not
verified twice).
"""

from datetime import timedelta

from django.core import signing
from django.utils.translation import gettext

VERIFY_SALT = "consentry.requests.verify"
STATUS_SALT = "consentry.requests.status"

# Long enough for a weekend away from the mailbox; a request left unverified is re-filed.
VERIFY_MAX_AGE = timedelta(days=7)

# Longer than any URL we make; a longer one is refused before the signature is checked.
TOKEN_MAX_LENGTH = 200


class RequestTokenError(Exception):
    """The link is not one we made, or it has expired. `message` is shown to the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def verify_token_make(*, public_id: str) -> str:
    return signing.TimestampSigner(salt=VERIFY_SALT).sign(public_id)


def verify_token_read(token: str) -> str:
    """The public id a verification link was made for, or RequestTokenError."""
    if len(token) > TOKEN_MAX_LENGTH:
        raise RequestTokenError(
            gettext("This verification link is not valid. Copy the whole link from the email.")
        )
    try:
        return signing.TimestampSigner(salt=VERIFY_SALT).unsign(token, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired as error:
        raise RequestTokenError(
            gettext("This verification link has expired (links work for 7 days). File the request again.")
        ) from error
    except signing.BadSignature as error:
        raise RequestTokenError(
            gettext("This verification link is not valid. Copy the whole link from the email.")
        ) from error


def status_token_make(*, public_id: str) -> str:
    # No expiry: the status link must keep working as long as the request is kept.
    return signing.Signer(salt=STATUS_SALT).signature(public_id)


def status_token_check(*, public_id: str, token: str) -> bool:
    """Whether `token` is the status link's signature for `public_id` (compared in constant time)."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return False
    return signing.constant_time_compare(status_token_make(public_id=public_id), token)
