"""Primary keys as clients spell them inside global ids."""

from __future__ import annotations

from typing import Final

# Keys are BIGINTs; a longer number would overflow the database driver.
_MAX_KEY: Final = 2**63 - 1
NO_ROW: Final = 0


def is_key_text(text: str) -> bool:
    """Whether `text` is written as a key is: ASCII digits only.

    `str.isdigit` alone also accepts other scripts' digits ("١" is 1), which
    would give one row many ids.
    """
    return text.isascii() and text.isdigit()


def row_key(text: str) -> int:
    """The key `text` names; `NO_ROW` (which no row has) for anything else,
    numbers beyond BIGINT included."""
    if not is_key_text(text) or len(text) > len(str(_MAX_KEY)):
        return NO_ROW
    key = int(text)
    return key if key <= _MAX_KEY else NO_ROW
