"""What a visitor's banner shows: the config for their jurisdiction and language, from published editions."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from consent.content.selectors import (
    MissingText,
    policy_texts_missing,
    purpose_texts_missing,
    site_required_languages,
)
from consent.languages import RIGHT_TO_LEFT
from consent.ledger.selectors import policy_version_asks_consent_again
from consent.models import DocumentKind, PolicyDocument, PolicyVersion, Purpose, PurposeTranslation, Site
from consent.policies.selectors import policy_version_in_force
from consent.rules.jurisdictions import RuleSet
from cookies.banner.messages import banner_strings
from cookies.catalogue.selectors import (
    VendorCookies,
    cookie_texts,
    cookie_texts_missing,
    cookie_vendors_by_purpose,
)
from cookies.models import BannerSettings, BannerText, BannerVersion, consent_mode_guess
from subprocessors.lists.selectors import subprocessor_list_in_force, vendor_texts_missing
from subprocessors.models import SubprocessorListVersion


def banner_version_latest(*, site: Site) -> BannerVersion | None:
    """Banner versions take effect when published: the newest one is the one shown."""
    return BannerVersion.objects.filter(site=site).order_by("-number").first()


def consent_epoch(*, site: Site, ruleset: RuleSet, at: datetime) -> datetime | None:
    """The latest moment a change took effect that earlier decisions under `ruleset` do not cover.

    A material policy version (or one whose change kinds need fresh consent here) serving the
    jurisdiction, or a sub-processor list version that added a vendor. A decision made before
    it is asked again. Conservative: one epoch for all purposes, so the banner can be cached
    for every visitor (the ledger's consent_freshness is finer, per purpose).
    """
    moments: list[datetime] = []
    for version in PolicyVersion.objects.filter(document__site=site, effective_at__lte=at).select_related(
        "document"
    ):
        if policy_version_asks_consent_again(version=version, ruleset=ruleset):
            moments.append(version.effective_at)
    previous_keys: set[str] | None = None
    for version in SubprocessorListVersion.objects.filter(site=site, effective_at__lte=at).order_by("number"):
        keys = {entry["key"] for entry in version.entries}
        if previous_keys is not None and keys - previous_keys:
            moments.append(version.effective_at)
        previous_keys = keys
    return max(moments) if moments else None


# Links a jurisdiction may require, and the document kind behind each.
LINK_DOCUMENTS = {
    "privacy_policy": DocumentKind.PRIVACY_POLICY,
    "pd_processing_policy": DocumentKind.PRIVACY_POLICY,
    "cookie_policy": DocumentKind.COOKIE_POLICY,
    "consent_document": DocumentKind.PD_CONSENT,
    "notice_at_collection": DocumentKind.CALIFORNIA_NOTICE,
}


def _document_for(documents: list[PolicyDocument], kind: str, code: str) -> PolicyDocument | None:
    """The document of `kind` for jurisdiction `code`: one that names it, else one that serves all."""
    candidates = [document for document in documents if document.kind == kind]
    specific = [document for document in candidates if code in document.jurisdictions]
    general = [document for document in candidates if not document.jurisdictions]
    return (specific or general or [None])[0]


def banner_config(
    *,
    site: Site,
    ruleset: RuleSet,
    language: str,
    base_url: str,
    gpc_header: bool,
    content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the banner needs for one visitor's jurisdiction and language (see the config contract).

    `content`: a banner working copy to preview instead of the published version.
    """
    now = timezone.now()
    version = banner_version_latest(site=site)
    if content is None:
        content = version.content if version else banner_content_default(site=site)
    texts = banner_strings(language)
    texts.update({key: value for key, value in (content["texts"].get(language) or {}).items() if value})
    purpose_items = _purpose_items(site=site, keys=content["purposes"], language=language)
    links, policy_numbers = _links(site=site, ruleset=ruleset, language=language, base_url=base_url, at=now)
    versions: dict[str, Any] = {"policies": policy_numbers}
    if version is not None:
        versions["banner"] = version.number
    subprocessors = subprocessor_list_in_force(site=site, at=now)
    if subprocessors is not None:
        versions["subprocessors"] = subprocessors.number
    epoch = consent_epoch(site=site, ruleset=ruleset, at=now)
    return {
        "v": 1,
        "site": site.key,
        "endpoint": f"{base_url}/api/public/v1/sites/{site.key}",
        "lang": language,
        "dir": "rtl" if language in RIGHT_TO_LEFT else "ltr",
        "languages": site.enabled_languages,
        "jurisdiction": _jurisdiction_rules(ruleset),
        "gpc_header": gpc_header,
        "epoch": epoch.isoformat().replace("+00:00", "Z") if epoch else None,
        "versions": versions,
        "texts": texts,
        "purposes": purpose_items,
        "links": links,
        # The data-subject request form (consent/requests/views.py), for the preferences layer.
        # Apart from `links`, which the banner shows on both layers with a text per name.
        "requests_url": f"{base_url}/s/{site.key}/requests/?lang={language}",
        "theme": content["theme"],
        "consent_mode": content["consent_mode"],
        "cookie": {"name": CONSENT_COOKIE_NAME, "days": ruleset.max_consent_cookie_days},
    }


def _jurisdiction_rules(ruleset: RuleSet) -> dict[str, Any]:
    """The rules the banner applies itself: how it asks, what GPC does, when it asks again."""
    return {
        "code": ruleset.code,
        "model": ruleset.consent_model,
        "reject_first_layer": ruleset.reject_on_first_layer,
        "gpc": ruleset.gpc_effect,
        "gpc_status": ruleset.gpc_status_shown,
        "reask_consent_days": ruleset.reask_after_consent_days,
        "reask_refusal_days": ruleset.reask_after_refusal_days,
        "cookie_days": ruleset.max_consent_cookie_days,
    }


def _purpose_items(*, site: Site, keys: list[str], language: str) -> list[dict[str, Any]]:
    """The banner's purposes in its order, each in the visitor's language (else the site's, else
    any), with its cookies and vendors; a key the site no longer has is left out.

    A purpose or cookie whose text is in another language than `language` carries `lang`, the
    language it is in (no `lang`: the config's), which the banner puts on the element: the
    fallback is named, and a screen reader reads it in its own language."""
    purposes = {
        purpose.key: purpose
        for purpose in Purpose.objects.filter(site=site)
        .prefetch_related("translations")
        .order_by("position", "key")
    }
    by_purpose = cookie_vendors_by_purpose(site=site)
    descriptions = cookie_texts(site=site)
    items = []
    for key in keys:
        purpose = purposes.get(key)
        if purpose is None:
            continue
        translations = {text.language: text for text in purpose.translations.all()}
        text = (
            translations.get(language)
            or translations.get(site.default_language)
            or next(iter(translations.values()), None)
        )
        item = _purpose_item(
            purpose, text, by_purpose.get(key, []), descriptions, language, site.default_language
        )
        items.append(item)
    return items


def _text_in(texts: dict[str, str], language: str, fallback: str) -> tuple[str, str]:
    """(text, its language): in `language`, else `fallback`, else any; ("", language) when none."""
    for code in (language, fallback, *sorted(texts)):
        if texts.get(code):
            return texts[code], code
    return "", language


def _purpose_item(
    purpose: Purpose,
    text: PurposeTranslation | None,
    groups: list[VendorCookies],
    descriptions: dict[int, dict[str, str]],
    language: str,
    fallback: str,
) -> dict[str, Any]:
    """One purpose as the banner lists it: its name, whether it can be refused, its cookies and vendors."""
    item: dict[str, Any] = {
        "key": purpose.key,
        "name": text.name if text else purpose.key,
        "description": text.description if text else "",
        "locked": purpose.is_necessary,
        "sale": purpose.is_sale_or_share,
    }
    if text is not None and text.language != language:
        item["lang"] = text.language
    cookies = []
    for group in groups:
        for cookie in group.cookies:
            description, described_in = _text_in(descriptions.get(cookie.pk, {}), language, fallback)
            entry: dict[str, Any] = {
                "name": cookie.name,
                "provider": group.vendor.name if group.vendor else "",
                "days": cookie.duration_days,
                "description": description,
            }
            if described_in != language:
                entry["lang"] = described_in
            cookies.append(entry)
    item["cookies"] = cookies
    item["vendors"] = [group.vendor.name for group in groups if group.vendor is not None]
    return item


def _links(
    *, site: Site, ruleset: RuleSet, language: str, base_url: str, at: datetime
) -> tuple[dict[str, str], dict[str, int]]:
    """The links the jurisdiction requires (privacy and cookie policies always), and the number
    of each policy version in force that they lead to (what a consent pins), by slug.

    A link whose document has no version in force yet is left out.
    """
    documents = list(PolicyDocument.objects.filter(site=site))
    in_force_numbers: dict[str, int] = {}
    links: dict[str, str] = {}
    for link in dict.fromkeys(["privacy_policy", "cookie_policy", *ruleset.required_links]):
        kind = LINK_DOCUMENTS.get(link)
        if kind is not None:
            document = _document_for(documents, kind, ruleset.code)
            in_force = policy_version_in_force(document=document, at=at) if document else None
            if document is None or in_force is None:
                continue
            in_force_numbers[document.slug] = in_force.number
            name = "privacy_policy" if link == "pd_processing_policy" else link
            links[name] = f"{base_url}/s/{site.key}/policies/{document.slug}/?lang={language}"
        elif link == "vendor_list":
            links["vendor_list"] = f"{base_url}/s/{site.key}/subprocessors/"
    return links, dict(sorted(in_force_numbers.items()))


CONSENT_COOKIE_NAME = "consentry"


def banner_content_default(*, site: Site) -> dict[str, Any]:
    """What a site that never published a banner shows: the built-in look, every purpose."""
    keys = list(Purpose.objects.filter(site=site).order_by("position", "key").values_list("key", flat=True))
    return {
        "theme": BannerSettings(site=site).theme,
        "consent_mode": consent_mode_guess(keys),
        "purposes": keys,
        "texts": {},
    }


@dataclass(frozen=True)
class LanguageContent:
    """One language of a site: who requires it and which texts a visitor would miss in it.

    `required_by`: the site's jurisdictions whose rules require the language (publishing a banner
    is refused while anything is missing in it); `is_enabled`: the site serves visitors in it.
    """

    language: str
    is_default: bool
    is_enabled: bool
    required_by: tuple[str, ...]
    missing: tuple[MissingText, ...]

    @property
    def is_complete(self) -> bool:
        return not self.missing


def banner_texts_missing(*, site: Site, languages: Iterable[str]) -> list[MissingText]:
    """The site's own banner title and body: once written in one language, needed in each of
    `languages` (else that visitor reads the built-in wording, not the site's)."""
    texts = {text.language: text for text in BannerText.objects.filter(site=site)}
    needed = [field for field in ("title", "body") if any(getattr(text, field) for text in texts.values())]
    missing = []
    for language in languages:
        text = texts.get(language)
        for field in needed:
            if text is None or not getattr(text, field):
                missing.append(
                    MissingText(kind="banner", key=field, label=field, language=language, object_id=None)
                )
    return missing


def site_content_missing(*, site: Site) -> list[LanguageContent]:
    """Per language the site serves or its jurisdictions require (default first): what a visitor
    would see that is missing in it, across purposes, cookies, vendors, banner texts and policies.

    The one reading of "is this site's content complete in language X": the admin's languages page
    shows it and the banner and sub-processor list publications refuse on it.
    """
    required = site_required_languages(site=site)
    languages = list(dict.fromkeys([*site.enabled_languages, *required]))
    missing: dict[str, list[MissingText]] = {language: [] for language in languages}
    for finder in (
        purpose_texts_missing,
        cookie_texts_missing,
        vendor_texts_missing,
        banner_texts_missing,
        policy_texts_missing,
    ):
        for text in finder(site=site, languages=languages):
            missing[text.language].append(text)
    return [
        LanguageContent(
            language=language,
            is_default=language == site.default_language,
            is_enabled=language in site.enabled_languages,
            required_by=tuple(required.get(language, ())),
            missing=tuple(missing[language]),
        )
        for language in languages
    ]
