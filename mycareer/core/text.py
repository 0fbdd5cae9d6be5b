"""Text in and out: one-line text cleaned as it comes in; counts and lists as they go out.

A line break or another control character in a name can end up in an email header, a
CSV row or a calendar file, where it changes the meaning of what follows it. Every
one-line text MyCareer takes, from a form or an import, goes through `single_line`.
Every count MyCareer shows goes through ngettext, here or in a template's `pluralize`.
"""

import re
import unicodedata

from django.utils.formats import number_format
from django.utils.translation import ngettext

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


def newlines_only(value: str) -> str:
    """The text with every line break written as "\\n".

    A browser sends the line breaks of a text box as "\\r\\n" (as the HTML standard says
    it must); text from the API, an import or the seed has "\\n". Kept as sent, the same
    words saved unchanged would count as changed.
    """
    return value.replace("\r\n", "\n").replace("\r", "\n")


def counted(count: int, singular: str, plural: str) -> str:
    """A count with its noun, through ngettext: "1 place", "2 places", "1,204 people"."""
    return f"{number_format(count, force_grouping=True)} {ngettext(singular, plural, count)}"


def joined(items, *, last: str = "and") -> str:
    """Names in a sentence: "A", "A and B", "A, B and C"."""
    names = [str(item) for item in items]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {last} {names[-1]}"
