"""Per-site overrides of a rules row: only ever stricter, and within the bounds the law allows.

Every value is checked against its row, and a refusal names the field and says why, so a
site owner can act on it. Pure functions, like the table they adjust.
"""

import dataclasses
import re
from collections.abc import Mapping

from consent.rules.jurisdictions import ConsentModel, GpcEffect, RuleSet, ruleset_get

# A site may override these fields, and only in the direction that protects the visitor more;
# everything else in a row is fixed by law.
_OVERRIDABLE_NUMBERS = (
    "reask_after_consent_days",
    "reask_after_refusal_days",
    "max_consent_cookie_days",
    "age_threshold",
)


_OVERRIDABLE_SWITCHES = ("reject_on_first_layer", "gpc_status_shown")


OVERRIDABLE_FIELDS = (
    *_OVERRIDABLE_NUMBERS,
    *_OVERRIDABLE_SWITCHES,
    "gpc_effect",
    "consent_model",
    "required_languages",
)


# 18 is the age of majority in every jurisdiction here; no digital-consent age is higher.
AGE_THRESHOLD_MAX = 18


# The lowest age a site may pick where the row sets none (RU, KZ): the lowest in §1b, COPPA's 13.
AGE_THRESHOLD_MIN = 13


_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")


def overrides_validate(base_code: str, overrides: Mapping[str, object]) -> dict[str, str]:
    """{field: message for the site owner} for every override that is unknown, of the wrong type or
    less protective than the row `base_code`; empty when all are allowed. An unknown `base_code` is a
    ValueError, as in `ruleset_get`."""
    return _overrides_errors(ruleset_get(base_code), overrides)


def ruleset_with_overrides(base: RuleSet, overrides: Mapping[str, object]) -> RuleSet:
    """`base` with a site's overrides applied; the result keeps `base.code` and `base.version`.
    Raises ValueError with the messages of `overrides_validate` if any override is not allowed."""
    errors = _overrides_errors(base, overrides)
    if errors:
        raise ValueError("; ".join(errors.values()))
    return _replace(base, overrides)


def _overrides_errors(base: RuleSet, overrides: Mapping[str, object]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field, value in overrides.items():
        if field in _OVERRIDABLE_NUMBERS:
            error = _number_error(base, field, value)
        elif field in _OVERRIDABLE_SWITCHES:
            error = _switch_error(base, field, value)
        elif field == "gpc_effect":
            error = _gpc_effect_error(base, value)
        elif field == "consent_model":
            error = _consent_model_error(base, value)
        elif field == "required_languages":
            error = _languages_error(base, value)
        else:
            error = f"not a setting a site can change; these can be: {', '.join(OVERRIDABLE_FIELDS)}"
        if error:
            errors[field] = f"{field}: {error}"
    if errors:
        return errors
    # Each value is within bounds on its own; the consent cookie must still outlive the re-ask delays,
    # or the visitor's choice would be forgotten before the banner may ask again.
    result = _replace(base, overrides)
    longest_reask = max(result.reask_after_consent_days or 0, result.reask_after_refusal_days or 0)
    if result.max_consent_cookie_days < longest_reask:
        errors["max_consent_cookie_days"] = (
            f"max_consent_cookie_days: must be at least {longest_reask} days, the longest re-ask delay,"
            " so the visitor's choice is remembered until the banner asks again"
        )
    return errors


def _number_error(base: RuleSet, field: str, value: object) -> str:
    """Why `value` may not replace `base`'s `field`, or "" when it may."""
    if not isinstance(value, int) or isinstance(value, bool):
        return "must be a whole number"
    current = getattr(base, field)
    if field == "reask_after_consent_days":
        # Asking again sooner after a consent is stricter; later would stretch a consent past the row.
        longest = base.max_consent_cookie_days if current is None else current
        if not 1 <= value <= longest:
            return f"{base.code} allows at most {longest} days (and at least 1)"
    elif field == "reask_after_refusal_days":
        # Asking again sooner after a refusal or an opt-out is pestering; the cookie that remembers the
        # refusal caps how long the banner can stay away.
        shortest = 1 if current is None else current
        if not shortest <= value <= base.max_consent_cookie_days:
            return (
                f"{base.code} requires at least {shortest} days"
                f" (and allows at most {base.max_consent_cookie_days}, the consent cookie's lifetime)"
            )
    elif field == "max_consent_cookie_days":
        if not 1 <= value <= current:
            return f"{base.code} allows at most {current} days (and at least 1)"
    else:
        # age_threshold: a higher age protects more children.
        lowest = AGE_THRESHOLD_MIN if current is None else current
        if not lowest <= value <= AGE_THRESHOLD_MAX:
            return f"{base.code} requires an age from {lowest} to {AGE_THRESHOLD_MAX}"
    return ""


def _switch_error(base: RuleSet, field: str, value: object) -> str:
    if not isinstance(value, bool):
        return "must be true or false"
    if getattr(base, field) and not value:
        return f"{base.code} requires it; it can be turned on, never off"
    return ""


def _gpc_effect_error(base: RuleSet, value: object) -> str:
    if value not in GpcEffect.values:
        return f"must be one of {', '.join(GpcEffect.values)}"
    # Where the law gives the signal an effect, that effect is the law's; elsewhere any effect is stricter.
    if base.gpc_effect != GpcEffect.NONE and value != base.gpc_effect:
        return f"{base.code} requires {base.gpc_effect.value}; it cannot be changed"
    return ""


def _consent_model_error(base: RuleSet, value: object) -> str:
    if value not in ConsentModel.values:
        return f"must be one of {', '.join(ConsentModel.values)}"
    if base.consent_model == ConsentModel.OPT_IN and value == ConsentModel.OPT_OUT:
        return f"{base.code} requires opt_in; it cannot become opt_out"
    return ""


def _languages_error(base: RuleSet, value: object) -> str:
    if not isinstance(value, list | tuple) or not all(isinstance(language, str) for language in value):
        return "must be a list of language codes"
    languages = [language.lower() for language in value]
    invalid = [language for language in languages if not _LANGUAGE_CODE.fullmatch(language)]
    if invalid:
        return f"not language codes: {', '.join(invalid)}"
    missing = [language for language in base.required_languages if language not in languages]
    if missing:
        return f"{base.code} requires {', '.join(missing)}; languages can be added, never removed"
    return ""


def _replace(base: RuleSet, overrides: Mapping[str, object]) -> RuleSet:
    """`base` with validated overrides, converted to the fields' types."""
    changes = dict(overrides)
    if "gpc_effect" in changes:
        changes["gpc_effect"] = GpcEffect(changes["gpc_effect"])
    if "consent_model" in changes:
        changes["consent_model"] = ConsentModel(changes["consent_model"])
    languages = changes.get("required_languages")
    if isinstance(languages, list | tuple):
        # The row's languages keep their place, first.
        added = (language.lower() for language in languages)
        changes["required_languages"] = tuple(dict.fromkeys((*base.required_languages, *added)))
    age = changes.get("age_threshold")
    if isinstance(age, int):
        # A site's age is a floor for every country, or the per-country table would undercut it.
        changes["age_threshold_by_country"] = tuple(
            (country, max(country_age, age)) for country, country_age in base.age_threshold_by_country
        )
    return dataclasses.replace(base, **changes)
