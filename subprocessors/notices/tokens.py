"""Signed tokens in the links we email: confirm, unsubscribe, object.

Each purpose has its own salt, so a token made for one can never be used for another.
Tokens carry only public keys (never row ids) and are checked again against the database:
a signature proves we made the link, the database decides whether it still does anything.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

CONFIRM_SALT = "consentry.subprocessors.confirm"


UNSUBSCRIBE_SALT = "consentry.subprocessors.unsubscribe"


OBJECTION_SALT = "consentry.subprocessors.objection"


CONFIRM_MAX_AGE = timedelta(days=7)


class TokenError(Exception):
    """The link is not one we made, or it has expired. `message` is shown to the person."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


def confirm_token_make(*, subscriber_key: str) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(subscriber_key)


def confirm_token_read(token: str) -> str:
    try:
        return signing.TimestampSigner(salt=CONFIRM_SALT).unsign(token, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired as error:
        raise TokenError(
            "This confirmation link has expired (links work for 7 days). Subscribe again to get a new one.",
            expired=True,
        ) from error
    except signing.BadSignature as error:
        raise TokenError(
            "This confirmation link is not valid. Copy the whole link from the email."
        ) from error


def unsubscribe_token_make(*, subscriber_key: str) -> str:
    # No expiry: an unsubscribe link in an old email must keep working (RFC 8058).
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(subscriber_key)


def unsubscribe_token_read(token: str) -> str:
    try:
        return signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature as error:
        raise TokenError("This unsubscribe link is not valid. Copy the whole link from the email.") from error


@dataclass(frozen=True)
class ObjectionClaim:
    subscriber_key: str
    version_number: int
    vendor_key: str


def objection_token_make(*, subscriber_key: str, version_number: int, vendor_key: str) -> str:
    # No max age here: the objection window is the addition's effective date, checked by the service.
    return signing.Signer(salt=OBJECTION_SALT).sign_object(
        {"s": subscriber_key, "v": version_number, "k": vendor_key}, compress=True
    )


def objection_token_read(token: str) -> ObjectionClaim:
    try:
        data = signing.Signer(salt=OBJECTION_SALT).unsign_object(token)
        return ObjectionClaim(
            subscriber_key=str(data["s"]), version_number=int(data["v"]), vendor_key=str(data["k"])
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise TokenError("This objection link is not valid. Copy the whole link from the email.") from error
