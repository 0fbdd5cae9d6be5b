"""Merge fields in text a person writes for many readers: "Dear {{ first_name }},".

One syntax for every email people write in MyCareer (bulk campaigns, no-show
follow-ups): `{{ name }}`, spaces optional. Each use states the fields it knows;
a field it does not know is refused with the list of those it does.
"""

import html
import re
from collections.abc import Iterable

FIELD = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def written(name: str) -> str:
    """A field as people type it: "{{ first_name }}"."""
    return "{{ " + name + " }}"


def unknown_fields(text: str, known: Iterable[str]) -> list[str]:
    return sorted({m.group(1) for m in FIELD.finditer(text)} - set(known))


def unknown_fields_message(unknown: list[str], known: Iterable[str], *, noun: str = "field") -> str:
    """ "Unknown field {{ frist_name }}: use {{ first_name }}, {{ event_title }}." """
    return (
        f"Unknown {noun} {', '.join(written(u) for u in unknown)}: use "
        + ", ".join(written(k) for k in known)
        + "."
    )


# What is left of a field once the whole ones are taken out: "{{ first_name" (no closing
# braces), "{{first name}}" (a space in its name), "{ first_name }}".
_PART_OF_A_FIELD = re.compile(r"\{\{[^{}\n]{0,30}|\{?[^{}\n]{0,30}\}\}")


# A whole field with more braces on either side: "{{{ first_name }}}" merges to "{Ann}".
_BRACED_FIELD = re.compile(r"\{*\{\{\s*\w+\s*\}\}\}*")


def unfinished_fields(text: str) -> list[str]:
    """Braces that do not make a whole field, as typed: they would arrive as typed.

    A single brace elsewhere ("{note}") is ordinary text; one touching a field is not."""
    braced = [m.group(0) for m in _BRACED_FIELD.finditer(text) if not FIELD.fullmatch(m.group(0))]
    rest = FIELD.sub(" ", text)
    return braced + [m.group(0).strip() for m in _PART_OF_A_FIELD.finditer(rest)]


def unfinished_fields_message(
    unfinished: list[str], known: Iterable[str], *, noun: str = "field"
) -> str:
    """ "“{{ first_name” is not a whole merge field: …" """
    shown = ", ".join(f"“{part}”" for part in unfinished)
    return (
        f"{shown} {'is' if len(unfinished) == 1 else 'are'} not a whole {noun}, so "
        f"{'it' if len(unfinished) == 1 else 'they'} would arrive as typed: write "
        + ", ".join(written(k) for k in known)
        + ", with two braces on each side."
    )


def problems(text: str, known: Iterable[str], *, noun: str = "merge field") -> list[str]:
    """What would reach every reader as typed: fields not known, and ones not typed whole
    ("{{ first_name"). Every text with merge fields is checked with this, in the same words."""
    known = list(known)
    found = []
    if unknown := unknown_fields(text, known):
        found.append(unknown_fields_message(unknown, known, noun=noun))
    if unfinished := unfinished_fields(text):
        found.append(unfinished_fields_message(unfinished, known, noun=noun))
    return found


def fill(text: str, values: dict[str, str], *, escape: bool = False) -> str:
    """Put each field's value in; an unknown field stays as typed. `escape` for HTML."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return html.escape(values[name]) if escape else values[name]

    return FIELD.sub(replace, text)
