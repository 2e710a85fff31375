"""The jurisdiction rules table: one frozen row per legal regime, and which row applies where.

Source ids in comments (EU-6, CA-1, RU-8, ...) are rows of the project's legal requirements
(docs/legal-requirements.md); "[M]" marks a value that is from memory or inferred and needs legal
confirmation before it is relied on, as in that document. Everything here is pure data and pure
functions: no database, no settings, no request.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from django.db.models import TextChoices
from django.utils.translation import gettext_noop

# The version of the whole table. Every row carries it so a ledger row can pin "ruleset code +
# version"; bump it whenever any value below changes.
RULES_VERSION = "2026.12"


class ConsentModel(TextChoices):
    """Whether non-essential processing waits for a consent (opt-in) or runs until an opt-out."""

    OPT_IN = "opt_in", "Opt-in"
    OPT_OUT = "opt_out", "Opt-out"


class GpcEffect(TextChoices):
    """What a Global Privacy Control signal (`Sec-GPC: 1`) does to a visitor's choices."""

    NONE = "none", "Recorded only"
    OPT_OUT_SALE_SHARE = "opt_out_sale_share", "Opt-out of sale and sharing"
    OPT_OUT_SALE_TARGETED_ADS = "opt_out_sale_targeted_ads", "Opt-out of sale and targeted advertising"


class DayType(TextChoices):
    """How the days or months of a `Period` are counted."""

    CALENDAR_DAYS = "calendar_days", "Calendar days"
    CALENDAR_MONTHS = "calendar_months", "Calendar months"
    BUSINESS_DAYS = "business_days", "US business days"
    RU_WORKING_DAYS = "ru_working_days", "Russian working days (production calendar)"


@dataclass(frozen=True)
class Period:
    """A legal time limit: an amount of days or months counted the way the law counts them."""

    amount: int
    unit: DayType

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value}"


@dataclass(frozen=True)
class RuleSet:
    """One row of the rules table: what the banner, the consent cookie and the request clocks must do
    for visitors under one legal regime. Rows are immutable; per-site variations are new rows made by
    `ruleset_with_overrides`, which keeps `code` and `version`."""

    code: str
    name: str
    version: str
    consent_model: ConsentModel
    reject_on_first_layer: bool
    symmetric_buttons: bool
    prechecked_allowed: bool
    gpc_effect: GpcEffect
    gpc_status_shown: bool
    reask_after_consent_days: int | None
    reask_after_refusal_days: int | None
    max_consent_cookie_days: int
    age_threshold: int | None
    # (country, age) pairs that replace `age_threshold` for visitors from that country. A tuple of
    # pairs, not a dict, so the row stays immutable and hashable.
    age_threshold_by_country: tuple[tuple[str, int], ...]
    request_acknowledge: Period | None
    request_deadline: Period | None
    request_extension: Period | None
    opt_out_deadline: Period | None
    withdrawal_deadline: Period | None
    # Whether a deadline counted in calendar days or months that ends on a Saturday, Sunday or public
    # holiday of the site's establishment country ends on the next working day instead (Regulation
    # 1182/71 Art. 3(4), EU law only). Elsewhere the date stays, which is never later than the law's.
    deadline_moves_to_working_day: bool
    # Whether a request's clock starts only once the requester's identity is verified. Off by default:
    # California says the clock runs "regardless of time required to verify" (11 CCR §7021(b), CA-10),
    # and elsewhere a pause is at most a regulator's reading (EU-13: Berlin DPA [S]), so a site
    # turning it on takes that legal risk (consent/requests/clocks.py `clock_start`).
    verification_pauses_clock: bool
    data_localization_country: str | None
    separate_consent_document: bool
    required_links: tuple[str, ...]
    required_languages: tuple[str, ...]
    prevailing_language: str | None
    # Kinds of policy change (consent.models.ChangeKind values) after which a visitor's earlier
    # consent no longer holds and the banner must ask again.
    reconsent_change_kinds: tuple[str, ...]

    def age_threshold_for(self, country: str) -> int | None:
        """The digital-consent age for a visitor from `country` (ISO 3166-1 alpha-2, any case)."""
        return dict(self.age_threshold_by_country).get(country.strip().upper(), self.age_threshold)


