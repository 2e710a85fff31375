"""Public policy pages: the version in force, any edition, and the changes between two.

Server-rendered, no login, no cookies, cacheable: every response carries an ETag and a
short public max-age (the version in force can change when an upcoming one takes effect).
"""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe

from consent.languages import RIGHT_TO_LEFT, VISITOR_LANGUAGES
from consent.models import PolicyDocument, PolicyVersion, Site
from consent.policies.selectors import (
    PolicyTimeline,
    policy_document_get,
    policy_document_list,
    policy_timeline,
    policy_version_diff,
    policy_version_get,
)
from consent.sites.selectors import site_get_by_key
from edge.http import cache_public, etag_for, language_choose, not_modified_or_none, render_in_language

PAGE_MAX_AGE = 300


DIFF_CONTEXT_LINES = 3


def page_strings(language: str) -> dict[str, str]:
    """The policy and receipt pages' own wording in `language` (the catalogues' "page" messages)."""
    with translation.override(language):
        return {
            "effective": _("In force since"),
            "effective_future": _("Takes effect on"),
            "published": _("Published"),
            "version": _("Version"),
            "history": _("All versions"),
            "upcoming": _("An updated version takes effect on {date}."),
            "see_changes": _("See what changes"),
            "changes": _("Changes"),
            "changes_from": _("Changes from version {a} to version {b}"),
            "material": _("Significant change"),
            "current": pgettext("policy version", "in force"),
            "scheduled": pgettext("policy version", "upcoming"),
            "superseded": pgettext("policy version", "earlier"),
            "not_published": _("This document has not been published yet."),
            "documents": _("Documents"),
            "requests": _("Your privacy requests"),
            "languages": _("Other languages"),
            "prevails": _("If the language versions differ, the {language} text prevails."),
            "summary": _("Summary of changes"),
            "no_changes": _("This language has no changes."),
            "unchanged_lines": _("unchanged lines"),
            "fallback": _("Shown in {language}: not yet translated."),
        }


def _site_and_document(site_key: str, slug: str) -> tuple[Site, PolicyDocument]:
    site = site_get_by_key(key=site_key)
    document = policy_document_get(site=site, slug=slug) if site else None
    if site is None or document is None:
        raise Http404("No such document.")
    return site, document


def _version_context(
    request: HttpRequest, site: Site, version: PolicyVersion, timeline: PolicyTimeline
) -> dict[str, Any]:
    # The page is in the reader's language among the site's; an edition without a text in it shows
    # the prevailing language's text, named as such (its `lang` and a note).
    language = language_choose(
        request, list(dict.fromkeys([*version.texts, *site.enabled_languages])), version.prevailing_language
    )
    text_language = language if language in version.texts else version.prevailing_language
    text = version.texts[text_language]
    strings = page_strings(language)
    return {
        "timeline": timeline,
        "version_in_force": timeline.in_force is not None and timeline.in_force.pk == version.pk,
        # Later editions a reader of this one should know about, with the date they take effect.
        "notices": [
            {
                "number": upcoming.number,
                "is_material": upcoming.is_material,
                "text": strings["upcoming"].format(date=f"{upcoming.effective_at:%Y-%m-%d}"),
            }
            for upcoming in timeline.upcoming
            if upcoming.number > version.number
        ],
        "language": language,
        "dir": "rtl" if language in RIGHT_TO_LEFT else "ltr",
        "t": page_strings(language),
        "version": version,
        "title": text["title"],
        "html": text["html"],
        "text_language": text_language,
        "text_dir": "rtl" if text_language in RIGHT_TO_LEFT else "ltr",
        "fallback_note": strings["fallback"].format(
            language=VISITOR_LANGUAGES.get(text_language, text_language)
        )
        if text_language != language
        else "",
        "other_languages": [
            (code, VISITOR_LANGUAGES.get(code, code)) for code in version.languages if code != language
        ],
        "prevails": page_strings(language)["prevails"].format(
            language=VISITOR_LANGUAGES.get(version.prevailing_language, version.prevailing_language)
        ),
    }


