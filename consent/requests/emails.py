"""What the requester is emailed at each step, in their language (pure functions), and the links in it."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from consent.models import DataSubjectRequest, RequestAction, RequestEvent
from consent.requests.answers import complaint_rights
from consent.requests.holdings import PACKAGE_TYPES
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
    """Subject and body of the email asking the requester to confirm their address (for an
    agent's filing: asking the consumer to confirm or deny the agent)."""
    if request.agent_name:
        return agent_confirm_email(request)
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


def agent_confirm_email(request: DataSubjectRequest) -> tuple[str, str]:
    """Subject and body of the email asking the consumer whether they authorised the agent who
    filed for them (11 CCR §7063(a)(2)): the link leads to a page to confirm or deny."""
    with translation.override(request.language):
        values = {"site": request.site.name, "type": request.get_type_display(), "agent": request.agent_name}
        subject = _("%(site)s: did you authorise %(agent)s to make a request for you?") % values
        lines = [
            _("An authorised agent named %(agent)s made a request to %(site)s on your behalf: %(type)s.")
            % values,
            "",
            _(
                "If you authorised them, confirm it; if you did not, deny it. Open this link to answer "
                "(it works for 7 days):"
            ),
            verify_url(request),
            "",
            _("Nothing is done on the request until you confirm."),
            "",
            _("Follow the request here:"),
            status_url(request),
        ]
        return subject, "\n".join(lines)


def agent_copy_email(request: DataSubjectRequest) -> tuple[str, str]:
    """Subject and body of the agent's copy of their filing: the status link, never the consumer's
    confirmation link."""
    with translation.override(request.language):
        values = {"site": request.site.name, "type": request.get_type_display()}
        subject = _("%(site)s: the request you filed for a consumer") % values
        lines = [
            _("You filed a request to %(site)s on a consumer's behalf: %(type)s.") % values,
            "",
            _(
                "We asked the consumer to confirm that they authorised you; until they do, nothing is "
                "done on the request."
            ),
            "",
            _("Follow the request here:"),
            status_url(request),
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


def _last_note(request: DataSubjectRequest, action: str) -> str:
    event = RequestEvent.objects.filter(request=request, action=action).order_by("-at", "-pk").first()
    return event.note if event is not None else ""


def step_email(request: DataSubjectRequest, kind: str) -> tuple[str, str]:
    """Subject and body of the email telling the requester the DPO's step `kind` (a RequestAction:
    acknowledged, info_requested, extended, fulfilled, refused), with what the DPO wrote."""
    with translation.override(request.language):
        values = {"site": request.site.name, "type": request.get_type_display()}
        if kind == RequestAction.ACKNOWLEDGED:
            subject = _("%(site)s: we are working on your request") % values
            text = [_("We confirm that we received your request (%(type)s) and are working on it.") % values]
        elif kind == RequestAction.INFO_REQUESTED:
            subject = _("%(site)s: we need more information") % values
            text = [_last_note(request, RequestAction.INFO_REQUESTED)]
        elif kind == RequestAction.EXTENDED:
            subject = _("%(site)s: more time for your request") % values
            text = [request.extension_reason]
        elif kind == RequestAction.FULFILLED:
            subject = _("%(site)s: your request is complete") % values
            text = [request.response_text]
            if request.type in PACKAGE_TYPES:
                # The package (consent/requests/package.py) is downloaded from the status page.
                text += ["", _("Your consent history is ready to download from your request's page.")]
        elif kind == RequestAction.REFUSED:
            subject = _("%(site)s: the answer to your request") % values
            text = [request.response_text, "", complaint_rights(request.jurisdiction)]
        else:
            raise ValueError(f"No email for step {kind!r}")
        open_dates = _dates(request) if kind in (RequestAction.ACKNOWLEDGED, RequestAction.EXTENDED) else []
        lines = [*text, "", *open_dates, "", _("Follow your request here:"), status_url(request)]
        return subject, "\n".join(lines)


def reply_received_email(request: DataSubjectRequest) -> tuple[str, str]:
    """Subject and body of the email telling the site's DPOs the requester replied (in the site's
    first language; the reply itself is on the request's page, not in the email)."""
    language = request.site.languages[0] if request.site.languages else "en"
    with translation.override(language):
        values = {"site": request.site.name, "type": request.get_type_display(), "id": request.public_id[:8]}
        subject = _("%(site)s: the requester replied on request %(id)s") % values
        path = reverse("admin:consent_datasubjectrequest_change", args=[request.pk])
        lines = [
            _("The requester of the %(type)s request %(id)s to %(site)s sent the information you asked for.")
            % values,
            "",
            settings.PUBLIC_BASE_URL + path,
        ]
        return subject, "\n".join(lines)


def reminder_email(request: DataSubjectRequest, days: int) -> tuple[str, str]:
    """Subject and body of the reminder to the site's DPOs (in the site's first language)."""
    language = request.site.languages[0] if request.site.languages else "en"
    with translation.override(language):
        values = {
            "site": request.site.name,
            "type": request.get_type_display(),
            "id": request.public_id[:8],
            "date": date_format(request.due_at, "j E Y") if request.due_at else "",
            "days": days,
        }
        subject = _("%(site)s: request %(id)s is due on %(date)s") % values
        path = reverse("admin:consent_datasubjectrequest_change", args=[request.pk])
        lines = [
            _("The %(type)s request %(id)s to %(site)s is due on %(date)s (in %(days)s days or fewer).")
            % values,
            "",
            settings.PUBLIC_BASE_URL + path,
        ]
        return subject, "\n".join(lines)
