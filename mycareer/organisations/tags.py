"""Tags written in one text field and read back from it, commas and all.

Here, importing nothing of the app, so that every form that reads tags can use them:
the edit form (forms.py) and the search form (search.py, which forms.py imports).
"""

import csv
from collections.abc import Iterable


def split_tags(value: str) -> list[str]:
    """Tags typed in one field, separated by commas. A tag that holds a comma is in double
    quotes, as a spreadsheet writes it: `"Engineering, Civil", Placements` is two tags.

    Raises csv.Error for a tag longer than the csv module reads (131,072 characters).
    """
    text = " ".join((value or "").split())  # a line break pasted in separates nothing
    row = next(csv.reader([text], skipinitialspace=True), [])
    return [tag for part in row if (tag := " ".join(part.split()))]


def join_tags(names: Iterable[str]) -> str:
    """The tags as one field shows them, read back by `split_tags` exactly as they are."""
    return ", ".join(
        '"' + name.replace('"', '""') + '"' if "," in name or '"' in name else name
        for name in names
    )
