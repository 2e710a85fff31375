"""Template helpers for languages."""

from django import template

from consent.languages import VISITOR_LANGUAGES

register = template.Library()


@register.simple_tag
def language_names() -> list[tuple[str, str]]:
    """(code, name in that language) for every shipped language: a picker shows each language
    in itself, never translated into the current one (Django's get_available_languages would)."""
    return list(VISITOR_LANGUAGES.items())
