"""What the requester is emailed at each step, in their language (pure functions), and the links in it."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from consent.models import DataSubjectRequest
from consent.requests.tokens import status_token_make, verify_token_make


def status_url(request: DataSubjectRequest) -> str:
    """The requester's status page: no account, the link's signature is the key."""
    path = reverse("request-status", args=[request.site.key, request.public_id])
    return f"{settings.PUBLIC_BASE_URL}{path}?t={status_token_make(public_id=request.public_id)}"


def verify_url(request: DataSubjectRequest) -> str:
    token = verify_token_make(public_id=request.public_id)
    return settings.PUBLIC_BASE_URL + reverse("request-verify", args=[request.site.key, token])


def _dates(request: DataSubjectRequest) -> list[str]:
    lines = []
    if request.acknowledge_by:
        lines.append(
            _("We confirm receipt by %(date)s.") % {"date": date_format(request.acknowledge_by, "j E Y")}
        )
    if request.due_at:
        lines.append(_("We answer by %(date)s.") % {"date": date_format(request.due_at, "j E Y")})
        lines.append(request.due_explanation)
    return lines


def filed_email(request: DataSubjectRequest) -> tuple[str, str]:
    """Subject and body of the email asking the requester to confirm their address."""
    with translation.override(request.language):
        subject = _("%(site)s: confirm your request") % {"site": request.site.name}
        lines = [
            _("We received your request to %(site)s: %(type)s.")
            % {"site": request.site.name, "type": request.get_type_display()},
            "",
            _("Confirm that this address is yours by opening this link (it works for 7 days):"),
            verify_url(request),
            "",
            *_dates(request),
            "",
            _("Follow your request here:"),
            status_url(request),
            "",
            _("If you did not make this request, ignore this email: nothing happens unless you confirm."),
        ]
        return subject, "\n".join(lines)


def verified_email(request: DataSubjectRequest) -> tuple[str, str]:
    """Subject and body of the email confirming the address was verified."""
    with translation.override(request.language):
        subject = _("%(site)s: your request is confirmed") % {"site": request.site.name}
        lines = [
            _("Your email address is confirmed; your request (%(type)s) is with %(site)s.")
            % {"site": request.site.name, "type": request.get_type_display()},
            "",
            *_dates(request),
            "",
            _("Follow your request here:"),
            status_url(request),
        ]
        return subject, "\n".join(lines)
