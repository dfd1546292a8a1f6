"""What counts as a reason a person gives in words (for breaking glass): real words, not padding.

A reason is read after removing invisible characters (zero-width spaces and joiners, the byte-order mark, soft
hyphens, other format and control characters): it must then hold at least :data:`MIN_REASON_CHARACTERS`
characters and :data:`MIN_REASON_WORDS` words of two or more letters. Twenty dots, or twenty-five zero-width
spaces, are no reason.
"""

from __future__ import annotations

import re
import unicodedata

MIN_REASON_CHARACTERS = 20
MIN_REASON_WORDS = 4

_WORD = re.compile(r"[^\W\d_]{2,}")


def visible(text: str) -> str:
    """``text`` without invisible characters (Unicode categories Cf and Cc, but for ordinary whitespace), with
    runs of whitespace made one space, trimmed."""
    kept = "".join(ch for ch in text if ch in "\t\n\r " or unicodedata.category(ch) not in ("Cf", "Cc"))
    return " ".join(kept.split())


def reason_problem(text: str | None) -> str | None:
    """What is wrong with a reason, in words for the person who gave it, or None when it will do."""
    shown = visible(text or "")
    if len(shown) < MIN_REASON_CHARACTERS:
        return f"give a reason of at least {MIN_REASON_CHARACTERS} characters"
    if len(_WORD.findall(shown)) < MIN_REASON_WORDS:
        return f"give a reason in words: at least {MIN_REASON_WORDS} words"
    return None
