"""Public policy pages: the version in force, any edition, and the changes between two.

Server-rendered, no login, no cookies, cacheable: every response carries an ETag and a
short public max-age (the version in force can change when an upcoming one takes effect).
"""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
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
from edge.http import cache_public, etag_for, language_choose, not_modified_or_none

PAGE_MAX_AGE = 300


DIFF_CONTEXT_LINES = 3


# Page wording in the languages we ship it in; other languages fall back to English.
PAGE_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "effective": "In force since",
        "effective_future": "Takes effect on",
        "published": "Published",
        "version": "Version",
        "history": "All versions",
        "upcoming": "An updated version takes effect on {date}.",
        "see_changes": "See what changes",
        "changes": "Changes",
        "changes_from": "Changes from version {a} to version {b}",
        "material": "Significant change",
        "current": "in force",
        "scheduled": "upcoming",
        "superseded": "earlier",
        "not_published": "This document has not been published yet.",
        "documents": "Documents",
        "languages": "Other languages",
        "prevails": "If the language versions differ, the {language} text prevails.",
        "summary": "Summary of changes",
        "no_changes": "This language has no changes.",
        "unchanged_lines": "unchanged lines",
    },
    "ru": {
        "effective": "Действует с",
        "effective_future": "Вступает в силу",
        "published": "Опубликовано",
        "version": "Редакция",
        "history": "Все редакции",
        "upcoming": "Новая редакция вступает в силу {date}.",
        "see_changes": "Что меняется",
        "changes": "Изменения",
        "changes_from": "Изменения между редакциями {a} и {b}",
        "material": "Существенное изменение",
        "current": "действует",
        "scheduled": "предстоящая",
        "superseded": "прежняя",
        "not_published": "Документ ещё не опубликован.",
        "documents": "Документы",
        "languages": "Другие языки",
        "prevails": "При расхождении языковых версий преимущественную силу имеет текст на языке: {language}.",
        "summary": "Краткое описание изменений",
        "no_changes": "В этом языке изменений нет.",
        "unchanged_lines": "строк без изменений",
    },
}


def page_strings(language: str) -> dict[str, str]:
    """The policy and receipt pages' own wording in `language`, English where it has none yet."""
    return PAGE_STRINGS.get(language, PAGE_STRINGS["en"])


def _site_and_document(site_key: str, slug: str) -> tuple[Site, PolicyDocument]:
    site = site_get_by_key(key=site_key)
    document = policy_document_get(site=site, slug=slug) if site else None
    if site is None or document is None:
        raise Http404("No such document.")
    return site, document


def _version_context(
    request: HttpRequest, version: PolicyVersion, timeline: PolicyTimeline
) -> dict[str, Any]:
    language = language_choose(request, list(version.texts), version.prevailing_language)
    text = version.texts[language]
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
    response = render(
        request,
        "consent/policy_index.html",
        {"site": site, "timelines": documents, "language": language, "t": page_strings(language)},
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
        response = render(
            request,
            "consent/policy.html",
            {
                "site": site,
                "document": document,
                "t": page_strings(language),
                "language": language,
                "dir": "ltr",
            },
            status=404,
        )
        return response
    context = _version_context(request, shown, timeline)
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
    response = render(request, "consent/policy.html", {"site": site, "document": document, **context})
    return cache_public(response, etag=etag, max_age=PAGE_MAX_AGE, vary=("Accept-Language",))


@require_safe
def policy_version_page(request: HttpRequest, site_key: str, slug: str, number: int) -> HttpResponseBase:
    """Any edition by number, including upcoming ones, with the history around it."""
    site, document = _site_and_document(site_key, slug)
    version = policy_version_get(document=document, number=number)
    if version is None:
        raise Http404("No such version.")
    timeline = policy_timeline(document=document, at=timezone.now())
    context = _version_context(request, version, timeline)
    etag = etag_for(
        "version",
        version.content_sha256,
        context["language"],
        timeline.in_force and timeline.in_force.number,
        *[v.number for v in timeline.history],
    )
    if cached := not_modified_or_none(request, etag):
        return cached
    response = render(request, "consent/policy.html", {"site": site, "document": document, **context})
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
    response: HttpResponse = render(
        request,
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
