"""Cleaning one-line text (names, titles, subjects) as it comes in.

A line break or another control character in a name can end up in an email header, a
CSV row or a calendar file, where it changes the meaning of what follows it. Every
one-line text MyCareer takes, from a form or an import, goes through `single_line`.
"""

import re
import unicodedata

# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
_BREAKS = {"Cc", "Zl", "Zp"}
_SPACES = re.compile(r"\s+")


def single_line(value: str | None) -> str:
    """The text on one line: control characters become spaces, runs of space become one.

    Leading and trailing space goes too. `None` becomes "".
    """
    if not value:
        return ""
    text = "".join(" " if unicodedata.category(c) in _BREAKS else c for c in str(value))
    return _SPACES.sub(" ", text).strip()