EU = RuleSet(
    code="EU",
    name=gettext_noop("EU/EEA: GDPR and ePrivacy Directive"),
    version=RULES_VERSION,
    # Prior consent for any non-essential storage or access (EU-3); pre-ticked boxes are not consent (EU-4).
    consent_model=ConsentModel.OPT_IN,
    # "Reject all" as a button of the same prominence as "Accept all" on the first layer (EU-6).
    reject_on_first_layer=True,
    symmetric_buttons=True,
    prechecked_allowed=False,
    # GPC has no legal effect in the EU; it is recorded only (open question 7).
    gpc_effect=GpcEffect.NONE,
    gpc_status_shown=False,
    # Re-asking after about 12 months is common practice, not law [M] (EU-11, open question 6).
    reask_after_consent_days=365,
    reask_after_refusal_days=365,
    # CNIL's 13-month cap, used EU-wide as the safe default (EU-11).
    max_consent_cookie_days=395,
    # 16 unless the Member State lowered it (EU-12, §1b). Member States missing from §1b (PL, HU, PT,
    # GR, ...) are [M] and fall back to 16, the highest and so the safest value.
    age_threshold=16,
    age_threshold_by_country=(
        ("AT", 14),
        ("BE", 13),
        ("CZ", 15),
        ("DE", 16),
        ("DK", 13),
        ("ES", 14),
        ("FI", 13),
        ("FR", 15),
        ("IE", 16),
        ("IT", 14),
        ("NL", 16),
        ("SE", 13),
        ("SK", 16),
    ),
    request_acknowledge=None,
    # One calendar month, extendable by two more with notice inside the first month (EU-13).
    request_deadline=Period(1, DayType.CALENDAR_MONTHS),
    request_extension=Period(2, DayType.CALENDAR_MONTHS),
    opt_out_deadline=None,
    # Art. 17 says "without undue delay"; one month mirrors EU-13 [M].
    withdrawal_deadline=Period(1, DayType.CALENDAR_MONTHS),
    # GDPR's periods are counted under Regulation 1182/71 (EU-13), Art. 3(4) included.
    deadline_moves_to_working_day=True,
    verification_pauses_clock=False,
    # No localization: transfers are governed by Chapter V instead (EU-17).
    data_localization_country=None,
    separate_consent_document=False,
    # Policies, the vendor list at consent time (EU-10) and a persistent withdraw control (EU-6, EU-7).
    required_links=("cookie_policy", "privacy_policy", "vendor_list", "withdraw_control"),
    # The languages of the users the site targets (Art. 12) [M]: a site setting, not a fixed language.
    required_languages=(),
    prevailing_language=None,
    # A new purpose must be consented to before use (EU-14); a new vendor, transfer or basis changes
    # what the visitor agreed to (Art. 7, EU-10, EU-17), so the earlier consent no longer covers it.
    reconsent_change_kinds=("new_purpose", "new_recipient", "new_transfer_country", "legal_basis_change"),
)


EU_FR = dataclasses.replace(
    EU,
    code="EU-FR",
    name=gettext_noop("France: GDPR with CNIL guidance"),
    # CNIL: keeping a choice about 6 months is good practice, for consents and refusals alike (EU-11).
    reask_after_consent_days=183,
    reask_after_refusal_days=183,
    # French law sets 15 for every French visitor, overseas territories included (EU-12, §1b).
    age_threshold=15,
    age_threshold_by_country=(),
    # Toubon law [M].
    required_languages=("fr",),
)


