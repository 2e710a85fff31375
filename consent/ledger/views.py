"""Receipt pages for people: a decision, what was shown, and a proof check in the reader's browser."""

from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from consent.ledger.crypto import timestamp
from consent.ledger.promise import PromiseStatus, receipt_promise_status
from consent.ledger.selectors import RECEIPT_ID, Receipt, receipt_get
from consent.policies.selectors import pinned_policy_titles
from consent.policies.views import page_strings
from edge.http import language_choose

# The receipt page's wording: the page's own, the decision's labels (English: the models'
# choice labels) and the script's steps ({placeholders} are filled in by
# static/consent/receipt.js). Other languages read English.
RECEIPT_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Consent receipt",
        "receipt": "receipt",
        "decision": "Decision",
        "recorded": "Recorded",
        "allowed": "Allowed",
        "refused": "Refused",
        "nothing": "nothing",
        "where": "Where",
        "on_page": "on",
        "rules": "Rules applied",
        "rules_version": "rules",
        "visitor_from": "for a visitor from",
        "language": "Language",
        "signals": "Browser signals",
        "sent": "sent",
        "not_sent": "not sent",
        "shown": "What was shown",
        "version": "version",
        "nothing_pinned": "nothing recorded",
        "erased": "The personal data kept with this record (visitor id, network address, browser) "
        "was erased on request. The decision and its proof remain.",
        "proof": "Proof",
        "sealed": "This record is entry {entry} of {size} in {site}'s append-only consent log, whose "
        "state at {time} UTC is signed (key {key}). Changing or removing this record, or any entry "
        "before it, would break this proof. Keep the checkpoint's size and root below to hold the "
        "log to it later.",
        "witnessed": "This checkpoint is witnessed by {name} at {time} UTC: an independent party "
        "checked that the log only grew up to it.",
        "pending": "Recorded, not yet sealed: records join the signed log within a minute. Reload "
        "this page to see its proof.",
        "check": "Check the proof in this browser",
        "check_note": "Your browser recomputes the hashes and checks the signature itself (Web "
        "Crypto); it does not take this page's word for it.",
        "details": "Technical details",
        "leaf": "Leaf hash",
        "checkpoint": "Checkpoint",
        "checkpoint_value": "size {size}, root",
        "proof_json": "Proof as JSON",
        "keys": "The site's checkpoints and keys",
        "how": "leaf = SHA-256(0x00 ‖ canonical JSON of the record: sorted keys, no spaces, UTF-8); "
        "the inclusion proof leads from the leaf to the checkpoint's root (RFC 9162, 2.1.3.2); "
        "the checkpoint note is signed with Ed25519.",
        "step_leaf": "The record (under Technical details) hashes to leaf {leaf}…",
        "step_leaf_bad": "The record hashes to leaf {leaf}…, not to the leaf {given}… given",
        "step_receipt": "The record carries this receipt id",
        "step_inclusion": "Its inclusion proof leads to the root of the log at size {size} "
        "(entry {entry}, {steps} steps)",
        "step_note": "The signed checkpoint note states that size and root",
        "step_signature": "The note is signed (Ed25519) by key {key} = {public} (compare it with the "
        "key the site publishes)",
        "verdict_pending": "Recorded; not sealed into the signed log yet. Check again in a minute.",
        "verdict_mismatch": "This record does not match its receipt.",
        "verdict_verified": "Every check passed: this decision is in the signed log as shown.",
        "verdict_failed": "A check failed: this receipt does not prove what it says.",
        "verdict_error": "The check could not run:",
        "promise": "Inclusion promise",
        "promise_included": "Promised at {time}, included at index {index} in checkpoint {size}.",
        "promise_pending": "Promised at {time}, not yet included, due by {due}.",
        "promise_overdue": "Promised at {time}, due by {due}, and still not in the signed log: the "
        "promise is broken.",
        "promise_altered": "The record no longer has the leaf hash promised at {time}: evidence that it "
        "was altered.",
        "promise_purged": "Promised at {time}, included at index {index}, then deleted when the site's "
        "retention period ended.",
        "promise_removed": "Evidence of removal: the site promised at {time} to add receipt {receipt} to "
        "its signed log within {delay} seconds, but the ledger no longer has this record.",
        "promise_signed": "Your copy of the promise is signed (Ed25519) by the site's log key {key}",
        "promise_unsigned": "Your copy of the promise is not validly signed by the site's log key",
        "promise_receipt": "Your copy of the promise names receipt {receipt}",
        "promise_error": "The promise could not be checked:",
        "promise_kept": "The promise your browser kept holds.",
        "missing_title": "No record with this receipt id",
        "missing": "The ledger has no record with receipt id {receipt}. If your browser kept the "
        "site's signed promise for it, the check below says what that means.",
        "banner": "Banner",
        "subprocessors": "Sub-processor list",
    },
    "ru": {
        "title": "Подтверждение согласия",
        "receipt": "квитанция",
        "decision": "Решение",
        "recorded": "Записано",
        "allowed": "Разрешено",
        "refused": "Отклонено",
        "nothing": "ничего",
        "where": "Где",
        "on_page": "на странице",
        "rules": "Применённые правила",
        "rules_version": "правила",
        "visitor_from": "для посетителя из",
        "language": "Язык",
        "signals": "Сигналы браузера",
        "sent": "отправлен",
        "not_sent": "не отправлен",
        "shown": "Что было показано",
        "version": "редакция",
        "nothing_pinned": "ничего не записано",
        "erased": "Персональные данные, хранившиеся с этой записью (идентификатор посетителя, сетевой "
        "адрес, браузер), удалены по запросу. Решение и его доказательство сохранены.",
        "proof": "Доказательство",
        "sealed": "Эта запись — {entry}-я из {size} в журнале согласий {site}, в который можно только "
        "добавлять. Его состояние на {time} UTC подписано (ключ {key}). Изменение или удаление этой "
        "записи или любой более ранней нарушит это доказательство. Сохраните размер и корень "
        "контрольной точки ниже, чтобы потом сверить с ними журнал.",
        "witnessed": "Эта контрольная точка заверена свидетелем {name} в {time} UTC: независимая "
        "сторона проверила, что журнал до неё только пополнялся.",
        "pending": "Записано, но ещё не запечатано: записи попадают в подписанный журнал в течение "
        "минуты. Обновите страницу, чтобы увидеть доказательство.",
        "check": "Проверить доказательство в этом браузере",
        "check_note": "Ваш браузер сам пересчитывает хеши и проверяет подпись (Web Crypto) и не "
        "полагается на слова этой страницы.",
        "details": "Технические подробности",
        "leaf": "Хеш листа",
        "checkpoint": "Контрольная точка",
        "checkpoint_value": "размер {size}, корень",
        "proof_json": "Доказательство в JSON",
        "keys": "Контрольные точки и ключи сайта",
        "how": "лист = SHA-256(0x00 ‖ канонический JSON записи: ключи по порядку, без пробелов, "
        "UTF-8); доказательство включения ведёт от листа к корню контрольной точки (RFC 9162, "
        "2.1.3.2); запись контрольной точки подписана Ed25519.",
        "step_leaf": "Хеш записи (в технических подробностях) — лист {leaf}…",
        "step_leaf_bad": "Хеш записи — лист {leaf}…, а не указанный лист {given}…",
        "step_receipt": "Запись содержит номер этой квитанции",
        "step_inclusion": "Доказательство включения ведёт к корню журнала размером {size} "
        "(запись {entry}, шагов: {steps})",
        "step_note": "Подписанная запись контрольной точки называет этот размер и корень",
        "step_signature": "Запись подписана (Ed25519) ключом {key} = {public} (сверьте его с ключом, "
        "который публикует сайт)",
        "verdict_pending": "Записано; в подписанный журнал ещё не попало. Проверьте через минуту.",
        "verdict_mismatch": "Эта запись не соответствует квитанции.",
        "verdict_verified": "Все проверки пройдены: это решение находится в подписанном журнале "
        "в показанном виде.",
        "verdict_failed": "Проверка не пройдена: квитанция не доказывает того, что в ней сказано.",
        "verdict_error": "Проверку не удалось выполнить:",
        "promise": "Обещание включения",
        "promise_included": "Обещано {time}, включено под номером {index} в контрольную точку {size}.",
        "promise_pending": "Обещано {time}, ещё не включено, срок — до {due}.",
        "promise_overdue": "Обещано {time}, срок истёк {due}, а записи всё ещё нет в подписанном "
        "журнале: обещание нарушено.",
        "promise_altered": "Хеш листа записи уже не тот, что обещан {time}: запись изменена.",
        "promise_purged": "Обещано {time}, включено под номером {index}, затем удалено по окончании "
        "срока хранения сайта.",
        "promise_removed": "Доказательство удаления: сайт обещал {time} добавить квитанцию {receipt} в "
        "подписанный журнал в течение {delay} секунд, но этой записи в журнале согласий больше нет.",
        "promise_signed": "Сохранённое обещание подписано (Ed25519) ключом журнала сайта {key}",
        "promise_unsigned": "Сохранённое обещание не подписано ключом журнала сайта",
        "promise_receipt": "Сохранённое обещание относится к квитанции {receipt}",
        "promise_error": "Обещание не удалось проверить:",
        "promise_kept": "Обещание, сохранённое вашим браузером, выполнено.",
        "missing_title": "Нет записи с этим номером квитанции",
        "missing": "В журнале нет записи с квитанцией {receipt}. Если ваш браузер сохранил подписанное "
        "обещание сайта, проверка ниже скажет, что это значит.",
        "accept_all": "Принять все",
        "reject_all": "Отклонить все",
        "custom": "Свой выбор",
        "withdraw": "Отзыв согласия",
        "gpc_opt_out": "Отказ по сигналу Global Privacy Control",
        "do_not_sell_opt_out": "Отказ от продажи и передачи данных",
        "first_layer": "Баннер (первый уровень)",
        "second_layer": "Настройки (второй уровень)",
        "opt_out_link": "Страница отказа от продажи данных",
        "signal": "Сигнал браузера, без действий посетителя",
        "api": "Собственный интерфейс сайта",
        "banner": "Баннер",
        "subprocessors": "Список субподрядчиков",
    },
}


