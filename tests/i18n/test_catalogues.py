"""The translation catalogues: well-formed, complete in ids, Russian and Kazakh fully translated."""

import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import translation

from consent.catalogues import (
    COMPLETE_LANGUAGES,
    SOURCE_LANGUAGE,
    catalogue_coverage,
    catalogue_path,
    message_keys,
)
from cookies.banner.messages import banner_texts as banner_texts_active

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def banner_texts() -> dict[str, str]:
    """The banner's message ids (English, whatever language an earlier test left active)."""
    with translation.override(SOURCE_LANGUAGE):
        return banner_texts_active()


def test_every_shipped_language_has_a_catalogue_including_the_eu_ones_rtl_ru_and_kk():
    eu = "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv".split()
    assert set(eu) | {"ru", "kk", "ar", "he"} <= set(LANGUAGES)
    assert len(LANGUAGES) >= 32
    assert [code for code in LANGUAGES if not catalogue_path(code).exists()] == []


@pytest.mark.skipif(
    shutil.which("msgfmt") is None and os.environ.get("CI") != "true", reason="GNU gettext not installed"
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_msgfmt_check_passes(language):
    result = subprocess.run(
        ["msgfmt", "--check", "-o", os.devnull, str(catalogue_path(language))], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_has_every_message_id_of_the_source(language):
    assert catalogue_coverage(language).missing_ids == 0


def test_the_source_catalogue_has_the_banner_messages():
    source = message_keys(SOURCE_LANGUAGE)
    assert {("banner", text) for text in banner_texts().values()} <= set(source)
    assert ("banner", "{n} day") in source


@pytest.mark.parametrize("language", COMPLETE_LANGUAGES)
def test_russian_and_kazakh_have_no_untranslated_or_fuzzy_message(language):
    coverage = catalogue_coverage(language)
    assert coverage.fuzzy == 0
    untranslated = [
        key
        for key, message in message_keys(language).items()
        if not all(message.string if isinstance(message.string, tuple) else (message.string,))
    ]
    assert untranslated == []
    assert coverage.percent == 100.0


def test_every_language_translates_the_banner_and_coverage_is_printed(capsys):
    banner_ids = {("banner", text) for text in banner_texts().values()} | {("banner", "{n} day")}
    lines = []
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        messages = message_keys(language)
        untranslated = [key for key in banner_ids if not messages[key].string or messages[key].fuzzy]
        assert untranslated == [], language
        coverage = catalogue_coverage(language)
        lines.append(f"{language} {coverage.percent:.1f}% ({coverage.translated}/{coverage.total})")
    with capsys.disabled():
        sys.stdout.write("\ncatalogue coverage: " + ", ".join(lines) + "\n")


@pytest.mark.parametrize("language", COMPLETE_LANGUAGES)
def test_placeholders_survive_translation(language):
    import re

    pattern = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]*\}")
    for (context, msgid), message in message_keys(language).items():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(set(pattern.findall(ids[-1])))
        for string in strings:
            got = sorted(set(pattern.findall(string)))
            if context == "banner" and msgid == "{n} day" and not got:
                continue  # the Arabic and Hebrew duals name no number (CLDR)
            assert got == wanted, (language, msgid, string)
