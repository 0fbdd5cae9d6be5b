"""Small helpers for the words MyCareer shows: counts with their nouns, lists of names."""

from django.utils.formats import number_format
from django.utils.translation import ngettext


def counted(count: int, singular: str, plural: str) -> str:
    """A count with its noun, through ngettext: "1 place", "2 places", "1,204 people"."""
    return f"{number_format(count, force_grouping=True)} {ngettext(singular, plural, count)}"


def joined(items, *, last: str = "and") -> str:
    """Names in a sentence: "A", "A and B", "A, B and C"."""
    names = [str(item) for item in items]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {last} {names[-1]}"
