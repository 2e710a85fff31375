"""What the requester is told when a request is refused (the right to complain, per jurisdiction),
and the answers the DPO starts from for each action (pure functions; gettext, in the active language).

The complaint-rights texts name the authority each law gives the requester: GDPR Arts. 12(4) and 77
(the supervisory authority), Cal. Civ. Code §1798.199.10 and §1798.155 (the California Privacy
Protection Agency and the Attorney General), 152-FZ Art. 17(2) (Roskomnadzor, or a court), and the
Kazakh Law on Personal Data Art. 22 (the authorised body for personal data protection, or a court).
"""

from django.utils.translation import gettext


def complaint_rights(jurisdiction: str) -> str:
    """The sentence a refusal must carry under `jurisdiction` (a rules code: "EU", "EU-FR", "US-CA", ...)."""
    if jurisdiction == "EU" or jurisdiction.startswith("EU-"):
        return gettext(
            "You have the right to lodge a complaint with a supervisory authority, in particular in the "
            "Member State where you live or work or where the alleged infringement took place, and to "
            "seek a judicial remedy."
        )
    if jurisdiction == "US-CA":
        return gettext(
            "If you disagree, you may file a complaint with the California Privacy Protection Agency "
            "(cppa.ca.gov) or the California Attorney General (oag.ca.gov/privacy)."
        )
    if jurisdiction == "RU":
        return gettext(
            "You may appeal against this decision to Roskomnadzor, the authorised body for the "
            "protection of the rights of personal data subjects, or to a court."
        )
    if jurisdiction == "KZ":
        return gettext(
            "You may appeal against this decision to the authorised body for personal data "
            "protection of the Republic of Kazakhstan, or to a court."
        )
    return gettext(
        "If you disagree with this decision, you may complain to the data protection authority "
        "where you live."
    )


def answer_templates(*, site_name: str, type_label: str) -> dict[str, str]:
    """The text each action's form is prefilled with, for the DPO to edit before sending."""
    values = {"site": site_name, "type": type_label}
    return {
        "request_info": gettext(
            "To answer your request (%(type)s) we need more information: please reply with ..."
        )
        % values,
        "extend": gettext(
            "We need more time to answer your request (%(type)s) because of its complexity and the "
            "number of requests we have received: ..."
        )
        % values,
        "fulfil": gettext("We have completed your request (%(type)s) to %(site)s: ...") % values,
        "refuse": gettext("We cannot complete your request (%(type)s) to %(site)s because ...") % values,
    }