@require_safe
def policy_index(request: HttpRequest, site_key: str) -> HttpResponseBase:
    site = site_get_by_key(key=site_key)
    if site is None:
        raise Http404("No such site.")
    now = timezone.now()
    documents = [policy_timeline(document=document, at=now) for document in policy_document_list(site=site)]
    language = language_choose(request, site.enabled_languages, site.default_language)
    etag = etag_for(
        "index", site.key, language, *[(t.document.slug, t.in_force and t.in_force.number) for t in documents]
    )
    if cached := not_modified_or_none(request, etag):
        return cached
    response = render_in_language(
        request,
        language,
        "consent/policy_index.html",
        {"site": site, "timelines": documents, "t": page_strings(language)},
    )
    return cache_public(response, etag=etag, max_age=PAGE_MAX_AGE, vary=("Accept-Language",))


@require_safe
def policy_page(request: HttpRequest, site_key: str, slug: str) -> HttpResponseBase:
    """The version in force, with any upcoming version and the full history."""
    site, document = _site_and_document(site_key, slug)
    timeline = policy_timeline(document=document, at=timezone.now())
    shown = timeline.in_force or (timeline.upcoming[0] if timeline.upcoming else None)
    if shown is None:
        language = language_choose(
            request, document.languages or [document.prevailing_language], document.prevailing_language
        )
        response = render_in_language(
            request,
            language,
            "consent/policy.html",
            {
                "site": site,
                "document": document,
                "t": page_strings(language),
                "dir": "rtl" if language in RIGHT_TO_LEFT else "ltr",
            },
            status=404,
        )
        return response
    context = _version_context(request, site, shown, timeline)
    etag = etag_for(
        "page",
        site.key,
        document.slug,
        context["language"],
        shown.number,
        *[v.number for v in timeline.history],
    )
    if cached := not_modified_or_none(request, etag):
        return cached
    response = render_in_language(
        request, context["language"], "consent/policy.html", {"site": site, "document": document, **context}
    )
    return cache_public(response, etag=etag, max_age=PAGE_MAX_AGE, vary=("Accept-Language",))


@require_safe
def policy_version_page(request: HttpRequest, site_key: str, slug: str, number: int) -> HttpResponseBase:
    """Any edition by number, including upcoming ones, with the history around it."""
    site, document = _site_and_document(site_key, slug)
    version = policy_version_get(document=document, number=number)
    if version is None:
        raise Http404("No such version.")
    timeline = policy_timeline(document=document, at=timezone.now())
    context = _version_context(request, site, version, timeline)
    etag = etag_for(
        "version",
        version.content_sha256,
        context["language"],
        timeline.in_force and timeline.in_force.number,
        *[v.number for v in timeline.history],
    )
    if cached := not_modified_or_none(request, etag):
        return cached
    response = render_in_language(
        request, context["language"], "consent/policy.html", {"site": site, "document": document, **context}
    )
    return cache_public(response, etag=etag, max_age=PAGE_MAX_AGE, vary=("Accept-Language",))


@require_safe
def policy_diff_page(request: HttpRequest, site_key: str, slug: str, a: int, b: int) -> HttpResponseBase:
    """What changed between editions a and b, per language, words marked."""
    site, document = _site_and_document(site_key, slug)
    old, new = (
        policy_version_get(document=document, number=a),
        policy_version_get(document=document, number=b),
    )
    if old is None or new is None:
        raise Http404("No such version.")
    language = language_choose(request, new.languages, new.prevailing_language)
    etag = etag_for("diff", old.content_sha256, new.content_sha256, language)
    if cached := not_modified_or_none(request, etag):
        return cached
    diffs = policy_version_diff(old=old, new=new, context=DIFF_CONTEXT_LINES)
    diffs.sort(key=lambda diff: diff.language != language)  # the reader's language first
    response: HttpResponse = render_in_language(
        request,
        language,
        "consent/policy_diff.html",
        {
            "site": site,
            "document": document,
            "old": old,
            "new": new,
            "diffs": diffs,
            "language": language,
            "dir": "rtl" if language in RIGHT_TO_LEFT else "ltr",
            "t": page_strings(language),
            "heading": page_strings(language)["changes_from"].format(a=old.number, b=new.number),
        },
    )
    return cache_public(response, etag=etag, max_age=86400, vary=("Accept-Language",))
