import dataclasses
import json
from datetime import date

import pytest

from consent.rules.jurisdictions import (
    EU,
    RU,
    RULES_VERSION,
    RULESETS,
    US_CA,
    ConsentModel,
    DayType,
    GpcEffect,
    Period,
    rules_table_as_dict,
    ruleset_for_location,
    ruleset_get,
)
from consent.rules.overrides import overrides_validate, ruleset_with_overrides

# --- which row applies where -------------------------------------------------------------


def test_germany_resolves_to_eu_opt_in_with_reject_on_first_layer_and_no_gpc_effect():
    ruleset = ruleset_for_location(country="DE")

    assert ruleset.code == "EU"
    assert ruleset.consent_model == ConsentModel.OPT_IN
    assert ruleset.reject_on_first_layer is True
    assert ruleset.gpc_effect == GpcEffect.NONE
    assert ruleset.age_threshold_for("DE") == 16
    assert ruleset.request_deadline == Period(1, DayType.CALENDAR_MONTHS)
    assert ruleset.request_extension == Period(2, DayType.CALENDAR_MONTHS)


def test_france_resolves_to_eu_fr_with_six_month_reask_and_age_15():
    ruleset = ruleset_for_location(country="FR")

    assert ruleset.code == "EU-FR"
    assert ruleset.consent_model == ConsentModel.OPT_IN
    assert ruleset.reask_after_consent_days == 183
    assert ruleset.reask_after_refusal_days == 183
    assert ruleset.age_threshold_for("FR") == 15
    assert ruleset.required_languages == ("fr",)


@pytest.mark.parametrize("country", ["RE", "GP", "NC", "PF"])
def test_french_overseas_territories_resolve_to_eu_fr(country):
    assert ruleset_for_location(country=country).code == "EU-FR"


def test_austria_sets_the_digital_consent_age_at_14():
    assert ruleset_for_location(country="AT").age_threshold_for("AT") == 14


def test_member_states_without_their_own_age_fall_back_to_16():
    assert ruleset_for_location(country="PL").age_threshold_for("PL") == 16


@pytest.mark.parametrize("country", ["IS", "LI", "NO", "GB", "CH"])
def test_eea_uk_and_switzerland_get_the_eu_row(country):
    assert ruleset_for_location(country=country).code == "EU"


def test_california_resolves_to_us_ca_opt_out_with_gpc_honoured_and_its_status_shown():
    ruleset = ruleset_for_location(country="US", region="CA")

    assert ruleset.code == "US-CA"
    assert ruleset.consent_model == ConsentModel.OPT_OUT
    assert ruleset.gpc_effect == GpcEffect.OPT_OUT_SALE_SHARE
    assert ruleset.gpc_status_shown is True
    assert ruleset.reask_after_refusal_days == 365
    assert ruleset.request_acknowledge == Period(10, DayType.BUSINESS_DAYS)
    assert ruleset.request_deadline == Period(45, DayType.CALENDAR_DAYS)
    assert ruleset.opt_out_deadline == Period(15, DayType.BUSINESS_DAYS)
    assert {"do_not_sell_or_share", "notice_at_collection", "privacy_policy"} <= set(ruleset.required_links)


def test_region_is_accepted_in_iso_3166_2_form():
    assert ruleset_for_location(country="US", region="US-CA").code == "US-CA"


def test_colorado_resolves_to_us_uoom_from_2024_07_01_and_to_us_before():
    assert ruleset_for_location(country="US", region="CO", on=date(2024, 6, 30)).code == "US"
    assert ruleset_for_location(country="US", region="CO", on=date(2024, 7, 1)).code == "US-UOOM"
    assert ruleset_for_location(country="US", region="CO", on=date(2024, 7, 1)).gpc_effect == (
        GpcEffect.OPT_OUT_SALE_TARGETED_ADS
    )


def test_a_uoom_state_applies_today_when_no_date_is_given():
    assert ruleset_for_location(country="US", region="CO").code == "US-UOOM"


@pytest.mark.parametrize("region", ["", "NY", "CA-ON"])
def test_us_without_a_known_region_resolves_to_us_which_honours_gpc_as_a_courtesy(region):
    ruleset = ruleset_for_location(country="US", region=region)

    assert ruleset.code == "US"
    assert ruleset.consent_model == ConsentModel.OPT_OUT
    assert ruleset.gpc_effect == GpcEffect.OPT_OUT_SALE_SHARE


def test_russia_resolves_to_ru_opt_in_with_a_separate_consent_document_in_russian():
    ruleset = ruleset_for_location(country="RU")

    assert ruleset.code == "RU"
    assert ruleset.consent_model == ConsentModel.OPT_IN
    assert ruleset.separate_consent_document is True
    assert ruleset.required_languages == ("ru",)
    assert ruleset.prevailing_language == "ru"
    assert ruleset.request_deadline == Period(10, DayType.RU_WORKING_DAYS)
    assert ruleset.request_extension == Period(5, DayType.RU_WORKING_DAYS)
    assert ruleset.data_localization_country == "RU"
    assert ruleset.gpc_effect == GpcEffect.NONE