US_CA = RuleSet(
    code="US-CA",
    name=gettext_noop("California: CCPA as amended by CPRA"),
    version=RULES_VERSION,
    # Notice and opt-out of sale/sharing; opt-in only for minors (CA-14), handled by `age_threshold`.
    consent_model=ConsentModel.OPT_OUT,
    # The law asks for a "Do Not Sell or Share" link, not a reject button (CA-5); a site may add one.
    reject_on_first_layer=False,
    # Whenever the banner asks for any consent the choice must be symmetric (CA-7).
    symmetric_buttons=True,
    prechecked_allowed=False,
    # GPC is a valid opt-out of sale and sharing (CA-1) and its status must be shown from 2026-01-01 (CA-3).
    gpc_effect=GpcEffect.OPT_OUT_SALE_SHARE,
    gpc_status_shown=True,
    reask_after_consent_days=None,
    # Wait at least 12 months after an opt-out before asking to opt back in (CA-17) [M].
    reask_after_refusal_days=365,
    # No statutory cap; the EU cap keeps one consent-cookie lifetime everywhere.
    max_consent_cookie_days=395,
    # Sale or sharing of an under-16's data needs opt-in (CA-14).
    age_threshold=16,
    age_threshold_by_country=(),
    # Confirm within 10 business days, answer within 45 calendar days, +45 with notice (CA-10).
    request_acknowledge=Period(10, DayType.BUSINESS_DAYS),
    request_deadline=Period(45, DayType.CALENDAR_DAYS),
    request_extension=Period(45, DayType.CALENDAR_DAYS),
    # Opt-outs within 15 business days (CA-6).
    opt_out_deadline=Period(15, DayType.BUSINESS_DAYS),
    withdrawal_deadline=None,
    deadline_moves_to_working_day=False,
    # "The 45-day period will begin on the day that the business receives the request, regardless of
    # time required to verify the request" (11 CCR §7021(b), CA-10).
    verification_pauses_clock=False,
    data_localization_country=None,
    separate_consent_document=False,
    # CA-5, CA-8, CA-9, CA-16.
    required_links=("do_not_sell_or_share", "notice_at_collection", "privacy_policy"),
    # The languages the business ordinarily uses with Californians (CA-18): a site setting.
    required_languages=(),
    prevailing_language=None,
    # Opt-out regime: only a new purpose makes the notice at collection stale (CA-9, §7012).
    reconsent_change_kinds=("new_purpose",),
)


US_UOOM = RuleSet(
    code="US-UOOM",
    name=gettext_noop("US states requiring a universal opt-out mechanism"),
    version=RULES_VERSION,
    # Notice and opt-out of sale and targeted advertising (§9).
    consent_model=ConsentModel.OPT_OUT,
    # As in California: an opt-out link, not a reject button; a site may add one.
    reject_on_first_layer=False,
    # Recommended, as in California (§9) [M].
    symmetric_buttons=True,
    prechecked_allowed=False,
    # These laws cover sale and targeted advertising, and GPC is the recognised mechanism (§2a).
    gpc_effect=GpcEffect.OPT_OUT_SALE_TARGETED_ADS,
    # Not mandated outside California (CA-3), but a visitor whose signal changed things should see it did.
    gpc_status_shown=True,
    reask_after_consent_days=None,
    # California's 12-month wait after an opt-out (CA-17), the strictest known rule; state rules vary [M].
    reask_after_refusal_days=365,
    max_consent_cookie_days=395,
    # Children's data is sensitive data, opt-in below 13, aligned with COPPA (§9) [M].
    age_threshold=13,
    age_threshold_by_country=(),
    request_acknowledge=None,
    # Typically 45 days + 45 (§2a) [M].
    request_deadline=Period(45, DayType.CALENDAR_DAYS),
    request_extension=Period(45, DayType.CALENDAR_DAYS),
    # "≤15 days?" (§9) [M].
    opt_out_deadline=Period(15, DayType.CALENDAR_DAYS),
    withdrawal_deadline=None,
    deadline_moves_to_working_day=False,
    verification_pauses_clock=False,
    data_localization_country=None,
    separate_consent_document=False,
    # An "opt out of targeted advertising/sale" link (§9) [M]: the same link key as California's.
    required_links=("do_not_sell_or_share", "privacy_policy"),
    required_languages=(),
    prevailing_language=None,
    reconsent_change_kinds=("new_purpose",),
)


# Other US states: the US-UOOM row without a state mandate for GPC. Honouring it anyway is never
# unlawful and is what the best products do; it also keeps the signal of a visitor whose state is
# unknown or resolved wrongly. Deadlines stay at the common 45 + 45 days as a working target [M].
US = dataclasses.replace(
    US_UOOM,
    code="US",
    name=gettext_noop("Other US states"),
    gpc_effect=GpcEffect.OPT_OUT_SALE_SHARE,
    # Without a region (the embedded GeoIP has none) a Californian lands here, so the row
    # carries California's links too: harmless for other states, required for CA (CA-9).
    required_links=("do_not_sell_or_share", "notice_at_collection", "privacy_policy"),
)


