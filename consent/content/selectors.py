"""Reads of a site's own content per language: which languages its jurisdictions require, and
which purpose and policy texts a visitor would miss in a language.

The whole picture (with cookies, vendors and the banner's texts) is
`cookies.content.selectors.site_content_missing`; this module has the parts the consent app owns.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext

from consent.languages import VISITOR_LANGUAGES
from consent.models import PolicyDocument, PolicyText, Purpose, PurposeTranslation, Site
from consent.rules.jurisdictions import RULESETS
from consent.rules.overrides import ruleset_with_overrides


@dataclass(frozen=True)
class MissingText:
    """A text a visitor would see that the site has not written in `language`.

    `kind` says which: "purpose", "cookie", "vendor", "banner" or "policy"; `key` identifies the
    object within its kind (purpose key, cookie name, vendor key, "banner", document slug), `label`
    is what a person recognises it by, and `object_id` its row, for a link to fix it.
    `jurisdictions`: where a visitor meets the text (a policy document's); empty: everywhere.
    """

    kind: str
    key: str
    label: str
    language: str
    object_id: int | None = None
    jurisdictions: tuple[str, ...] = ()

    def seen_in(self, jurisdictions: Iterable[str]) -> bool:
        """Whether a visitor under any of `jurisdictions` meets this text."""
        return not self.jurisdictions or bool(set(self.jurisdictions) & set(jurisdictions))


def site_jurisdictions(*, site: Site) -> list[str]:
    """The jurisdictions a site declares it serves: its default one, those it sets overrides for and
    those its policy documents name, in the rules table's order."""
    named = {site.default_jurisdiction, *site.jurisdiction_overrides}
    for jurisdictions in PolicyDocument.objects.filter(site=site).values_list("jurisdictions", flat=True):
        named.update(jurisdictions or [])
    return [code for code in RULESETS if code in named]


def site_required_languages(*, site: Site) -> dict[str, list[str]]:
    """Language -> the jurisdictions of the site that require it (the rules table with the site's
    overrides, which can only add languages), languages in the order the rules name them."""
    required: dict[str, list[str]] = {}
    for code in site_jurisdictions(site=site):
        overrides = site.jurisdiction_overrides.get(code) or {}
        try:
            ruleset = ruleset_with_overrides(RULESETS[code], overrides)
        except ValueError:
            # Saved overrides are validated; a row tightened since then still requires its own.
            ruleset = RULESETS[code]
        for language in ruleset.required_languages:
            required.setdefault(language, []).append(code)
    return required


def purpose_texts_missing(*, site: Site, languages: Iterable[str]) -> list[MissingText]:
    """The purposes whose name and description a visitor of the banner lacks in each of `languages`."""
    purposes = list(Purpose.objects.filter(site=site).order_by("position", "key"))
    have = set(
        PurposeTranslation.objects.filter(purpose__site=site)
        .exclude(name="")
        .exclude(description="")
        .values_list("purpose_id", "language")
    )
    return [
        MissingText(
            kind="purpose", key=purpose.key, label=purpose.key, language=language, object_id=purpose.pk
        )
        for language in languages
        for purpose in purposes
        if (purpose.pk, language) not in have
    ]


def policy_texts_missing(*, site: Site, languages: Iterable[str]) -> list[MissingText]:
    """The policy documents whose working copy has no text in each of `languages`."""
    documents = list(PolicyDocument.objects.filter(site=site).order_by("kind", "slug"))
    have = set(
        PolicyText.objects.filter(document__site=site).exclude(body="").values_list("document_id", "language")
    )
    return [
        MissingText(
            kind="policy",
            key=document.slug,
            label=str(document),
            language=language,
            object_id=document.pk,
            jurisdictions=tuple(document.jurisdictions or ()),
        )
        for language in languages
        for document in documents
        if (document.pk, language) not in have
    ]


def missing_texts_refusal(
    *, language: str, required_by: Iterable[str], missing: Iterable[MissingText]
) -> str:
    """The message a refused publication shows: the required language, who requires it, what is missing."""
    names = [_missing_text_name(text) for text in missing]
    return gettext(
        "%(language)s is required by %(jurisdictions)s: write these texts in it before publishing: %(texts)s."
    ) % {
        "language": f"{VISITOR_LANGUAGES.get(language, language)} ({language})",
        "jurisdictions": ", ".join(required_by),
        "texts": "; ".join(names),
    }


def _missing_text_name(text: MissingText) -> str:
    if text.kind == "purpose":
        return gettext("purpose %(name)s") % {"name": text.label}
    if text.kind == "cookie":
        return gettext("description of cookie %(name)s") % {"name": text.label}
    if text.kind == "vendor":
        return gettext("purpose of sub-processor %(name)s") % {"name": text.label}
    if text.kind == "banner":
        return gettext("banner title") if text.key == "title" else gettext("banner text")
    return gettext("policy document %(name)s") % {"name": text.label}