# What the page's scripts need: the step, verdict and promise texts.
RECEIPT_SCRIPT_KEYS = tuple(
    key for key in RECEIPT_STRINGS["en"] if key.startswith(("step_", "verdict_", "promise_"))
)


@require_safe
def receipt_lookup(request: HttpRequest) -> HttpResponseBase:
    """Look a receipt up by its id (as an export, an email or a site's settings page gives it)."""
    receipt_id = request.GET.get("id", "").strip()
    if receipt_id and receipt_get(receipt_id=receipt_id, with_proof=False) is not None:
        return redirect("receipt-page", receipt_id=receipt_id)
    response = render(
        request,
        "consent/receipt_lookup.html",
        {"receipt_id": receipt_id, "not_found": bool(receipt_id), "language": "en"},
        status=404 if receipt_id else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def receipt_page(request: HttpRequest, receipt_id: str) -> HttpResponseBase:
    """A consent receipt for people: what was decided, what was shown, and its proof.

    The visitor, the site's DPO or a regulator can read it without an account; the proof is
    checked in the reader's own browser (static/consent/receipt.js), not taken on our word.
    No personal data: the visitor id, address and browser appear only as their commitment.
    """
    receipt = receipt_get(receipt_id=receipt_id, with_proof=False)
    if receipt is None:
        return _receipt_missing(request, receipt_id)
    record = receipt.record
    language = language_choose(
        request, list(RECEIPT_STRINGS), record.language if record.language in RECEIPT_STRINGS else "en"
    )
    t = RECEIPT_STRINGS[language]
    shown = _editions_shown(receipt, language, t)
    checkpoint = receipt.checkpoint
    sealed = _sealed_text(receipt, t) if checkpoint is not None else ""  # only a sealed record has one
    promise = receipt_promise_status(receipt=receipt, now=timezone.now())
    response = render(
        request,
        "consent/receipt.html",
        {
            "site": record.site,
            "record": record,
            "receipt": receipt,
            "shown": shown,
            "sealed_text": sealed,
            "witnessed": [
                t["witnessed"].format(name=c.witness_name, time=f"{c.witnessed_at:%Y-%m-%d %H:%M:%S}")
                for c in (checkpoint.cosignatures.all() if checkpoint is not None else [])
            ],
            "promise_status": promise,
            "promise_text": promise_status_text(promise, t),
            "checkpoint_text": t["checkpoint_value"].format(size=checkpoint.tree_size) if checkpoint else "",
            # English reads the models' own labels; other languages carry theirs.
            "action": t.get(record.action) or record.get_action_display(),
            "ui_layer": t.get(record.ui_layer) or record.get_ui_layer_display(),
            "t": {**page_strings(language), **t},
            "script_strings": {key: t[key] for key in RECEIPT_SCRIPT_KEYS},
            "language": language,
        },
    )
    patch_vary_headers(response, ("Accept-Language",))
    # Sealing and redaction change what it shows; a receipt is nobody's business but its holder's.
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _editions_shown(receipt: Receipt, language: str, t: dict[str, str]) -> list[dict[str, Any]]:
    """What the visitor was shown: the pinned policy versions (titled, linked) and the other editions."""
    record = receipt.record
    pinned_policies = record.versions.get("policies", {})
    titles = pinned_policy_titles(site_id=record.site_id, pinned=pinned_policies, language=language)
    shown: list[dict[str, Any]] = [
        {
            "name": titles.get(slug, slug),
            "number": pinned["number"],
            "url": reverse("policy-version", args=[receipt.site_key, slug, pinned["number"]])
            + f"?lang={language}",
        }
        for slug, pinned in sorted(pinned_policies.items())
    ]
    shown += [
        {"name": t.get(kind, kind), "number": pinned["number"], "url": None}
        for kind, pinned in sorted(record.versions.items())
        if kind != "policies"
    ]
    return shown


def _sealed_text(receipt: Receipt, t: dict[str, str]) -> str:
    """Where a sealed record stands in the log, and which signed checkpoint covers it."""
    checkpoint = receipt.checkpoint
    assert checkpoint is not None and receipt.leaf_index is not None
    return t["sealed"].format(
        entry=receipt.leaf_index + 1,
        size=checkpoint.tree_size,
        site=receipt.record.site.name,
        time=f"{checkpoint.created_at:%Y-%m-%d %H:%M:%S}",
        key=checkpoint.key_id,
    )


def promise_status_text(status: PromiseStatus, t: dict[str, str]) -> str:
    """The page's sentence for what became of a promise (the script fills the same strings)."""
    promise = status.promise
    return t[f"promise_{status.state}"].format(
        time=promise.promised_at,
        due=timestamp(promise.due_at),
        index=status.leaf_index,
        size=status.checkpoint.tree_size if status.checkpoint else "",
        receipt=promise.receipt_id,
        delay=promise.merge_delay_seconds,
    )


def _receipt_missing(request: HttpRequest, receipt_id: str) -> HttpResponseBase:
    """A 404 page that still checks the promise the visitor's browser kept (in the URL fragment,
    which never reaches the server): a valid promise of a missing record is evidence of removal."""
    language = language_choose(request, list(RECEIPT_STRINGS), "en")
    t = RECEIPT_STRINGS[language]
    shown_id = receipt_id if RECEIPT_ID.match(receipt_id) else ""
    response = render(
        request,
        "consent/receipt_missing.html",
        {
            "receipt_id": shown_id,
            "missing_text": t["missing"].format(receipt=shown_id),
            "t": {**page_strings(language), **t},
            "script_strings": {key: t[key] for key in RECEIPT_SCRIPT_KEYS},
            "language": language,
        },
        status=404,
    )
    patch_vary_headers(response, ("Accept-Language",))
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
