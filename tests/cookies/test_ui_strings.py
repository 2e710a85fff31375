"""The cookie banner's built-in strings: complete, well-formed and fair in every language."""

import re

import pytest

from consent.languages import RIGHT_TO_LEFT, VISITOR_LANGUAGES
from cookies.banner.ui_strings import KEYS, UI_STRINGS, ui_strings

EU_LANGUAGES = "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv".split()
DAYS_KEYS = ("days_one", "days_few", "days_many", "days_other")
LANGUAGES = sorted(UI_STRINGS)


def placeholders(text: str) -> list[str]:
    return re.findall(r"\{[^{}]*\}", text)


def test_keys_are_unique():
    assert len(KEYS) == len(set(KEYS))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_exactly_the_keys(language):
    assert set(UI_STRINGS[language]) == set(KEYS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_string_is_empty_or_padded(language):
    for key, text in UI_STRINGS[language].items():
        assert text.strip(), f"{language}.{key} is empty"
        assert text == text.strip(), f"{language}.{key} has surrounding whitespace"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_exactly_the_ones_the_banner_replaces(language):
    for key, text in UI_STRINGS[language].items():
        if key in DAYS_KEYS:
            expected = ["{n}"]
        elif key == "placeholder":
            expected = ["{purpose}"]
        else:
            expected = []
        assert placeholders(text) == expected, f"{language}.{key}: {text!r}"
        stray = text
        for placeholder in expected:
            stray = stray.replace(placeholder, "")
        assert "{" not in stray and "}" not in stray, f"{language}.{key} has a stray brace"


@pytest.mark.parametrize("language", LANGUAGES)
def test_strings_are_plain_text_not_html(language):
    for key, text in UI_STRINGS[language].items():
        assert "<" not in text and ">" not in text, f"{language}.{key} looks like HTML"


def test_at_least_32_languages_including_the_eu_ones_and_our_other_markets():
    assert len(UI_STRINGS) >= 32
    assert len(EU_LANGUAGES) == 24
    assert set(EU_LANGUAGES) <= set(UI_STRINGS)
    assert {"ru", "kk", "uk", "tr", "ar", "he", "nb", "is"} <= set(UI_STRINGS)


def test_every_language_a_visitor_can_be_served_in_has_banner_strings():
    assert set(VISITOR_LANGUAGES) <= set(UI_STRINGS)


def test_every_right_to_left_language_can_be_served_and_has_banner_strings():
    assert RIGHT_TO_LEFT == {"ar", "he"}
    assert RIGHT_TO_LEFT <= set(VISITOR_LANGUAGES)
    assert RIGHT_TO_LEFT <= set(UI_STRINGS)


def test_an_unknown_language_falls_back_to_english():
    assert ui_strings("xx") == UI_STRINGS["en"]


def test_a_regional_tag_gets_its_language():
    assert ui_strings("pt-BR") == UI_STRINGS["pt"]
    assert ui_strings("DE_at") == UI_STRINGS["de"]


def test_the_returned_strings_are_a_copy():
    strings = ui_strings("en")
    strings["title"] = "changed"
    assert UI_STRINGS["en"]["title"] == "Cookies on this site"


def test_english_california_titles_are_exactly_the_statutory_ones():
    assert UI_STRINGS["en"]["do_not_sell"] == "Do Not Sell or Share My Personal Information"
    assert UI_STRINGS["en"]["your_privacy_choices"] == "Your Privacy Choices"


@pytest.mark.parametrize("language", LANGUAGES)
def test_accepting_and_rejecting_are_different_buttons(language):
    strings = UI_STRINGS[language]
    assert strings["accept_all"] != strings["reject_all"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sale_toggle_is_not_the_do_not_sell_link(language):
    strings = UI_STRINGS[language]
    assert strings["sale_label"] != strings["do_not_sell"]


def test_english_days_use_singular_for_one_and_plural_otherwise():
    en = UI_STRINGS["en"]
    assert en["days_one"] == "{n} day"
    assert en["days_few"] == en["days_many"] == en["days_other"] == "{n} days"


@pytest.mark.parametrize(
    ("language", "one", "few", "many"),
    [
        ("ru", "{n} день", "{n} дня", "{n} дней"),
        ("uk", "{n} день", "{n} дні", "{n} днів"),
        ("pl", "{n} dzień", "{n} dni", "{n} dni"),
        ("cs", "{n} den", "{n} dny", "{n} dne"),
        ("sk", "{n} deň", "{n} dni", "{n} dňa"),
        ("lt", "{n} diena", "{n} dienos", "{n} dienos"),
    ],
)
def test_languages_with_few_and_many_forms_use_them(language, one, few, many):
    strings = UI_STRINGS[language]
    assert (strings["days_one"], strings["days_few"], strings["days_many"]) == (one, few, many)
    assert strings["days_few"] != strings["days_one"]
    assert strings["days_many"] != strings["days_one"]


@pytest.mark.parametrize(("language", "few"), [("hr", "{n} dana"), ("sl", "{n} dnevi"), ("ro", "{n} zile")])
def test_languages_with_a_few_form_use_it(language, few):
    strings = UI_STRINGS[language]
    assert strings["days_few"] == few != strings["days_one"]


@pytest.mark.parametrize("language", ["ru", "kk", "uk", "bg"])
def test_cyrillic_languages_are_written_in_cyrillic(language):
    title = UI_STRINGS[language]["title"]
    assert re.search(r"[\u0400-\u04ff]", title)


@pytest.mark.parametrize("language", sorted(RIGHT_TO_LEFT))
def test_right_to_left_languages_are_written_in_their_script(language):
    script = {"ar": r"[\u0600-\u06ff]", "he": r"[\u0590-\u05ff]"}[language]
    for key, text in UI_STRINGS[language].items():
        assert re.search(script, text), f"{language}.{key} has no {language} letters"
