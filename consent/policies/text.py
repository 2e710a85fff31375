"""Policy text as readers see it: Markdown rendered to safe HTML, and diffs between editions."""

import difflib
import re
from dataclasses import dataclass
from typing import Literal

import markdown
import nh3

from consent.editions import text_normalise

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "ins", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip


ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}


ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}


def markdown_render(text: str) -> str:
    """Markdown to HTML with only harmless tags left: raw HTML, scripts and styles are removed."""
    html = markdown.markdown(text_normalise(text), extensions=["tables", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


Operation = Literal["equal", "insert", "delete", "replace", "skip"]


@dataclass(frozen=True)
class DiffWord:
    op: Operation
    text: str


@dataclass(frozen=True)
class DiffBlock:
    """One run of lines: unchanged, added, removed, replaced (with a word-level diff), or
    skipped (unchanged lines left out around the changes; `old` holds how many)."""

    op: Operation
    old: str
    new: str
    words: tuple[DiffWord, ...] = ()


# A word with the spaces before it: diffs then mark whole phrases, not every gap between words.
_TOKEN = re.compile(r"\s*\S+|\s+")


def _word_diff(old: str, new: str) -> tuple[DiffWord, ...]:
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    words: list[DiffWord] = []
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            words.append(DiffWord("equal", "".join(old_tokens[i1:i2])))
            continue
        if i2 > i1:
            words.append(DiffWord("delete", "".join(old_tokens[i1:i2])))
        if j2 > j1:
            words.append(DiffWord("insert", "".join(new_tokens[j1:j2])))
    return tuple(words)


def text_diff(old: str, new: str, context: int | None = None) -> tuple[DiffBlock, ...]:
    """Line diff of two texts (normalised first), with words marked inside replaced lines.

    With `context`, unchanged runs keep only that many lines next to a change; the rest
    becomes a "skip" block, so a reader sees what changed without scrolling the whole text.
    """
    old_lines = text_normalise(old).splitlines() if old else []
    new_lines = text_normalise(new).splitlines() if new else []
    blocks: list[DiffBlock] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_part, new_part = "\n".join(old_lines[i1:i2]), "\n".join(new_lines[j1:j2])
        if tag == "replace":
            blocks.append(DiffBlock("replace", old_part, new_part, _word_diff(old_part, new_part)))
        elif tag == "equal" and context is not None:
            blocks.extend(
                _equal_with_context(old_lines[i1:i2], context, first=i1 == 0, last=i2 == len(old_lines))
            )
        else:
            blocks.append(DiffBlock(tag, old_part, new_part))  # type: ignore[arg-type]
    return tuple(blocks)


def _equal_with_context(lines: list[str], context: int, *, first: bool, last: bool) -> list[DiffBlock]:
    head = [] if first else lines[:context]
    tail = [] if last else lines[len(lines) - context :] if context else []
    skipped = len(lines) - len(head) - len(tail)
    if skipped <= 1:
        text = "\n".join(lines)
        return [DiffBlock("equal", text, text)]
    blocks = []
    if head:
        blocks.append(DiffBlock("equal", "\n".join(head), "\n".join(head)))
    blocks.append(DiffBlock("skip", str(skipped), str(skipped)))
    if tail:
        blocks.append(DiffBlock("equal", "\n".join(tail), "\n".join(tail)))
    return blocks