RU = RuleSet(
    code="RU",
    name=gettext_noop("Russia: 152-FZ"),
    version=RULES_VERSION,
    # Cookie IDs and IPs are personal data and consent is the basis for analytics and ads (RU-3, RU-10).
    consent_model=ConsentModel.OPT_IN,
    # Not codified; recommended practice so refusing is as easy as consenting (RU-3).
    reject_on_first_layer=True,
    symmetric_buttons=True,
    prechecked_allowed=False,
    # GPC has no legal effect in Russia [M].
    gpc_effect=GpcEffect.NONE,
    gpc_status_shown=False,
    # The law asks the consent to state its own term (§9); these are defaults the site may shorten [M].
    reask_after_consent_days=365,
    reask_after_refusal_days=365,
    max_consent_cookie_days=395,
    # No statutory age; the site decides, 14 or 18 are common (RU-18).
    age_threshold=None,
    age_threshold_by_country=(),
    request_acknowledge=None,
    # 10 working days, +5 with a motivated notice, on the Russian production calendar (RU-8).
    request_deadline=Period(10, DayType.RU_WORKING_DAYS),
    request_extension=Period(5, DayType.RU_WORKING_DAYS),
    opt_out_deadline=None,
    # Stop and destroy within 30 days; calendar or working days is open question 3 [M] (RU-6).
    withdrawal_deadline=Period(30, DayType.CALENDAR_DAYS),
    # Civil Code Art. 193 would move a calendar-day end off a non-working day; keeping it is never later.
    deadline_moves_to_working_day=False,
    verification_pauses_clock=False,
    # Primary database in Russia for Russian citizens' data (RU-12).
    data_localization_country="RU",
    # Since 2025-09-01 consent is a document separate from any policy (RU-4).
    separate_consent_document=True,
    # Processing policy (RU-9), the consent documents themselves (RU-4) and the cookie policy.
    required_links=("pd_processing_policy", "consent_document", "cookie_policy"),
    # Russian required from 2026-03-01 and first when bilingual (RU-17).
    required_languages=("ru",),
    prevailing_language="ru",
    # Consent is specific to purpose, recipients and transfers (RU-3, RU-4, RU-11).
    reconsent_change_kinds=("new_purpose", "new_recipient", "new_transfer_country", "legal_basis_change"),
)


KZ = RuleSet(
    code="KZ",
    name=gettext_noop("Kazakhstan: Law 94-V"),
    version=RULES_VERSION,
    # Prior consent of the subject (KZ-1).
    consent_model=ConsentModel.OPT_IN,
    # Not codified; recommended practice, as for RU (§9).
    reject_on_first_layer=True,
    symmetric_buttons=True,
    prechecked_allowed=False,
    # No legal effect [M].
    gpc_effect=GpcEffect.NONE,
    gpc_status_shown=False,
    # The consent records its own term (KZ-2); these are defaults the site may shorten [M].
    reask_after_consent_days=365,
    reask_after_refusal_days=365,
    max_consent_cookie_days=395,
    # Likely 18 or a legal representative [M] (KZ-4); unknown, so the site decides.
    age_threshold=None,
    age_threshold_by_country=(),
    request_acknowledge=None,
    # The owner or operator tells the subject what data it holds on them "within three working days"
    # of the request (KZ-5 [S]: Law 94-V, the owner's and operator's duties, Art. 24 [M for the
    # article]). Counted as three calendar days, which are never later than three Kazakh working
    # days, until a Kazakh working-day calendar is shipped.
    request_deadline=Period(3, DayType.CALENDAR_DAYS),
    # The law provides no extension [S].
    request_extension=None,
    # Opt-out and withdrawal deadlines were not found (KZ-4) [M].
    opt_out_deadline=None,
    withdrawal_deadline=None,
    deadline_moves_to_working_day=False,
    verification_pauses_clock=False,
    # Storage database in Kazakhstan (KZ-3).
    data_localization_country="KZ",
    separate_consent_document=False,
    # Privacy policy [M] (§9).
    required_links=("privacy_policy", "cookie_policy"),
    # Kazakh and Russian [M] (KZ-4).
    required_languages=("kk", "ru"),
    prevailing_language=None,
    # The consent records transfers to third parties and abroad (KZ-2).
    reconsent_change_kinds=("new_purpose", "new_recipient", "new_transfer_country", "legal_basis_change"),
)


# For countries no row covers: when the law is unknown the safest choice is the strictest widely
# known regime, so this is the EU row without its per-country ages (16 everywhere).
DEFAULT = dataclasses.replace(
    EU,
    code="DEFAULT",
    name=gettext_noop("Any other country: conservative opt-in"),
    age_threshold_by_country=(),
    # No EU law to move a deadline off a weekend: the date stays, which is never later.
    deadline_moves_to_working_day=False,
)