def test_kazakhstan_resolves_to_kz_in_kazakh_and_russian_with_data_kept_in_kazakhstan():
    ruleset = ruleset_for_location(country="KZ")

    assert ruleset.code == "KZ"
    assert ruleset.consent_model == ConsentModel.OPT_IN
    assert ruleset.required_languages == ("kk", "ru")
    assert ruleset.data_localization_country == "KZ"


def test_brazil_resolves_to_the_conservative_default_opt_in():
    ruleset = ruleset_for_location(country="BR")

    assert ruleset.code == "DEFAULT"
    assert ruleset.consent_model == ConsentModel.OPT_IN
    assert ruleset.reject_on_first_layer is True


def test_country_and_region_are_accepted_in_lower_case():
    assert ruleset_for_location(country="de").code == "EU"
    assert ruleset_for_location(country="us", region="ca").code == "US-CA"
    assert ruleset_for_location(country="us", region="us-ca").code == "US-CA"
    assert EU.age_threshold_for("at") == 14


def test_every_row_carries_the_table_version():
    assert {ruleset.version for ruleset in RULESETS.values()} == {RULES_VERSION}


def test_every_row_is_filed_under_its_own_code():
    assert all(code == ruleset.code for code, ruleset in RULESETS.items())


def test_no_row_allows_prechecked_boxes():
    assert not any(ruleset.prechecked_allowed for ruleset in RULESETS.values())


def test_every_row_remembers_a_choice_at_least_as_long_as_it_waits_to_ask_again():
    for ruleset in RULESETS.values():
        assert (ruleset.reask_after_consent_days or 0) <= ruleset.max_consent_cookie_days
        assert (ruleset.reask_after_refusal_days or 0) <= ruleset.max_consent_cookie_days


def test_an_unknown_ruleset_code_is_a_clear_value_error():
    assert ruleset_get("RU") is RU
    with pytest.raises(ValueError, match="Unknown jurisdiction ruleset 'XX'"):
        ruleset_get("XX")


def test_rows_are_immutable_and_hashable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        EU.reject_on_first_layer = False  # type: ignore[misc]
    assert len({*RULESETS.values()}) == len(RULESETS)


def test_a_period_prints_its_amount_and_unit():
    assert str(RU.request_deadline) == "10 ru_working_days"


def test_the_rules_table_as_dict_is_json_serialisable():
    table = json.loads(json.dumps(rules_table_as_dict()))

    assert table["version"] == RULES_VERSION
    assert set(table["rulesets"]) == set(RULESETS)
    assert table["rulesets"]["RU"]["request_deadline"] == {"amount": 10, "unit": "ru_working_days"}
    assert table["rulesets"]["EU"]["age_threshold_by_country"]["AT"] == 14
    assert table["rulesets"]["US-CA"]["gpc_effect"] == "opt_out_sale_share"
    assert table["uoom_states_effective_from"]["CO"] == "2024-07-01"


# --- per-site overrides ------------------------------------------------------------------


def test_shortening_the_eu_reask_after_consent_is_allowed():
    assert overrides_validate("EU", {"reask_after_consent_days": 90}) == {}
    assert ruleset_with_overrides(EU, {"reask_after_consent_days": 90}).reask_after_consent_days == 90


def test_lengthening_the_eu_reask_after_consent_is_refused_with_the_limit():
    errors = overrides_validate("EU", {"reask_after_consent_days": 400})

    assert "reask_after_consent_days: EU allows at most 365 days" in errors["reask_after_consent_days"]


def test_reask_after_a_refusal_may_be_lengthened_up_to_the_cookie_lifetime_but_not_shortened():
    field = "reask_after_refusal_days"

    assert overrides_validate("EU", {field: 395}) == {}
    assert "EU requires at least 365 days" in overrides_validate("EU", {field: 30})[field]
    assert "at most 395" in overrides_validate("EU", {field: 396})[field]
    assert "US-CA requires at least 365 days" in overrides_validate("US-CA", {field: 300})[field]


def test_a_consent_cookie_shorter_than_the_reask_delay_is_refused():
    errors = overrides_validate("EU", {"reask_after_consent_days": 100, "max_consent_cookie_days": 50})

    assert "must be at least 365 days" in errors["max_consent_cookie_days"]
    assert overrides_validate("EU-FR", {"max_consent_cookie_days": 183}) == {}


def test_turning_off_reject_on_first_layer_in_the_eu_is_refused():
    errors = overrides_validate("EU", {"reject_on_first_layer": False})

    assert errors["reject_on_first_layer"] == (
        "reject_on_first_layer: EU requires it; it can be turned on, never off"
    )


