"""The cookie banner's built-in strings, compiled from the .po catalogues to
cookies/banner/strings/<lang>.json: complete, well-formed and fair in every language."""

import re

import pytest
from babel import Locale
from django.utils import translation

from consent.languages import RIGHT_TO_LEFT, VISITOR_LANGUAGES
from cookies.banner.messages import STRINGS_DIR, banner_days, banner_strings, banner_texts
from cookies.management.commands.banner_messages import as_json, compiled_strings, plural_samples

EU_LANGUAGES = "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv".split()
UI_STRINGS = {path.stem: banner_strings(path.stem) for path in STRINGS_DIR.glob("*.json")}
LANGUAGES = sorted(UI_STRINGS)
KEYS = tuple(banner_texts())
DAYS = ("days_zero", "days_one", "days_two", "days_few", "days_many", "days_other")


def days_keys(language: str) -> set[str]:
    """days_<category> for each CLDR category of whole numbers in `language`, and days_other."""
    return {f"days_{category}" for category in plural_samples(language)} | {"days_other"}


def placeholders(text: str) -> list[str]:
    return re.findall(r"\{[^{}]*\}", text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_exactly_the_keys_and_its_cldr_plural_categories(language):
    assert set(UI_STRINGS[language]) == set(KEYS) | days_keys(language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_files_are_what_the_catalogues_give(language):
    assert (STRINGS_DIR / f"{language}.json").read_text(encoding="utf-8") == as_json(
        compiled_strings(language)
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_string_is_empty_or_padded(language):
    for key, text in UI_STRINGS[language].items():
        assert text.strip(), f"{language}.{key} is empty"
        assert text == text.strip(), f"{language}.{key} has surrounding whitespace"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_exactly_the_ones_the_banner_replaces(language):
    for key, text in UI_STRINGS[language].items():
        if key in DAYS:
            expected = [] if text in ("يومان", "יומיים") else ["{n}"]  # CLDR's duals name no number
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
    assert banner_strings("xx") == UI_STRINGS["en"]


def test_a_regional_tag_gets_its_language():
    assert banner_strings("pt-BR") == UI_STRINGS["pt"]
    assert banner_strings("DE_at") == UI_STRINGS["de"]


def test_the_returned_strings_are_a_copy():
    strings = banner_strings("en")
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
    assert en["days_other"] == "{n} days"
    assert "days_few" not in en and "days_many" not in en


@pytest.mark.parametrize(
    ("language", "one", "few", "many"),
    [
        ("ru", "{n} день", "{n} дня", "{n} дней"),
        ("uk", "{n} день", "{n} дні", "{n} днів"),
        ("pl", "{n} dzień", "{n} dni", "{n} dni"),
    ],
)
def test_languages_with_few_and_many_forms_use_them(language, one, few, many):
    strings = UI_STRINGS[language]
    assert (strings["days_one"], strings["days_few"], strings["days_many"]) == (one, few, many)
    assert strings["days_few"] != strings["days_one"]
    assert strings["days_many"] != strings["days_one"]


@pytest.mark.parametrize(
    ("language", "few"),
    [
        ("hr", "{n} dana"),
        ("sl", "{n} dnevi"),
        ("ro", "{n} zile"),
        ("cs", "{n} dny"),
        ("sk", "{n} dni"),
        ("lt", "{n} dienos"),
    ],
)
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


# What the banner's JavaScript does (frontend/banner/src/strings.js): the CLDR category of n
# picks days_<category>, else days_other. It must give what gettext gives for the same n.
def banner_pick(strings: dict[str, str], language: str, n: int) -> str:
    category = Locale.parse(language).plural_form(n)
    return strings.get(f"days_{category}", strings["days_other"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_banner_and_gettext_pick_the_same_plural_form_for_every_number_of_days(language):
    strings = UI_STRINGS[language]
    with translation.override(language):
        for n in range(0, 1001):
            assert banner_pick(strings, language, n) == banner_days(n), (language, n)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", {1: "{n} день", 2: "{n} дня", 5: "{n} дней", 11: "{n} дней", 21: "{n} день", 22: "{n} дня"}),
        ("kk", {1: "{n} күн", 2: "{n} күн", 30: "{n} күн"}),
        ("ar", {0: "{n} يوم", 1: "{n} يوم", 2: "يومان", 3: "{n} أيام", 11: "{n} يومًا", 100: "{n} يوم"}),
        ("he", {1: "{n} יום", 2: "יומיים", 3: "{n} ימים", 20: "{n} ימים"}),
        (
            "sl",
            {1: "{n} dan", 2: "{n} dneva", 3: "{n} dnevi", 5: "{n} dni", 101: "{n} dan", 102: "{n} dneva"},
        ),
        ("lv", {0: "{n} dienu", 1: "{n} diena", 2: "{n} dienas", 11: "{n} dienu", 21: "{n} diena"}),
    ],
)
def test_plural_forms_follow_cldr(language, expected):
    strings = UI_STRINGS[language]
    assert {n: banner_pick(strings, language, n) for n in expected} == expected


def test_arabic_has_all_six_cldr_forms_and_they_differ_where_the_language_does():
    strings = UI_STRINGS["ar"]
    assert {key for key in strings if key.startswith("days_")} == set(DAYS)
    assert len({strings["days_one"], strings["days_two"], strings["days_few"], strings["days_many"]}) == 4