RULESETS: Mapping[str, RuleSet] = MappingProxyType(
    {ruleset.code: ruleset for ruleset in (EU, EU_FR, US_CA, US_UOOM, US, RU, KZ, DEFAULT)}
)


def ruleset_get(code: str) -> RuleSet:
    """The row for `code`; an unknown code is a ValueError naming the known ones."""
    try:
        return RULESETS[code]
    except KeyError:
        raise ValueError(f"Unknown jurisdiction ruleset {code!r}; known: {', '.join(RULESETS)}") from None


# The 27 EU Member States plus the EEA's Iceland, Liechtenstein and Norway, where GDPR applies.
# France is listed too but resolved to EU-FR first.
EEA_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
        "IS", "LI", "NO",
    }
)  # fmt: skip


# France and the overseas codes that ISO gives their own alpha-2: French data-protection law and
# CNIL guidance follow French visitors there.
FRENCH_COUNTRIES = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC"})


# UK GDPR + PECR and the revised Swiss FADP are opt-in for non-essential cookies, so the EU row is the
# right behaviour there.
EU_ROW_OUTSIDE_EEA = frozenset({"GB", "CH"})


# US states whose law requires honouring a universal opt-out mechanism (GPC), from the date that
# duty starts (§2a). Only CO is sourced in docs/legal-requirements.md; the others are from secondary
# sources found while writing this table and are [M] until counsel confirms them.
UOOM_STATES_EFFECTIVE_FROM: Mapping[str, date] = MappingProxyType(
    {
        "CO": date(2024, 7, 1),  # [S] C.R.S. §6-1-1313, 4 CCR 904-3 Rule 5.07
        "CT": date(2025, 1, 1),  # [M]
        "DE": date(2026, 1, 1),  # [M] DPDPA in force 2025-01-01, UOOM duty from 2026-01-01
        "MD": date(2025, 10, 1),  # [M] MODPA in force 2025-10-01
        "MN": date(2025, 7, 31),  # [M] MCDPA in force 2025-07-31
        "MT": date(2025, 1, 1),  # [M] MCDPA UOOM duty from 2025-01-01
        "NE": date(2025, 1, 1),  # [M] NDPA in force 2025-01-01
        "NH": date(2025, 1, 1),  # [M] in force 2025-01-01
        "NJ": date(2025, 7, 15),  # [M] six months after the Act's 2025-01-15 start
        "OR": date(2026, 1, 1),  # [M] OCPA UOOM duty from 2026-01-01
        "TX": date(2025, 1, 1),  # [M] TDPSA §541.055(e) from 2025-01-01
    }
)


def ruleset_for_location(*, country: str, region: str = "", on: date | None = None) -> RuleSet:
    """The row for a visitor in `country` (ISO 3166-1 alpha-2) and `region` (ISO 3166-2 subdivision,
    "CA" or "US-CA"), both in any case, on the day `on` (default today). Never fails: a country no
    row covers gets DEFAULT."""
    country = country.strip().upper()
    region = region.strip().upper().removeprefix(f"{country}-")
    if country in FRENCH_COUNTRIES:
        return EU_FR
    if country in EEA_COUNTRIES or country in EU_ROW_OUTSIDE_EEA:
        return EU
    if country == "US":
        if region == "CA":
            return US_CA
        effective_from = UOOM_STATES_EFFECTIVE_FROM.get(region)
        if effective_from is not None and (on or date.today()) >= effective_from:
            return US_UOOM
        return US
    if country == "RU":
        return RU
    if country == "KZ":
        return KZ
    return DEFAULT


def rules_table_as_dict() -> dict[str, object]:
    """A JSON-serialisable view of the whole table, for a public endpoint and the README."""
    return {
        "version": RULES_VERSION,
        "rulesets": {code: ruleset_as_dict(ruleset) for code, ruleset in RULESETS.items()},
        "uoom_states_effective_from": {
            state: effective_from.isoformat() for state, effective_from in UOOM_STATES_EFFECTIVE_FROM.items()
        },
    }


def ruleset_as_dict(ruleset: RuleSet) -> dict[str, object]:
    """A JSON-serialisable view of one row (a table row or one with a site's overrides)."""
    view: dict[str, object] = {}
    for field in dataclasses.fields(ruleset):
        value = getattr(ruleset, field.name)
        if isinstance(value, Period):
            value = {"amount": value.amount, "unit": value.unit.value}
        elif isinstance(value, TextChoices):
            value = value.value
        elif field.name == "age_threshold_by_country":
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        view[field.name] = value
    return view