def test_turning_on_reject_on_first_layer_is_allowed_in_ru_and_in_california():
    assert overrides_validate("RU", {"reject_on_first_layer": True}) == {}
    assert ruleset_with_overrides(US_CA, {"reject_on_first_layer": True}).reject_on_first_layer is True


def test_lowering_the_age_threshold_is_refused():
    errors = overrides_validate("EU", {"age_threshold": 13})

    assert errors["age_threshold"] == "age_threshold: EU requires an age from 16 to 18"


def test_russia_where_the_law_sets_no_age_accepts_any_age_from_13_to_18():
    assert overrides_validate("RU", {"age_threshold": 14}) == {}
    assert ruleset_with_overrides(RU, {"age_threshold": 14}).age_threshold_for("RU") == 14
    assert "age_threshold" in overrides_validate("RU", {"age_threshold": 12})
    assert "age_threshold" in overrides_validate("RU", {"age_threshold": 19})


def test_a_raised_eu_age_threshold_applies_to_every_country():
    ruleset = ruleset_with_overrides(EU, {"age_threshold": 18})

    assert ruleset.age_threshold_for("AT") == 18
    assert ruleset.age_threshold_for("PL") == 18


def test_switching_opt_in_to_opt_out_is_refused():
    errors = overrides_validate("EU", {"consent_model": "opt_out"})

    assert errors["consent_model"] == "consent_model: EU requires opt_in; it cannot become opt_out"


def test_switching_opt_out_to_opt_in_is_allowed():
    ruleset = ruleset_with_overrides(US_CA, {"consent_model": "opt_in"})

    assert ruleset.consent_model == ConsentModel.OPT_IN


def test_gpc_may_be_given_an_effect_where_the_row_has_none_but_not_changed_where_the_law_sets_it():
    ruleset = ruleset_with_overrides(EU, {"gpc_effect": "opt_out_sale_share"})

    assert ruleset.gpc_effect == GpcEffect.OPT_OUT_SALE_SHARE
    assert "gpc_effect" in overrides_validate("US-CA", {"gpc_effect": "none"})
    assert "gpc_effect" in overrides_validate("US-UOOM", {"gpc_effect": "opt_out_sale_share"})
    assert "gpc_effect" in overrides_validate("EU", {"gpc_effect": "ignore"})


def test_gpc_status_may_be_shown_but_not_hidden_in_california():
    assert overrides_validate("EU", {"gpc_status_shown": True}) == {}
    assert "gpc_status_shown" in overrides_validate("US-CA", {"gpc_status_shown": False})


def test_an_unknown_override_is_refused_with_the_fields_that_can_be_changed():
    errors = overrides_validate("EU", {"banner_colour": "red"})

    assert errors["banner_colour"].startswith("banner_colour: not a setting a site can change; these can be:")
    assert "reask_after_consent_days" in errors["banner_colour"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reask_after_consent_days", "90", "must be a whole number"),
        ("reask_after_consent_days", 90.0, "must be a whole number"),
        ("max_consent_cookie_days", True, "must be a whole number"),
        ("reject_on_first_layer", 1, "must be true or false"),
        ("consent_model", None, "must be one of opt_in, opt_out"),
        ("required_languages", "fr", "must be a list of language codes"),
        ("required_languages", ["fr", 7], "must be a list of language codes"),
        ("required_languages", ["fr", "not a code"], "not language codes: not a code"),
    ],
)
def test_an_override_of_the_wrong_type_is_refused(field, value, message):
    assert overrides_validate("EU-FR", {field: value}) == {field: f"{field}: {message}"}


def test_removing_a_required_language_is_refused():
    errors = overrides_validate("KZ", {"required_languages": ["kk"]})

    assert errors["required_languages"] == (
        "required_languages: KZ requires ru; languages can be added, never removed"
    )


def test_added_languages_follow_the_required_ones():
    ruleset = ruleset_with_overrides(RU, {"required_languages": ["EN", "ru", "en"]})

    assert ruleset.required_languages == ("ru", "en")


def test_invalid_overrides_are_a_value_error_when_applied():
    with pytest.raises(ValueError, match="EU allows at most 365 days"):
        ruleset_with_overrides(EU, {"reask_after_consent_days": 400})


def test_an_overridden_row_keeps_its_code_and_version_and_leaves_the_table_untouched():
    ruleset = ruleset_with_overrides(EU, {"reask_after_consent_days": 90})

    assert (ruleset.code, ruleset.version) == ("EU", RULES_VERSION)
    assert ruleset_get("EU").reask_after_consent_days == 365


def test_validating_overrides_for_an_unknown_ruleset_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown jurisdiction ruleset"):
        overrides_validate("EU-XX", {})
